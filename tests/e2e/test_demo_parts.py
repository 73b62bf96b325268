"""The demo's own parts without the whole run: the broker launcher with the product config and its
auth on a real Mosquitto, the MES dispatch rule, the Prometheus parser, and the observable-stops rule
of the comparison."""

from __future__ import annotations

import socket
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from scenarios.broker_process import PRODUCT_CONF, BrokerProcess, derive_config, make_secrets, secure_files
from scenarios.demo.compare import WallClock, observable
from scenarios.demo.mes import backorder_of, dispatch_of, targets
from scenarios.demo.probe import labelled, parse_metrics
from uns_model.loader import load_plant

REPO = Path(__file__).resolve().parents[2]
CNC = REPO / "scenarios/plants/cnc_shop.yaml"
BATCH = REPO / "scenarios/plants/batch_plant.yaml"


def test_derived_config_keeps_product_settings_and_replaces_listeners(tmp_path: Path) -> None:
    secure = secure_files(tmp_path / "secrets")
    conf = derive_config(tmp_path, 18830, anonymous=False, secure=secure).read_text()
    settings = [line for line in conf.splitlines() if line.strip() and not line.startswith("#")]
    assert "max_queued_messages 200000" in settings  # the product's queue sizing survives
    assert [s for s in settings if s.startswith("listener")] == ["listener 18830 127.0.0.1"]
    assert not [s for s in settings if s.split()[0] in ("cafile", "certfile", "keyfile")]
    assert "allow_anonymous false" in settings and not [s for s in settings if "/mosquitto/" in s]
    assert "allow_anonymous true" in derive_config(tmp_path, 18830).read_text()
    assert PRODUCT_CONF.exists()


def _connect(port: int, user: str | None, password: str | None) -> ReasonCode:
    result: list[ReasonCode] = []
    c = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    if user:
        c.username_pw_set(user, password)
    c.on_connect = lambda _c, _u, _f, rc, _p=None: result.append(rc)
    c.connect("127.0.0.1", port)
    for _ in range(100):
        c.loop(0.05)
        if result:
            break
    c.disconnect()
    return result[0]


def test_demo_broker_refuses_anonymous_and_takes_the_plant_users(tmp_path: Path) -> None:
    users = make_secrets(CNC, tmp_path / "secrets", "uns-bridge")
    assert {"bridge", "line1", "line2-gateway", "explorer"} <= set(users)
    broker = BrokerProcess(tmp_path / "broker", secrets=tmp_path / "secrets").start()
    try:
        assert _connect(broker.port, None, None).is_failure
        assert _connect(broker.port, "explorer", "wrong").is_failure
        assert not _connect(broker.port, "explorer", users["explorer"]).is_failure
    finally:
        broker.stop()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", broker.port), timeout=0.5):
        pass


def test_mes_dispatches_to_the_cell_of_the_last_work_center_or_the_batch_line() -> None:
    cells, batch = targets(load_plant(CNC))
    assert cells == {"CNC-101": "cnc-101", "CNC-102": "cnc-102"}  # line 2 has no order tag
    order = {
        "contract": "work_order_released",
        "external_work_order_id": "WH/MO/00007",
        "quantity": 40,
        "status": 0,
        "odoo_state": "confirmed",
        "workcenters": ["CNC-101"],
    }
    d = dispatch_of(order, "line1", cells, batch)
    assert d is not None and (d.ref, d.qty, d.target) == ("WH/MO/00007", 40.0, "cnc-101")
    assert dispatch_of({**order, "workcenters": ["CNC-201"]}, "line2", cells, batch) is None
    assert dispatch_of({**order, "status": 2, "odoo_state": "done"}, "line1", cells, batch) is None
    bcells, blines = targets(load_plant(BATCH))
    d = dispatch_of({**order, "workcenters": ["MIX-01", "RX-01", "FILL-01"]}, "batch1", bcells, blines)
    assert d is not None and d.target == "batch1"
    # A backorder is named after the order it was split from; the MES runs that work once.
    assert backorder_of("WH/MO/00007-002") == "WH/MO/00007"
    assert backorder_of("WH/MO/00007") is None


def test_prometheus_text_parsed_with_labels() -> None:
    m = parse_metrics(
        "# HELP x y\n# TYPE uns_outbox_depth gauge\nuns_outbox_depth 3\n"
        'uns_erp_events_total{contract="downtime_started",state="delivered"} 2\n'
        'uns_erp_events_total{contract="production_reported",state="queued"} 5\n'
    )
    assert m["uns_outbox_depth"] == 3 and m["uns_erp_events_total"] == 7
    assert labelled(m, "uns_erp_events_total", "contract") == {
        "downtime_started": 2,
        "production_reported": 5,
    }


def test_stops_hidden_while_a_device_was_dead() -> None:
    dead = [(10_000, 20_000)]
    stops: list[tuple[int, int | None, int]] = [
        (1_000, 12_000, 4),  # ends while dead ...
        (15_000, 30_000, 4),  # ... and the same stop begins again while dead: seen as one
        (16_000, 18_000, 2),  # wholly inside: nobody saw it
        (40_000, None, 8),
    ]
    seen, notes = observable(stops, dead)
    assert seen == [(1_000, 30_000, 4), (40_000, None, 8)]
    assert len(notes) == 2
    assert observable([(1_000, 2_000, 4)], dead)[0] == [(1_000, 2_000, 4)]


def test_wall_clock_map_takes_the_first_publish_after_a_moment() -> None:
    clock = WallClock(1_000_000, [(0.0, 5_000), (60.0, 5_250), (120.0, 5_500)])
    assert clock(1_000_000 + 30_000) == 5_250  # shown by the publish at sim 60 s
    assert clock(1_000_000 + 60_000) == 5_500
    assert clock(1_000_000 + 999_000) == 5_500
