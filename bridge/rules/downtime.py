"""downtime_started / downtime_ended: machine state changes looked up in the cell's state table."""

from __future__ import annotations

from bridge.ingest import TagInfo
from bridge.rules.base import RuleContext
from bridge.windows.buffers import F64, I32, I64
from bridge.windows.onchange import ChangeDetector
from uns_model.events import DowntimeEnded, DowntimeStarted
from uns_model.states import StateEntry
from uns_model.tags import MachineStateTag

# The detector's "no value yet" marker: differs from every state code, so a first value is a change.
NO_VALUE = -1.0e300
_UNKNOWN = StateEntry(state="unknown", reason="Unknown state code")


class DowntimeRule:
    """A stop opens a downtime (its start time is the first sample in a stop state); leaving the stop,
    or moving to a stop of another code, ends it. The open downtime and the last code per tag are
    rule state, so a restart neither loses an end nor starts a stop twice."""

    def __init__(self, ctx: RuleContext) -> None:
        self.ctx = ctx
        self.tags = {t.idx: t for t in ctx.index.of_role("machine_state") if t.ref.workcenter is not None}
        self.detector = ChangeDetector(ctx.index.n)
        for idx, tag in self.tags.items():
            saved = ctx.state.get(f"state:{tag.key}")
            if saved is None:
                self.detector.last_value[idx] = NO_VALUE
            else:
                self.detector.last_value[idx] = float(saved["code"])
                self.detector.last_ts[idx] = int(saved["ts"])

    def on_samples(self, tag: I32, ts: I64, value: F64) -> None:
        if tag.shape[0] == 0:
            return
        for change in self.detector.update(tag, ts, value):
            info = self.tags.get(change.tag_idx)
            if info is None:
                continue
            code = int(change.new)
            old = None if change.old == NO_VALUE else int(change.old)
            self._apply(info, old, code, change.ts_ms)

    def _entry(self, info: TagInfo, code: int) -> StateEntry:
        spec = info.ref.tag
        assert isinstance(spec, MachineStateTag)
        table = self.ctx.index.plant.state_table(spec.state_table)
        entry = table.lookup(code) if table is not None else None
        if entry is None:
            self.ctx.metrics.unknown_states.inc(tag=info.key)
            self.ctx.log_once(
                info.key, f"unknown_state_{code}", f"state code {code} is not in '{spec.state_table}'"
            )
            return _UNKNOWN
        return entry

    def _apply(self, info: TagInfo, old: int | None, code: int, ts: int) -> None:
        ctx = self.ctx
        key = f"state:{info.key}"
        saved = ctx.state.get(key) or {}
        open_stop = saved.get("open")
        entry = self._entry(info, code)
        if open_stop is not None and (not entry.is_stop or code != open_stop["code"]):
            started, stop_code = int(open_stop["started"]), int(open_stop["code"])
            stop = self._entry(info, stop_code)
            ctx.emit(
                DowntimeEnded,
                ts,
                info.key,
                place=info.cell,
                workcenter=info.ref.workcenter or "",
                state_code=stop_code,
                state=stop.state,
                reason=stop.reason,
                odoo_loss=stop.odoo_loss,
                loss_type=stop.effective_loss_type,
                started_unix_ms=started,
                ended_unix_ms=max(ts, started),
                external_work_order_id=ctx.timeline.at(ctx.order_tag(info.cell), started),
            )
            open_stop = None
        if entry.is_stop and open_stop is None:
            ctx.emit(
                DowntimeStarted,
                ts,
                info.key,
                place=info.cell,
                workcenter=info.ref.workcenter or "",
                state_code=code,
                state=entry.state,
                reason=entry.reason,
                odoo_loss=entry.odoo_loss,
                loss_type=entry.effective_loss_type,
                started_unix_ms=ts,
                external_work_order_id=ctx.timeline.at(ctx.order_tag(info.cell), ts),
            )
            open_stop = {"started": ts, "code": code}
        ctx.state.set(key, {"code": code, "ts": ts, "open": open_stop})
