"""`python -m scenarios.demo.plant_runner`: the simulated plant of the demo, with its MES, as a process.

Differences from `python -m scenarios.sim`, and why:
- The PLCs stamp their values with the wall clock, as real PLCs do. The sim clock runs `time_scale`
  times faster; if OPC UA source times followed it, they would run into the future of every Modbus
  poll and of the bridge's wall-clock windows. The truth stays on the sim clock, and `clock.json`
  (pairs of sim seconds and the wall ms at which the PLCs showed that sim time) maps one to the other.
- The MES (scenarios/demo/mes.py) dispatches the orders the bridge publishes; the clock starts once
  `--expect-orders` orders are dispatched, so that every run starts from the same plan.
- After `--duration` the plant freezes (values stay served, time stops) so the edge, the bridge and
  Odoo can drain; SIGTERM stops it. truth.json, clock.json and status.json are written to --out.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from scenarios.demo.mes import Mes
from scenarios.sim.plc import SimulatedPlant
from scenarios.sim.scenario import Scenario
from uns_model.tags import ProcessValueTag

log = logging.getLogger("uns.demo.plant")
TICK_S = 0.05


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


class WallClockPlant(SimulatedPlant):
    """A SimulatedPlant whose PLCs stamp values with the wall clock; keeps the sim-to-wall map."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.wall_map: list[tuple[float, int]] = []
        self.process.now_unix_ms = wall_ms  # type: ignore[method-assign]

    async def start(self) -> None:
        # A real PLC shows its counters and hour meters from power-on; the sim writes them at the first
        # step, which would look like a jump of the whole initial count once the shift starts.
        for cell in self.process.cells.values():
            for path, counter in cell.counters.items():
                cell.values[path] = counter.value
            for path, hours in cell.hours.items():
                cell.values[path] = hours
            # Process values at rest sit mid-spec in the sim's model; a 0 before the first scan would be
            # an excursion no real controller shows.
            for ref in cell.ctx.role("process_value"):
                tag = ref.tag
                if isinstance(tag, ProcessValueTag) and (tag.low is not None or tag.high is not None):
                    low = tag.low if tag.low is not None else (tag.high or 0.0) - 1.0
                    high = tag.high if tag.high is not None else low + 1.0
                    cell.values[ref.path] = round((low + high) / 2, 4)
        await super().start()

    async def publish(self) -> None:
        await super().publish()
        self.wall_map.append((self.process.t, wall_ms()))


def _write(path: Path, data: Any) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


async def run(args: argparse.Namespace) -> int:
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    scenario = Scenario.model_validate_json(args.scenario.read_text(encoding="utf-8"))
    ports = {str(k): int(v) for k, v in json.loads(args.ports).items()} if args.ports else {}
    plant = WallClockPlant(
        args.plant,
        scenario=scenario,
        seed=args.seed,
        time_scale=args.time_scale,
        epoch_unix_ms=wall_ms(),
        ports=ports,
        model_ports=not ports,
        clock="sim",  # the truth on the sim clock; wall_map says when the PLCs showed each moment
        settle_s=args.settle_ms / 1000.0,
    )
    await plant.start()
    _write(out / "endpoints.json", plant.endpoints())
    plant.write_plant(out / "plant.served.yaml")
    mes = Mes(
        plant.plant,
        args.broker_host,
        args.broker_port,
        os.environ.get("UNS_DEMO_MES_USER"),
        os.environ.get("UNS_DEMO_MES_PASSWORD"),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    dispatched: list[dict[str, Any]] = []
    state = {"phase": "waiting for orders", "sim_s": 0.0, "dispatched": dispatched}

    def take_orders() -> None:
        for d in mes.drain():
            plant.assign_order(d.target, d.ref, d.qty)
            dispatched.append({"ref": d.ref, "qty": d.qty, "target": d.target, "sim_s": plant.sim_seconds})

    deadline = time.monotonic() + args.order_timeout
    while (
        (len(dispatched) < args.expect_orders or len(mes.born) < args.expect_devices)
        and time.monotonic() < deadline
        and not stop.is_set()
    ):
        take_orders()
        _write(out / "status.json", state)
        await asyncio.sleep(0.1)
    take_orders()
    if len(dispatched) < args.expect_orders:
        log.warning("only %d of %d orders dispatched; starting anyway", len(dispatched), args.expect_orders)
    state["phase"] = "running"
    plant.wall_map.clear()  # the map starts with the shift: before it, no time passed on the sim clock
    end = args.duration
    wall0, sim0 = time.monotonic(), plant.sim_seconds
    last_status = 0.0
    while not stop.is_set() and (end is None or plant.sim_seconds + 1e-9 < end):
        take_orders()
        target = sim0 + (time.monotonic() - wall0) * args.time_scale
        await plant.advance(until_s=target if end is None else min(target, end))
        if time.monotonic() - last_status > 0.5:
            state["sim_s"] = plant.sim_seconds
            _write(out / "status.json", state)
            last_status = time.monotonic()
        await asyncio.sleep(TICK_S)
    state["sim_s"] = plant.sim_seconds
    state["phase"] = "frozen"
    plant.write_truth(out / "truth.json")
    _write(out / "clock.json", plant.wall_map)
    _write(out / "status.json", state)
    print(f"plant frozen at sim {plant.sim_seconds:g} s; truth in {out / 'truth.json'}", flush=True)
    await stop.wait()
    mes.stop()
    await plant.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m scenarios.demo.plant_runner", description=__doc__)
    p.add_argument("--plant", required=True, type=Path)
    p.add_argument("--scenario", required=True, type=Path, help="scenario JSON")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--time-scale", type=float, default=120.0)
    p.add_argument("--duration", type=float, help="sim seconds to run before freezing (forever if omitted)")
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--ports", help="JSON {connection key: port}")
    p.add_argument("--broker-host", default="127.0.0.1")
    p.add_argument("--broker-port", type=int, required=True)
    p.add_argument("--expect-orders", type=int, default=0)
    p.add_argument("--expect-devices", type=int, default=0, help="wait for this many DBIRTHs first")
    p.add_argument("--order-timeout", type=float, default=30.0)
    p.add_argument(
        "--settle-ms",
        type=float,
        default=0.0,
        help="wall ms an order/lot change is served alone before production goes on (> the edge's poll_ms)",
    )
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("asyncua", "pymodbus"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
