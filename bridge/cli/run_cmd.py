"""`uns run`: the bridge service; `uns rejected`: the Sparkplug input it rejected, with the raw bytes."""

from __future__ import annotations

import argparse
import base64
import json
import logging
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from pydantic import ValidationError

from bridge.rejected import DB_NAME, RejectedStore

log = logging.getLogger("bridge.run")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "run",
        help="run the bridge service (Sparkplug host -> windows -> rules -> outbox -> sink)",
        description="Run the bridge. Every option may also come from the environment (UNS_<OPTION>, e.g."
        " UNS_BROKER, UNS_ODOO_API_KEY) or from a YAML file given with --config (same names, snake_case)."
        " Flags win over the environment, the environment over the file.",
    )
    p.add_argument("--config", type=Path, help="YAML settings file")
    p.add_argument("--plant", type=Path, help="plant model file (YAML)")
    p.add_argument(
        "--broker", help="MQTT broker URL, e.g. mqtt://10.0.0.5:1883 (password: UNS_BROKER_PASSWORD)"
    )
    p.add_argument("--host-id", help="Sparkplug host application id (default uns-bridge)")
    p.add_argument(
        "--role", choices=["primary", "secondary_passive"], help="Sparkplug host role (default primary)"
    )
    p.add_argument(
        "--data-dir", type=Path, help="outbox, checkpoints, rule state, rejected input (default uns-data)"
    )
    p.add_argument("--sink", choices=["jsonl", "odoo"], help="where events go (default jsonl)")
    p.add_argument(
        "--jsonl", dest="jsonl_path", type=Path, help="JSONL sink file (default <data-dir>/events.jsonl)"
    )
    p.add_argument(
        "--odoo", dest="odoo_url", help="Odoo URL; selects the Odoo sink (key: UNS_ODOO_API_KEY[_FILE])"
    )
    p.add_argument("--odoo-db", help="Odoo database")
    p.add_argument("--odoo-user", help="Odoo user login")
    p.add_argument("--window-s", type=float, help="override every batch flow's window length (seconds)")
    p.add_argument("--grace-ms", type=int, help="wait this long for late samples before closing a window")
    p.add_argument("--mirror-interval-s", type=float, help="at most one _raw publish per tag per interval")
    p.add_argument("--no-mirror", dest="mirror", action="store_const", const=False, help="no _raw JSON view")
    p.add_argument("--metrics-host", help="address of /metrics and /healthz (default 127.0.0.1)")
    p.add_argument(
        "--metrics-port", type=int, help="port of /metrics and /healthz (default 9108, 0: any free)"
    )
    p.add_argument("--log-json", action="store_const", const=True, help="one JSON object per log line")
    p.add_argument("--log-level", help="DEBUG, INFO (default), WARNING, ERROR")
    p.set_defaults(func=_run)

    r = sub.add_parser("rejected", help="Sparkplug messages the bridge rejected, with their raw bytes")
    r.add_argument("--db", required=True, type=Path, help=f"the bridge's data directory (or its {DB_NAME})")
    r.add_argument("--limit", type=int, default=50)
    r.add_argument("--reason", help="only this reason (malformed, seq_gap, unknown_alias, ...)")
    r.add_argument("--json", action="store_true", help="JSON lines with the payload in base64")
    r.add_argument("--raw", type=int, metavar="ID", help="write one message's raw payload to stdout")
    r.set_defaults(func=_rejected)


_FLAGS = (
    "plant", "broker", "host_id", "role", "data_dir", "sink", "jsonl_path", "odoo_url", "odoo_db",
    "odoo_user", "window_s", "grace_ms", "mirror_interval_s", "mirror", "metrics_host", "metrics_port",
    "log_json", "log_level",
)  # fmt: skip


def _run(args: argparse.Namespace) -> int:
    from bridge.config import load_settings
    from bridge.logging_setup import setup_logging
    from bridge.outbox.worker import OutboxBusyError
    from bridge.service import BridgeService
    from bridge.sink_setup import ConfigError
    from uns_model.errors import PlantModelError

    flags: dict[str, Any] = {k: getattr(args, k, None) for k in _FLAGS}
    if flags["odoo_url"] and not flags["sink"]:
        flags["sink"] = "odoo"
    try:
        settings = load_settings(args.config, **flags)
    except (ValidationError, ValueError) as exc:
        print(f"uns run: bad settings: {exc}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level, json_lines=settings.log_json, secrets=settings.secrets())
    try:
        service = BridgeService(settings)
    except PlantModelError as exc:
        print(f"uns run: the plant model {settings.plant} is not valid:\n{exc}", file=sys.stderr)
        return 2
    except (ConfigError, OSError) as exc:
        print(f"uns run: {exc}", file=sys.stderr)
        return 2

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("signal %s: stopping", signal.Signals(signum).name)
        service.request_stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        service.start()
    except OutboxBusyError as exc:
        print(f"uns run: {exc}", file=sys.stderr)
        service.stop()
        return 3
    service.run_until_stopped()
    return 0


def _rejected(args: argparse.Namespace) -> int:
    path: Path = args.db / DB_NAME if args.db.is_dir() else args.db
    if not path.exists():
        print(f"uns rejected: {path} does not exist", file=sys.stderr)
        return 1
    store = RejectedStore(path)
    try:
        if args.raw is not None:
            row = store.get(args.raw)
            if row is None:
                print(f"uns rejected: no row {args.raw}", file=sys.stderr)
                return 1
            sys.stdout.buffer.write(row.payload)
            return 0
        rows = store.list(args.limit, args.reason)
        for row in rows:
            when = datetime.fromtimestamp(row.received_unix_ms / 1000, UTC).isoformat(timespec="milliseconds")
            if args.json:
                print(
                    json.dumps(
                        {
                            "id": row.id,
                            "received": when,
                            "topic": row.topic,
                            "reason": row.reason,
                            "payload_b64": base64.b64encode(row.payload).decode(),
                        }
                    )
                )
            else:
                print(f"{row.id:>7}  {when}  {row.reason:<16} {row.topic}  ({len(row.payload)} bytes)")
        if not args.json:
            counts = store.counts()
            print(
                f"-- {sum(counts.values())} kept: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
            )
    finally:
        store.close()
    return 0
