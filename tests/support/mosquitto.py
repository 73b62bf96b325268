"""Start a real Mosquitto on a free loopback port with a config derived from broker/mosquitto.conf."""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PRODUCT_CONF = REPO / "broker" / "mosquitto.conf"

# Settings that tie the product config to one machine; the derived config replaces them.
_REPLACED = (
    "listener",
    "allow_anonymous",
    "password_file",
    "acl_file",
    "persistence_location",
    "log_dest",
    "pid_file",
    "cafile",
    "certfile",
    "keyfile",
    "require_certificate",
    "use_identity_as_username",
    "protocol",
    "user",
)


def mosquitto_binary() -> str:
    found = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)
    if not found:
        raise RuntimeError("mosquitto is not installed: run `make test` (it installs it with apt-get)")
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def derive_config(
    workdir: Path,
    port: int,
    *,
    extra: str = "",
    anonymous: bool = True,
    source: Path = PRODUCT_CONF,
) -> Path:
    """Write a config that keeps every product setting but the listener, auth and file locations."""
    kept = []
    for line in source.read_text().splitlines():
        key = line.strip().split(" ", 1)[0] if line.strip() and not line.strip().startswith("#") else ""
        if key in _REPLACED:
            continue
        kept.append(line)
    kept += [
        "",
        "# --- derived for a test run ---",
        f"listener {port} 127.0.0.1",
        "protocol mqtt",
        f"allow_anonymous {'true' if anonymous else 'false'}",
        f"persistence_location {workdir}/",
        f"log_dest file {workdir / 'mosquitto.log'}",
        # Started as root, Mosquitto drops to user `mosquitto`, who may not write the test's folder.
        f"user {getpass.getuser()}",
        extra,
    ]
    conf = workdir / "mosquitto.conf"
    conf.write_text("\n".join(kept) + "\n")
    return conf


@dataclass
class Mosquitto:
    """A broker process the test owns: start, stop, kill -9 and restart on the same port."""

    workdir: Path
    port: int = field(default_factory=free_port)
    extra: str = ""
    anonymous: bool = True
    proc: subprocess.Popen[bytes] | None = None

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

    def start(self, timeout: float = 10.0) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = derive_config(self.workdir, self.port, extra=self.extra, anonymous=self.anonymous)
        self.proc = subprocess.Popen(
            [mosquitto_binary(), "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"mosquitto exited with {self.proc.returncode}: {err}\n{self.log}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"mosquitto did not listen on port {self.port} within {timeout}s\n{self.log}")

    def stop(self) -> None:
        """A clean stop: the broker saves retained messages and sends no wills for clean disconnects."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def kill(self) -> None:
        """A crash: SIGKILL, nothing saved since the last autosave."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        self.proc = None

    def restart(self, *, hard: bool = False) -> None:
        self.kill() if hard else self.stop()
        self.start()
