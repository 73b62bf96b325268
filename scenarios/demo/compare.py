"""The demo's verdict: Odoo's totals per manufacturing order, work center and equipment against the
simulation's ground truth. Equal means equal; the only tolerances are physical ones (float32 PLC
registers, Odoo's whole-second datetimes and the edge's sampling, stated with each check)."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from odoo_sync.client import OdooClient
from odoo_sync.lookup import many2one_id
from scenarios.sim.truth import GroundTruth
from uns_model.plant import PlantModel

QTY_EPS = 1e-6
KG_ABS, KG_REL = 0.01, 1e-4  # float32 Modbus totalizers carry ~7 significant digits
TIME_TOL_MS = 1500  # Odoo stores whole seconds; the edge samples every poll_ms
_STATE = re.compile(r"\(state (-?\d+) at ([^,)]+)")


@dataclass(slots=True)
class Row:
    what: str
    odoo: str
    truth: str
    ok: bool


@dataclass(slots=True)
class Comparison:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def differences(self) -> list[Row]:
        return [r for r in self.rows if not r.ok]

    @property
    def equal(self) -> bool:
        return not self.differences and bool(self.rows)

    def add(self, what: str, odoo: Any, truth: Any, ok: bool) -> None:
        self.rows.append(Row(what, str(odoo), str(truth), ok))


class WallClock:
    """Sim ms (truth) -> wall ms at which the PLCs first showed that moment (clock.json pairs)."""

    def __init__(self, epoch_ms: int, pairs: list[tuple[float, int]]) -> None:
        self.epoch = epoch_ms
        self.sim = [p[0] for p in pairs]
        self.wall = [p[1] for p in pairs]

    def __call__(self, sim_ms: int) -> int:
        i = bisect.bisect_right(self.sim, (sim_ms - self.epoch) / 1000.0)
        return self.wall[min(i, len(self.wall) - 1)] if self.wall else sim_ms


def _ms(text: str | bool) -> int | None:
    if not text:
        return None
    return int(datetime.strptime(str(text)[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp() * 1000)


def _fmt(ms: int | None) -> str:
    return "open" if ms is None else datetime.fromtimestamp(ms / 1000, UTC).strftime("%H:%M:%S")


def _chain(client: OdooClient, ref: str) -> list[dict[str, Any]]:
    return client.search_read(
        "mrp.production",
        ["|", ("name", "=", ref), ("name", "=like", f"{ref}-%")],
        ["name", "state", "qty_producing", "qty_produced", "lot_producing_id"],
        order="id",
    )


def compare(
    client: OdooClient,
    plant: PlantModel,
    truth: GroundTruth,
    clock: WallClock,
    orders: list[str],
    dead: dict[str, list[tuple[int, int]]] | None = None,
) -> Comparison:
    """Every check the demo makes; `orders` are the order refs the demo planned; `dead`: wall-ms
    intervals per cell path in which its device was dead (a PLC restart), when nothing was seen."""
    out = Comparison()
    codes = {p_id: p for p_id, p in _product_codes(client).items()}
    for ref in orders:
        chain = _chain(client, ref)
        ids = [int(m["id"]) for m in chain]
        # A backorder the MES dispatched is made under its own name: the truth of the whole chain.
        names = {ref} | {str(m["name"]) for m in chain}
        produced = sum(
            float(m["qty_produced"] if m["state"] == "done" else m["qty_producing"]) for m in chain
        )
        good = sum(truth.good(n) for n in names)
        out.add(f"{ref} produced", f"{produced:g}", good, abs(produced - good) < QTY_EPS)
        scraps = client.search_read(
            "stock.scrap", [("production_id", "in", ids), ("state", "=", "done")], ["scrap_qty"]
        )
        scrapped = sum(float(s["scrap_qty"]) for s in scraps)
        scrap = sum(truth.scrap(n) for n in names)
        out.add(f"{ref} scrap", f"{scrapped:g}", scrap, abs(scrapped - scrap) < QTY_EPS)
        moves = client.search_read(
            "stock.move",
            [("raw_material_production_id", "in", ids), ("state", "!=", "cancel")],
            ["product_id", "quantity"],
        )
        by_code: dict[str, float] = {}
        for m in moves:
            code = codes.get(many2one_id(m["product_id"]) or 0, "?")
            by_code[code] = by_code.get(code, 0.0) + float(m["quantity"])
        reported = {c.component for c in truth.consumption if c.order in names}
        for component in sorted(reported | {c for c, q in by_code.items() if q > KG_ABS}):
            want = sum(truth.consumed(component, n) for n in names)
            got = by_code.get(component, 0.0)
            ok = abs(got - want) <= max(KG_ABS, KG_REL * abs(want))
            out.add(f"{ref} consumed {component}", f"{got:.3f}", f"{want:.3f}", ok)
    _lots(client, truth, orders, out)
    _downtimes(client, plant, truth, clock, dead or {}, out)
    _maintenance(client, plant, truth, out)
    _quality(client, plant, truth, out)
    return out


def _quality(client: OdooClient, plant: PlantModel, truth: GroundTruth, out: Comparison) -> None:
    """Each quality excursion (longer than its debounce) is one quality hold: a quality-loss block on
    the cell's work center, opened by the bridge (holds people raise in Odoo are not the plant's)."""
    centres = {place.path: cell.workcenter for place, _line, cell in plant.iter_cells() if cell.workcenter}
    want: dict[str, int] = {}
    for e in truth.quality_deviations:
        wc = centres.get(e.cell)
        if wc:
            want[wc] = want.get(wc, 0) + 1
    wcs = {str(w["code"]): int(w["id"]) for w in client.search_read("mrp.workcenter", [], ["code"])}
    for wc in sorted(set(centres.values())):
        if wc not in wcs:
            continue
        got = client.search_count(
            "mrp.workcenter.productivity",
            [
                ("workcenter_id", "=", wcs[wc]),
                ("loss_type", "=", "quality"),
                ("description", "ilike", "[uns"),
            ],
        )
        if got or want.get(wc):
            out.add(f"{wc} quality holds from the plant", got, want.get(wc, 0), got == want.get(wc, 0))


def _product_codes(client: OdooClient) -> dict[int, str]:
    return {
        int(p["id"]): str(p["default_code"])
        for p in client.search_read("product.product", [], ["default_code"])
    }


def _lots(client: OdooClient, truth: GroundTruth, orders: list[str], out: Comparison) -> None:
    finished = [lot for lot in truth.lots if lot.order in orders]
    if not finished:
        return
    names = {str(r["name"]) for r in client.search_read("stock.lot", [], ["name"])}
    for lot in finished:
        out.add(
            f"lot {lot.lot} ({lot.order}, {lot.good} good)",
            "in Odoo" if lot.lot in names else "missing",
            "finished",
            lot.lot in names,
        )


def observable(
    stops: list[tuple[int, int | None, int]], dead: list[tuple[int, int]]
) -> tuple[list[tuple[int, int | None, int]], list[str]]:
    """The stops as anyone reading the PLC could see them: while the device is dead nothing is seen, so
    a stop that ends and starts again (same code) inside one dead interval is one stop, a stop wholly
    inside it is invisible, and one that starts inside it is seen from the device's rebirth."""
    out: list[tuple[int, int | None, int]] = []
    notes: list[str] = []

    def hidden(t: int) -> tuple[int, int] | None:
        return next((d for d in dead if d[0] <= t <= d[1]), None)

    for start, end, code in stops:
        d_start = hidden(start)
        if end is not None and d_start is not None and hidden(end) == d_start:
            notes.append(f"stop {code} while the device was dead, not observable")
            continue
        if d_start is not None:
            start = d_start[1]
        if out and out[-1][2] == code and out[-1][1] is not None:
            gap = hidden(out[-1][1])
            if gap is not None and gap[0] <= start <= gap[1] + TIME_TOL_MS:
                out[-1] = (out[-1][0], end, code)
                notes.append(f"stop {code} ended and began again while the device was dead: one stop")
                continue
        out.append((start, end, code))
    return out, notes


def _downtimes(
    client: OdooClient,
    plant: PlantModel,
    truth: GroundTruth,
    clock: WallClock,
    dead: dict[str, list[tuple[int, int]]],
    out: Comparison,
) -> None:
    wcs = {str(w["code"]): int(w["id"]) for w in client.search_read("mrp.workcenter", [], ["code"])}
    for place, _line, cell in plant.iter_cells():
        if not cell.workcenter or cell.workcenter not in wcs:
            continue
        logs = client.search_read(
            "mrp.workcenter.productivity",
            [("workcenter_id", "=", wcs[cell.workcenter]), ("loss_type", "!=", "quality")],
            ["date_start", "date_end", "description"],
            order="date_start",
        )
        got: list[tuple[int, int | None, int]] = []
        for row in logs:
            m = _STATE.search(str(row["description"] or ""))
            start = _ms(row["date_start"])
            if m is None or start is None:
                continue
            got.append((start, _ms(row["date_end"]), int(m.group(1))))
        want = []
        for d in truth.downtimes:
            if d.workcenter != cell.workcenter:
                continue
            start, end = clock(d.start_unix_ms), None if d.end_unix_ms is None else clock(d.end_unix_ms)
            if end is not None and end <= start:
                # Began and ended between two PLC updates: no PLC ever showed it (sampling, not loss).
                out.notes.append(
                    f"{cell.workcenter}: stop {d.code} shorter than one PLC update, not observable"
                )
                continue
            want.append((start, end, d.code))
        want, notes = observable(want, dead.get(place.path, []))
        out.notes += [f"{cell.workcenter}: {n}" for n in notes]
        unmatched = list(got)
        missed: list[tuple[int, int | None, int]] = []
        for w in want:
            hit = next((g for g in unmatched if _same(g, w)), None)
            if hit is None:
                missed.append(w)
            else:
                unmatched.remove(hit)
        ok = not missed and not unmatched
        out.add(f"{cell.workcenter} downtime intervals", len(got), len(want), ok)
        for s, e, c in missed:
            out.notes.append(f"{cell.workcenter}: truth stop {c} {_fmt(s)}-{_fmt(e)} not in Odoo")
        for s, e, c in unmatched:
            out.notes.append(f"{cell.workcenter}: Odoo stop {c} {_fmt(s)}-{_fmt(e)} not in the truth")


def _same(g: tuple[int, int | None, int], w: tuple[int, int | None, int]) -> bool:
    if g[2] != w[2] or abs(g[0] - w[0]) > TIME_TOL_MS:
        return False
    if g[1] is None or w[1] is None:
        return g[1] is None and w[1] is None
    return abs(g[1] - w[1]) <= TIME_TOL_MS


def _maintenance(client: OdooClient, plant: PlantModel, truth: GroundTruth, out: Comparison) -> None:
    """An alarm tag that raised opens one request (repeats while it is open go to its chatter); each
    runtime threshold crossed is one preventive request."""
    serials = {}
    for place, _line, cell in plant.iter_cells():
        for eq in cell.equipment:
            serials[(place.path, eq.name)] = eq.serial
    expected: dict[str, int] = {}
    for key in {(a.cell, a.tag, a.equipment) for a in truth.alarms if a.equipment}:
        serial = serials.get((key[0], key[2] or ""))
        if serial:
            expected[serial] = expected.get(serial, 0) + 1
    for r in truth.runtime_thresholds:
        serial = serials.get((r.cell, r.equipment or ""))
        if serial:
            expected[serial] = expected.get(serial, 0) + 1
    equipment = {
        str(e["serial_no"]): int(e["id"])
        for e in client.search_read("maintenance.equipment", [], ["serial_no"])
    }
    for serial in sorted(set(serials.values())):
        if serial not in equipment:
            continue
        got = client.search_count("maintenance.request", [("equipment_id", "=", equipment[serial])])
        want = expected.get(serial, 0)
        if got or want:
            out.add(f"maintenance requests {serial}", got, want, got == want)
