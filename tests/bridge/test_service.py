"""The bridge service on a real Mosquitto with our edge node: events exactly once, the JSON mirror
(rate limit, stale on death), ERP audit and delivery status topics, transient and permanent sink
failures, rejected input kept with its raw bytes, and a graceful stop."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from bridge.config import load_settings
from bridge.outbox.sinks import JsonlFileSink
from bridge.rejected import RejectedStore
from bridge.service import BridgeService
from tests.bridge.service_support import Watcher, edge_node, read_jsonl, wait_for, write_plant
from tests.support.mosquitto import Mosquitto
from uns_model.delivery import DeliveryReceipt, OutboundEvent, PermanentDeliveryError, TransientDeliveryError


class FlakySink:
    """The real JSONL sink behind a failing front: the first `transient` calls fail as a network
    error would; maintenance requests are refused for good (as Odoo refuses unknown equipment)."""

    name = "flaky-jsonl"

    def __init__(self, path: Path, transient: int) -> None:
        self.inner = JsonlFileSink(path)
        self.transient = transient
        self.calls = 0
        self._lock = threading.Lock()

    def deliver(self, event: OutboundEvent) -> DeliveryReceipt:
        with self._lock:
            self.calls += 1
            if self.calls <= self.transient:
                raise TransientDeliveryError("connection refused (test)")
        if event.contract == "maintenance_requested":
            raise PermanentDeliveryError("equipment not found in Odoo", remote_error="MissingError: SP-1")
        return self.inner.deliver(event)

    def close(self) -> None:
        self.inner.close()


def settings_for(tmp: Path, broker: Mosquitto, uid: str, **extra: Any) -> Any:
    return load_settings(
        plant=write_plant(tmp, uid),
        broker=broker.url,
        host_id=f"h-{uid}",
        data_dir=tmp / "data",
        window_s=1.0,
        grace_ms=300,
        mirror_interval_s=0.5,
        metrics_port=0,
        health_interval_s=0.5,
        outbox_backoff_base_s=0.05,
        outbox_backoff_cap_s=0.2,
        **extra,
    )


def test_service_end_to_end(broker: Mosquitto, uid: str, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, broker, uid)
    sink = FlakySink(tmp_path / "events.jsonl", transient=3)
    watcher = Watcher(broker.port, f"acme/{uid}/#")
    service = BridgeService(settings, sink=sink)
    service.start()
    node = edge_node(broker.url, uid, settings.host_id, tmp_path)
    try:
        assert service.wait_ready(10)
        assert service.host.columnar  # the test extra has numba: plain DATA takes the compiled path
        node.start()
        assert node.wait_online(10)
        cell = f"acme/{uid}/hall/line1/cell1"
        wait_for(lambda: watcher.on(f"{cell}/_raw/order"), what="order mirrored from the birth")

        # 30 good parts, a rate of updates the mirror must thin out, a stop, a limit crossing, an alarm.
        for good in range(1, 31):
            node.publish_device_data("cell1", {"counters/good": good, "speed": 1200.0 + good})
        node.publish_device_data("cell1", {"counters/scrap": 2, "state": 4})
        node.publish_device_data("cell1", {"temperature": 25.0, "state": 1})
        node.publish_device_data("cell1", {"alarm": True})
        # Bad input: a payload that is not protobuf, on the device's topic.
        probe = Watcher(broker.port, "unused/#")
        probe.client.publish(f"spBv1.0/{uid}/DDATA/line1/cell1", b"\x00not protobuf", qos=1).wait_for_publish(
            5
        )
        probe.stop()

        events = tmp_path / "events.jsonl"

        def final_production() -> Any:
            prod = [e for e in read_jsonl(events) if e["contract"] == "production_reported"]
            return prod and prod[-1]["payload"]["good_quantity"] == 30 and prod[-1]["payload"]

        last = wait_for(final_production, 20, "production 30 good")
        assert last["scrap_quantity"] == 2 and last["external_work_order_id"] == "MO-A"
        wait_for(
            lambda: any(e["contract"] == "quality_deviation" for e in read_jsonl(events)), 10, "deviation"
        )
        wait_for(lambda: service.outbox.stats().dead_letters == 1, 10, "the maintenance request parked")

        lines = read_jsonl(events)
        ids = [e["event_id"] for e in lines]
        assert len(ids) == len(set(ids))
        by_contract: dict[str, list[dict[str, Any]]] = {}
        for e in lines:
            by_contract.setdefault(e["contract"], []).append(e["payload"])
        assert [p["reason"] for p in by_contract["downtime_started"]] == ["Tool breakage"]
        assert len(by_contract["downtime_ended"]) == 1
        assert [(p["limit"], p["value"]) for p in by_contract["quality_deviation"]] == [("high", 25.0)]
        assert "maintenance_requested" not in by_contract
        assert sink.calls > len(lines)  # the transient failures were retried

        dead = service.outbox.status()
        assert dead.dead_letters == 1

        # Delivery status: delivered with the sink's record, dead with the reason and the remote words.
        def states() -> set[tuple[str, str]]:
            return {
                (m["event_contract"], m["state"])
                for m in watcher.on("")
                if m.get("contract") == "delivery_status"
            }

        wait_for(lambda: ("production_reported", "delivered") in states(), what="delivered status")
        assert ("production_reported", "queued") in states()
        statuses = [m for m in watcher.on("") if m.get("contract") == "delivery_status"]
        assert any(state == "retrying" for _, state in states())
        dead_status = wait_for(
            lambda: [s for s in watcher.on("") if s.get("state") == "dead"], what="dead status"
        )[0]
        assert dead_status["reason"] == "equipment not found in Odoo"
        assert dead_status["remote_error"] == "MissingError: SP-1"
        delivered = next(s for s in statuses if s["state"] == "delivered")
        assert delivered["target"] == "jsonl" and delivered["record_ids"]
        # The audit copy of each event, not retained.
        audit = watcher.on(f"{cell}/_erp/events/downtime_started")
        assert len(audit) == 1 and audit[0]["reason"] == "Tool breakage"

        # The mirror: JSON with timestamp_ms and value; speed changed 30 times, thinned by the rate limit.
        speeds = wait_for(
            lambda: (
                [m for m in watcher.on(f"{cell}/_raw/speed") if m["value"] == 1230.0]
                and watcher.on(f"{cell}/_raw/speed")
            ),
            5,
            "speed",
        )
        assert speeds[-1]["value"] == 1230.0 and set(speeds[-1]) == {"timestamp_ms", "value"}
        assert len(speeds) < 30
        states_seen = [m["value"] for m in watcher.on(f"{cell}/_raw/state")]
        assert states_seen[-2:] == [4, 1]  # a state tag goes out on every change

        # Rejected input kept with its raw bytes.
        wait_for(lambda: RejectedStore(settings.rejected_path).list(10), 10, "rejected row")
        rows = RejectedStore(settings.rejected_path).list(10)
        assert rows[0].reason == "malformed" and rows[0].payload == b"\x00not protobuf"

        # Health topic and Prometheus metrics.
        health = wait_for(lambda: watcher.on(f"acme/{uid}/_bridge/health"), what="health")
        assert health[-1]["host_id"] == settings.host_id
        assert service.http is not None
        import urllib.request

        body = urllib.request.urlopen(f"http://127.0.0.1:{service.http.port}/metrics").read().decode()
        assert 'uns_erp_events_total{contract="production_reported",state="delivered"}' in body
        assert "uns_outbox_dead_letters 1" in body
        assert 'uns_sparkplug_decode_errors_total{reason="malformed"} 1' in body
        compiled = [ln for ln in body.splitlines() if ln.startswith("uns_sparkplug_data_compiled_total ")]
        assert compiled and float(compiled[0].split()[1]) >= 30  # the 30 counter updates, at least
        assert "uns_sparkplug_data_reader_errors_total 0" in body
        ok = urllib.request.urlopen(f"http://127.0.0.1:{service.http.port}/healthz")
        assert ok.status == 200

        # The node dies: its tags' retained values are marked stale.
        node.stop()
        node = None  # type: ignore[assignment]
        stale = wait_for(
            lambda: [m for m in watcher.on(f"{cell}/_raw/speed") if m.get("stale")], what="stale"
        )
        assert stale[-1]["value"] == 1230.0
    finally:
        if node is not None:
            node.stop()
        service.stop()
        watcher.stop()
    # Graceful stop: the bridge said offline, the outbox file is whole (WAL folded back).
    assert not (settings.outbox_path.parent / (settings.outbox_path.name + "-wal")).exists() or (
        (settings.outbox_path.parent / (settings.outbox_path.name + "-wal")).stat().st_size == 0
    )


def test_an_empty_sink_given_to_the_service_is_the_one_it_uses(
    broker: Mosquitto, uid: str, tmp_path: Path
) -> None:
    # A JSONL sink holding no events yet has len() 0; the service must still take it, not build its own.
    sink = JsonlFileSink(tmp_path / "given.jsonl")
    assert len(sink) == 0
    service = BridgeService(settings_for(tmp_path, broker, uid), sink=sink)
    service.start()
    try:
        assert service.wait_ready(10)
        assert service.sink is sink
    finally:
        service.stop()
