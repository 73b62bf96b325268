"""A batch line: lots charged (totalizers), reacted at controlled temperature and pressure, then filled."""

from __future__ import annotations

import datetime as dt_
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from scenarios.sim.cells import CellContext, CellSim
from scenarios.sim.scenario import Disturbance, OrderSpec, Recipe
from uns_model.resolver import TagRef
from uns_model.tags import ConsumptionTag, ProcessValueTag

#: Phases in which a stage works on its batch (the rest of the time it waits: idle or no order).
_WORKING = frozenset({"charge", "mix", "react", "fill"})


@dataclass(slots=True)
class Batch:
    """One lot going through the line, with the excursion (if any) its reaction will have."""

    lot: str
    order: str
    units: int
    targets: dict[str, float]
    excursion: tuple[float, float, float] | None  # start into the reaction, duration, beyond the limit
    charged: dict[str, float] = field(default_factory=dict)
    filled: int = 0
    good: int = 0
    scrap: int = 0


@dataclass(slots=True)
class _Pending:
    ref: str
    left: float


class Stage(CellSim):
    """One cell of the line holding at most one batch."""

    def __init__(self, ctx: CellContext) -> None:
        super().__init__(ctx)
        self.batch: Batch | None = None
        self.phase = "empty"
        self.elapsed = 0.0
        self.progress = 0.0
        self.able = True
        has_pressure = any("pressure" in r.path.lower() for r in ctx.role("process_value"))
        self.driven = {r.path for r in ctx.role("alarm") if has_pressure and "pressure" in r.path.lower()}

    def drives_alarm(self, ref: TagRef) -> bool:
        return ref.path in self.driven

    def take(self, batch: Batch, phase: str) -> None:
        self.batch, self.phase, self.elapsed, self.progress = batch, phase, 0.0, 0.0
        self.lot, self.order = batch.lot, batch.order

    def release(self) -> Batch:
        assert self.batch is not None
        batch, self.batch, self.phase = self.batch, None, "empty"
        self.lot = self.order = None
        return batch

    def step(self, t: float, dt: float, active: list[Disturbance]) -> None:  # driven by BatchLine
        raise NotImplementedError


class BatchLine:
    """Mixer (cell with consumption tags), reactor (process values), filler (good count), in a pipeline:
    a stage hands its batch on when the next one is empty. Orders are in finished units."""

    def __init__(
        self,
        name: str,
        contexts: list[CellContext],
        recipe: Recipe,
        orders: list[OrderSpec],
        clock: Callable[[float], int],
    ) -> None:
        self.name = name
        self.recipe = recipe
        self.clock = clock  # sim seconds -> Unix ms, for the lot's date
        self.stages = [Stage(c) for c in contexts]
        self.mixer = self._find(lambda s: bool(s.ctx.role("consumption")))
        self.reactor = self._find(lambda s: bool(s.ctx.role("process_value")))
        self.filler = self._find(lambda s: bool(s.ctx.role("good_count")))
        self.rng = contexts[0].rng
        self.queue: deque[_Pending] = deque(_Pending(o.ref, o.qty) for o in orders)
        self.lots_made: dict[str, int] = {}

    def _find(self, pred: Callable[[Stage], bool]) -> Stage | None:
        return next((s for s in self.stages if pred(s)), None)

    def assign_order(self, ref: str, qty: float) -> None:
        self.queue.append(_Pending(ref, qty))

    # --- the pipeline --------------------------------------------------------------------------------

    def step(self, t: float, dt: float, active: dict[str, list[Disturbance]]) -> None:
        for s in self.stages:
            dist = active.get(s.ctx.path, [])
            off = s.powered_off(dist, t)
            down = s.breakdown(dist)
            s.able = not off and down is None
            s.activity = "powered_off" if off else (down.reason if down is not None else "")
        # Downstream first, so that a batch handed on moves one stage per step at most.
        if self.filler is not None and self.filler.able:
            self._fill(self.filler, t, dt)
        if self.reactor is not None and self.reactor.able:
            self._react(self.reactor, t, dt)
        if self.mixer is not None and self.mixer.able:
            self._charge(self.mixer, t, dt)
        first = self.mixer or self.reactor or self.filler
        if first is not None and first.batch is None and first.able and not first.frozen and self.queue:
            first.take(self._new_batch(t), "charge" if first is self.mixer else "react")
        pending = bool(self.queue) or any(s.batch is not None for s in self.stages)
        for s in self.stages:
            if not s.activity:
                s.activity = "running" if s.phase in _WORKING else ("idle" if pending else "no_order")
            dist = active.get(s.ctx.path, [])
            self._process_values(s, t, dist)
            self._mirrored(s)
            for ref in s.ctx.role("runtime_hours"):
                if s.activity == "running":
                    s.run_hours(ref, dt, t)
            s.report_state(t)
            s.report_common(t, dist)
            s.report_hours()

    def _new_batch(self, t: float) -> Batch:
        entry = self.queue[0]
        ref = entry.ref
        units = max(1, int(min(self.recipe.units_per_batch, entry.left)))
        entry.left -= units
        if entry.left <= 0:
            self.queue.popleft()
        day = dt_.datetime.fromtimestamp(self.clock(t) / 1000, tz=dt_.UTC).strftime("%Y%m%d")
        n = self.lots_made[day] = self.lots_made.get(day, 0) + 1
        r = self.rng
        scale = units / self.recipe.units_per_batch
        targets = {
            c: round(kg * scale * (1.0 + float(r.normal(0.0, self.recipe.charge_jitter))), 3)
            for c, kg in self.recipe.ingredients.items()
        }
        excursion = None
        if float(r.random()) < self.recipe.out_of_spec_rate:
            start = float(r.uniform(0.2, 0.6)) * self.recipe.react_s
            excursion = (start, float(r.uniform(60.0, 180.0)), float(r.uniform(0.6, 2.0)))
        return Batch(f"LOT-{day}-{n:03d}", ref, units, targets, excursion)

    def _charge(self, s: Stage, t: float, dt: float) -> None:
        b = s.batch
        if b is None:
            return
        if s.phase == "charge":
            budget = self.recipe.charge_kg_per_s * dt
            for ref in s.ctx.role("consumption"):
                tag = ref.tag
                assert isinstance(tag, ConsumptionTag)
                left = b.targets.get(tag.component, 0.0) - b.charged.get(tag.component, 0.0)
                if left <= 1e-9:
                    continue
                kg = round(min(budget, left), 6)
                b.charged[tag.component] = b.charged.get(tag.component, 0.0) + kg
                s.counters[ref.path].add(kg)
                s.ctx.truth.consumed(s.ctx.path, b.order, tag.component, kg)
                budget -= kg
                if budget <= 1e-9:
                    break
            if budget > 1e-9:  # nothing left to charge
                s.phase, s.elapsed = "mix", 0.0
        elif s.phase == "mix":
            s.elapsed += dt
            if s.elapsed >= self.recipe.mix_s:
                s.phase = "hold"
        if s.phase == "hold" and not s.frozen:  # a lot moves on only between reachable stages
            nxt = self.reactor or self.filler
            if nxt is None:
                self._finish(s, t)
            elif nxt.batch is None and nxt.able and not nxt.frozen:
                nxt.take(s.release(), "react" if nxt is self.reactor else "fill")

    def _react(self, s: Stage, t: float, dt: float) -> None:
        if s.batch is None:
            return
        if s.phase == "react":
            s.elapsed += dt
            if s.elapsed >= self.recipe.react_s:
                s.phase = "hold"
        if s.phase == "hold" and not s.frozen:
            if self.filler is None:
                self._finish(s, t)
            elif self.filler.batch is None and self.filler.able and not self.filler.frozen:
                self.filler.take(s.release(), "fill")

    def _fill(self, s: Stage, t: float, dt: float) -> None:
        b = s.batch
        if b is None:
            return
        s.progress += self.recipe.fill_units_per_min * dt / 60.0
        while s.progress >= 1.0 and b.filled < b.units:
            s.progress -= 1.0
            b.filled += 1
            scrap = bool(self.rng.random() < self.recipe.reject_rate)
            kind = "scrap_count" if scrap else "good_count"
            for ref in s.ctx.role(kind):
                s.counters[ref.path].add(1)
            b.scrap += scrap
            b.good += not scrap
            s.ctx.truth.produced(s.ctx.path, b.order, good=int(not scrap), scrap=int(scrap))
        if b.filled >= b.units:
            if s.frozen:  # filled, but the lot is closed only once the DCS is back
                s.phase = "hold"
            else:
                self._finish(s, t)

    def _finish(self, s: Stage, t: float) -> None:
        b = s.release()
        s.ctx.truth.lot_finished(b.lot, b.order, s.ctx.path, b.good, b.scrap, t)

    # --- values --------------------------------------------------------------------------------------

    def _process_values(self, s: Stage, t: float, active: list[Disturbance]) -> None:
        pvs = s.ctx.role("process_value")
        first = next((r for r in pvs if "temp" in r.path.lower()), pvs[0] if pvs else None)
        for ref in pvs:
            tag = ref.tag
            assert isinstance(tag, ProcessValueTag)
            low = tag.low if tag.low is not None else (tag.high or 0.0) - 1.0
            high = tag.high if tag.high is not None else low + 1.0
            value = (low + high) / 2 + float(self.rng.normal(0.0, (high - low) / 20))
            b = s.batch
            if ref is first and b is not None and b.excursion is not None and s.phase == "react":
                start, duration, beyond = b.excursion
                if start <= s.elapsed < start + duration:
                    value = high + beyond + float(self.rng.normal(0.0, (high - low) / 40))
            forced = s.forced_value(active, tag, ref.path)
            if forced is not None:
                value = forced + float(self.rng.normal(0.0, (high - low) / 40))
            value = round(value, 4)
            s.values[ref.path] = value
            s.ctx.truth.process_value(
                s.ctx.path, ref.path, value, tag.low, tag.high, tag.debounce_s, t, s.lot, s.order
            )
            for alarm in s.ctx.role("alarm"):
                if "pressure" in alarm.path.lower() and "pressure" in ref.path.lower():
                    s.set_alarm(alarm, value > high + 0.3 * (high - low), t)

    def _mirrored(self, s: Stage) -> None:
        ref = s.ctx.mirrored("recipe")
        if ref is not None:
            s.values[ref.path] = self.recipe.name if s.batch is not None else ""
        ref = s.ctx.mirrored("speed", "rpm")
        if ref is not None:
            on = s.phase in ("charge", "mix") and s.activity == "running"
            rpm = self.recipe.agitator_rpm + float(self.rng.normal(0.0, 1.0)) if on else 0.0
            s.values[ref.path] = round(rpm, 1)
        ref = s.ctx.mirrored("valve")
        if ref is not None:
            s.values[ref.path] = round(38.0 + float(self.rng.normal(0.0, 2.0)), 1)
