"""Ground truth of a simulation: what was really produced, consumed, stopped and deviated, and when.

The recorder is fed by the process models step by step; `GroundTruth` (pydantic) is its JSON form.
Quantities are true quantities: a PLC counter reset or wrap changes what the PLC shows, never these.
Times are Unix milliseconds, `epoch_unix_ms + sim seconds * ms_per_sim_second`, the same clock the
simulated PLCs stamp their values with (see plc.py: the sim clock, or the wall clock of a time-scaled run).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrderProduction(_Model):
    order: str
    cell: str = Field(description="ISA-95 path of the cell")
    workcenter: str | None
    good: int
    scrap: int


class OrderConsumption(_Model):
    order: str
    cell: str
    component: str = Field(description="product code of the component")
    quantity: float


class Downtime(_Model):
    cell: str
    workcenter: str | None
    code: int
    state: str
    reason: str
    start_unix_ms: int
    end_unix_ms: int | None = Field(description="None while the stop is still going at the end")


class QualityExcursion(_Model):
    cell: str
    tag: str
    limit: str = Field(description="'high' or 'low'")
    peak: float
    start_unix_ms: int
    end_unix_ms: int | None
    lot: str | None
    order: str | None


class AlarmRaised(_Model):
    cell: str
    tag: str
    equipment: str | None
    raised_unix_ms: int
    cleared_unix_ms: int | None


class RuntimeThreshold(_Model):
    cell: str
    tag: str
    equipment: str | None
    threshold_h: float
    hours: float = Field(description="the multiple of threshold_h crossed")
    at_unix_ms: int


class LotFinished(_Model):
    lot: str
    order: str | None
    cell: str
    good: int
    scrap: int
    finished_unix_ms: int
    out_of_spec: bool = Field(description="a quality excursion happened while the lot was made")


class PlcRestartRecord(_Model):
    cell: str
    connections: list[str]
    start_unix_ms: int
    end_unix_ms: int
    counters_reset: list[str] = Field(description="tag paths whose PLC value restarted at 0")


class GroundTruth(_Model):
    """Everything a test needs to compare Odoo's totals with what really happened."""

    plant: str = Field(description="<enterprise>/<site>")
    seed: int
    epoch_unix_ms: int
    ms_per_sim_second: float = Field(
        description="1000 on the sim clock; 1000 / time_scale on the wall clock (times follow the wall)"
    )
    sim_seconds: float
    end_unix_ms: int
    production: list[OrderProduction] = Field(default_factory=list)
    consumption: list[OrderConsumption] = Field(default_factory=list)
    downtimes: list[Downtime] = Field(default_factory=list)
    quality_deviations: list[QualityExcursion] = Field(default_factory=list)
    alarms: list[AlarmRaised] = Field(default_factory=list)
    runtime_thresholds: list[RuntimeThreshold] = Field(default_factory=list)
    lots: list[LotFinished] = Field(default_factory=list)
    plc_restarts: list[PlcRestartRecord] = Field(default_factory=list)

    def good(self, order: str | None = None, cell: str | None = None) -> int:
        return sum(p.good for p in self.production if _match(p.order, order) and _cell(p.cell, cell))

    def scrap(self, order: str | None = None, cell: str | None = None) -> int:
        return sum(p.scrap for p in self.production if _match(p.order, order) and _cell(p.cell, cell))

    def consumed(self, component: str, order: str | None = None) -> float:
        return sum(
            c.quantity for c in self.consumption if c.component == component and _match(c.order, order)
        )

    def write(self, path: str | Path) -> Path:
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(self.model_dump_json(indent=2) + "\n", encoding="utf-8")
        return out


def _match(value: str, wanted: str | None) -> bool:
    return wanted is None or value == wanted


def _cell(path: str, wanted: str | None) -> bool:
    return wanted is None or path == wanted or path.endswith("/" + wanted)


@dataclass(slots=True)
class _Excursion:
    limit: str
    start_s: float
    peak: float
    lot: str | None
    order: str | None
    debounce_s: float


@dataclass(slots=True)
class TruthRecorder:
    """Accumulates the truth while the process runs; `snapshot()` any time for the current state."""

    plant: str
    seed: int
    epoch_unix_ms: int
    ms_per_s: float = 1000.0
    sim_s: float = 0.0
    _production: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    _workcenters: dict[str, str | None] = field(default_factory=dict)
    _consumption: dict[tuple[str, str, str], float] = field(default_factory=dict)
    _downtimes: list[Downtime] = field(default_factory=list)
    _open_stop: dict[str, Downtime] = field(default_factory=dict)
    _last_code: dict[str, int] = field(default_factory=dict)
    _excursions: list[QualityExcursion] = field(default_factory=list)
    _open_exc: dict[tuple[str, str], _Excursion] = field(default_factory=dict)
    _alarms: list[AlarmRaised] = field(default_factory=list)
    _open_alarm: dict[tuple[str, str], AlarmRaised] = field(default_factory=dict)
    _thresholds: list[RuntimeThreshold] = field(default_factory=list)
    _lots: list[LotFinished] = field(default_factory=list)
    _restarts: list[PlcRestartRecord] = field(default_factory=list)
    _deviating_lots: set[str] = field(default_factory=set)

    def ms(self, sim_s: float) -> int:
        return self.epoch_unix_ms + round(sim_s * self.ms_per_s)

    def register_cell(self, cell: str, workcenter: str | None) -> None:
        self._workcenters[cell] = workcenter

    def produced(self, cell: str, order: str, good: int = 0, scrap: int = 0) -> None:
        row = self._production.setdefault((order, cell), [0, 0])
        row[0] += good
        row[1] += scrap

    def consumed(self, cell: str, order: str, component: str, qty: float) -> None:
        key = (order, cell, component)
        self._consumption[key] = self._consumption.get(key, 0.0) + qty

    def state(self, cell: str, code: int, kind: str, reason: str, stop: bool, t: float) -> None:
        """The machine state code of a cell at sim time t; a change of stop code closes and opens."""
        if self._last_code.get(cell) == code:
            return
        self._last_code[cell] = code
        current = self._open_stop.pop(cell, None)
        if current is not None:
            current.end_unix_ms = self.ms(t)
            self._downtimes.append(current)
        if stop:
            self._open_stop[cell] = Downtime(
                cell=cell,
                workcenter=self._workcenters.get(cell),
                code=code,
                state=kind,
                reason=reason,
                start_unix_ms=self.ms(t),
                end_unix_ms=None,
            )

    def process_value(
        self,
        cell: str,
        tag: str,
        value: float,
        low: float | None,
        high: float | None,
        debounce_s: float,
        t: float,
        lot: str | None,
        order: str | None,
    ) -> None:
        """One sample of a process value; excursions at least `debounce_s` long are kept."""
        limit = (
            "high" if high is not None and value > high else "low" if low is not None and value < low else ""
        )
        key = (cell, tag)
        exc = self._open_exc.get(key)
        if exc is not None and exc.limit != limit:
            del self._open_exc[key]
            if t - exc.start_s >= debounce_s:
                self._close_excursion(cell, tag, exc, t)
            exc = None
        if limit and exc is None:
            self._open_exc[key] = _Excursion(limit, t, value, lot, order, debounce_s)
        elif exc is not None:
            exc.peak = max(exc.peak, value) if limit == "high" else min(exc.peak, value)
        if exc is not None and exc.lot and t - exc.start_s >= debounce_s:
            self._deviating_lots.add(exc.lot)

    def _close_excursion(self, cell: str, tag: str, exc: _Excursion, t: float | None) -> None:
        self._excursions.append(
            QualityExcursion(
                cell=cell,
                tag=tag,
                limit=exc.limit,
                peak=round(exc.peak, 6),
                start_unix_ms=self.ms(exc.start_s),
                end_unix_ms=None if t is None else self.ms(t),
                lot=exc.lot,
                order=exc.order,
            )
        )

    def alarm(self, cell: str, tag: str, equipment: str | None, active: bool, t: float) -> None:
        key = (cell, tag)
        current = self._open_alarm.get(key)
        if active and current is None:
            self._open_alarm[key] = AlarmRaised(
                cell=cell, tag=tag, equipment=equipment, raised_unix_ms=self.ms(t), cleared_unix_ms=None
            )
        elif not active and current is not None:
            del self._open_alarm[key]
            current.cleared_unix_ms = self.ms(t)
            self._alarms.append(current)

    def runtime(
        self,
        cell: str,
        tag: str,
        equipment: str | None,
        before: float,
        after: float,
        threshold: float,
        t: float,
    ) -> None:
        """Runtime hours went from `before` to `after`: record each multiple of the threshold crossed."""
        k = int(before // threshold) + 1
        while k * threshold <= after:
            self._thresholds.append(
                RuntimeThreshold(
                    cell=cell,
                    tag=tag,
                    equipment=equipment,
                    threshold_h=threshold,
                    hours=k * threshold,
                    at_unix_ms=self.ms(t),
                )
            )
            k += 1

    def lot_finished(self, lot: str, order: str | None, cell: str, good: int, scrap: int, t: float) -> None:
        self._lots.append(
            LotFinished(
                lot=lot,
                order=order,
                cell=cell,
                good=good,
                scrap=scrap,
                finished_unix_ms=self.ms(t),
                out_of_spec=lot in self._deviating_lots,
            )
        )

    def plc_restart(
        self, cell: str, connections: list[str], start: float, end: float, reset: list[str]
    ) -> None:
        self._restarts.append(
            PlcRestartRecord(
                cell=cell,
                connections=connections,
                start_unix_ms=self.ms(start),
                end_unix_ms=self.ms(end),
                counters_reset=reset,
            )
        )

    def snapshot(self) -> GroundTruth:
        """The truth so far; stops, excursions and alarms still going are included with no end."""
        open_exc: list[QualityExcursion] = []
        for (cell, tag), exc in self._open_exc.items():
            if self.sim_s - exc.start_s >= exc.debounce_s:
                before = len(self._excursions)
                self._close_excursion(cell, tag, exc, None)
                open_exc.append(self._excursions.pop(before))
        excursions = [*self._excursions, *open_exc]
        return GroundTruth(
            plant=self.plant,
            seed=self.seed,
            epoch_unix_ms=self.epoch_unix_ms,
            ms_per_sim_second=self.ms_per_s,
            sim_seconds=self.sim_s,
            end_unix_ms=self.ms(self.sim_s),
            production=[
                OrderProduction(
                    order=order, cell=cell, workcenter=self._workcenters.get(cell), good=g, scrap=s
                )
                for (order, cell), (g, s) in self._production.items()
            ],
            consumption=[
                OrderConsumption(order=order, cell=cell, component=comp, quantity=round(q, 6))
                for (order, cell, comp), q in self._consumption.items()
            ],
            downtimes=sorted(
                [*self._downtimes, *(d.model_copy() for d in self._open_stop.values())],
                key=lambda d: (d.start_unix_ms, d.cell),
            ),
            quality_deviations=sorted(excursions, key=lambda e: (e.start_unix_ms, e.cell, e.tag)),
            alarms=sorted(
                [*self._alarms, *(a.model_copy() for a in self._open_alarm.values())],
                key=lambda a: (a.raised_unix_ms, a.cell, a.tag),
            ),
            runtime_thresholds=list(self._thresholds),
            lots=list(self._lots),
            plc_restarts=list(self._restarts),
        )
