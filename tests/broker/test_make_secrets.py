"""broker/make-secrets.sh and `uns broker acl|users`: files, modes, idempotence, new edge nodes, refusals."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pytest

from bridge.cli import main
from tests.broker.conftest import PLANT, make_secrets, read_passwords
from tests.support.mosquitto import REPO

SECRET = (
    "broker/passwd",
    "broker/acl",
    "broker/server.key",
    "ca/ca.key",
    "credentials.env",
    "env/bridge.env",
    "clients/line1.key",
)
PUBLIC = (
    "ca/ca.crt",
    "broker/ca.crt",
    "broker/server.crt",
    "clients/line1.crt",
    "clients/bridge.crt",
    "clients/line2-gateway.crt",
)
BROKER = {"passwd", "acl", "ca.crt", "server.crt", "server.key", "server.san"}


def snapshot(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def openssl(*args: str) -> str:
    return subprocess.run(["openssl", *args], capture_output=True, text=True, check=True).stdout


def test_files_modes_and_certificates(secrets_dir: Path, passwords: dict[str, str]):
    assert set(passwords) == {"bridge", "line1", "line2-gateway", "scada", "explorer", "admin"}
    assert len(set(passwords.values())) == 6 and all(len(p) >= 24 for p in passwords.values())
    # The broker's directory (all that its container mounts) holds no CA key, client key or password.
    assert {p.name for p in (secrets_dir / "broker").iterdir()} == BROKER
    for name in SECRET:
        assert stat.S_IMODE((secrets_dir / name).stat().st_mode) == 0o600, name
    for name in PUBLIC:
        assert stat.S_IMODE((secrets_dir / name).stat().st_mode) == 0o644, name
    users = [line.split(":", 1)[0] for line in (secrets_dir / "broker" / "passwd").read_text().splitlines()]
    assert sorted(users) == sorted(passwords)
    assert not any(
        pw in (secrets_dir / "broker" / "passwd").read_text() for pw in passwords.values()
    )  # hashed
    creds = (secrets_dir / "credentials.env").read_text()
    assert f"UNS_MQTT_PASSWORD_LINE2_GATEWAY={passwords['line2-gateway']}" in creds

    ca = str(secrets_dir / "ca" / "ca.crt")
    for name in PUBLIC[1:]:
        assert openssl("verify", "-CAfile", ca, str(secrets_dir / name)).strip().endswith("OK")
    server = openssl(
        "x509", "-in", str(secrets_dir / "broker" / "server.crt"), "-noout", "-ext", "subjectAltName"
    )
    assert (
        "DNS:localhost" in server and "IP Address:127.0.0.1" in server and "DNS:broker.plant.test" in server
    )
    subject = openssl("x509", "-in", str(secrets_dir / "clients/line2-gateway.crt"), "-noout", "-subject")
    assert subject.strip() == "subject=CN = line2-gateway"  # the username on the client-certificate listener


def test_running_again_changes_nothing(tmp_path: Path):
    out = tmp_path / "s"
    assert make_secrets(out, "--hostname", "mosquitto").returncode == 0
    before = snapshot(out)
    again = make_secrets(out, "--hostname", "mosquitto")
    assert again.returncode == 0, again.stderr
    assert "new" not in again.stdout
    assert snapshot(out) == before

    # Another host name: a new server certificate from the same CA; passwords and clients kept.
    other = make_secrets(out, "--hostname", "mosquitto", "--hostname", "10.1.2.3")
    assert other.returncode == 0 and "new server certificate" in other.stdout
    after = snapshot(out)
    assert after["broker/server.crt"] != before["broker/server.crt"]
    unchanged = {k for k in before if not k.startswith("broker/server.") and k != "ca/ca.srl"}
    assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}
    san = openssl("x509", "-in", str(out / "broker" / "server.crt"), "-noout", "-ext", "subjectAltName")
    assert "IP Address:10.1.2.3" in san and "DNS:mosquitto" in san


def test_a_new_edge_node_gets_a_user_and_keeps_the_others(tmp_path: Path):
    out = tmp_path / "s"
    assert make_secrets(out).returncode == 0
    old = read_passwords(out)
    plant = tmp_path / "plant.yaml"
    plant.write_text(PLANT.read_text().replace("edge_node_id: line2-gateway", "edge_node_id: line2-gw"))
    done = make_secrets(out, plant=plant)
    assert done.returncode == 0, done.stderr
    assert "new edge user line2-gw" in done.stdout
    assert "line2-gateway is in passwd but not a user of this plant" in done.stdout
    new = read_passwords(out)
    assert {k: new[k] for k in old} == old
    assert (out / "clients" / "line2-gw.crt").exists()
    assert "user line2-gw" in (out / "broker" / "acl").read_text()
    assert "user line2-gateway" not in (out / "broker" / "acl").read_text()


def test_committed_example_acl_is_what_the_generator_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    assert main(["broker", "acl", str(PLANT)]) == 0
    assert capsys.readouterr().out == (REPO / "broker" / "acl.example").read_text()


@pytest.mark.parametrize(
    ("edge_node_id", "message"),
    [("explorer", "also the username of a role"), ("line 1", "cannot be an MQTT username")],
)
def test_edge_node_ids_that_cannot_be_usernames_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edge_node_id: str, message: str
):
    plant = tmp_path / "plant.yaml"
    plant.write_text(
        PLANT.read_text().replace("edge_node_id: line2-gateway", f"edge_node_id: {edge_node_id}")
    )
    for command in ("acl", "users"):
        assert main(["broker", command, str(plant)]) == 1
        assert message in capsys.readouterr().err
    done = make_secrets(tmp_path / "s", plant=plant)
    assert done.returncode != 0 and message in done.stderr
    assert not (tmp_path / "s" / "broker" / "passwd").exists()


def test_script_needs_a_plant(tmp_path: Path):
    done = subprocess.run(["bash", str(REPO / "broker" / "make-secrets.sh")], capture_output=True, text=True)
    assert done.returncode == 2 and "--plant is required" in done.stderr
