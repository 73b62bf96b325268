"""Broker URLs, and an edge node over mqtts:// against a real Mosquitto TLS listener."""

from __future__ import annotations

import subprocess

import pytest

from sparkplug.datatypes import DataType
from sparkplug.edge_node import EdgeNode
from sparkplug.edge_node_model import MetricDef
from sparkplug.errors import SparkplugError
from sparkplug.mqtt_url import parse_broker_url
from tests.conformance.wire import WAIT, Wire
from tests.support.mosquitto import Mosquitto, free_port


def test_parse_plain_and_tls_urls():
    u = parse_broker_url("mqtt://user:p%40ss@broker.plant:1884")
    assert (u.host, u.port, u.tls, u.username, u.password) == ("broker.plant", 1884, False, "user", "p@ss")
    assert u.redacted() == "mqtt://user:***@broker.plant:1884"
    assert parse_broker_url("broker").port == 1883
    t = parse_broker_url("mqtts://h?ca=/etc/ca.pem&cert=/c.pem&key=/k.pem&insecure=1")
    assert (t.port, t.tls, t.ca_file, t.cert_file, t.key_file, t.insecure) == (
        8883,
        True,
        "/etc/ca.pem",
        "/c.pem",
        "/k.pem",
        True,
    )
    for bad in ("http://h", "mqtt://:1883", "mqtt://h:99999"):
        with pytest.raises(SparkplugError):
            parse_broker_url(bad)


def test_edge_node_over_tls(tmp_path, uid):
    key, crt = tmp_path / "server.key", tmp_path / "server.crt"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(crt)],
        check=True, capture_output=True,
    )  # fmt: skip
    tls_port = free_port()
    b = Mosquitto(
        workdir=tmp_path / "mq",
        extra=f"listener {tls_port} 127.0.0.1\ncertfile {crt}\nkeyfile {key}\nallow_anonymous true\n",
    )
    b.start()
    node = None
    try:
        w = Wire(b.host, b.port)
        node = EdgeNode(
            uid, "tls1", f"mqtts://127.0.0.1:{tls_port}?ca={crt}", [MetricDef("x", DataType.Int32, 1)]
        )
        node.start()
        assert node.wait_online(WAIT)
        nbirth = w.wait_topic(f"spBv1.0/{uid}/NBIRTH/tls1")
        assert nbirth.pb().seq == 0
        node.stop()
        w.close()
    finally:
        b.stop()
