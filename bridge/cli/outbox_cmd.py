"""`uns outbox`: look into the bridge's outbox file and act on it (status, list, dead, retry, replay)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bridge.outbox import admin
from bridge.outbox.schema import DEFAULT_DB_NAME, OutboxSchemaError
from bridge.outbox.store import OutboxStore
from bridge.outbox.worker import wall_clock_ms

EXIT_OK = 0
EXIT_ERROR = 1


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "outbox",
        help="inspect and operate the bridge's delivery outbox",
        description="Inspect and operate the bridge's outbox (ERP events waiting for, or done with,"
        " delivery). Safe while the bridge runs: its worker picks up a retried or replayed event"
        " within a second.",
    )
    p.add_argument(
        "--db",
        required=True,
        type=Path,
        help=f"the outbox file, or the bridge's data directory (holding {DEFAULT_DB_NAME})",
    )
    cmds = p.add_subparsers(dest="outbox_command", metavar="ACTION", required=True)

    s = cmds.add_parser("status", help="depth, oldest pending age, counts by state and contract")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.set_defaults(func=_status)

    s = cmds.add_parser("list", help="events in queue order")
    s.add_argument("--state", choices=admin.STATES, help="only events in this state")
    s.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    s.add_argument(
        "--since", help="only events created since this time (ISO 8601, UTC if no zone, or unix ms)"
    )
    s.add_argument("--json", action="store_true", help="print JSON lines, payloads included")
    s.set_defaults(func=_list)

    s = cmds.add_parser("dead", help="dead letters with their reasons")
    s.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    s.add_argument("--json", action="store_true", help="print JSON lines, raw events included")
    s.set_defaults(func=_dead)

    s = cmds.add_parser("retry", help="put dead events back in the queue")
    s.add_argument("event_ids", nargs="+", metavar="ID")
    s.set_defaults(func=_retry)

    s = cmds.add_parser(
        "replay",
        help="queue again delivered and dead events created since a time (a no-op at idempotent targets)",
    )
    s.add_argument("--since", required=True, help="ISO 8601 time (UTC if no zone) or unix ms")
    s.set_defaults(func=_replay)

    s = cmds.add_parser("purge", help="forget dead events for good (handled by hand)")
    s.add_argument("event_ids", nargs="+", metavar="ID")
    s.set_defaults(func=_purge)


def parse_time_ms(text: str) -> int:
    """Unix milliseconds from `1764150000000` or an ISO 8601 time (UTC when it names no zone)."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a time: {text!r} (ISO 8601 like 2026-11-26T08:00:00Z, or unix ms)") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


def _iso(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _open(args: argparse.Namespace) -> OutboxStore | None:
    path: Path = args.db
    if path.is_dir():
        path = path / DEFAULT_DB_NAME
    if not path.is_file():
        print(f"outbox database {path} not found: is the bridge's --data-dir right?", file=sys.stderr)
        return None
    try:
        return OutboxStore(path)
    except (OutboxSchemaError, OSError) as exc:
        print(f"cannot open outbox database {path}: {exc}", file=sys.stderr)
        return None
    except Exception as exc:  # sqlite3.DatabaseError: not a database, or damaged
        print(f"cannot open outbox database {path}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return None


def _status(args: argparse.Namespace) -> int:
    store = _open(args)
    if store is None:
        return EXIT_ERROR
    try:
        st = admin.status(store, wall_clock_ms())
    finally:
        store.close()
    if args.json:
        print(json.dumps({"db": str(store.path), **st.as_dict()}, indent=2))
        return EXIT_OK
    c = st.counts
    age = "-" if st.oldest_pending_age_s is None else f"{st.oldest_pending_age_s:.1f} s"
    print(f"outbox      {store.path}")
    print(f"depth       {st.depth} (queued {c['queued']}, in flight {c['in_flight']}), oldest pending {age}")
    print(f"delivered   {c['delivered']}")
    print(f"dead        {c['dead']} (dead letters {st.dead_letters})")
    print(f"retrying    {st.backing_off} event(s) backing off, {st.failed_tries} failed tries in all")
    if st.by_contract:
        width = max(len("contract"), *(len(k) for k in st.by_contract))
        print()
        print(f"{'contract':<{width}}  {'queued':>8} {'in_flight':>9} {'delivered':>9} {'dead':>6}")
        for contract, n in sorted(st.by_contract.items()):
            counts = f"{n['queued']:>8} {n['in_flight']:>9} {n['delivered']:>9} {n['dead']:>6}"
            print(f"{contract:<{width}}  {counts}")
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    try:
        since = None if args.since is None else parse_time_ms(args.since)
    except ValueError as exc:
        print(f"uns outbox list: {exc}", file=sys.stderr)
        return EXIT_ERROR
    store = _open(args)
    if store is None:
        return EXIT_ERROR
    try:
        rows = admin.list_events(store, state=args.state, limit=args.limit, since_ms=since)
    finally:
        store.close()
    for r in rows:
        if args.json:
            record: dict[str, Any] = {k: getattr(r, k) for k in r.__dataclass_fields__}
            print(json.dumps(record, ensure_ascii=False))
            continue
        where = ""
        if r.receipt:
            ids = ",".join(str(i) for i in r.receipt.get("record_ids", []))
            model = r.receipt.get("record_model") or r.receipt.get("target")
            where = f" -> {model} {ids}".rstrip()
        error = f"  last error: {r.last_error}" if r.last_error and r.state != "delivered" else ""
        print(
            f"{r.seq:>8} {r.state:<9} {_iso(r.created_unix_ms)} {r.contract} v{r.version} {r.event_id}"
            f" key={r.ordering_key} tries={r.attempts}{where}{error}"
        )
    if not args.json:
        print(f"({len(rows)} event(s))", file=sys.stderr)
    return EXIT_OK


def _dead(args: argparse.Namespace) -> int:
    store = _open(args)
    if store is None:
        return EXIT_ERROR
    try:
        letters = admin.dead_letters(store, limit=args.limit)
    finally:
        store.close()
    for d in letters:
        if args.json:
            record = {k: getattr(d, k) for k in d.__dataclass_fields__}
            print(json.dumps(record, ensure_ascii=False))
            continue
        print(
            f"{d.event_id} ({d.contract}, key {d.ordering_key})"
            f" parked {_iso(d.parked_unix_ms)} after {d.attempts} tries"
        )
        print(f"    reason: {d.reason}")
        if d.remote_error:
            print(f"    remote: {d.remote_error}")
    if not args.json:
        print(f"({len(letters)} dead letter(s))", file=sys.stderr)
    return EXIT_OK


def _retry(args: argparse.Namespace) -> int:
    return _each(args, lambda store, event_id: admin.retry(store, event_id, wall_clock_ms()), "queued again")


def _purge(args: argparse.Namespace) -> int:
    return _each(args, admin.purge_dead, "purged")


def _each(args: argparse.Namespace, action: Any, done: str) -> int:
    store = _open(args)
    if store is None:
        return EXIT_ERROR
    code = EXIT_OK
    try:
        for event_id in args.event_ids:
            try:
                action(store, event_id)
            except admin.OutboxError as exc:
                print(f"uns outbox: {exc}", file=sys.stderr)
                code = EXIT_ERROR
                continue
            print(f"{event_id}: {done}")
    finally:
        store.close()
    return code


def _replay(args: argparse.Namespace) -> int:
    try:
        since = parse_time_ms(args.since)
    except ValueError as exc:
        print(f"uns outbox replay: {exc}", file=sys.stderr)
        return EXIT_ERROR
    store = _open(args)
    if store is None:
        return EXIT_ERROR
    try:
        n = admin.replay(store, since, wall_clock_ms())
    finally:
        store.close()
    print(f"queued again: {n} event(s) created since {_iso(since)}")
    return EXIT_OK
