"""Prometheus text exposition and the /metrics and /healthz endpoints over real HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from bridge.health import HealthServer
from bridge.metrics import BridgeMetrics, Registry, labels_of


def test_exposition_format() -> None:
    r = Registry()
    c = r.counter("uns_test_total", "a counter\nwith a newline")
    c.inc(kind='a"b')
    c.inc(2, kind='a"b')
    g = r.gauge("uns_depth", "a gauge")
    g.set(7)
    h = r.histogram("uns_close_seconds", "a histogram", buckets=(0.1, 1.0))
    h.observe(0.05, flow="p")
    h.observe(0.5, flow="p")
    h.observe(5.0, flow="p")
    r.add_collector(lambda: [("uns_pulled", "gauge", "from a collector", [(labels_of(x="1"), 3.5)])])
    text = r.render()
    assert "# HELP uns_test_total a counter\\nwith a newline" in text
    assert "# TYPE uns_test_total counter" in text
    assert 'uns_test_total{kind="a\\"b"} 3' in text
    assert "uns_depth 7" in text
    assert 'uns_close_seconds_bucket{flow="p",le="0.1"} 1' in text
    assert 'uns_close_seconds_bucket{flow="p",le="1"} 2' in text
    assert 'uns_close_seconds_bucket{flow="p",le="+Inf"} 3' in text
    assert 'uns_close_seconds_count{flow="p"} 3' in text
    assert 'uns_close_seconds_sum{flow="p"} 5.55' in text
    assert 'uns_pulled{x="1"} 3.5' in text
    assert text.endswith("\n")


def test_metrics_and_healthz_over_http() -> None:
    m = BridgeMetrics()
    m.samples_in.inc(42)
    state = {"broker": True}
    server = HealthServer(
        m.registry, {"broker": lambda: state["broker"], "boom": lambda: True}, "127.0.0.1", 0
    )
    server.start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        with urllib.request.urlopen(f"{base}/metrics") as resp:
            assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            assert "uns_ingest_samples_total 42" in resp.read().decode()
        with urllib.request.urlopen(f"{base}/healthz") as resp:
            assert json.loads(resp.read()) == {"ok": True, "checks": {"broker": True, "boom": True}}
        state["broker"] = False
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"{base}/healthz")
        assert err.value.code == 503
        assert json.loads(err.value.read())["checks"]["broker"] is False
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"{base}/nope")
        assert err.value.code == 404
    finally:
        server.stop()


def test_a_failing_check_is_unhealthy_not_an_error() -> None:
    def broken() -> bool:
        raise RuntimeError("database gone")

    server = HealthServer(Registry(), {"outbox": broken}, "127.0.0.1", 0)
    assert server.health() == {"ok": False, "checks": {"outbox": False}}
    server.server.server_close()
