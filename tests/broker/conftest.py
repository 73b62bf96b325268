"""The product's broker auth for real: secrets made by broker/make-secrets.sh, a Mosquitto that keeps them."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.mosquitto import REPO, Mosquitto, SecureFiles

PLANT = REPO / "scenarios" / "plants" / "cnc_shop.yaml"  # enterprise acme, site/group toolworks
SCRIPT = REPO / "broker" / "make-secrets.sh"
UNS = REPO / ".venv" / "bin" / "uns"


def make_secrets(out: Path, *args: str, plant: Path = PLANT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "UNS": str(UNS)}
    return subprocess.run(
        ["bash", str(SCRIPT), "--plant", str(plant), "--out", str(out), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def read_passwords(out: Path) -> dict[str, str]:
    found = {}
    for env in (out / "env").glob("*.env"):
        values = dict(line.split("=", 1) for line in env.read_text().splitlines() if "=" in line)
        found[values["UNS_BROKER_USER"]] = values["UNS_BROKER_PASSWORD"]
    return found


@pytest.fixture(scope="session")
def secrets_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("broker-secrets") / "secrets"
    done = make_secrets(out, "--hostname", "broker.plant.test")
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="session")
def passwords(secrets_dir: Path) -> dict[str, str]:
    return read_passwords(secrets_dir)


@pytest.fixture(scope="module")
def secure_broker(secrets_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    """The product config's auth, ACL and listeners (1883, 8883, 8884) on free loopback ports."""
    s = secrets_dir / "broker"
    b = Mosquitto(
        workdir=tmp_path_factory.mktemp("secure-mosquitto"),
        secure=SecureFiles(s / "passwd", s / "acl", s / "ca.crt", s / "server.crt", s / "server.key"),
    )
    b.start()
    yield b
    b.stop()
