"""A pysparkplug 0.6.1 subscriber that prints what it decodes (run with .venv-pysparkplug/bin/python).

usage: pysparkplug_host.py --host H --port P --group G [--state-host-id ID]
                           [--expect N] [--timeout S] [--count-only]
It subscribes to spBv1.0/<group>/# (and spBv1.0/STATE/<ID>), prints {"event": "ready"} once the broker
has granted the subscriptions, then one JSON line per message decoded with pysparkplug's own decoder
(aliases resolved from the births it saw), or {"event": "error", ...} when pysparkplug cannot decode one.
It exits after N DDATA/NDATA messages, at the timeout, when stdin closes (unless --no-stdin) or after
--idle seconds without DATA. --count-only prints only a
summary line (messages, metrics, first/last arrival), for the ingest benchmark.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from typing import Any

import pysparkplug as psp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pysparkplug_common import emit, to_json


def describe(message: psp.Message) -> dict[str, Any]:
    topic = message.topic
    payload: Any = message.payload
    out: dict[str, Any] = {
        "event": "message",
        "topic": str(topic),
        "type": str(topic.message_type),
        "device": topic.device_id,
    }
    if isinstance(payload, psp.State):
        out.update(online=payload.online, timestamp=payload.timestamp)
        return out
    out["timestamp"] = getattr(payload, "timestamp", None)
    out["seq"] = getattr(payload, "seq", None)
    metrics = getattr(payload, "metrics", None)
    if metrics is None and isinstance(payload, psp.NDeath):
        metrics = (payload.bd_seq_metric,)
    out["metrics"] = [
        {
            "name": m.name,
            "alias": m.alias,
            "datatype": int(m.datatype),
            "value": to_json(m.value),
            "is_null": m.is_null,
            "is_historical": m.is_historical,
            "timestamp": m.timestamp,
        }
        for m in metrics or ()
    ]
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--group", required=True)
    ap.add_argument("--state-host-id")
    ap.add_argument("--expect", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--count-only", action="store_true")
    ap.add_argument("--idle", type=float, default=0.0, help="exit after this long without DATA (0: never)")
    ap.add_argument("--no-stdin", action="store_true", help="do not end when stdin closes")
    args = ap.parse_args()

    done = threading.Event()
    counts = {"messages": 0, "metrics": 0, "data": 0, "errors": 0}
    times: list[float] = []
    client = psp.Client(client_id=f"psp-host-{os.getpid()}")
    topics = [psp.Topic(group_id=args.group, message_type=psp.MULTI_LEVEL_WILDCARD)]
    if args.state_host_id:
        topics.append(psp.Topic(message_type=psp.MessageType.STATE, sparkplug_host_id=args.state_host_id))

    # pysparkplug raises inside paho's callback when it cannot decode (e.g. an alias it has no birth
    # for), which would end paho's loop thread; report it as a line instead and go on.
    handle = client._handle_message

    def guarded(mqtt_message: Any) -> Any:
        try:
            return handle(mqtt_message)
        except Exception as exc:
            counts["errors"] += 1
            emit({"event": "error", "topic": mqtt_message.topic, "error": f"{type(exc).__name__}: {exc}"})
            return None

    client._handle_message = guarded  # type: ignore[method-assign]

    def on_message(_client: psp.Client, message: psp.Message | None) -> None:
        if message is None:
            return
        now = time.monotonic()
        if not times:
            times.append(now)
        counts["messages"] += 1
        if message.topic.message_type in (psp.MessageType.DDATA, psp.MessageType.NDATA):
            counts["data"] += 1
            counts["metrics"] += len(message.payload.metrics)  # type: ignore[union-attr]
            if len(times) == 1:
                times.append(now)
            else:
                times[1] = now
        if not args.count_only:
            emit(describe(message))
        if args.expect and counts["data"] >= args.expect:
            done.set()

    granted = {"n": 0}

    def on_subscribe(*_: Any) -> None:
        granted["n"] += 1
        if granted["n"] == len(topics):
            emit({"event": "ready"})

    client._client.on_subscribe = on_subscribe
    for topic in topics:
        client.subscribe(topic, psp.QoS.AT_MOST_ONCE, on_message)
    client.connect(args.host, port=args.port, blocking=False)

    def stdin_watch() -> None:
        sys.stdin.read()
        done.set()

    if not args.no_stdin:
        threading.Thread(target=stdin_watch, daemon=True).start()
    deadline = time.monotonic() + args.timeout
    while not done.wait(0.05) and time.monotonic() < deadline:
        if args.idle and len(times) == 2 and time.monotonic() - times[1] > args.idle:
            break
    client.disconnect()
    span = times[1] - times[0] if len(times) == 2 else 0.0
    emit({"event": "summary", **counts, "span_s": span})
    return 0


if __name__ == "__main__":
    sys.exit(main())
