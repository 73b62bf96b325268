"""Codec figures: DDATA encode/decode with 1, 10 and 100 alias-only metrics against bare protobuf."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Any

from bench.results import Figure
from sparkplug.codec import decode_payload, encode_payload, metric_value, parse_payload
from sparkplug.datatypes import DataType
from sparkplug.payload import Metric, Payload
from sparkplug.proto import pb

TS = 1_764_150_000_000
_TYPES = (DataType.Double, DataType.Int32, DataType.Boolean)


def _value(dt: DataType, i: int) -> Any:
    if dt is DataType.Double:
        return 20.0 + i * 0.125
    if dt is DataType.Int32:
        return i * 37 - 1000
    return i % 2 == 0


def ddata(n: int) -> tuple[Payload, dict[int | str, DataType]]:
    """A DDATA payload as our edge node sends it: alias, timestamp and value, no name, no datatype."""
    metrics = []
    types: dict[int | str, DataType] = {}
    for i in range(n):
        dt = _TYPES[i % 3]
        metrics.append(Metric(alias=i + 1, datatype=dt, value=_value(dt, i), timestamp=TS + i))
        types[i + 1] = dt
    return Payload(timestamp=TS, seq=5, metrics=metrics), types


def rate(fn: Callable[[], object], seconds: float) -> float:
    """Calls per second: best of three timed rounds of a calibrated number of calls."""
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        dt = time.perf_counter() - t0
        if dt > 0.02:
            break
        n *= 4
    per_round = max(1, int(n * (seconds / 3) / dt))
    best = 0.0
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(per_round):
            fn()
        best = max(best, per_round / (time.perf_counter() - t0))
    return best


def _hand_built(payload: Payload) -> bytes:
    """The same DDATA written straight into the generated protobuf class, without our codec."""
    msg = pb.Payload(timestamp=payload.timestamp, seq=payload.seq)
    for m in payload.metrics:
        pm = msg.metrics.add(alias=m.alias, timestamp=m.timestamp)
        if m.datatype is DataType.Double:
            pm.double_value = m.value
        elif m.datatype is DataType.Int32:
            pm.int_value = m.value & 0xFFFFFFFF
        else:
            pm.boolean_value = m.value
    return msg.SerializeToString()


def _bare_read(raw: bytes) -> int:
    """Parse and touch every value through the generated class: the least any decoder must do."""
    msg = pb.Payload.FromString(raw)
    for m in msg.metrics:
        which = m.WhichOneof("value")
        if which:
            getattr(m, which)
    return len(msg.metrics)


def run(scale: float = 1.0) -> list[Figure]:
    """Every codec figure; `scale` stretches the time spent on each (0.4 s at 1.0)."""
    seconds = 0.4 * scale
    figures: list[Figure] = []
    for n in (1, 10, 100):
        payload, types = ddata(n)
        raw = encode_payload(payload, include_datatypes=False)
        prebuilt = pb.Payload.FromString(raw)
        alias_types = [int(types[i + 1]) for i in range(n)]

        def host_path(raw: bytes = raw, alias_types: list[int] = alias_types) -> int:
            # What the host does per message: parse, then one typed value per metric.
            msg = parse_payload(raw)
            for m, dt in zip(msg.metrics, alias_types, strict=True):
                metric_value(m, dt)
            return len(msg.metrics)

        enc = rate(partial(encode_payload, payload, include_datatypes=False), seconds)
        enc_base = rate(prebuilt.SerializeToString, seconds)
        enc_hand = rate(partial(_hand_built, payload), seconds)
        dec = rate(partial(decode_payload, raw, datatypes=types), seconds)
        dec_base = rate(partial(pb.Payload.FromString, raw), seconds)
        fast = rate(host_path, seconds)
        bare = rate(partial(_bare_read, raw), seconds)
        b_enc, b_hand = f"pb SerializeToString {n}m", f"pb hand-built+Serialize {n}m"
        b_dec, b_bare = f"pb FromString {n}m", f"pb FromString+read values {n}m"
        figures += [
            Figure(f"codec encode {n}m", enc, "payloads/s", b_enc, enc_base),
            Figure(f"codec encode {n}m", enc * n, "metrics/s", b_enc, enc_base * n),
            Figure(f"codec encode {n}m vs hand-built", enc, "payloads/s", b_hand, enc_hand),
            Figure(f"codec decode {n}m", dec, "payloads/s", b_dec, dec_base),
            Figure(f"codec decode {n}m", dec * n, "metrics/s", b_dec, dec_base * n),
            Figure(f"codec host path {n}m", fast, "payloads/s", b_bare, bare, "parse + metric_value"),
        ]
    return figures
