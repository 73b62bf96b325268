"""`uns sparkplug ...`: look at Sparkplug B traffic (decode a raw payload; listen is added alongside)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sparkplug.codec import DEFAULT_MAX_SIZE, decode_payload
from sparkplug.errors import SparkplugError
from sparkplug.json_view import payload_to_jsonable
from sparkplug.topic import SparkplugTopic, StateTopic, parse_topic


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = sub.add_parser("sparkplug", help="Sparkplug B tools: decode payloads, watch traffic")
    group.set_defaults(func=lambda _args: _usage(group))
    subcommands = group.add_subparsers(dest="sparkplug_command", metavar="SUBCOMMAND")
    for add in SUBCOMMANDS:
        add(subcommands)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


# -- decode --------------------------------------------------------------------------------------------


def _add_decode(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subcommands.add_parser(
        "decode",
        help="print a raw Sparkplug B payload as JSON",
        description="Read one raw Sparkplug B protobuf payload from FILE (or stdin) and print it as JSON.",
    )
    p.add_argument("file", nargs="?", default="-", metavar="FILE", help="payload file; '-' or none for stdin")
    p.add_argument("--topic", help="the MQTT topic it came on: shown parsed, and STATE payloads read as JSON")
    p.add_argument(
        "--max-size", type=int, default=DEFAULT_MAX_SIZE, help="refuse payloads larger than this (bytes)"
    )
    p.set_defaults(func=run_decode)


def run_decode(args: argparse.Namespace) -> int:
    try:
        data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as exc:
        return _fail(f"cannot read {args.file}: {exc.strerror or exc}")
    out: dict[str, Any] = {}
    topic: SparkplugTopic | StateTopic | None = None
    if args.topic is not None:
        try:
            topic = parse_topic(args.topic)
        except SparkplugError as exc:
            return _fail(str(exc))
        out["topic"] = _topic_jsonable(topic)
    if isinstance(topic, StateTopic):
        # STATE payloads are UTF-8 JSON, not protobuf (spec: host application STATE).
        try:
            out["payload"] = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return _fail(f"STATE payload is not UTF-8 JSON: {exc}")
    else:
        try:
            payload = decode_payload(data, max_size=args.max_size)
        except SparkplugError as exc:
            return _fail(f"{exc} ({len(data)} bytes)")
        view = payload_to_jsonable(payload)
        if topic is None:
            out = view
        else:
            out["payload"] = view
    json.dump(out, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


def _topic_jsonable(topic: SparkplugTopic | StateTopic) -> dict[str, Any]:
    if isinstance(topic, StateTopic):
        return {"message_type": "STATE", "host_id": topic.host_id}
    out: dict[str, Any] = {
        "group_id": topic.group_id,
        "message_type": topic.message_type.value,
        "edge_node_id": topic.edge_node_id,
    }
    if topic.device_id is not None:
        out["device_id"] = topic.device_id
    return out


def _fail(message: str) -> int:
    print(f"uns sparkplug decode: {' '.join(message.split())}", file=sys.stderr)
    return 1


# -- listen --------------------------------------------------------------------------------------------


def _add_listen(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subcommands.add_parser(
        "listen",
        help="print live Sparkplug B traffic, decoded (passive: publishes nothing)",
        description="Subscribe to spBv1.0/... and print each message decoded, metric names resolved from the "
        "births seen. Passive: no STATE, no rebirth requests, nothing published. Runs until interrupted.",
    )
    p.add_argument(
        "--broker", default="mqtt://127.0.0.1:1883", help="mqtt://[user:pass@]host[:port] or mqtts://"
    )
    p.add_argument("--group", action="append", default=[], help="Sparkplug group id to follow (repeatable)")
    p.add_argument("--json", action="store_true", help="one JSON object per message")
    p.add_argument("--count", type=int, default=0, help="stop after N messages")
    p.add_argument("--seconds", type=float, default=0.0, help="stop after S seconds")
    p.add_argument(
        "--max-size", type=int, default=DEFAULT_MAX_SIZE, help="larger payloads are reported, not decoded"
    )
    p.set_defaults(func=run_listen)


def run_listen(args: argparse.Namespace) -> int:
    from sparkplug.listen import Listener

    try:
        listener = Listener(args.broker, groups=args.group, max_size=args.max_size)
    except SparkplugError as exc:
        print(f"uns sparkplug listen: {exc}", file=sys.stderr)
        return 2

    def show(view: dict[str, Any]) -> None:
        line = json.dumps(view, ensure_ascii=False) if args.json else listener.format_text(view)
        print(line, flush=True)

    try:
        seen = listener.run(show, count=args.count or None, seconds=args.seconds or None)
    except KeyboardInterrupt:
        return 130
    except (OSError, SparkplugError) as exc:
        print(f"uns sparkplug listen: {exc}", file=sys.stderr)
        return 1
    print(f"uns sparkplug listen: {seen} message(s)", file=sys.stderr)
    return 0


# The `sparkplug` group's subcommands, in help order. To add one (e.g. `listen`), write an
# `_add_<name>(subcommands)` function like _add_decode and append it here.
SUBCOMMANDS: list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]] = [
    _add_decode,
    _add_listen,
]
