"""`uns edge`: clear errors, and a real run (subprocess) that births, and on SIGTERM sends NDEATH."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from bridge.cli import main
from edge.config import OpcUaOptions, env_prefix, opcua_options_from_env
from tests.conformance.wire import Wire
from tests.edge.support import Births, LoopThread, free_port

REPO = Path(__file__).resolve().parents[2]

PLANT = """
enterprise: acme
site: {site}
areas:
  - name: hall
    lines:
      - name: line1
        connections: [{{name: plc, kind: opcua, endpoint: "opc.tcp://127.0.0.1:1/x"}}]
        cells:
          - name: c1
            tags: [{{path: t, datatype: Double, source: {{connection: plc, node_id: "ns=2;s=T"}}}}]
      - name: line2
        edge_node_id: turning-gw
        connections: [{{name: mb, kind: modbus, host: 127.0.0.1, port: {port}, poll_ms: 100}}]
        cells:
          - name: c2
            tags: [{{path: count, datatype: UInt16, source: {{connection: mb, table: holding, address: 0}}}}]
"""


def test_unknown_edge_node_lists_the_known_ones(tmp_path, capsys):
    plant = tmp_path / "plant.yaml"
    plant.write_text(PLANT.format(site="s1", port=1502))
    assert main(["edge", "--plant", str(plant), "--edge-node", "line9"]) == 2
    err = capsys.readouterr().err
    assert "edge node 'line9' is not in the plant model" in err
    assert "known: s1/line1, s1/turning-gw" in err


def test_invalid_plant_and_bad_security_settings_are_clear(tmp_path, capsys, monkeypatch):
    bad = tmp_path / "bad.yaml"
    bad.write_text("enterprise: acme\n")
    assert main(["edge", "--plant", str(bad), "--edge-node", "x"]) == 2
    assert "is not valid" in capsys.readouterr().err
    plant = tmp_path / "plant.yaml"
    plant.write_text(PLANT.format(site="s1", port=1502))
    monkeypatch.setenv("UNS_EDGE_PLC_SECURITY_POLICY", "Basic256Sha256")
    monkeypatch.setenv("UNS_EDGE_PLC_PASSWORD", "hunter2-secret")
    monkeypatch.setenv("UNS_EDGE_PLC_USERNAME", "op")
    assert main(["edge", "--plant", str(plant), "--edge-node", "line1"]) == 2
    err = capsys.readouterr().err
    assert "UNS_EDGE_PLC_" in err and "needs a certificate and a private key" in err
    assert "hunter2-secret" not in err


def test_opcua_options_from_the_environment(tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("from-a-file\n")
    assert env_prefix("plc-1.a") == "UNS_EDGE_PLC_1_A_"
    o = opcua_options_from_env(
        "plc-1",
        {
            "UNS_EDGE_PLC_1_USERNAME": "op",
            "UNS_EDGE_PLC_1_PASSWORD_FILE": str(secret),
            "UNS_EDGE_PLC_1_SECURITY_POLICY": "Basic256Sha256",
            "UNS_EDGE_PLC_1_SECURITY_MODE": "Sign",
            "UNS_EDGE_PLC_1_CERTIFICATE": "/etc/uns/cert.der",
            "UNS_EDGE_PLC_1_PRIVATE_KEY": "/etc/uns/key.pem",
        },
    )
    assert o.username == "op" and o.password is not None
    assert o.password.get_secret_value() == "from-a-file"
    assert (o.security_policy, o.security_mode, str(o.certificate)) == (
        "Basic256Sha256",
        "Sign",
        "/etc/uns/cert.der",
    )
    assert "from-a-file" not in repr(o)
    assert opcua_options_from_env("plc", {}) == OpcUaOptions()


@pytest.fixture
def plc() -> Iterator[tuple[LoopThread, int]]:
    lt = LoopThread()
    port = free_port()

    async def start() -> ModbusTcpServer:
        regs = [SimData(0, count=10, values=0, datatype=DataType.REGISTERS)]
        server = ModbusTcpServer(SimDevice(id=1, simdata=regs), address=("127.0.0.1", port))
        await server.serve_forever(background=True)
        await server.async_setValues(1, 3, 0, [7])
        return server

    server = lt.run(start())
    yield lt, port
    lt.run(server.shutdown())
    lt.close()


def test_uns_edge_runs_and_stops_with_ndeath(broker, plc, uid, tmp_path):
    _lt, port = plc
    plant = tmp_path / "plant.yaml"
    plant.write_text(PLANT.format(site=uid, port=port))
    wire = Wire(broker.host, broker.port)
    cmd = [sys.executable, "-m", "bridge", "edge", "--plant", str(plant), "--edge-node", "turning-gw"]
    cmd += ["--broker", broker.url, "--data-dir", str(tmp_path / "data")]
    proc = subprocess.Popen(
        cmd,
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "UNS_BROKER_PASSWORD": "not-used-9"},
    )
    try:
        births = Births()
        wire.wait_topic(f"spBv1.0/{uid}/NBIRTH/turning-gw")
        b = wire.wait_topic(f"spBv1.0/{uid}/DBIRTH/turning-gw/c2")
        assert births.birth(b)["count"][0] == 7
        proc.send_signal(signal.SIGTERM)
        wire.wait_topic(f"spBv1.0/{uid}/NDEATH/turning-gw", after=b.index)
        _out, err = proc.communicate(timeout=15)
        assert proc.returncode == 0, err
        assert "not-used-9" not in err
        assert (tmp_path / "data" / "bdseq").exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        wire.close()
