"""`uns odoo`: check the connection and the user's rights, and bootstrap a plant's master data in Odoo."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pydantic import SecretStr, ValidationError

from odoo_sync.bootstrap import bootstrap
from odoo_sync.check import check
from odoo_sync.client import OdooClient
from odoo_sync.errors import OdooError
from odoo_sync.lineage import events_of_record, records_of_event
from odoo_sync.transport import OdooSettings
from uns_model.errors import PlantModelError
from uns_model.loader import load_plant
from uns_model.plant import PlantModel

EXIT_OK = 0
EXIT_MISSING = 1
EXIT_ERROR = 2


def _connection_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--url", default=os.environ.get("ODOO_URL"), help="Odoo URL (default: $ODOO_URL)")
    p.add_argument("--db", default=os.environ.get("ODOO_DB"), help="database (default: $ODOO_DB)")
    p.add_argument("--user", default=os.environ.get("ODOO_USER"), help="login (default: $ODOO_USER)")
    p.add_argument(
        "--key-file",
        type=Path,
        help="file holding the API key (default: $ODOO_KEY); never pass a key on the command line",
    )
    p.add_argument(
        "--api", choices=("auto", "jsonrpc", "json2"), default="auto", help="transport (default: auto)"
    )
    p.add_argument("--timeout", type=float, default=30.0, help="seconds per call (default 30)")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("odoo", help="check the Odoo connection, bootstrap master data", description=__doc__)
    cmds = p.add_subparsers(dest="odoo_command", metavar="ACTION", required=True)
    c = cmds.add_parser(
        "check",
        help="connect; print version, API, the user's groups and what the plant needs that Odoo lacks",
    )
    c.add_argument("plant", nargs="?", type=Path, help="plant model file (optional)")
    _connection_args(c)
    c.set_defaults(func=_check)
    b = cmds.add_parser(
        "bootstrap",
        help="create the plant's work centers, equipment, products, BoMs and demo orders (idempotent)",
    )
    b.add_argument("plant", type=Path, help="plant model file")
    _connection_args(b)
    b.add_argument("--bridge-user", help="login of the bridge's user: made follower of the equipment")
    b.add_argument("--track-lots", action="store_true", help="finished products tracked by lots")
    b.add_argument(
        "--demo-orders", type=int, default=1, help="confirmed orders per finished product (default 1)"
    )
    b.set_defaults(func=_bootstrap)
    t = cmds.add_parser(
        "trace",
        help="lineage: the Odoo records an event id made, or the event ids behind MODEL:ID",
    )
    t.add_argument("what", help="an event id, or a record as MODEL:ID (e.g. mrp.production:42)")
    _connection_args(t)
    t.set_defaults(func=_trace)


def settings_from(args: argparse.Namespace) -> OdooSettings:
    missing = [n for n in ("url", "db", "user") if not getattr(args, n)]
    if missing:
        raise SystemExit(f"uns odoo: give --{' --'.join(missing)} (or $ODOO_URL, $ODOO_DB, $ODOO_USER)")
    if args.key_file:
        key = args.key_file.read_text(encoding="utf-8").strip()
    else:
        key = os.environ.get("ODOO_KEY", "")
    if not key:
        raise SystemExit("uns odoo: no API key: set $ODOO_KEY or give --key-file")
    return OdooSettings(
        url=args.url, db=args.db, user=args.user, key=SecretStr(key), api=args.api, timeout_s=args.timeout
    )


def _plant(path: Path | None) -> PlantModel | None:
    if path is None:
        return None
    try:
        return load_plant(path)
    except (PlantModelError, ValidationError, OSError) as exc:
        raise SystemExit(f"uns odoo: {path}: {exc}") from None


def _check(args: argparse.Namespace) -> int:
    plant = _plant(args.plant)
    settings = settings_from(args)
    try:
        client = OdooClient.connect(settings)
        report = check(client, settings.user, plant)
    except OdooError as exc:
        print(f"cannot use Odoo at {settings.url}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    print(f"Odoo {report.version} at {settings.url}, database {settings.db}")
    print(
        f"API: {report.flavour}"
        + (
            " (JSON-RPC is deprecated from 19, gone in 22)"
            if report.flavour == "jsonrpc" and client.dialect.major >= 19
            else ""
        )
    )
    print(f"user: {report.login} (uid {report.uid})")
    print("groups: " + (", ".join(report.groups) or "(cannot read them)"))
    for warning in report.warnings:
        print(f"warning: {warning}")
    for item in report.items:
        mark = "ok     " if item.ok else "MISSING"
        print(f"{mark} {item.kind:<12} {item.name}" + (f"\n        fix: {item.fix}" if item.fix else ""))
    missing = report.missing
    print(f"{len(missing)} missing" if missing else "everything the bridge needs is there")
    client.close()
    return EXIT_MISSING if missing else EXIT_OK


def _trace(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    try:
        client = OdooClient.connect(settings)
        if ":" in args.what:
            model, _, rid = args.what.rpartition(":")
            for event_id in events_of_record(client, model, int(rid)):
                print(event_id)
        else:
            for ref in records_of_event(client, args.what):
                print(f"{ref.model}:{ref.id}  {ref.name}")
    except (OdooError, ValueError) as exc:
        print(f"trace failed: {exc}", file=sys.stderr)
        return EXIT_ERROR
    client.close()
    return EXIT_OK


def _bootstrap(args: argparse.Namespace) -> int:
    plant = _plant(args.plant)
    assert plant is not None
    settings = settings_from(args)
    try:
        client = OdooClient.connect(settings)
        result = bootstrap(
            client,
            plant,
            tracking="lot" if args.track_lots else "none",
            demo_orders=args.demo_orders,
            bridge_login=args.bridge_user,
        )
    except OdooError as exc:
        print(f"bootstrap stopped: {exc}", file=sys.stderr)
        if "AccessError" in exc.name:
            print(
                "the user needs Manufacturing, Inventory and Maintenance administrator rights",
                file=sys.stderr,
            )
        return EXIT_ERROR
    for line in result.lines:
        print(line)
    client.close()
    return EXIT_OK
