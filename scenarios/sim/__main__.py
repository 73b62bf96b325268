"""`python -m scenarios.sim`: serve a plant model's simulated PLCs and write the ground truth."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import signal
import sys
from pathlib import Path

import yaml

from scenarios.sim.plc import SimulatedPlant
from scenarios.sim.scenario import Scenario

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd]?)$")
_UNIT_S = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def duration(text: str) -> float:
    """Sim seconds from '600', '90s', '45m', '8h' or '2d'."""
    m = _DURATION.match(text.strip())
    if m is None:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (write e.g. 600, 45m, 8h)")
    return float(m.group(1)) * _UNIT_S[m.group(2)]


def port_override(text: str) -> tuple[str, int]:
    key, sep, port = text.rpartition("=")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError(f"write CONNECTION=PORT, e.g. plc=4840 (got {text!r})")
    return key, int(port)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m scenarios.sim",
        description="Serve a plant model's simulated PLCs (OPC UA, Modbus TCP) driven by a seeded process.",
    )
    p.add_argument("--plant", required=True, type=Path, help="plant model YAML")
    p.add_argument("--scenario", type=Path, help="scenario YAML/JSON (orders, recipe, disturbances)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--time-scale", type=float, default=60.0, help="sim seconds per wall second (0: as fast as possible)"
    )
    p.add_argument("--duration", type=duration, help="sim time to run (600, 45m, 8h); forever if omitted")
    p.add_argument(
        "--truth", type=Path, help="write the ground truth JSON here (at the end and every --truth-every)"
    )
    p.add_argument(
        "--truth-every", type=duration, default=None, help="also write the truth every this much sim time"
    )
    p.add_argument("--host", default="127.0.0.1", help="address the servers listen on")
    p.add_argument(
        "--port",
        type=port_override,
        action="append",
        default=[],
        help="CONNECTION=PORT (name or '<line path>:<name>')",
    )
    p.add_argument("--model-ports", action="store_true", help="listen on the ports the plant file gives")
    p.add_argument("--epoch-ms", type=int, help="Unix ms of sim time 0 (default: now)")
    p.add_argument(
        "--clock",
        choices=("wall", "sim"),
        default="wall",
        help="timestamps follow the wall clock (sim s / time scale; default) or the sim clock (sim s)",
    )
    p.add_argument(
        "--write-plant", type=Path, help="write the plant model pointed at the served endpoints here"
    )
    p.add_argument("--endpoints-json", type=Path, help="write {connection key: url} here once serving")
    p.add_argument("-v", "--verbose", action="store_true")
    return p


def load_scenario(path: Path) -> Scenario:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return Scenario.model_validate(data or {})


async def serve(args: argparse.Namespace) -> int:
    sim = SimulatedPlant(
        args.plant,
        scenario=load_scenario(args.scenario) if args.scenario else None,
        seed=args.seed,
        time_scale=args.time_scale,
        epoch_unix_ms=args.epoch_ms,
        host=args.host,
        ports=dict(args.port),
        model_ports=args.model_ports,
        clock=args.clock,
    )
    await sim.start()
    for key, url in sim.endpoints().items():
        print(f"serving {key} at {url}", flush=True)
    if args.endpoints_json:
        args.endpoints_json.parent.mkdir(parents=True, exist_ok=True)
        args.endpoints_json.write_text(json.dumps(sim.endpoints(), indent=2) + "\n", encoding="utf-8")
    if args.write_plant:
        print(f"plant model with these endpoints: {sim.write_plant(args.write_plant)}", flush=True)
    epoch = sim.process.truth.epoch_unix_ms
    print(f"time scale {args.time_scale:g}, seed {args.seed}, sim time 0 = {epoch} Unix ms", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if args.truth:
        # kill -USR1 <pid>: the truth so far, written now (the run goes on).
        loop.add_signal_handler(signal.SIGUSR1, lambda: sim.write_truth(args.truth) and None)
    runner = asyncio.create_task(_run(sim, args))
    waiter = asyncio.create_task(stop.wait())
    await asyncio.wait({runner, waiter}, return_when=asyncio.FIRST_COMPLETED)
    for task in (runner, waiter):
        task.cancel()
    await asyncio.gather(runner, waiter, return_exceptions=True)
    await sim.stop()
    if args.truth:
        print(f"ground truth at sim {sim.sim_seconds:g} s: {sim.write_truth(args.truth)}", flush=True)
    return 0


async def _run(sim: SimulatedPlant, args: argparse.Namespace) -> None:
    if args.truth is None or args.truth_every is None:
        await sim.run(args.duration)
        return
    left = args.duration
    while left is None or left > 1e-9:
        chunk = args.truth_every if left is None else min(args.truth_every, left)
        await sim.run(chunk)
        sim.write_truth(args.truth)
        if left is not None:
            left -= chunk


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    for noisy in ("asyncua", "pymodbus"):
        logging.getLogger(noisy).setLevel(logging.WARNING if args.verbose else logging.ERROR)
    return asyncio.run(serve(args))


if __name__ == "__main__":
    sys.exit(main())
