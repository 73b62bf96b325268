"""Bridge ingest to windows through a real Mosquitto, against a bare paho subscriber in the same run.

The flood publisher (bench.publisher) sends 10-metric DDATA. The ceiling is a paho client whose
on_message only parses the protobuf. The bridge figure is the whole ingest path of `uns run`: on
paho's thread the HostApplication checks topic, session and seq and reads plain DATA with the
compiled kernel (sparkplug/data_kernel.py) straight into columns; each turn the bridge thread takes
the columns, maps handles to plant tags, feeds the window engines and on-change detectors, runs the
mirror's rate limit, and commits. Its rate is samples taken by the pipeline per second, from the
first DDATA received to the last sample ingested. Without numba (or with UNS_NO_JIT=1) the host
reads DATA in Python and queues one batch per message: `UNS_NO_JIT=1 python -m bench --only
bridge_ingest` measures that path.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.broker import start_broker
from bench.ceiling import bare_subscriber, start_publisher
from bench.publisher import METRICS_PER_MESSAGE
from bench.results import Figure
from bridge.config import load_settings
from bridge.ingest import Chunk
from bridge.outbox.sinks import JsonlFileSink
from bridge.service import BridgeService
from sparkplug.host import HostApplication
from sparkplug.host_registry import UpdateBatch

IDLE_S = 3.0

# Roles for the flood's ten metrics (Double, Int32, Boolean, repeating): counters and totalizers go
# to the tumbling windows, process values and runtime hours to the on-change detectors (limits wide
# enough never to fire), the rest is mirrored only.
ROLES = (
    "role: process_value, low: -1.0e12, high: 1.0e12",  # Tag00 Double
    "role: good_count, rollover: 4294967296",  # Tag01 Int32
    "",  # Tag02 Boolean
    "role: consumption, component: RM-1",  # Tag03 Double
    "role: scrap_count, rollover: 4294967296",  # Tag04 Int32
    "",  # Tag05 Boolean
    "",  # Tag06 Double
    "",  # Tag07 Int32
    "",  # Tag08 Boolean
    "role: runtime_hours, equipment: eq, threshold_h: 1.0e9",  # Tag09 Double
)
TYPES = ("Double", "Int32", "Boolean")


def bench_plant(group: str) -> str:
    tags = []
    for i, role in enumerate(ROLES):
        extra = f", {role}" if role else ""
        tags.append(
            f"          - {{path: Cell/Tag{i:02d}, datatype: {TYPES[i % 3]}{extra},"
            f' source: {{connection: plc, node_id: "ns=2;s=T{i}"}}}}'
        )
    return "\n".join(
        [
            "plant_model: 1",
            "enterprise: bench",
            f"site: {group}",
            f"group_id: {group}",
            "products:",
            "  - {code: RM-1, kind: component}",
            "areas:",
            "  - name: area",
            "    lines:",
            "      - name: edge1",
            "        connections:",
            '          - {name: plc, kind: opcua, endpoint: "opc.tcp://127.0.0.1:4840"}',
            "        cells:",
            "          - name: cell1",
            "            workcenter: WC-1",
            "            equipment:",
            "              - {name: eq, serial: EQ-1}",
            "            tags:",
            *[t.replace("          - ", "              - ", 1) for t in tags],
            "",
        ]
    )


@dataclass(slots=True)
class Run:
    """Samples taken, wall and process CPU time from the first to the last. Process CPU time covers
    every thread of the subscriber (paho's, the bridge's and the rest) and nothing of the broker or
    the publisher; it is read at the first and at the expected last sample only (a system call)."""

    expected: int = 0
    metrics: int = 0
    first: float = 0.0
    last: float = 0.0
    cpu_first: float = 0.0
    cpu_last: float = 0.0

    def add(self, n: int) -> None:
        now = time.perf_counter()
        if not self.metrics:
            self.first = now
            self.cpu_first = time.process_time()
        self.last = now
        self.metrics += n
        if self.metrics >= self.expected and not self.cpu_last:
            self.cpu_last = time.process_time()

    def finish(self) -> None:
        """Samples lost: the expected last never came; the CPU time now is the closest reading."""
        if not self.cpu_last and self.metrics:
            self.cpu_last = time.process_time()

    @property
    def rate(self) -> float:
        span = self.last - self.first
        return self.metrics / span if span > 0 else 0.0

    @property
    def cpu_rate(self) -> float:
        span = self.cpu_last - self.cpu_first
        return self.metrics / span if span > 0 else 0.0


def _drain(run: Run, expected: int, done: Any) -> None:
    deadline = time.monotonic() + 120
    seen, idle = -1, time.monotonic()
    while time.monotonic() < deadline and run.metrics < expected:
        time.sleep(0.02)
        if run.metrics != seen:
            seen, idle = run.metrics, time.monotonic()
        elif done.is_set() and time.monotonic() - idle > IDLE_S:
            break
    run.finish()


def bare_paho(port: int, count: int) -> Run:
    group, run = "bb" + uuid.uuid4().hex[:8], Run(expected=count * METRICS_PER_MESSAGE)
    client, subscribed = bare_subscriber(port, group, run.add)
    proc, go, done = start_publisher(port, group, count)
    try:
        if not subscribed.wait(10):
            raise RuntimeError("bare subscriber did not subscribe")
        go.set()
        _drain(run, count * METRICS_PER_MESSAGE, done)
    finally:
        proc.join(10)
        client.disconnect()
        client.loop_stop()
    return run


def bridge(port: int, count: int, tmp: Path) -> tuple[Run, dict[str, float]]:
    group = "bg" + uuid.uuid4().hex[:8]
    plant_file = tmp / f"{group}.yaml"
    plant_file.write_text(bench_plant(group))
    settings = load_settings(
        plant=plant_file,
        broker=f"mqtt://127.0.0.1:{port}",
        host_id=f"h-{group}",
        data_dir=tmp / group,
        metrics_port=0,  # a free port: 9108 may be taken by another bridge
        log_level="WARNING",
    )
    service = BridgeService(settings, sink=JsonlFileSink(tmp / group / "events.jsonl", fsync=False))
    run = Run(expected=(count + 1) * METRICS_PER_MESSAGE)
    inner = service.pipeline.ingest

    def timed_ingest(chunk: Chunk) -> None:
        inner(chunk)
        run.add(len(chunk))

    service.pipeline.ingest = timed_ingest  # type: ignore[method-assign]
    proc, go, done = start_publisher(port, group, count)
    service.start()
    try:
        if not service.wait_ready(10):
            raise RuntimeError("bridge did not get ready")
        go.set()
        _drain(run, (count + 1) * METRICS_PER_MESSAGE, done)
        stats = service.host.stats()
        extra = {
            "seq_gaps": float(stats["seq_gaps"]),
            "rejected": float(sum(stats["rejected"].values())),
            "windows_samples": float(sum(f.engine.stats.samples for f in service.pipeline.flows)),
            "columnar": float(service.host.columnar),
        }
    finally:
        proc.join(10)
        service.stop()
    return run, extra


def host_only(port: int, count: int) -> Run:
    """Our HostApplication with an on_batch that only counts: what the bridge's ingest is built on."""
    group, run = "bh" + uuid.uuid4().hex[:8], Run(expected=count * METRICS_PER_MESSAGE)

    def on_batch(batch: UpdateBatch) -> None:
        if batch.message_type == "DDATA":
            run.add(len(batch))

    host = HostApplication(f"h-{group}", f"mqtt://127.0.0.1:{port}", groups=[group], on_batch=on_batch)
    proc, go, done = start_publisher(port, group, count)
    host.start()
    try:
        if not host.wait_ready(10):
            raise RuntimeError("host did not get ready")
        go.set()
        _drain(run, count * METRICS_PER_MESSAGE, done)
    finally:
        proc.join(10)
        host.stop()
    return run


def run(count: int = 50_000, rounds: int = 3) -> list[dict[str, object]]:
    """Figures for `make bench`: the bridge's ingest rate against the bare paho ceiling (and against
    our HostApplication alone, which bounds it), best of `rounds` alternating rounds."""
    bare: list[Run] = []
    hosts: list[Run] = []
    ours: list[tuple[Run, dict[str, float]]] = []
    with tempfile.TemporaryDirectory(prefix="bench-bridge-") as tmp_name:
        tmp = Path(tmp_name)
        broker = start_broker(tmp / "mosquitto")
        try:
            for _ in range(rounds):
                bare.append(bare_paho(broker.port, count))
                hosts.append(host_only(broker.port, count))
                ours.append(bridge(broker.port, count, tmp))
        finally:
            broker.stop()
    best_bare = max(bare, key=lambda r: r.rate)
    best_host = max(hosts, key=lambda r: r.rate)
    best, extra = max(ours, key=lambda r: r[0].rate)
    expected = count * METRICS_PER_MESSAGE
    lost = expected + METRICS_PER_MESSAGE - best.metrics
    path = "compiled columnar DATA path" if extra["columnar"] else "Python DATA path (no numba / UNS_NO_JIT)"
    note = (
        f"{best.metrics:,} samples (birth included), {max(lost, 0):,} lost, {extra['seq_gaps']:.0f} seq gaps;"
        f" {path}"
    )
    name = "bridge ingest to windows (10-metric DDATA)"
    return [
        Figure(
            name, best.rate, "metrics/s", "bare paho subscriber (FromString)", best_bare.rate, note
        ).as_json(),
        Figure(
            "bridge ingest to windows (CPU)",
            max(r[0].cpu_rate for r in ours),
            "metrics/cpu-s",
            "bare paho subscriber (process CPU)",
            max(r.cpu_rate for r in bare),
            "process CPU time (all threads of the subscriber), best of each",
        ).as_json(),
        Figure(
            "bridge ingest vs host alone",
            best.rate,
            "metrics/s",
            "our HostApplication, on_batch counts only",
            best_host.rate,
            "the host's decode bounds the bridge; the rest is the bridge thread's share",
        ).as_json(),
    ]


if __name__ == "__main__":
    for fig in run():
        print(fig)
