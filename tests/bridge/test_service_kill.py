"""`uns run` as its own process, killed with SIGKILL in the middle of the plant's traffic and started
again: the sink holds each event once and the quantities equal the scripted truth (a counter reset
and a stop happen while the bridge is down, carried by the edge node's store-and-forward)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.bridge.service_support import Watcher, edge_node, read_jsonl, wait_for, write_plant
from tests.support.mosquitto import Mosquitto

REPO = Path(__file__).resolve().parents[2]


def start_bridge(
    tmp: Path, plant: Path, broker: Mosquitto, host_id: str, log_name: str
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "UNS_OUTBOX_BACKOFF_BASE_S": "0.05",
        "UNS_OUTBOX_BACKOFF_CAP_S": "0.2",
        "UNS_HEALTH_INTERVAL_S": "0.5",
    }
    cmd = [
        sys.executable, "-m", "bridge", "run", "--plant", str(plant), "--broker", broker.url,
        "--host-id", host_id, "--data-dir", str(tmp / "data"), "--window-s", "1", "--grace-ms", "300",
        "--metrics-port", "0", "--log-json",
    ]  # fmt: skip
    log = open(tmp / log_name, "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)


def payloads(events: Path, contract: str) -> list[dict[str, Any]]:
    return [e["payload"] for e in read_jsonl(events) if e["contract"] == contract]


def test_sigkill_mid_stream_loses_and_doubles_nothing(broker: Mosquitto, uid: str, tmp_path: Path) -> None:
    plant = write_plant(tmp_path, uid)
    host_id = f"h-{uid}"
    events = tmp_path / "data" / "events.jsonl"
    watcher = Watcher(broker.port, f"acme/{uid}/_bridge/status")
    bridge = start_bridge(tmp_path, plant, broker, host_id, "bridge-1.log")
    node = edge_node(broker.url, uid, host_id, tmp_path)
    good = 0

    def count(n: int, pause: float = 0.03) -> None:
        nonlocal good
        for _ in range(n):
            good += 1
            node.publish_device_data("cell1", {"counters/good": good})
            time.sleep(pause)

    try:
        node.start()
        assert node.wait_online(20), "edge node did not see the bridge's STATE online"
        count(20)
        node.publish_device_data("cell1", {"state": 4})  # stop 1
        time.sleep(0.2)
        node.publish_device_data("cell1", {"state": 1})
        wait_for(lambda: sum(p["good_quantity"] == 20 for p in payloads(events, "production_reported")), 15)
        time.sleep(0.3)

        bridge.send_signal(signal.SIGKILL)
        bridge.wait(10)
        # The broker sends the bridge's will (STATE offline); the edge node stops and buffers.
        wait_for(lambda: not node.is_online, 15, "edge node offline after the bridge's death")
        count(15, 0.01)  # 35
        node.publish_device_data("cell1", {"counters/good": 0})  # PLC restart: the counter starts over
        good = 0
        count(10, 0.01)  # 10 more since the reset: 45 in all for MO-A
        node.publish_device_data("cell1", {"state": 2})  # stop 2, while the bridge is down
        time.sleep(0.05)
        node.publish_device_data("cell1", {"state": 1})
        assert node.stats()["buffered"] >= 25

        bridge = start_bridge(tmp_path, plant, broker, host_id, "bridge-2.log")
        assert node.wait_online(20), "edge node did not come back after the bridge restarted"
        wait_for(lambda: any(p["good_quantity"] == 45 for p in payloads(events, "production_reported")), 20)

        # Stop 3, the order and lot change during it, then 10 parts of MO-B.
        node.publish_device_data("cell1", {"state": 2})
        time.sleep(2.5)  # two windows without counts
        node.publish_device_data("cell1", {"order": "MO-B", "lot": "L-B"})
        time.sleep(0.1)
        node.publish_device_data("cell1", {"state": 1})
        count(10)
        mo_b = (("MO-B", 10.0),)
        wait_for(
            lambda: [
                p
                for p in payloads(events, "production_reported")
                if (p["external_work_order_id"], p["good_quantity"]) in mo_b
            ],
            20,
            "MO-B 10 good",
        )
        wait_for(lambda: payloads(events, "goods_finished"), 10, "goods finished")
    finally:
        node.stop()
        if bridge.poll() is None:
            bridge.send_signal(signal.SIGTERM)
            code = bridge.wait(30)
        else:
            code = bridge.returncode
        watcher.stop()
    assert code == 0, (tmp_path / "bridge-2.log").read_text()[-3000:]

    lines = read_jsonl(events)
    ids = [e["event_id"] for e in lines]
    assert len(ids) == len(set(ids)), "an event reached the sink twice"
    prod = payloads(events, "production_reported")
    for order, truth in (("MO-A", 45), ("MO-B", 10)):
        mine = [p["good_quantity"] for p in prod if p["external_work_order_id"] == order]
        assert mine == sorted(mine), f"{order}: cumulative quantities went backwards: {mine}"
        assert mine[-1] == truth, f"{order}: {mine}"
    finished = payloads(events, "goods_finished")
    assert [(p["external_work_order_id"], p["lot"], p["quantity"]) for p in finished] == [
        ("MO-A", "L-A", 45.0)
    ]
    started = payloads(events, "downtime_started")
    ended = payloads(events, "downtime_ended")
    assert [p["state_code"] for p in started] == [4, 2, 2]
    assert [p["state_code"] for p in ended] == [4, 2, 2]
    assert {p["started_unix_ms"] for p in started} == {p["started_unix_ms"] for p in ended}
    # The restarted bridge said online, the stopped one offline (retained, for the namespace).
    assert [m["state"] for m in watcher.on("_bridge/status")][-1] == "offline"
    state = Watcher(broker.port, f"spBv1.0/STATE/{host_id}")
    try:
        retained = wait_for(lambda: state.on(f"STATE/{host_id}"), 10, "retained STATE")
    finally:
        state.stop()
    assert retained[-1]["online"] is False
