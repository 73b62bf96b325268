"""A discrete machining cell: cycles with jitter, good and scrap parts, setups, tool changes, spindle heat."""

from __future__ import annotations

from collections import deque

from scenarios.sim.cells import CellContext, CellSim
from scenarios.sim.scenario import CncParams, Disturbance, OrderSpec, Overtemperature
from uns_model.resolver import TagRef
from uns_model.tags import ConsumptionTag


class CncCell(CellSim):
    """One CNC cell working through its orders; every random draw comes from the cell's own stream."""

    def __init__(self, ctx: CellContext, params: CncParams, orders: list[OrderSpec]) -> None:
        super().__init__(ctx)
        self.p = params
        self.queue: deque[OrderSpec] = deque(orders)
        self.target = 0.0
        self.good_in_order = 0
        self.planned: str | None = None
        self.planned_until = 0.0
        self.progress = 0.0
        self.cycle = self._draw_cycle()
        self.parts_on_tool = 0
        self.temp = params.ambient_c
        self.alarm = False
        self._temp_ref = ctx.mirrored("temp")
        self._alarm_ref = next((r for r in ctx.role("alarm") if "temp" in r.path.lower()), None)
        self._material = [r for r in ctx.role("consumption") if isinstance(r.tag, ConsumptionTag)]
        self.done = False  # the order is complete, the next one not released yet
        self._next_order(0.0)

    def assign_order(self, ref: str, qty: float, t: float) -> None:
        """Queue an order; an idle cell sets up for it at once."""
        self.queue.append(OrderSpec(ref=ref, qty=qty))
        if self.order is None and not self.frozen:
            self._next_order(t)

    def _next_order(self, t: float) -> None:
        if self.frozen:  # the MES cannot reach the cell: the finished order stays shown until it can
            self.done = True
            return
        self.done = False
        if self.queue:
            spec = self.queue.popleft()
            self.order, self.target, self.good_in_order = spec.ref, spec.qty, 0
            self._plan("setup", t, self.p.setup_s)
        else:
            self.order = None

    def _plan(self, activity: str, t: float, duration: float) -> None:
        if duration > 0:
            self.planned, self.planned_until = activity, t + duration

    def _on_break(self, t: float) -> bool:
        """Operator breaks at every multiple of break_every_s, if the state table can say so."""
        codes = self.ctx.codes
        if codes is None or "break" not in codes.native or t < self.p.break_every_s:
            return False
        return t % self.p.break_every_s < self.p.break_s

    def _draw_cycle(self) -> float:
        jitter = float(self.ctx.rng.normal(0.0, self.p.cycle_jitter))
        return self.p.cycle_s * max(0.5, 1.0 + jitter)

    def drives_alarm(self, ref: TagRef) -> bool:
        return ref is self._alarm_ref

    def step(self, t: float, dt: float, active: list[Disturbance]) -> None:
        if self.planned is not None and t >= self.planned_until:
            self.planned = None
        if not self.frozen and (self.done or (self.order is None and self.queue)):
            self._next_order(t)
        down = self.breakdown(active)
        if self.powered_off(active, t):
            self.activity = "powered_off"
        elif down is not None:
            self.activity = down.reason
        elif self.alarm:
            self.activity = "overtemp"
        elif self._on_break(t):
            self.activity = "break"
        elif self.planned is not None:
            self.activity = self.planned
        elif self.order is None or self.done:
            self.activity = "no_order"
        else:
            self.activity = "running"
        if self.activity == "running":
            self._cut(t, dt)
        self._heat(t, dt, active)
        for ref in self.ctx.role("runtime_hours"):
            if self.activity == "running":
                self.run_hours(ref, dt, t)
        self.report_state(t)
        self.report_common(t, active)
        self.report_hours()

    def _cut(self, t: float, dt: float) -> None:
        self.progress += dt / self.cycle
        while self.progress >= 1.0 and self.order is not None and not self.done:
            self.progress -= 1.0
            self.cycle = self._draw_cycle()
            self._part_done(t)
        if self.order is None or self.done:
            self.progress = 0.0

    def _part_done(self, t: float) -> None:
        assert self.order is not None
        ctx = self.ctx
        scrap = bool(ctx.rng.random() < self.p.scrap_rate)
        kind = "scrap_count" if scrap else "good_count"
        for ref in ctx.role(kind):
            self.counters[ref.path].add(1)
        ctx.truth.produced(ctx.path, self.order, good=0 if scrap else 1, scrap=1 if scrap else 0)
        for ref in self._material:
            tag = ref.tag
            assert isinstance(tag, ConsumptionTag)
            kg = round(self.p.material_kg_per_part * (1.0 + float(ctx.rng.normal(0.0, 0.02))), 4)
            self.counters[ref.path].add(kg)
            ctx.truth.consumed(ctx.path, self.order, tag.component, kg)
        if not scrap:
            self.good_in_order += 1
        self.parts_on_tool += 1
        if self.good_in_order >= self.target:
            self._next_order(t)
        elif self.parts_on_tool >= self.p.tool_life_parts:
            self.parts_on_tool = 0
            self._plan("tool_change", t, self.p.tool_change_s)

    def _heat(self, t: float, dt: float, active: list[Disturbance]) -> None:
        p = self.p
        target = p.ambient_c + (p.temp_rise_c if self.activity == "running" else 0.0)
        for d in active:
            if isinstance(d, Overtemperature):
                target += d.extra_c
        self.temp += (target - self.temp) * min(1.0, dt / p.temp_tau_s)
        self.temp += float(self.ctx.rng.normal(0.0, 0.05))
        if not self.alarm and self.temp > p.alarm_high_c:
            self.alarm = True
        elif self.alarm and self.temp < p.alarm_high_c - p.alarm_hysteresis_c:
            self.alarm = False
        if self._temp_ref is not None:
            self.values[self._temp_ref.path] = round(self.temp, 2)
        if self._alarm_ref is not None:
            self.set_alarm(self._alarm_ref, self.alarm, t)
