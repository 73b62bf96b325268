"""`uns odoo check / bootstrap / trace` against the Odoo sandbox; the API key never shows."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.cli import main
from tests.contract.sandbox import start_sandbox

PLANT = Path(__file__).resolve().parents[2] / "scenarios" / "plants" / "cnc_shop.yaml"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str, str]]:
    with start_sandbox(tmp_path_factory.mktemp("cli")) as (bridge, admin):
        yield bridge.url, bridge.db, bridge.key.get_secret_value(), admin.key.get_secret_value()


def run(
    args: list[str],
    key: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> tuple[int, str]:
    monkeypatch.setenv("ODOO_KEY", key)
    with caplog.at_level(logging.DEBUG):
        code = main(["-vv", "odoo", *args])
    out = capsys.readouterr()
    text = out.out + out.err
    assert key not in text and key not in caplog.text, "the API key leaked into output or logs"
    return code, out.out


def test_check_bootstrap_check(
    sandbox: tuple[str, str, str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    url, db, bridge_key, admin_key = sandbox
    conn = ["--url", url, "--db", db]
    code, out = run(
        ["check", str(PLANT), *conn, "--user", "uns-bridge"], bridge_key, monkeypatch, capsys, caplog
    )
    assert code == 1
    assert "API: jsonrpc" in out
    # the sandbox answers has_group and full_name as Odoo 18 does: groups with the implied ones, all ok
    assert (
        "groups: Extra Rights / Technical Features, Inventory / User, Manufacturing / User, "
        "Technical / Manage Lots / Serial Numbers, Technical / Manage Work Order Operations, "
        "User types / Internal User\n"
    ) in out
    group_lines = [ln for ln in out.splitlines() if " group " in ln]
    assert group_lines == [
        "ok      group        mrp.group_mrp_user",
        "ok      group        mrp.group_mrp_routings",
    ]
    assert "warning:" not in out
    assert "MISSING work center  CNC-101" in out and "MISSING product      FG-BRACKET" in out
    key_file = tmp_path / "admin.key"
    key_file.write_text(admin_key + "\n")
    boot = [
        "bootstrap",
        str(PLANT),
        *conn,
        "--user",
        "admin",
        "--key-file",
        str(key_file),
        "--bridge-user",
        "uns-bridge",
    ]
    code, out = run(boot, "unused-env-key", monkeypatch, capsys, caplog)
    assert code == 0 and "created mrp.workcenter" in out and "created mrp.production" in out
    code, out = run(boot, "unused-env-key", monkeypatch, capsys, caplog)
    assert code == 0 and "created" not in out  # idempotent
    code, out = run(
        ["check", str(PLANT), *conn, "--user", "uns-bridge"], bridge_key, monkeypatch, capsys, caplog
    )
    # every master-data item is there now, and the groups were all along
    assert code == 0 and "MISSING" not in out and "everything the bridge needs is there" in out, out
    assert "ok      group        mrp.group_mrp_routings" in out


def test_wrong_key_and_unreachable(
    sandbox: tuple[str, str, str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    url, db, _key, _admin = sandbox
    code, _out = run(
        ["check", "--url", url, "--db", db, "--user", "uns-bridge"],
        "wrong-key-123",
        monkeypatch,
        capsys,
        caplog,
    )
    assert code == 2
    code, _out = run(
        ["check", "--url", "http://127.0.0.1:9", "--db", db, "--user", "x"],
        "wrong-key-123",
        monkeypatch,
        capsys,
        caplog,
    )
    assert code == 2
