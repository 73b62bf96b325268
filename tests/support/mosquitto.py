"""Start a real Mosquitto on a free loopback port with a config derived from broker/mosquitto.conf.

The derivation and the process handling live in scenarios/broker_process.py (the demo runs the same
broker); this module keeps the test fixture's life cycle: start, stop, kill -9, restart on one port."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from scenarios.broker_process import (
    PRODUCT_CONF,
    REPO,
    SecureFiles,
    derive_config,
    free_port,
    launch,
    mosquitto_binary,
    terminate,
)

__all__ = [
    "PRODUCT_CONF",
    "REPO",
    "Mosquitto",
    "SecureFiles",
    "derive_config",
    "free_port",
    "mosquitto_binary",
]


@dataclass
class Mosquitto:
    """A broker process the test owns: start, stop, kill -9 and restart on the same port."""

    workdir: Path
    port: int = field(default_factory=free_port)
    extra: str = ""
    anonymous: bool = True
    proc: subprocess.Popen[bytes] | None = None
    secure: SecureFiles | None = None
    #: secure mode: product listener port (1883, 8883, 8884) -> the port this broker listens on
    ports: dict[int, int] = field(default_factory=dict)

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    @property
    def log(self) -> str:
        path = self.workdir / "mosquitto.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def wait_for_log(self, text: str, timeout: float = 10.0) -> bool:
        """True as soon as the broker's log holds `text` (Mosquitto writes a line after it acts)."""
        deadline = time.monotonic() + timeout
        while text not in self.log:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True

    def start(self, timeout: float = 10.0) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = derive_config(
            self.workdir,
            self.port,
            extra=self.extra,
            anonymous=self.anonymous,
            secure=self.secure,
            ports=self.ports,
        )
        self.proc = launch(conf, self.host, self.port, self.workdir / "mosquitto.log", timeout)

    def stop(self) -> None:
        """A clean stop: the broker saves retained messages and sends no wills for clean disconnects."""
        proc, self.proc = self.proc, None
        terminate(proc)

    def kill(self) -> None:
        """A crash: SIGKILL, nothing saved since the last autosave."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        self.proc = None

    def restart(self, *, hard: bool = False) -> None:
        self.kill() if hard else self.stop()
        self.start()
