"""`uns sparkplug decode`: vectors to JSON through the real command line, and bad payloads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bridge.cli import main

VECTORS = Path(__file__).parent / "vectors"


def test_decode_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sparkplug", "decode", str(VECTORS / "dataset_template.bin")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == json.loads((VECTORS / "dataset_template.json").read_text())
    assert out["metrics"][0]["value"]["types"] == ["Int32", "String", "Boolean"]


def test_decode_with_topic(capsys: pytest.CaptureFixture[str]) -> None:
    path = VECTORS / "properties_arrays.bin"
    assert main(["sparkplug", "decode", str(path), "--topic", "spBv1.0/Plant1/DBIRTH/Line2/Cell3"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["topic"] == {
        "group_id": "Plant1",
        "message_type": "DBIRTH",
        "edge_node_id": "Line2",
        "device_id": "Cell3",
    }
    file_metric = out["payload"]["metrics"][-1]
    assert file_metric["value"] == "aGVsbG8=" and file_metric["datatype"] == "File"


def test_decode_stdin_via_the_installed_command(tmp_path: Path) -> None:
    uns = Path(sys.executable).parent / "uns"
    data = (VECTORS / "nbirth_scalars.bin").read_bytes()
    done = subprocess.run([str(uns), "sparkplug", "decode"], input=data, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["metrics"][2] == {
        "name": "i8",
        "alias": 1,
        "timestamp": 1764150000000,
        "datatype": "Int8",
        "value": -1,
    }
    assert done.stdout.startswith(b'{\n  "timestamp"')  # indent 2


def test_bad_payload_exits_1_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"\xff\xfe\xfd garbage")
    assert main(["sparkplug", "decode", str(bad)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.strip()
    assert "\n" not in err and "not a Sparkplug B payload" in err


def test_type_mismatch_and_oversized_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mismatch = tmp_path / "m.bin"
    mismatch.write_bytes(b"\x12\x07\x0a\x01x\x20\x03\x7a\x00")  # metric 'x', Int32, string_value ""
    assert main(["sparkplug", "decode", str(mismatch)]) == 1
    assert "metric 'x': datatype Int32 but the value is in string_value" in capsys.readouterr().err
    assert main(["sparkplug", "decode", "--max-size", "10", str(VECTORS / "ddata_aliases.bin")]) == 1
    assert "larger than the limit of 10 bytes" in capsys.readouterr().err


def test_bad_topic_and_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["sparkplug", "decode", str(VECTORS / "ddata_aliases.bin"), "--topic", "spBv1.0/g/NDATA"]) == 1
    )
    assert "has 3 levels" in capsys.readouterr().err
    assert main(["sparkplug", "decode", str(tmp_path / "nope.bin")]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_state_topic_payload_is_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state.json"
    state.write_bytes(b'{"online": true, "timestamp": 1764150000000}')
    assert main(["sparkplug", "decode", str(state), "--topic", "spBv1.0/STATE/scada"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == {
        "topic": {"message_type": "STATE", "host_id": "scada"},
        "payload": {"online": True, "timestamp": 1764150000000},
    }
