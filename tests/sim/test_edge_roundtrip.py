"""The simulated CNC shop read by the product's own edge gateway through a real Mosquitto: every tag
arrives where the plant model says, and a PLC restart shows as DDEATH, rebirth and a counter reset."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from edge.gateway import Gateway
from scenarios.sim import SimulatedPlant
from sparkplug.codec import decode_payload
from uns_model import PlantResolver, load_plant

EPOCH = 1_764_000_000_000
CNC = load_plant("scenarios/plants/cnc_shop.yaml")


class Watcher:
    """Latest value of each (device, metric) from DBIRTH/DDATA, and which devices are dead."""

    def __init__(self, url_host: str, port: int, group: str) -> None:
        self.lock = threading.Lock()
        self.latest: dict[tuple[str, str], Any] = {}
        self.aliases: dict[tuple[str, int], str] = {}
        self.dead: set[str] = set()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2)
        self.client.on_message = self._on_message
        self.client.connect(url_host, port)
        self.client.subscribe(f"spBv1.0/{group}/#")
        self.client.loop_start()

    def _on_message(self, client: Any, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        parts = msg.topic.split("/")
        if len(parts) != 5:
            return
        kind, device = parts[2], parts[4]
        payload = decode_payload(bytes(msg.payload))
        with self.lock:
            if kind == "DDEATH":
                self.dead.add(device)
                return
            if kind == "DBIRTH":
                self.dead.discard(device)
            for m in payload.metrics:
                if kind == "DBIRTH" and m.alias is not None and m.name:
                    self.aliases[(device, m.alias)] = m.name
                name = m.name or self.aliases.get((device, m.alias or -1))
                if name:
                    self.latest[(device, name)] = m.value

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def mismatches(sim: SimulatedPlant, watcher: Watcher) -> list[str]:
    values = sim.process.values()
    out = []
    with watcher.lock:
        for ref in sim.process.resolver.tags():
            dev = sim.process.resolver.cell(ref.place)
            assert dev is not None
            got = watcher.latest.get((dev.device_id, ref.path))
            want = values[(ref.place.path, ref.path)]
            deadband = ref.tag.deadband or 0.0
            if isinstance(want, float) and not isinstance(want, bool) and got is not None:
                # float32 tags, a tenth-degree Modbus register, and report-by-exception deadbands
                if abs(float(got) - want) <= max(deadband, 0.06, abs(want) * 1e-6):
                    continue
            elif got == want:
                continue
            out.append(f"{dev.device_id}/{ref.path}: got {got!r}, want {want!r}")
    return out


async def until(check: Any, what: str, timeout: float = 30.0) -> None:
    """Wait for a condition of the outside world (not a speed assertion: the timeout is generous)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        result = check()
        if not result:
            return
        if loop.time() > end:
            raise AssertionError(f"{what}: {result}")
        await asyncio.sleep(0.2)


def test_gateway_reads_the_simulated_plant_and_survives_its_plc_restart(broker, uid, tmp_path: Path):
    async def scenario() -> None:
        sim = SimulatedPlant(CNC, seed=1, epoch_unix_ms=EPOCH, clock="sim")
        watcher = Watcher(broker.host, broker.port, uid)
        stop = asyncio.Event()
        async with sim:
            await sim.advance(until_s=1800)
            plant = sim.plant_with_endpoints().model_copy(update={"group_id": uid})
            resolver = PlantResolver(plant)
            gateways = [
                Gateway(resolver, node, broker.url, data_dir=tmp_path / node.edge_node_id)
                for node in resolver.edge_nodes()
            ]
            tasks = [asyncio.create_task(g.run(stop)) for g in gateways]
            try:
                await until(lambda: mismatches(sim, watcher), "tags not as the PLCs serve them")
                cell = "acme/toolworks/machining/line1/cnc-102"
                await sim.advance(until_s=7199)
                await until(lambda: mismatches(sim, watcher), "tags before the restart")
                before = watcher.latest[("cnc-102", "counters/good")]
                good_at_restart = sim.truth().good(cell=cell)

                await sim.advance(until_s=7230)  # line 1's PLC restarting
                await until(lambda: {"cnc-101", "cnc-102"} - watcher.dead, "no DDEATH for line 1's cells")
                assert not watcher.dead & {"lathe-201", "lathe-202"}

                await sim.advance(until_s=7500)
                await until(lambda: watcher.dead or mismatches(sim, watcher), "tags after the restart")
                after = watcher.latest[("cnc-102", "counters/good")]
                assert after < before
                assert after == sim.truth().good(cell=cell) - good_at_restart
            finally:
                stop.set()
                await asyncio.gather(*tasks, return_exceptions=True)
                watcher.stop()

    asyncio.run(scenario())
