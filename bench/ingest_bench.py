"""Host ingest through a real Mosquitto: our HostApplication against a bare paho subscriber, and pysparkplug.

A publisher process floods pre-encoded DDATA (10 alias-only metrics each, after NBIRTH/DBIRTH) at QoS 0;
each subscriber counts the metrics it hands on and the time from the first DDATA to the last.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.broker import start_broker
from bench.ceiling import bare_subscriber, start_publisher
from bench.publisher import METRICS_PER_MESSAGE
from bench.results import Figure
from sparkplug.host import HostApplication
from sparkplug.host_registry import UpdateBatch

REPO = Path(__file__).resolve().parents[1]
PYSPARKPLUG_PY = REPO / ".venv-pysparkplug" / "bin" / "python"
IDLE_LIMIT_S = 3.0  # no new DDATA for this long after the publisher finished: the rest is lost


@dataclass(slots=True)
class Run:
    """What one subscriber delivered. CPU time is its network thread's, read at the first and at the
    expected last DDATA only: a CPU clock read is a system call (~0.6 us here), too dear per message."""

    expected: int = 0  # messages; at the last one the thread's CPU time is read
    messages: int = 0
    metrics: int = 0
    first: float = 0.0
    last: float = 0.0
    cpu_first: float = 0.0
    cpu_last: float = 0.0
    cpu_clock: int | None = None  # the network thread's CPU clock, readable from any thread

    def add(self, metrics: int) -> None:
        """Called on the subscriber's network thread for each delivered DDATA."""
        now = time.perf_counter()
        if not self.messages:
            self.first = now
            self.cpu_first = time.thread_time()
            self.cpu_clock = time.pthread_getcpuclockid(threading.get_ident())
        self.last = now
        self.messages += 1
        self.metrics += metrics
        if self.messages == self.expected:
            self.cpu_last = time.thread_time()

    def finish(self) -> None:
        """After the drain: with messages lost the last one never came; the thread's clock now is
        the closest reading (it has idled since, which costs next to nothing)."""
        if not self.cpu_last and self.cpu_clock is not None:
            self.cpu_last = time.clock_gettime(self.cpu_clock)

    @property
    def metrics_per_s(self) -> float:
        span = self.last - self.first
        return self.metrics / span if span > 0 else 0.0

    @property
    def metrics_per_cpu_s(self) -> float:
        """Metrics per CPU second of the network thread: what the rate would be on an idle core."""
        span = self.cpu_last - self.cpu_first
        return self.metrics / span if span > 0 else 0.0


def _group() -> str:
    return "bench" + uuid.uuid4().hex[:8]


def _flood_into(port: int, group: str, count: int, run: Run, ready: Callable[[], None]) -> Run:
    """Start the publisher, let it go once the subscriber is ready, wait for the flood to drain."""
    proc, go, done = start_publisher(port, group, count)
    ready()
    go.set()
    deadline = time.monotonic() + 90
    seen, idle_since = -1, time.monotonic()
    while time.monotonic() < deadline and run.messages < count:
        time.sleep(0.05)
        if run.messages != seen:
            seen, idle_since = run.messages, time.monotonic()
        elif done.is_set() and time.monotonic() - idle_since > IDLE_LIMIT_S:
            break
    proc.join(10)
    run.finish()
    return run


def bare_paho(port: int, count: int) -> Run:
    """The ceiling: paho 2.x, on_message only parses the protobuf."""
    group, run = _group(), Run(expected=count)
    client, subscribed = bare_subscriber(port, group, run.add)
    try:
        return _flood_into(port, group, count, run, lambda: _require(subscribed.wait(10), "bare subscriber"))
    finally:
        client.disconnect()
        client.loop_stop()


def our_host(port: int, count: int) -> Run:
    """Our HostApplication: decode, resolve aliases, typed values, columnar batches to on_batch."""
    group, run = _group(), Run(expected=count)

    def on_batch(batch: UpdateBatch) -> None:
        if batch.message_type == "DDATA":
            run.add(len(batch))

    host = HostApplication(f"{group}-host", f"mqtt://127.0.0.1:{port}", groups=[group], on_batch=on_batch)
    host.start()
    try:
        _flood_into(port, group, count, run, lambda: _require(host.wait_ready(10), "host"))
        stats = host.stats()
        if stats["rejected"] or stats["seq_gaps"]:
            raise RuntimeError(f"host rejected messages in the bench: {stats}")
        return run
    finally:
        host.stop()


def pysparkplug_client(port: int, count: int) -> Run | None:
    """pysparkplug 0.6.1's Client (its own venv, paho 1.6), decoding with aliases from the births."""
    if not PYSPARKPLUG_PY.exists():
        return None
    group = _group()
    cmd = [str(PYSPARKPLUG_PY), str(REPO / "interop" / "pysparkplug_host.py"), "--port", str(port)]
    cmd += ["--group", group, "--expect", str(count), "--timeout", "90", "--count-only", "--no-stdin"]
    cmd += ["--idle", str(IDLE_LIMIT_S)]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    pub, go, _ = start_publisher(port, group, count)
    line = proc.stdout.readline()
    _require('"ready"' in line, f"pysparkplug host ({line!r})")
    go.set()
    out, _ = proc.communicate(timeout=120)
    pub.join(10)
    summary = json.loads(out.strip().splitlines()[-1])
    run = Run(messages=summary["data"], metrics=summary["metrics"], first=0.0, last=float(summary["span_s"]))
    return run


def _require(ok: bool, what: str) -> None:
    if not ok:
        raise RuntimeError(f"{what} did not get ready")


def run(scale: float = 1.0, rounds: int = 3) -> list[Figure]:
    """Ceiling, ours and the peer; 50k messages at scale 1.0; best of `rounds` for the first two."""
    count = max(1000, int(50_000 * scale))
    peer_count = count // 2  # pysparkplug is slow; half the flood gives its rate in half the time
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="bench-mosquitto-") as tmp:
        broker = start_broker(Path(tmp))
        try:
            bare: list[Run] = []
            ours: list[Run] = []
            for _ in range(rounds):
                bare.append(bare_paho(broker.port, count))
                ours.append(our_host(broker.port, count))
            peer = pysparkplug_client(broker.port, peer_count)
        finally:
            broker.stop()
    best_bare = max(bare, key=lambda r: r.metrics_per_s)
    best_ours = max(ours, key=lambda r: r.metrics_per_s)
    expected = count * METRICS_PER_MESSAGE
    ceiling = "bare paho subscriber (FromString)"
    figures.append(
        Figure(
            "ingest bare paho (ceiling)",
            best_bare.metrics_per_s,
            "metrics/s",
            ceiling,
            best_bare.metrics_per_s,
            _loss(best_bare, expected),
        )
    )
    figures.append(
        Figure(
            "ingest our HostApplication",
            best_ours.metrics_per_s,
            "metrics/s",
            ceiling,
            best_bare.metrics_per_s,
            _loss(best_ours, expected),
        )
    )
    # The same runs in CPU time of the network thread: other jobs on a shared machine stretch wall time,
    # not the CPU the subscriber needs per message, so this ratio moves far less from run to run.
    cpu_bare = max(r.metrics_per_cpu_s for r in bare)
    pairs = sorted(o.metrics_per_cpu_s / b.metrics_per_cpu_s for b, o in zip(bare, ours, strict=True))
    figures.append(
        Figure(
            "ingest our HostApplication (CPU)",
            max(r.metrics_per_cpu_s for r in ours),
            "metrics/cpu-s",
            "bare paho subscriber (CPU)",
            cpu_bare,
            f"network thread's CPU time, best of each; round by round {pairs[0]:.1%}-{pairs[-1]:.1%}",
        )
    )
    if peer is not None:
        figures.append(
            Figure(
                "ingest pysparkplug Client (peer)",
                peer.metrics_per_s,
                "metrics/s",
                ceiling,
                best_bare.metrics_per_s,
                _loss(peer, peer_count * METRICS_PER_MESSAGE),
            )
        )
    return figures


def _loss(r: Run, expected: int) -> str:
    lost = expected - r.metrics
    return (
        f"{r.metrics:,} of {expected:,} metrics, {lost:,} lost"
        if lost
        else f"{expected:,} metrics, none lost"
    )
