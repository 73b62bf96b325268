"""A Mosquitto the demo owns: the product's broker/mosquitto.conf on a loopback port, with its auth.

The product config is written for the container (paths under /mosquitto, listeners 1883/8883/8884).
The derived config keeps every other setting (queues, packet limits, persistence, logging) and
replaces the listeners and file locations: one plain listener on 127.0.0.1:<port>; with `secrets`
(the directory broker/make-secrets.sh fills) the product's auth stays on: no anonymous access, its
password file and its ACL.
"""

from __future__ import annotations

import getpass
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PRODUCT_CONF = REPO / "broker" / "mosquitto.conf"
MAKE_SECRETS = REPO / "broker" / "make-secrets.sh"

# Settings that tie the product config to the container; the derived config sets its own.
_REPLACED = frozenset(
    {
        "listener", "allow_anonymous", "password_file", "acl_file", "persistence_location", "log_dest",
        "pid_file", "cafile", "capath", "certfile", "keyfile", "require_certificate",
        "use_identity_as_username", "protocol", "tls_version", "user", "port", "bind_address",
    }
)  # fmt: skip


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def mosquitto_binary() -> str:
    found = shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
    )
    if not found:
        raise RuntimeError(
            "mosquitto is not installed (Debian: apt-get install mosquitto; `make demo` does it)"
        )
    return found


def derived_config(workdir: Path, port: int, secrets: Path | None, source: Path = PRODUCT_CONF) -> Path:
    """Write <workdir>/mosquitto.conf: the product's settings, a loopback listener, auth from `secrets`."""
    kept: list[str] = []
    for line in source.read_text(encoding="utf-8").splitlines():
        key = line.strip().split(" ", 1)[0] if line.strip() and not line.strip().startswith("#") else ""
        if key not in _REPLACED:
            kept.append(line)
    kept += [
        "",
        "# --- derived by scenarios/broker_process.py ---",
        f"listener {port} 127.0.0.1",
        "protocol mqtt",
    ]
    if secrets is None:
        kept.append("allow_anonymous true")
    else:
        # make-secrets.sh puts what Mosquitto reads under <out>/broker/ (older layout: <out>/).
        files = secrets / "broker" if (secrets / "broker" / "passwd").exists() else secrets
        kept += ["allow_anonymous false", f"password_file {files / 'passwd'}", f"acl_file {files / 'acl'}"]
    kept += [
        f"persistence_location {workdir}/",
        f"log_dest file {workdir / 'mosquitto.log'}",
        # Started as root, Mosquitto would drop to user `mosquitto`, who may not write the run folder.
        f"user {getpass.getuser()}",
    ]
    conf = workdir / "mosquitto.conf"
    conf.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return conf


def make_secrets(plant: Path, out: Path, host_id: str) -> dict[str, str]:
    """Run broker/make-secrets.sh for the plant into `out`; return {MQTT user: password}."""
    result = subprocess.run(
        ["bash", str(MAKE_SECRETS), "--plant", str(plant), "--out", str(out), "--host-id", host_id],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"broker/make-secrets.sh failed ({result.returncode}): {result.stderr.strip()}")
    users: dict[str, str] = {}
    for env in sorted((out / "env").glob("*.env")):
        values = dict(
            line.split("=", 1) for line in env.read_text(encoding="utf-8").splitlines() if "=" in line
        )
        users[values["UNS_BROKER_USER"]] = values["UNS_BROKER_PASSWORD"]
    return users


@dataclass
class BrokerProcess:
    """`start()` / `stop()` a Mosquitto on 127.0.0.1:`port` (0: a free port) with the derived config."""

    workdir: Path
    port: int = 0
    secrets: Path | None = None
    proc: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "mosquitto.log"

    def start(self, timeout: float = 10.0) -> BrokerProcess:
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self.port == 0:
            self.port = free_port()
        conf = derived_config(self.workdir, self.port, self.secrets)
        self.proc = subprocess.Popen(
            [mosquitto_binary(), "-c", str(conf)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,  # Ctrl-C reaches the demo, which stops the broker last
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                raise RuntimeError(f"mosquitto exited with {self.proc.returncode}: {err.strip()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"mosquitto did not listen on port {self.port} within {timeout:g} s")

    def stop(self) -> None:
        """SIGTERM (Mosquitto saves its retained messages), SIGKILL if it hangs."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
