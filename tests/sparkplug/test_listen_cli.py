"""`uns sparkplug listen`: a real subprocess on a real broker, decoding what a real EdgeNode sends."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from sparkplug.datatypes import DataType
from sparkplug.edge_node import EdgeNode
from sparkplug.edge_node_model import MetricDef

REPO = Path(__file__).resolve().parents[2]


def _publish_retained(broker, topic: str, payload: bytes) -> None:
    c = mqtt.Client(CallbackAPIVersion.VERSION2)
    c.connect(broker.host, broker.port)
    c.loop_start()
    c.publish(topic, payload, qos=1, retain=True).wait_for_publish(10)
    c.disconnect()
    c.loop_stop()


def _listen(broker, uid: str, *extra: str) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "bridge", "sparkplug", "listen", "--broker", broker.url, "--group", uid]
    return subprocess.Popen(
        [*cmd, *extra],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _traffic(broker, uid: str) -> None:
    node = EdgeNode(uid, "gw1", broker.url, [MetricDef("temp", DataType.Double, 20.0)])
    node.add_device("cell1", [MetricDef("count", DataType.Int32, 0)])
    node.start()
    assert node.wait_online(10)
    node.publish_device_data("cell1", {"count": -7})
    node.publish_node_data({"temp": 21.5})
    node.stop()


def test_listen_json_resolves_names_from_births(broker, uid):
    state = json.dumps({"online": True, "timestamp": 1}).encode()
    _publish_retained(broker, f"spBv1.0/STATE/{uid}-host", state)
    proc = _listen(broker, uid, "--json", "--count", "6")
    try:
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())  # the retained STATE: the listener is subscribed
        assert first["type"] == "STATE" and first["state"] == {"online": True, "timestamp": 1}
        _traffic(broker, uid)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
        _publish_retained(broker, f"spBv1.0/STATE/{uid}-host", b"")
    assert proc.returncode == 0, err
    views = [json.loads(line) for line in out.splitlines()]
    assert [v["type"] for v in views] == ["NBIRTH", "DBIRTH", "DDATA", "NDATA", "NDEATH"]
    assert [v.get("seq") for v in views] == [0, 1, 2, 3, None]
    ddata = views[2]
    assert ddata["device_id"] == "cell1" and ddata["edge_node_id"] == "gw1" and ddata["group_id"] == uid
    m = ddata["metrics"][0]
    assert m["name"] == "count" and m["value"] == -7 and m["datatype"] == "Int32"  # alias resolved
    assert views[3]["metrics"][0]["name"] == "temp" and views[3]["metrics"][0]["value"] == 21.5
    assert "6 message(s)" in err


def test_listen_text_reports_bad_payloads_and_goes_on(broker, uid):
    _publish_retained(broker, f"spBv1.0/{uid}/NDATA/junk", b"\xff\xfe not protobuf")
    proc = _listen(broker, uid, "--count", "2")
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "NDATA" in line and f"{uid}/junk" in line and "error=malformed" in line
        done = threading.Event()

        def traffic() -> None:
            _traffic(broker, uid)
            done.set()

        threading.Thread(target=traffic, daemon=True).start()
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
        _publish_retained(broker, f"spBv1.0/{uid}/NDATA/junk", b"")
    assert proc.returncode == 0, err
    assert "NBIRTH" in out and "seq=0" in out and "temp=20.0" in out and "Node Control/Rebirth=false" in out
    assert done.wait(30)
