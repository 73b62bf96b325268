"""The flood publisher process: an edge node's NBIRTH/DBIRTH, then N pre-encoded DDATA at QoS 0.

It writes ready-made MQTT 3.1.1 PUBLISH packets straight to a socket, so that the publisher is never
what limits a run: the figure is how fast the subscriber (and the broker) drain the flood.
"""

from __future__ import annotations

import socket
import struct
from multiprocessing.synchronize import Event

from sparkplug.codec import encode_payload
from sparkplug.datatypes import DataType
from sparkplug.payload import Metric, Payload

METRICS_PER_MESSAGE = 10
_TYPES = (DataType.Double, DataType.Int32, DataType.Boolean)
TS = 1_764_150_000_000


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _utf8(s: str) -> bytes:
    b = s.encode()
    return struct.pack("!H", len(b)) + b


def connect_packet(client_id: str) -> bytes:
    body = _utf8("MQTT") + bytes([4, 0x02]) + struct.pack("!H", 60) + _utf8(client_id)
    return b"\x10" + _varint(len(body)) + body


def publish_packet(topic: str, payload: bytes) -> bytes:
    body = _utf8(topic) + payload
    return b"\x30" + _varint(len(body)) + body


def birth_metrics() -> list[Metric]:
    return [
        Metric(
            name=f"Cell/Tag{i:02d}", alias=i + 1, datatype=_TYPES[i % 3], value=_value(i % 3, 0), timestamp=TS
        )
        for i in range(METRICS_PER_MESSAGE)
    ]


def _value(kind: int, k: int) -> object:
    return (20.0 + k * 0.5, k * 7 - 900, k % 2 == 0)[kind]


def ddata(seq: int, k: int) -> bytes:
    """A DDATA as our edge node writes it: alias, timestamp and value only."""
    metrics = [
        Metric(alias=i + 1, datatype=_TYPES[i % 3], value=_value(i % 3, k + i), timestamp=TS + k)
        for i in range(METRICS_PER_MESSAGE)
    ]
    return encode_payload(Payload(timestamp=TS + k, seq=seq, metrics=metrics), include_datatypes=False)


def flood(port: int, group: str, edge: str, device: str, count: int, go: Event, done: Event) -> None:
    """Process entry point: connect, wait for `go`, publish births and `count` DDATA, disconnect."""
    prefix = f"spBv1.0/{group}"
    nbirth = Payload(
        timestamp=TS,
        seq=0,
        metrics=[
            Metric(name="bdSeq", datatype=DataType.Int64, value=0, timestamp=TS),
            Metric(name="Node Control/Rebirth", datatype=DataType.Boolean, value=False, timestamp=TS),
        ],
    )
    dbirth = Payload(timestamp=TS, seq=1, metrics=birth_metrics())
    # 256 distinct messages, one per seq value; message i carries seq (i + 2) % 256.
    by_seq = [publish_packet(f"{prefix}/DDATA/{edge}/{device}", ddata(s, s)) for s in range(256)]
    stream = b"".join(by_seq[(i + 2) % 256] for i in range(count))

    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(connect_packet(f"bench-pub-{edge}"))
    connack = sock.recv(4)
    if len(connack) != 4 or connack[3] != 0:
        raise RuntimeError(f"broker refused the bench publisher: {connack!r}")
    go.wait(60)
    sock.sendall(publish_packet(f"{prefix}/NBIRTH/{edge}", encode_payload(nbirth)))
    sock.sendall(publish_packet(f"{prefix}/DBIRTH/{edge}/{device}", encode_payload(dbirth)))
    sock.sendall(stream)
    sock.sendall(b"\xe0\x00")  # DISCONNECT: a clean end, no will
    sock.close()
    done.set()
