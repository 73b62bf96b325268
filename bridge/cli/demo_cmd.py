"""`uns demo`: broker, Odoo sandbox, simulated plant, edge gateways and the bridge, a shift at a time
scale, a live view, and a summary of Odoo's totals against the simulation's ground truth."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from pydantic import SecretStr

EXIT_OK, EXIT_DIFFERENT, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 2, 130
CI_DURATION = "8h"


def _duration(text: str) -> float:
    from scenarios.sim.__main__ import duration

    return duration(text)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "demo", help="run the whole product on a simulated plant with a live view", description=__doc__
    )
    p.add_argument("--scenario", choices=["cnc", "batch"], default="cnc", help="plant (default cnc)")
    p.add_argument(
        "--time-scale", type=float, default=120.0, help="sim seconds per wall second (default 120)"
    )
    p.add_argument(
        "--duration",
        type=_duration,
        help="sim time of the shift (8h, 45m); then drain, compare; exit 0 only when Odoo equals the truth. "
        f"Default: until Ctrl-C on a terminal, {CI_DURATION} otherwise",
    )
    p.add_argument("--broker-port", type=int, default=0, help="port of the demo's Mosquitto (default: free)")
    p.add_argument("--broker", help="use this broker (mqtt://user@host:port; password: $UNS_BROKER_PASSWORD)")
    p.add_argument("--anonymous", action="store_true", help="demo broker without users and ACL")
    p.add_argument("--odoo-url", help="a real Odoo (after `uns odoo bootstrap`) instead of the sandbox")
    p.add_argument("--odoo-db", default=os.environ.get("ODOO_DB"))
    p.add_argument("--odoo-user", default=os.environ.get("ODOO_USER"), help="the bridge's login")
    p.add_argument("--odoo-admin", default=os.environ.get("ODOO_ADMIN_USER", "admin"), help="planner login")
    p.add_argument("--run-dir", type=Path, help="logs, secrets, truth (default var/demo/<time>-<scenario>)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--orders",
        type=lambda text: [float(q) for q in text.split(",")],
        help="order quantities per CNC cell (or for the batch line), e.g. 60,120 "
        "(default: cnc 200,400, batch 1900,950,1900)",
    )
    p.add_argument("--no-live", action="store_true", help="plain progress lines instead of the live view")
    p.set_defaults(func=_demo)


def _odoo_target(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from odoo_sync.transport import OdooSettings
    from scenarios.demo.odoo_setup import OdooTarget

    if not args.odoo_url:
        return None
    key, admin_key = os.environ.get("ODOO_KEY", ""), os.environ.get("ODOO_ADMIN_KEY", "")
    if not (args.odoo_db and args.odoo_user and key and admin_key):
        raise SystemExit("uns demo: a real Odoo needs --odoo-db, --odoo-user, $ODOO_KEY and $ODOO_ADMIN_KEY")
    bridge = OdooSettings(url=args.odoo_url, db=args.odoo_db, user=args.odoo_user, key=SecretStr(key))
    planner = OdooSettings(url=args.odoo_url, db=args.odoo_db, user=args.odoo_admin, key=SecretStr(admin_key))
    return OdooTarget(bridge, planner)


def _demo(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.live import Live

    from odoo_sync.client import OdooClient
    from scenarios.demo.live import LiveState, summary_table
    from scenarios.demo.probe import Namespace, metrics
    from scenarios.demo.run import Demo, DemoOptions

    def interrupt(signum: int, _frame: FrameType | None) -> None:
        # SIGTERM (service managers, CI) and SIGHUP (terminal closed) stop as cleanly as Ctrl-C.
        raise KeyboardInterrupt(signal.Signals(signum).name)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupt)
    console = Console()
    interactive = sys.stdout.isatty() and not args.no_live
    duration = (
        args.duration if args.duration is not None else (None if interactive else _duration(CI_DURATION))
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    demo = Demo(
        DemoOptions(
            scenario=args.scenario,
            time_scale=args.time_scale,
            duration_s=duration,
            broker_port=args.broker_port,
            broker_url=args.broker,
            secure=not args.anonymous,
            odoo=_odoo_target(args),
            run_dir=args.run_dir,
            seed=args.seed,
            quantities=args.orders,
        )
    )
    console.print(f"run directory: {demo.run_dir}")
    ns: Namespace | None = None
    odoo: OdooClient | None = None
    try:
        demo.start(console.print)
        assert demo.plant is not None and demo.odoo is not None
        assert demo.ns is not None
        ns = demo.ns
        odoo = OdooClient.connect(demo.odoo.planner)
        console.print(demo.explorer())
        state = LiveState(demo.metrics_port, ns, odoo, demo.run_dir / "logs")
        wait_s = 10 * 24 * 3600.0 if duration is None else duration / args.time_scale + 120.0
        if interactive:
            with Live(console=console, refresh_per_second=2) as live:
                frozen = demo.wait_frozen(
                    wait_s, lambda: live.update(state.render(demo.plant_status(), args.scenario))
                )
                if frozen:
                    demo.drain(60.0, lambda: live.update(state.render(demo.plant_status(), args.scenario)))
        else:
            last = [0.0]

            def progress() -> None:
                if time.monotonic() - last[0] >= 10:
                    last[0] = time.monotonic()
                    s = demo.plant_status()
                    console.print(
                        f"plant {s.get('phase', 'starting')}, sim {float(s.get('sim_s', 0)) / 3600:.2f} h"
                    )

            frozen = demo.wait_frozen(wait_s, progress)
            if frozen:
                console.print("shift over: draining (windows close, outbox empties)")
                demo.drain(60.0)
        if not frozen:
            console.print("[red]the plant did not finish its shift in time[/]")
            return EXIT_FAILED
        comparison = demo.summary()
        console.print(summary_table(comparison))
        for note in comparison.notes:
            console.print(f"  note: {note}")
        dead = metrics(demo.metrics_port).get("uns_outbox_dead_letters", 0.0)
        if dead:
            console.print(
                f"  bridge: {dead:.0f} event(s) Odoo refused are dead letters; see them with "
                f"`uns outbox --db {demo.run_dir / 'bridge'} dead`"
            )
        console.print(demo.explorer())
        console.print(f"logs, truth and secrets: {demo.run_dir}")
        if comparison.equal:
            console.print("[green]Odoo's totals equal the ground truth[/]")
            return EXIT_OK
        console.print(
            f"[red]{len(comparison.differences)} difference(s) between Odoo and the ground truth[/]"
        )
        return EXIT_DIFFERENT
    except KeyboardInterrupt:
        console.print("stopping: edge gateways, plant, bridge, broker, Odoo sandbox")
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean stop short
        return EXIT_INTERRUPTED
    except RuntimeError as exc:
        console.print(f"[red]demo failed: {exc}[/]")
        return EXIT_FAILED
    finally:
        if odoo is not None:
            odoo.close()
        demo.stop()
