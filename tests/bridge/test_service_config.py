"""`uns run` settings: flags over UNS_* environment over the YAML file; secrets from files, never shown;
bad settings and bad plant files stop with a clear message; `uns rejected` lists what was kept."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bridge.cli import main
from bridge.config import load_settings
from bridge.logging_setup import JsonFormatter, ScrubSecrets
from bridge.rejected import RejectedStore
from tests.bridge.plant_fixture import plant_yaml


def test_flags_win_over_environment_over_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "bridge.yaml"
    cfg.write_text("plant: plant.yaml\nbroker: mqtt://from-file:1883\nwindow_s: 5\nhost_id: file-host\n")
    monkeypatch.setenv("UNS_BROKER", "mqtt://from-env:1883")
    monkeypatch.setenv("UNS_HOST_ID", "env-host")
    s = load_settings(cfg, host_id="flag-host", broker=None)
    assert (s.broker, s.host_id, s.window_s) == ("mqtt://from-env:1883", "flag-host", 5.0)
    assert s.plant == Path("plant.yaml")
    monkeypatch.delenv("UNS_BROKER")
    assert load_settings(cfg).broker == "mqtt://from-file:1883"


def test_secrets_from_files_are_never_shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key_file = tmp_path / "odoo.key"
    key_file.write_text("s3cret-api-key\n")
    monkeypatch.setenv("UNS_ODOO_API_KEY_FILE", str(key_file))
    monkeypatch.setenv("UNS_BROKER_PASSWORD", "broker-pw-123")
    s = load_settings(plant=tmp_path / "p.yaml", broker="mqtt://bridge@10.0.0.5:1883")
    assert s.odoo_api_key is not None and s.odoo_api_key.get_secret_value() == "s3cret-api-key"
    assert "s3cret" not in repr(s) and "broker-pw" not in repr(s)
    shown = str(s.redacted())
    assert "s3cret" not in shown and "broker-pw" not in shown
    assert s.broker_url() == "mqtt://bridge:broker-pw-123@10.0.0.5:1883"
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "connecting with %s", (s.broker_url(),), None)
    assert ScrubSecrets(s.secrets()).filter(record)
    line = JsonFormatter().format(record)
    assert "broker-pw-123" not in line and "***" in line


def test_bad_settings_and_bad_plants_exit_2_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--plant", str(tmp_path / "p.yaml"), "--window-s", "-1"]) == 2
    assert "window_s" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text(plant_yaml("g1").replace("role: good_count", "role: good_counter"))
    assert main(["run", "--plant", str(bad), "--data-dir", str(tmp_path / "d"), "--metrics-port", "0"]) == 2
    err = capsys.readouterr().err
    assert "is not valid" in err and "good_counter" in err
    good = tmp_path / "good.yaml"
    good.write_text(plant_yaml("g1"))
    code = main(
        ["run", "--plant", str(good), "--data-dir", str(tmp_path / "d2"), "--odoo", "http://odoo:8069"]
    )
    assert code == 2
    assert "the Odoo sink needs --odoo-db" in capsys.readouterr().err


def test_uns_rejected_lists_and_dumps_raw_bytes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = RejectedStore(tmp_path / "rejected.sqlite3")
    store.add_many([(1_764_150_000_000, "spBv1.0/g/DDATA/e/d", "malformed", b"\x00\x01garbage")])
    store.close()
    assert main(["rejected", "--db", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "malformed" in out and "spBv1.0/g/DDATA/e/d" in out and "(9 bytes)" in out
    assert main(["rejected", "--db", str(tmp_path), "--raw", "1"]) == 0
    assert capsys.readouterr().out.encode("latin-1", "replace").endswith(b"garbage")
