"""The benchmarks' Mosquitto: the test fixture's broker, started on a fresh free port until one holds."""

from __future__ import annotations

import time
from pathlib import Path

from tests.support.mosquitto import Mosquitto

ATTEMPTS = 5


def start_broker(workdir: Path, attempts: int = ATTEMPTS) -> Mosquitto:
    """A started Mosquitto in `workdir`. The free port is found by binding and releasing it, so another
    process can take it before Mosquitto binds ("Address already in use"): then a new port is tried."""
    failures: list[str] = []
    for attempt in range(attempts):
        broker = Mosquitto(workdir=workdir / f"try{attempt}")
        try:
            broker.start()
            # The port can answer for another process while our Mosquitto fails to bind and exits.
            time.sleep(0.1)
            if broker.proc is None or broker.proc.poll() is not None:
                raise RuntimeError("exited right after start (port taken?)")
        except RuntimeError as exc:
            lines = str(exc).strip().splitlines()
            failures.append(f"port {broker.port}: {lines[0] if lines else type(exc).__name__}")
            broker.stop()
            continue
        return broker
    raise RuntimeError(f"no Mosquitto after {attempts} ports: {'; '.join(failures)}")
