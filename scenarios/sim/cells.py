"""What every simulated cell shares: its tags by role, PLC counters, state reporting, alarms, hours."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from scenarios.sim.codes import StateCodes
from scenarios.sim.scenario import Breakdown, Disturbance, PlcRestart, QualityDeviation
from scenarios.sim.truth import TruthRecorder
from uns_model.resolver import DeviceRef, TagRef
from uns_model.tags import (
    AlarmTag,
    ConsumptionTag,
    CounterTag,
    ProcessValueTag,
    RuntimeHoursTag,
)

#: Where an integer PLC value wraps by datatype (a counter can never show more than its type holds).
_TYPE_WRAP: dict[str, int] = {
    "Int8": 2**7, "Int16": 2**15, "Int32": 2**31, "Int64": 2**63,
    "UInt8": 2**8, "UInt16": 2**16, "UInt32": 2**32, "UInt64": 2**64,
}  # fmt: skip

Value = bool | int | float | str


@dataclass(slots=True)
class PlcCounter:
    """A cumulative PLC counter: wraps at its rollover, restarts at 0 when the PLC restarts."""

    wrap: float
    value: float = 0.0

    def add(self, amount: float) -> None:
        self.value = (self.value + amount) % self.wrap

    def reset(self) -> None:
        self.value = 0.0


def counter_for(ref: TagRef, initial: float) -> PlcCounter:
    """The PLC counter behind a good_count, scrap_count or consumption tag."""
    tag = ref.tag
    wrap: float = float(_TYPE_WRAP.get(tag.datatype, 2**53))
    if isinstance(tag, CounterTag):
        wrap = min(wrap, float(tag.rollover))
    elif isinstance(tag, ConsumptionTag) and tag.rollover is not None:
        wrap = min(wrap, tag.rollover)
    return PlcCounter(wrap=wrap, value=initial % wrap)


@dataclass(slots=True)
class CellContext:
    """A cell as the process sees it: tags, state codes, truth, its own random stream, initial values."""

    device: DeviceRef
    codes: StateCodes | None
    truth: TruthRecorder
    rng: np.random.Generator
    initial: dict[str, float] = field(default_factory=dict)
    connections: list[str] = field(default_factory=list)  # '<line path>:<connection>' serving its tags

    @property
    def path(self) -> str:
        return self.device.place.path

    @property
    def name(self) -> str:
        return self.device.cell.name

    def role(self, role: str) -> list[TagRef]:
        return [r for r in self.device.tags if r.role == role]

    def one(self, role: str) -> TagRef | None:
        refs = self.role(role)
        return refs[0] if refs else None

    def mirrored(self, *words: str) -> TagRef | None:
        """A tag without role whose path mentions one of `words` (how the sim knows what to drive)."""
        for r in self.device.tags:
            if r.role is None and any(w in r.path.lower() for w in words):
                return r
        return None


class CellSim:
    """Base of the cell models: owns the tag values the PLC serves and reports states, alarms, hours."""

    def __init__(self, ctx: CellContext) -> None:
        self.ctx = ctx
        self.values: dict[str, Value] = {}
        self.activity = "no_order"
        self.order: str | None = None
        self.lot: str | None = None
        self.counters: dict[str, PlcCounter] = {}
        for role in ("good_count", "scrap_count", "consumption"):
            for ref in ctx.role(role):
                self.counters[ref.path] = counter_for(ref, ctx.initial.get(ref.path, 0.0))
        self.hours: dict[str, float] = {}
        for ref in ctx.role("runtime_hours"):
            self.hours[ref.path] = ctx.initial.get(ref.path, 0.0)
        self._restarted: set[int] = set()
        #: Its server's PLC is restarting: it may work on, but takes no new order or lot.
        self.frozen = False
        ctx.truth.register_cell(ctx.path, ctx.device.cell.workcenter)
        for ref in ctx.device.tags:
            self.values[ref.path] = _zero(ref.tag.datatype)

    # --- disturbances ---------------------------------------------------------------------------------

    def powered_off(self, active: list[Disturbance], t: float) -> bool:
        """A PLC restart in progress: counters restart at 0 once, the cell does nothing meanwhile."""
        restarts = [d for d in active if isinstance(d, PlcRestart)]
        for d in restarts:
            if id(d) not in self._restarted:
                self._restarted.add(id(d))
                reset = [p for p, ref in self._tag_roles() if ref in ("good_count", "scrap_count")]
                for p in reset:
                    self.counters[p].reset()
                end = d.at_s + d.outage_s
                self.ctx.truth.plc_restart(self.ctx.path, self.ctx.connections, t, end, reset)
        return bool(restarts)

    @staticmethod
    def breakdown(active: list[Disturbance]) -> Breakdown | None:
        return next((d for d in active if isinstance(d, Breakdown)), None)

    @staticmethod
    def forced_value(active: list[Disturbance], tag: ProcessValueTag, path: str) -> float | None:
        """The value a quality deviation drives a process value to, if one is active on it."""
        for d in active:
            if isinstance(d, QualityDeviation) and d.tag == path:
                if d.side == "high" and tag.high is not None:
                    return tag.high + d.shift
                if d.side == "low" and tag.low is not None:
                    return tag.low - d.shift
        return None

    def _tag_roles(self) -> list[tuple[str, str | None]]:
        return [(r.path, r.role) for r in self.ctx.device.tags if r.path in self.counters]

    # --- reporting -----------------------------------------------------------------------------------

    def report_state(self, t: float) -> None:
        """Machine state code from the current activity, to the tag and to the truth."""
        ref = self.ctx.one("machine_state")
        codes = self.ctx.codes
        if ref is None or codes is None:
            return
        code = codes.code(self.activity)
        self.values[ref.path] = code
        entry = codes.entry(code)
        if entry is not None:
            self.ctx.truth.state(self.ctx.path, code, entry.state, entry.reason, entry.is_stop, t)

    def report_common(self, t: float, active: list[Disturbance]) -> None:
        """Counters, order and lot strings, and alarms driven by a breakdown."""
        for path, counter in self.counters.items():
            self.values[path] = counter.value
        ref = self.ctx.one("order")
        if ref is not None:
            self.values[ref.path] = self.order or ""
        ref = self.ctx.one("lot")
        if ref is not None:
            self.values[ref.path] = self.lot or ""
        down = self.breakdown(active)
        for ref in self.ctx.role("alarm"):
            if down is not None and down.alarm == ref.path:
                self.set_alarm(ref, True, t, down.alarm_value)
            elif self.drives_alarm(ref):
                continue
            else:
                self.set_alarm(ref, False, t)

    def drives_alarm(self, ref: TagRef) -> bool:
        """True for alarm tags the cell model raises itself (overtemperature, high pressure)."""
        return False

    def set_alarm(self, ref: TagRef, active: bool, t: float, code: int = 1) -> None:
        tag = ref.tag
        assert isinstance(tag, AlarmTag)
        self.values[ref.path] = active if tag.datatype == "Boolean" else (code if active else 0)
        self.ctx.truth.alarm(self.ctx.path, ref.path, tag.equipment, active, t)

    def run_hours(self, ref: TagRef, dt: float, t: float) -> None:
        """Operating hours of an equipment that ran for dt seconds."""
        tag = ref.tag
        assert isinstance(tag, RuntimeHoursTag)
        before = self.hours[ref.path]
        after = before + dt / 3600.0
        self.hours[ref.path] = after
        self.ctx.truth.runtime(self.ctx.path, ref.path, tag.equipment, before, after, tag.threshold_h, t)

    def report_hours(self) -> None:
        for path, h in self.hours.items():
            self.values[path] = h

    def step(self, t: float, dt: float, active: list[Disturbance]) -> None:
        raise NotImplementedError


def _zero(datatype: str) -> Value:
    if datatype == "Boolean":
        return False
    if datatype in ("String", "Text"):
        return ""
    if datatype in ("Float", "Double"):
        return 0.0
    return 0
