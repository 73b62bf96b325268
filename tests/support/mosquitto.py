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
# Settings that belong to the listener above them (mosquitto.conf(5), "Listeners"): the derived config
# drops them with their listener, or (secure mode) carries them over to its own listener.
_LISTENER_KEYS = frozenset(
    {
        "bind_address", "bind_interface", "http_dir", "max_connections", "max_qos", "max_topic_alias",
        "mount_point", "port", "protocol", "socket_domain", "use_username_as_clientid",
        "websockets_headers_size", "websockets_log_level", "cafile", "capath", "certfile", "ciphers",
        "ciphers_tls1.3", "crlfile", "dhparamfile", "keyfile", "require_certificate", "tls_engine",
        "tls_engine_kpass_sha1", "tls_keyform", "tls_version", "use_identity_as_username",
        "use_subject_as_username", "psk_hint",
    }
)  # fmt: skip
_TLS_FILES = ("cafile", "certfile", "keyfile")


@dataclass(frozen=True, slots=True)
class SecureFiles:
    """Secure mode: the product's auth and TLS settings kept, with these files in place of its paths.

    Without TLS material the product's TLS listeners are left out (only its plain listener runs).
    """

    password_file: Path
    acl_file: Path
    cafile: Path | None = None
    certfile: Path | None = None
    keyfile: Path | None = None


@dataclass
class _Listener:
    product_port: int
    settings: list[str] = field(default_factory=list)

    @property
    def tls(self) -> bool:
        return any(_key(line) in _TLS_FILES for line in self.settings)


def _key(line: str) -> str:
    text = line.strip()
    return text.split(" ", 1)[0] if text and not text.startswith("#") else ""


def _split(source: Path) -> tuple[list[str], list[_Listener]]:
    """The product config as its global lines and its listeners with their own settings."""
    kept: list[str] = []
    listeners: list[_Listener] = []
    for line in source.read_text().splitlines():
        key = _key(line)
        if key == "listener":
            listeners.append(_Listener(int(line.split()[1])))
        elif key in _LISTENER_KEYS:
            if listeners:
                listeners[-1].settings.append(line.strip())
        elif key not in _REPLACED:
            kept.append(line)
    return kept, listeners


def _product_value(source: Path, name: str) -> str | None:
    for line in source.read_text().splitlines():
        if _key(line) == name:
            return line.split(None, 1)[1].strip()
    return None


def mosquitto_binary() -> str:
    found = shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
    )
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
    secure: SecureFiles | None = None,
    ports: dict[int, int] | None = None,
) -> Path:
    """Write a config that keeps every product setting but the listener, auth and file locations.

    Secure mode keeps the product's auth (allow_anonymous, a password file, an ACL) and its listeners
    with their own settings; only file paths and ports change (product port -> `ports`, which is
    filled in: the product's plain listener gets `port`, the others free ports).
    """
    kept, listeners = _split(source)
    kept += ["", "# --- derived for a test run ---"]
    if secure is None:
        kept += [
            f"listener {port} 127.0.0.1",
            "protocol mqtt",
            f"allow_anonymous {'true' if anonymous else 'false'}",
        ]
    else:
        kept += [
            f"allow_anonymous {_product_value(source, 'allow_anonymous') or 'false'}",
            f"password_file {secure.password_file}",
            f"acl_file {secure.acl_file}",
        ]
        files = {"cafile": secure.cafile, "certfile": secure.certfile, "keyfile": secure.keyfile}
        mapping = ports if ports is not None else {}
        plain_done = False
        for lst in listeners:
            if lst.tls and secure.cafile is None:
                continue
            if not lst.tls and not plain_done:
                mapping[lst.product_port] = port
                plain_done = True
            else:
                mapping.setdefault(lst.product_port, free_port())
            kept.append(f"listener {mapping[lst.product_port]} 127.0.0.1")
            for line in lst.settings:
                key = _key(line)
                kept.append(f"{key} {files[key]}" if key in files else line)
    kept += [
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
