"""Run Mosquitto from the product's broker/mosquitto.conf on loopback ports: the demo's broker, and the
config derivation and process handling the test fixture (tests/support/mosquitto.py) builds on.

The product config is written for the container (paths under /mosquitto, listeners 1883/8883/8884).
A derived config keeps every other setting (queues, packet limits, persistence, logging) and replaces
the listeners and file locations; with `SecureFiles` (what broker/make-secrets.sh makes) the product's
auth stays on: no anonymous access, its password file and its ACL (and its TLS listeners when TLS
material is given).
"""

from __future__ import annotations

import getpass
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
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
        raise RuntimeError("mosquitto is not installed: `make demo` / `make test` install it with apt-get")
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
    kept += ["", "# --- derived by scenarios/broker_process.py for this run ---"]
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


MAKE_SECRETS = REPO / "broker" / "make-secrets.sh"


def launch(conf: Path, host: str, port: int, log: Path, timeout: float = 10.0) -> subprocess.Popen[bytes]:
    """Start Mosquitto on `conf` in its own session and wait until it listens on host:port."""
    proc = subprocess.Popen(
        [mosquitto_binary(), "-c", str(conf)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # a Ctrl-C reaches its owner, who stops the broker last
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            text = log.read_text(errors="replace") if log.exists() else ""
            raise RuntimeError(f"mosquitto exited with {proc.returncode}: {err.strip()}\n{text}")
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.02)
    terminate(proc)
    raise RuntimeError(f"mosquitto did not listen on port {port} within {timeout:g} s")


def terminate(proc: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM (Mosquitto saves its retained messages and sends no wills for clean disconnects), then
    SIGKILL if it hangs."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


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


def secure_files(secrets: Path) -> SecureFiles:
    """The password file and ACL make-secrets.sh wrote under <out>/broker/ (older layout: <out>/)."""
    files = secrets / "broker" if (secrets / "broker" / "passwd").exists() else secrets
    return SecureFiles(password_file=files / "passwd", acl_file=files / "acl")


@dataclass
class BrokerProcess:
    """The demo's broker: `start()` / `stop()` on 127.0.0.1:`port` (0: a free port), the product config
    with the auth of `secrets` (a make-secrets.sh output directory), or anonymous without it."""

    workdir: Path
    port: int = 0
    secrets: Path | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

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
        secure = secure_files(self.secrets) if self.secrets is not None else None
        conf = derive_config(self.workdir, self.port, anonymous=secure is None, secure=secure)
        self.proc = launch(conf, self.host, self.port, self.log_path, timeout)
        return self

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        terminate(proc)
