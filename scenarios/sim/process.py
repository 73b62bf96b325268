"""The plant's process, stepped in simulated time: builds the cell models from the plant model, applies
scripted disturbances, collects the values each PLC serves and keeps the ground truth.

Deterministic: each cell draws from its own numpy Generator seeded with (seed, cell index), and time
advances in fixed steps of `scenario.step_s`, so the same plant, scenario and seed give the same values
and truth at every step whatever the wall clock does.
"""

from __future__ import annotations

import time

import numpy as np

from scenarios.sim.batch import BatchLine
from scenarios.sim.cells import CellContext, CellSim, Value
from scenarios.sim.cnc import CncCell
from scenarios.sim.codes import StateCodes
from scenarios.sim.defaults import default_scenario
from scenarios.sim.scenario import Breakdown, Disturbance, PlcRestart, QualityDeviation, Scenario
from scenarios.sim.truth import GroundTruth, TruthRecorder
from uns_model.plant import PlantModel
from uns_model.resolver import DeviceRef, PlantResolver

#: (line path, connection name): how a connection is named across the plant.
ConnKey = tuple[str, str]


class _StaticCell(CellSim):
    """A cell the sim has no process for (no counters, no state): serves its initial values."""

    def step(self, t: float, dt: float, active: list[Disturbance]) -> None:
        self.powered_off(active, t)
        self.report_common(t, active)


class PlantProcess:
    """All cells of one plant model, advanced together; `step()` never sleeps."""

    def __init__(
        self,
        plant: PlantModel,
        scenario: Scenario | None = None,
        *,
        seed: int = 0,
        epoch_unix_ms: int | None = None,
        ms_per_sim_s: float = 1000.0,
    ) -> None:
        self.plant = plant
        self.resolver = PlantResolver(plant)
        self.scenario = scenario if scenario is not None else default_scenario(plant)
        self.seed = seed
        self.dt = self.scenario.step_s
        self.t = 0.0
        epoch = int(time.time() * 1000) // 1000 * 1000 if epoch_unix_ms is None else epoch_unix_ms
        self.truth = TruthRecorder(
            plant=f"{plant.enterprise}/{plant.site}", seed=seed, epoch_unix_ms=epoch, ms_per_s=ms_per_sim_s
        )
        self.cells: dict[str, CellSim] = {}
        self.lines: dict[str, BatchLine] = {}
        self._names: dict[str, list[str]] = {}
        self._build()
        self._disturbances = [(self.cell_path(d.cell), d) for d in self.scenario.disturbances]
        self.barrier = False
        for path, d in self._disturbances:
            self._check(path, d)

    # --- building ------------------------------------------------------------------------------------

    def _context(self, dev: DeviceRef, index: int) -> CellContext:
        ref = next((r for r in dev.tags if r.role == "machine_state"), None)
        table = self.resolver.state_table_of(ref) if ref is not None else None
        prefix = f"{dev.cell.name}:"
        initial = {k[len(prefix) :]: v for k, v in self.scenario.initial.items() if k.startswith(prefix)}
        line = dev.place.up_to("line").path
        return CellContext(
            connections=sorted({f"{line}:{r.tag.source.connection}" for r in dev.tags}),
            device=dev,
            codes=StateCodes(table) if table is not None else None,
            truth=self.truth,
            rng=np.random.default_rng([self.seed, index]),
            initial=initial,
        )

    def _build(self) -> None:
        index = 0
        for line_place, line in self.plant.iter_lines():
            devices = [self.resolver.cell(line_place.child(c.name)) for c in line.cells]
            contexts = []
            for dev in devices:
                assert dev is not None
                contexts.append(self._context(dev, index))
                self._names.setdefault(dev.cell.name, []).append(dev.place.path)
                index += 1
            if any(r.role == "lot" for c in contexts for r in c.device.tags):
                orders = self.scenario.orders.get(line.name, [])
                batch = BatchLine(line.name, contexts, self.scenario.recipe, orders, self.truth.ms)
                self.lines[line_place.path] = batch
                for stage in batch.stages:
                    self.cells[stage.ctx.path] = stage
                continue
            for ctx in contexts:
                roles = {r.role for r in ctx.device.tags}
                cell: CellSim
                if roles & {"good_count", "machine_state"} and ctx.codes is not None:
                    orders = self.scenario.orders.get(ctx.name, [])
                    cell = CncCell(ctx, self.scenario.cnc, list(orders))
                else:
                    cell = _StaticCell(ctx)
                self.cells[ctx.path] = cell
        in_lines = {s.ctx.path for line in self.lines.values() for s in line.stages}
        self._standalone = [c for p, c in self.cells.items() if p not in in_lines]

    def cell_path(self, cell: str) -> str:
        """The ISA-95 path of a cell given by name (unique in the plant) or by path."""
        if cell in self.cells:
            return cell
        paths = self._names.get(cell, [])
        if len(paths) != 1:
            known = ", ".join(sorted(self._names))
            raise ValueError(f"cell {cell!r} is {'ambiguous' if paths else 'unknown'} (cells: {known})")
        return paths[0]

    def _check(self, path: str, d: Disturbance) -> None:
        tags = {r.path: r for r in self.cells[path].ctx.device.tags}
        if isinstance(d, QualityDeviation) and (d.tag not in tags or tags[d.tag].role != "process_value"):
            raise ValueError(f"quality_deviation on {path}: {d.tag!r} is not a process_value tag of the cell")
        if (
            isinstance(d, Breakdown)
            and d.alarm is not None
            and (d.alarm not in tags or tags[d.alarm].role != "alarm")
        ):
            raise ValueError(f"breakdown on {path}: {d.alarm!r} is not an alarm tag of the cell")

    # --- running -------------------------------------------------------------------------------------

    def active(self, t: float | None = None) -> dict[str, list[Disturbance]]:
        """Disturbances going on at sim time t (now by default), by cell path."""
        now = self.t if t is None else t
        out: dict[str, list[Disturbance]] = {}
        for path, d in self._disturbances:
            length = d.outage_s + d.resume_s if isinstance(d, PlcRestart) else d.duration_s
            if d.at_s <= now < d.at_s + length:
                out.setdefault(path, []).append(d)
        return out

    def step(self, n: int = 1) -> None:
        """Advance n steps of `step_s` sim seconds, as fast as the CPU goes.

        `barrier` tells after each step whether the values must be served before the next step: an
        order or lot changed (a PLC sets them before it works on them), or a PLC restart starts next
        (its last counts are shown before they are reset)."""
        for _ in range(n):
            active = self.active()
            frozen = self.frozen_connections(active)
            before = self._orders_and_lots()
            for cell in self._standalone:
                cell.frozen = bool(frozen.intersection(cell.ctx.connections))
                cell.step(self.t, self.dt, active.get(cell.ctx.path, []))
            for line in self.lines.values():
                for stage in line.stages:
                    stage.frozen = bool(frozen.intersection(stage.ctx.connections))
                line.step(self.t, self.dt, active)
            self.t += self.dt
            self.truth.sim_s = self.t
            self.barrier = before != self._orders_and_lots() or any(
                isinstance(d, PlcRestart) and self.t <= d.at_s < self.t + self.dt
                for _p, d in self._disturbances
            )

    def _orders_and_lots(self) -> list[tuple[str | None, str | None]]:
        return [(c.order, c.lot) for c in self.cells.values()]

    def frozen_connections(self, active: dict[str, list[Disturbance]]) -> set[str]:
        """'<line path>:<connection>' of every server whose PLC is restarting (outage and resume): no
        cell it serves changes order or lot meanwhile, since nobody could tell which counts are whose."""
        out: set[str] = set()
        for path, dists in active.items():
            if any(isinstance(d, PlcRestart) for d in dists):
                out.update(self.cells[path].ctx.connections)
        return out

    def run_until(self, sim_s: float, *, settle: bool = False) -> None:
        """Step until the sim clock reaches sim_s (no-op when it is already there); with `settle`, stop
        early after a step that set the barrier, so that its values are served on their own."""
        while self.t + 1e-9 < sim_s:
            self.step()
            if settle and self.barrier:
                return

    # --- reading -------------------------------------------------------------------------------------

    def now_unix_ms(self) -> int:
        return self.truth.ms(self.t)

    def value(self, cell: str, tag_path: str) -> Value:
        return self.cells[self.cell_path(cell)].values[tag_path]

    def values(self) -> dict[tuple[str, str], Value]:
        """Every tag's current PLC value by (cell path, tag path)."""
        return {(p, k): v for p, c in self.cells.items() for k, v in c.values.items()}

    def connections_of(self, cell_path: str) -> set[ConnKey]:
        dev = self.cells[cell_path].ctx.device
        line = dev.place.up_to("line").path
        return {(line, r.tag.source.connection) for r in dev.tags}

    def down_connections(self) -> set[ConnKey]:
        """Connections whose PLC is restarting now: their servers must not answer. The values at sim
        time `at_s` are the last before the restart (its step starts there), so they are still served."""
        down: set[ConnKey] = set()
        for path, d in self._disturbances:
            if isinstance(d, PlcRestart) and d.at_s < self.t <= d.at_s + d.outage_s:
                down |= self.connections_of(path)
        return down

    def assign_order(self, cell: str, ref: str, qty: float) -> None:
        """Give a discrete cell (by name or path) or a batch line (by line name or path) an order."""
        for path, line in self.lines.items():
            if cell in (path, line.name):
                line.assign_order(ref, qty)
                return
        target = self.cells[self.cell_path(cell)]
        for line in self.lines.values():
            if target in line.stages:  # a cell of a batch line: the line takes the order
                line.assign_order(ref, qty)
                return
        if not isinstance(target, CncCell):
            raise ValueError(f"{cell!r} takes no orders: it has no good_count or machine_state tag")
        target.assign_order(ref, qty, self.t)

    def snapshot(self) -> GroundTruth:
        return self.truth.snapshot()
