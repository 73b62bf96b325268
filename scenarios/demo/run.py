"""The demo's orchestration: broker, Odoo, simulated plant with its MES, edge gateways and the bridge as
processes; a shift at a time scale; drain; Odoo's totals against the ground truth; a clean stop."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from odoo_sync.client import OdooClient
from scenarios.broker_process import BrokerProcess, free_port, make_secrets
from scenarios.demo.compare import Comparison, WallClock, compare
from scenarios.demo.odoo_setup import OdooTarget, Plan, plan_shift, start_sandbox
from scenarios.demo.probe import Namespace, metrics
from scenarios.sim.defaults import default_scenario
from scenarios.sim.plc import connection_key
from scenarios.sim.scenario import PlcRestart, Scenario
from scenarios.sim.truth import GroundTruth
from uns_model.loader import load_plant
from uns_model.plant import OpcUaConnection, PlantModel
from uns_model.resolver import PlantResolver

log = logging.getLogger("uns.demo")
REPO = Path(__file__).resolve().parents[2]
PLANTS = {"cnc": REPO / "scenarios/plants/cnc_shop.yaml", "batch": REPO / "scenarios/plants/batch_plant.yaml"}
# Orders per line-1 CNC cell (about 70 parts an hour each): the first completes within an 8-hour shift,
# the second runs to its end; batch orders are whole lots of 950 units.
QUANTITIES = {"cnc": [200.0, 400.0], "batch": [1900.0, 950.0, 1900.0]}
HOST_ID = "uns-bridge"
BIRTH_HOLD_S = 5.0  # the bridge holds a DBIRTH's values this long (bridge.service.BIRTH_HOLD_S)
MES_USER = "scada"
#: An order/lot change is served alone for this many edge polls before production goes on.
SETTLE_POLLS = 3
#: Wall seconds a restarted PLC's cell stays stopped after its server is back: the edge gateway's first
#: reconnect comes 1 s after it lost the server (edge.config.Backoff), then 2 s later.
RESUME_WALL_S = 4.0
EXPLORER_USER = "explorer"


@dataclass
class DemoOptions:
    scenario: str = "cnc"
    time_scale: float = 120.0
    duration_s: float | None = 8 * 3600.0  # sim seconds; None: until stopped
    broker_port: int = 0
    broker_url: str | None = None  # an external broker: mqtt://host:port (user/password from env)
    secure: bool = True
    odoo: OdooTarget | None = None  # a real Odoo; None: the sandbox
    run_dir: Path | None = None
    seed: int = 1
    window_s: float = 1.0
    poll_ms: int = 100
    quantities: list[float] | None = None  # the orders per cell (CNC) or line (batch); None: QUANTITIES


@dataclass
class Demo:
    """`start()`, then `wait_frozen()` / `drain()` / `summary()`, and always `stop()`."""

    opts: DemoOptions
    run_dir: Path = field(init=False)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    broker: BrokerProcess | None = None
    odoo: OdooTarget | None = None
    plan: Plan | None = None
    users: dict[str, str] = field(default_factory=dict)
    plant: PlantModel | None = None
    metrics_port: int = 0
    broker_host: str = "127.0.0.1"
    broker_port: int = 0
    ns: Namespace | None = None
    devices: int = 0
    external_user: str | None = None

    def __post_init__(self) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        self.run_dir = self.opts.run_dir or REPO / "var" / "demo" / f"{stamp}-{self.opts.scenario}"
        self.run_dir.mkdir(parents=True, exist_ok=True)

    # -- start ------------------------------------------------------------------------------------------

    def start(self, say: Callable[[str], None] = lambda _s: None) -> None:
        o = self.opts
        source = load_plant(PLANTS[o.scenario])
        ports: dict[str, int] = {}
        self.plant = self._demo_plant(source, ports)
        plant_file = self.run_dir / "plant.yaml"
        scenario = _demo_scenario(default_scenario(self.plant), o.time_scale)
        (self.run_dir / "scenario.json").write_text(scenario.model_dump_json(indent=1), encoding="utf-8")
        if o.broker_url:
            parts = urlsplit(o.broker_url)
            self.broker_host, self.broker_port = parts.hostname or "127.0.0.1", parts.port or 1883
            if parts.username:
                # Your broker's user for every client of the demo (password: $UNS_BROKER_PASSWORD).
                self.external_user = parts.username
        else:
            secrets = None
            if o.secure:
                say("broker: users, passwords and ACL from broker/make-secrets.sh")
                secrets = self.run_dir / "secrets"
                self.users = make_secrets(plant_file, secrets, HOST_ID)
            self.broker = BrokerProcess(self.run_dir / "broker", port=o.broker_port, secrets=secrets).start()
            self.broker_port = self.broker.port
            say(f"broker: Mosquitto on {self.broker.url} ({'auth, ACL' if secrets else 'anonymous'})")
        reader, reader_pw = self.reader_login(EXPLORER_USER)
        self.ns = Namespace(
            f"{self.plant.enterprise}/{self.plant.site}",
            self.broker_host,
            self.broker_port,
            reader,
            reader_pw,
        )
        self.odoo = o.odoo or start_sandbox(self.run_dir / "odoo.sqlite")
        say(f"odoo: {'sandbox' if o.odoo is None else 'Odoo'} at {self.odoo.bridge.url}")
        self.plan = plan_shift(self.odoo, self.plant, o.quantities or QUANTITIES[o.scenario])
        for line in self.plan.lines:
            log.info("bootstrap: %s", line)
        say(f"odoo: master data bootstrapped, {len(self.plan.orders)} orders confirmed")
        self.metrics_port = free_port()
        self._spawn_bridge(plant_file)
        self._spawn(
            "plant",
            [
                "-m", "scenarios.demo.plant_runner", "--plant", str(plant_file),
                "--scenario", str(self.run_dir / "scenario.json"), "--seed", str(o.seed),
                "--time-scale", str(o.time_scale), "--out", str(self.run_dir / "plant"),
                "--settle-ms", str(SETTLE_POLLS * o.poll_ms),
                "--ports", json.dumps(ports), "--broker-host", self.broker_host,
                "--broker-port", str(self.broker_port), "--expect-orders", str(len(self.plan.orders)),
                "--expect-devices", str(sum(len(n.devices) for n in PlantResolver(self.plant).edge_nodes())),
                *(["--duration", str(o.duration_s)] if o.duration_s else []),
            ],
            self._mqtt_env(MES_USER, "UNS_DEMO_MES_"),
        )  # fmt: skip
        self.devices = sum(len(n.devices) for n in PlantResolver(self.plant).edge_nodes())
        for node in PlantResolver(self.plant).edge_nodes():
            self._spawn_edge(plant_file, node.edge_node_id)
        say(
            f"plant: simulated PLCs, MES, {len(PlantResolver(self.plant).edge_nodes())} edge gateways, bridge"
        )

    def _demo_plant(self, source: PlantModel, ports: dict[str, int]) -> PlantModel:
        """The plant model with each connection on a free local port, sampled every poll_ms, and
        debounce times divided by the time scale (they are real seconds to the bridge)."""
        data: dict[str, Any] = source.model_dump(mode="json", exclude_unset=True)
        for a, area in enumerate(source.areas):
            for li, line in enumerate(area.lines):
                place = f"{source.enterprise}/{source.site}/{area.name}/{line.name}"
                for c, conn in enumerate(line.connections):
                    port = free_port()
                    ports[connection_key(place, conn.name)] = port
                    out = data["areas"][a]["lines"][li]["connections"][c]
                    out["poll_ms"] = self.opts.poll_ms
                    if isinstance(conn, OpcUaConnection):
                        out["endpoint"] = f"opc.tcp://127.0.0.1:{port}"
                    else:
                        out["host"], out["port"] = "127.0.0.1", port
                for cell in data["areas"][a]["lines"][li]["cells"]:
                    for tag in cell.get("tags", []):
                        if "debounce_s" in tag:
                            tag["debounce_s"] = round(max(0.05, tag["debounce_s"] / self.opts.time_scale), 3)
        path = self.run_dir / "plant.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return load_plant(path)

    def reader_login(self, user: str) -> tuple[str | None, str | None]:
        """A reading client's login: the demo broker's user, or the external broker's."""
        if user in self.users:
            return user, self.users[user]
        return self.external_user, os.environ.get("UNS_BROKER_PASSWORD") if self.external_user else None

    def _mqtt_env(self, user: str, prefix: str) -> dict[str, str]:
        login, password = self.reader_login(user)
        if login is None:
            return {}
        return {f"{prefix}USER": login, f"{prefix}PASSWORD": password or ""}

    def _broker_url(self, user: str) -> str:
        if self.opts.broker_url:
            return self.opts.broker_url
        at = f"{user}@" if user in self.users else ""
        return f"mqtt://{at}{self.broker_host}:{self.broker_port}"

    def _spawn_bridge(self, plant_file: Path) -> None:
        assert self.odoo is not None
        env = {
            "UNS_ODOO_API_KEY": self.odoo.bridge.key.get_secret_value(),
            "UNS_ODOO_POLL_S": "0.5",
            "UNS_OUTBOX_BACKOFF_BASE_S": "0.2",
            "UNS_OUTBOX_BACKOFF_CAP_S": "2",
            "UNS_HEALTH_INTERVAL_S": "2",
        }
        if HOST_ID in self.users or "bridge" in self.users:
            env["UNS_BROKER_PASSWORD"] = self.users["bridge"]
        self._spawn(
            "bridge",
            [
                "-m", "bridge", "run", "--plant", str(plant_file), "--broker", self._broker_url("bridge"),
                "--host-id", HOST_ID, "--data-dir", str(self.run_dir / "bridge"), "--sink", "odoo",
                "--odoo", self.odoo.bridge.url, "--odoo-db", self.odoo.bridge.db,
                "--odoo-user", self.odoo.bridge.user, "--window-s", str(self.opts.window_s),
                "--grace-ms", "500", "--metrics-port", str(self.metrics_port),
            ],
            env,
        )  # fmt: skip

    def _spawn_edge(self, plant_file: Path, node_id: str) -> None:
        cmd = [
            "-m", "bridge", "edge", "--plant", str(plant_file), "--edge-node", node_id,
            "--broker", self._broker_url(node_id), "--primary-host", HOST_ID,
            "--data-dir", str(self.run_dir / f"edge-{node_id}"),
        ]  # fmt: skip
        env = {"UNS_BROKER_PASSWORD": self.users[node_id]} if node_id in self.users else {}
        self._spawn(f"edge-{node_id}", cmd, env)

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> None:
        logs = self.run_dir / "logs"
        logs.mkdir(exist_ok=True)
        out = (logs / f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen(
            [sys.executable, *args],
            cwd=REPO,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C goes to the demo, which stops each in order
        )
        out.close()

    # -- running ----------------------------------------------------------------------------------------

    def plant_status(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads((self.run_dir / "plant" / "status.json").read_text())
            return data
        except (OSError, ValueError):
            return {}

    def dead(self) -> list[str]:
        """Processes that exited on their own."""
        return [f"{n} (exit {p.returncode})" for n, p in self.procs.items() if p.poll() is not None]

    def wait_frozen(self, timeout: float, tick: Callable[[], None] = lambda: None) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.plant_status().get("phase") == "frozen":
                return True
            if self.dead():
                raise RuntimeError(f"stopped: {', '.join(self.dead())}; logs in {self.run_dir / 'logs'}")
            tick()
            time.sleep(0.25)
        return False

    def drain(self, timeout: float = 30.0, tick: Callable[[], None] = lambda: None) -> bool:
        """After the freeze: windows close (window + grace), the outbox empties, and stays so."""
        deadline = time.monotonic() + timeout
        settle = time.monotonic() + self.opts.window_s + 2.5
        quiet_since: float | None = None
        while time.monotonic() < deadline:
            tick()
            m = metrics(self.metrics_port)
            depth = m.get("uns_outbox_depth", -1.0)
            # A PLC restart near the end: its device is reborn only after the edge's reconnect backoff.
            online = self.ns is None or len(self.ns.devices_online) >= self.devices
            born_ago = time.monotonic() - (self.ns.last_birth if self.ns else 0.0)
            if (
                depth == 0
                and online
                and born_ago > BIRTH_HOLD_S + self.opts.window_s + 2.0
                and time.monotonic() >= settle
            ):
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since >= 2.0:
                    return True
            else:
                quiet_since = None
            time.sleep(0.25)
        return False

    def truth(self) -> tuple[GroundTruth, WallClock]:
        base = self.run_dir / "plant"
        truth = GroundTruth.model_validate_json((base / "truth.json").read_text(encoding="utf-8"))
        pairs = [(float(s), int(w)) for s, w in json.loads((base / "clock.json").read_text(encoding="utf-8"))]
        return truth, WallClock(truth.epoch_unix_ms, pairs)

    def summary(self) -> Comparison:
        assert self.odoo is not None and self.plan is not None and self.plant is not None
        truth, clock = self.truth()
        client = OdooClient.connect(self.odoo.planner)
        try:
            dead: dict[str, list[tuple[int, int]]] = {}
            if self.ns is not None:
                for node in PlantResolver(self.plant).edge_nodes():
                    for dev in node.devices:
                        dead[dev.place.path] = self.ns.dead.get(f"{node.edge_node_id}/{dev.device_id}", [])
            return compare(client, self.plant, truth, clock, [o.ref for o in self.plan.orders], dead)
        finally:
            client.close()

    def explorer(self) -> str:
        if self.broker is None:
            return (
                f"MQTT Explorer: host {self.broker_host}, port {self.broker_port} (your broker's credentials)"
            )
        if EXPLORER_USER in self.users:
            pw = self.users[EXPLORER_USER]
            return (
                f"MQTT Explorer: host 127.0.0.1, port {self.broker_port}, "
                f"user {EXPLORER_USER}, password {pw}, "
                f"(read-only; all users in {self.run_dir / 'secrets' / 'credentials.env'})"
            )
        return f"MQTT Explorer: host 127.0.0.1, port {self.broker_port}, no user (anonymous)"

    # -- stop -------------------------------------------------------------------------------------------

    def stop(self) -> None:
        """Edges first (their NDEATH), then the plant, the bridge (its STATE offline), broker, Odoo."""
        order = [n for n in self.procs if n.startswith("edge-")] + ["plant", "bridge"]
        for name in order:
            proc = self.procs.get(name)
            if proc is None or proc.poll() is not None:
                continue
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop within 15 s: killed", name)
                proc.kill()
                proc.wait(5)
        if self.ns is not None:
            self.ns.stop()
        if self.broker is not None:
            self.broker.stop()
        if self.odoo is not None and self.opts.odoo is None:
            self.odoo.stop()


def _demo_scenario(scenario: Scenario, time_scale: float) -> Scenario:
    """The plant's default scenario without orders (the MES dispatches Odoo's), and each restarted
    PLC's cell stopped until the edge gateway is back on its server: time runs `time_scale` times
    faster than the gateway's reconnect delays, and nothing made in between could be told apart."""
    disturbances = [
        d.model_copy(update={"resume_s": max(d.resume_s, RESUME_WALL_S * time_scale)})
        if isinstance(d, PlcRestart)
        else d
        for d in scenario.disturbances
    ]
    return scenario.model_copy(update={"orders": {}, "disturbances": disturbances})
