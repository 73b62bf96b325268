"""A simulated plant: the process model behind real OPC UA and Modbus TCP servers, one per connection
of the plant model, each serving its tags exactly where the model's sources say.

Time: the process runs `time_scale` sim seconds per wall second in `run()`; `advance()` steps it as fast
as the CPU goes (tests). Timestamps (OPC UA source timestamps, every ground-truth time) are
`epoch_unix_ms + sim seconds * ms_per_sim_second`, on one of two clocks:
- clock="wall" (default): ms_per_sim_second = 1000 / time_scale and epoch = now, so that in `run()` the
  timestamps follow the wall clock, as a bridge closing windows by its own clock needs (and as the edge
  gateway stamps Modbus values); a 20-minute sim breakdown at time scale 60 is 20 s long in them.
- clock="sim": ms_per_sim_second = 1000, the simulated plant's own clock (hours of sim time are hours in
  the timestamps); the truth is then the same at every time scale.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any, Literal

from scenarios.sim.modbus_server import ModbusPlc
from scenarios.sim.opcua_server import OpcUaPlc
from scenarios.sim.process import PlantProcess
from scenarios.sim.scenario import Scenario
from scenarios.sim.truth import GroundTruth
from uns_model.loader import load_plant
from uns_model.plant import ModbusConnection, OpcUaConnection, PlantModel

log = logging.getLogger(__name__)

Plc = OpcUaPlc | ModbusPlc


def connection_key(line_path: str, connection: str) -> str:
    """How a connection is named in endpoints() and the truth: '<line ISA-95 path>:<connection>'."""
    return f"{line_path}:{connection}"


class SimulatedPlant:
    """Start with `await start()`, then `advance()` (fast) or `run()` (time-scaled); `stop()` at the end.

    Ports: `ports` maps a connection key ('<line path>:<name>') or a bare connection name to a port;
    anything not given listens on a free port, unless `model_ports=True` (the plant file's ports).
    """

    def __init__(
        self,
        plant: PlantModel | str | Path,
        *,
        scenario: Scenario | None = None,
        seed: int = 0,
        time_scale: float = 60.0,
        epoch_unix_ms: int | None = None,
        host: str = "127.0.0.1",
        ports: dict[str, int] | None = None,
        model_ports: bool = False,
        clock: Literal["wall", "sim"] = "wall",
        settle_s: float = 0.0,
    ) -> None:
        self.plant = plant if isinstance(plant, PlantModel) else load_plant(plant)
        per_s = 1000.0 / time_scale if clock == "wall" and time_scale > 0 else 1000.0
        self.process = PlantProcess(
            self.plant, scenario, seed=seed, epoch_unix_ms=epoch_unix_ms, ms_per_sim_s=per_s
        )
        self.clock = clock
        self._anchored = clock == "wall" and epoch_unix_ms is None and time_scale > 0
        self.time_scale = time_scale
        self.host = host
        self.plcs: dict[str, Plc] = {}
        ports = ports or {}
        for line_place, line in self.plant.iter_lines():
            for conn in line.connections:
                key = connection_key(line_place.path, conn.name)
                refs = [
                    r
                    for r in self.process.resolver.tags()
                    if r.line_place == line_place and r.tag.source.connection == conn.name
                ]
                port = ports.get(key, ports.get(conn.name, _model_port(conn) if model_ports else 0))
                if isinstance(conn, OpcUaConnection):
                    self.plcs[key] = OpcUaPlc(line_place.path, conn, refs, host, port)
                else:
                    self.plcs[key] = ModbusPlc(line_place.path, conn, refs, host, port)
        self.restarts = 0
        self._started = False
        #: Wall seconds an order/lot change (or the last counts before a PLC restart) stays served on its
        #: own before time goes on: longer than a client's sampling interval, so that no client ever sees
        #: the change in the same update as the production that follows it. 0: no hold.
        self.settle_s = settle_s if time_scale > 0 else 0.0
        self._hold_until = 0.0

    # --- life cycle ------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Bring every server up with the values at the current sim time."""
        self._started = True
        await self.publish()

    async def stop(self) -> None:
        self._started = False
        await asyncio.gather(*(plc.stop() for plc in self.plcs.values()))
        await asyncio.gather(*(plc.wait_closed() for plc in self.plcs.values()))

    async def __aenter__(self) -> SimulatedPlant:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def publish(self) -> None:
        """Make the servers show the process now: PLCs in a restart go offline, the others answer."""
        down = {connection_key(line, name) for line, name in self.process.down_connections()}
        values = self.process.values()
        stamp = self.process.now_unix_ms()
        for key, plc in self.plcs.items():
            if key in down:
                if plc.online:
                    log.info("PLC %s restarting: server stopped", key)
                    await plc.stop()
                    self.restarts += 1
                continue
            if isinstance(plc, ModbusPlc):
                plc.update(values)
            if not plc.online and self._started:
                await plc.start()
            if isinstance(plc, OpcUaPlc):
                await plc.update(values, stamp)

    # --- time ------------------------------------------------------------------------------------------

    @property
    def sim_seconds(self) -> float:
        return self.process.t

    async def advance(self, steps: int | None = None, *, until_s: float | None = None) -> None:
        """Step the process without sleeping (by steps or up to a sim time), then serve the result.

        Servers follow the process at each publish only: a jump over a whole PLC outage resets the
        counters but never takes the server down (clients see an outage only if a publish falls in it).
        With `settle_s`, stepping to `until_s` stops at an order/lot change or before a PLC restart, and
        the next calls do nothing for `settle_s` wall seconds (time catches up after)."""
        if steps is not None:
            self.process.step(steps)
        if until_s is not None:
            if self.settle_s > 0 and time.monotonic() < self._hold_until:
                return
            self.process.run_until(until_s, settle=self.settle_s > 0)
        await self.publish()
        if self.settle_s > 0 and self.process.barrier:
            self._hold_until = time.monotonic() + self.settle_s

    async def run(self, duration_s: float | None = None, *, tick_s: float = 0.1) -> None:
        """Follow the wall clock at `time_scale` (sim s per wall s) until `duration_s` sim seconds
        have passed (forever when None); `time_scale <= 0` runs as fast as possible."""
        end = None if duration_s is None else self.process.t + duration_s
        if self.time_scale <= 0:
            chunk = max(1, round(300.0 / self.process.dt))
            while end is None or self.process.t + 1e-9 < end:
                target = self.process.t + chunk * self.process.dt
                await self.advance(until_s=target if end is None else min(target, end))
            return
        wall0, sim0 = time.monotonic(), self.process.t
        truth = self.process.truth
        while end is None or self.process.t + 1e-9 < end:
            if self._anchored:
                # Timestamps are wall time: catch up with the wall clock since the epoch, so that the
                # time spent starting servers (or waiting before run()) never makes them lag.
                target = (time.time() * 1000 - truth.epoch_unix_ms) / truth.ms_per_s
            else:
                target = sim0 + (time.monotonic() - wall0) * self.time_scale
            if end is not None:
                target = min(target, end)
            await self.advance(until_s=target)
            await asyncio.sleep(tick_s)

    # --- the world outside -----------------------------------------------------------------------------

    def endpoints(self) -> dict[str, str]:
        """Connection key -> URL served ('opc.tcp://host:port' or 'modbus://host:port')."""
        return {key: plc.url for key, plc in self.plcs.items()}

    def plant_with_endpoints(self) -> PlantModel:
        """The plant model with each connection pointed at the server actually serving it: hand this
        (or its YAML from write_plant) to the edge gateway and it finds every tag where it expects."""
        data: dict[str, Any] = self.plant.model_dump(mode="json", exclude_unset=True)
        for a, area in enumerate(self.plant.areas):
            for li, line in enumerate(area.lines):
                place = f"{self.plant.enterprise}/{self.plant.site}/{area.name}/{line.name}"
                for c, conn in enumerate(line.connections):
                    plc = self.plcs[connection_key(place, conn.name)]
                    out = data["areas"][a]["lines"][li]["connections"][c]
                    if isinstance(conn, OpcUaConnection):
                        out["endpoint"] = plc.url
                    else:
                        out["host"], out["port"] = plc.host, plc.port
        return PlantModel.model_validate(data)

    def write_plant(self, path: str | Path) -> Path:
        import yaml

        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        data = self.plant_with_endpoints().model_dump(mode="json", exclude_unset=True)
        out.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return out

    def assign_order(self, cell: str, ref: str, qty: float) -> None:
        """Queue an order on a discrete cell (cell name) or a batch line (line name)."""
        self.process.assign_order(cell, ref, qty)

    def truth(self) -> GroundTruth:
        return self.process.snapshot()

    def write_truth(self, path: str | Path) -> Path:
        return self.truth().write(path)


def _model_port(conn: OpcUaConnection | ModbusConnection) -> int:
    if isinstance(conn, ModbusConnection):
        return conn.port
    tail = conn.endpoint.split("://", 1)[1].split("/", 1)[0]
    return int(tail.rsplit(":", 1)[1]) if ":" in tail else 4840
