"""The demo headless on real parts (Mosquitto with auth and ACL, the Odoo sandbox, simulated PLCs over
OPC UA and Modbus, `uns edge`, `uns run`): Odoo's totals equal the simulation's ground truth; a
released order is retained in the namespace; a quality hold raised in Odoo reaches it and its
release clears it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from odoo_sync.client import OdooClient
from scenarios.demo.compare import Comparison
from scenarios.demo.run import Demo, DemoOptions
from tests.bridge.service_support import wait_for


def _run(
    tmp_path: Path, scenario: str, duration_s: float, scale: float, quantities: list[float] | None = None
) -> Demo:
    demo = Demo(
        DemoOptions(
            scenario=scenario,
            time_scale=scale,
            duration_s=duration_s,
            run_dir=tmp_path,
            quantities=quantities,
        )
    )
    demo.start()
    return demo


class Shift:
    """One demo run shared by a module's tests: started by the fixture, summarised once on demand."""

    def __init__(self, demo: Demo) -> None:
        self.demo = demo
        self._result: Comparison | None = None

    def result(self) -> Comparison:
        if self._result is None:
            assert self.demo.wait_frozen(90)
            assert self.demo.drain(40)
            self._result = self.demo.summary()
        return self._result


@pytest.fixture(scope="module")
def cnc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shift]:
    # 1 h 45 of the CNC shop: a breakdown (line 2), a spindle overtemperature, a maintenance threshold,
    # and on each line-1 cell an order of 60 that completes mid-shift and the next one started.
    demo = _run(tmp_path_factory.mktemp("cnc"), "cnc", 6300.0, 240.0, [60.0, 120.0])
    try:
        yield Shift(demo)
    finally:
        demo.stop()


@pytest.mark.timeout(120)
def test_cnc_orders_retained_and_a_hold_raised_in_odoo_reaches_the_namespace(cnc: Shift) -> None:
    demo = cnc.demo
    assert demo.ns is not None and demo.odoo is not None and demo.plan is not None
    ref = demo.plan.orders[0].ref
    ns = demo.ns
    retained = wait_for(
        lambda: [t for t, p in ns.under("/_erp/orders/").items() if p.get("external_work_order_id") == ref],
        30,
        "the released order retained",
    )
    assert retained[0].startswith("acme/toolworks/machining/line1/_erp/orders/")

    # A quality hold as a user raises it in Odoo: a quality-loss block on a work center.
    admin = OdooClient.connect(demo.odoo.planner)
    try:
        wc = admin.search("mrp.workcenter", [("code", "=", "CNC-102")])[0]
        loss = admin.search("mrp.workcenter.productivity.loss", [("loss_type", "=", "quality")], limit=1)[0]
        block = admin.create(
            "mrp.workcenter.productivity",
            {
                "workcenter_id": wc,
                "loss_id": loss,
                "description": "QA: burrs on flanges",
                "date_start": _now(),
            },
        )
        hold = wait_for(
            lambda: {t: p for t, p in ns.under("/_erp/holds/").items() if p.get("odoo_id") == block},
            30,
            "the hold in the namespace",
        )
        topic, payload = next(iter(hold.items()))
        assert payload["contract"] == "quality_hold_raised" and "burrs" in payload["reason"]
        admin.call("mrp.workcenter", "unblock", [wc])
    finally:
        admin.close()
    wait_for(lambda: topic in ns.cleared and topic not in ns.retained, 30, "the hold cleared")


@pytest.mark.timeout(150)
def test_cnc_production_scrap_stops_and_maintenance_equal_the_truth(cnc: Shift) -> None:
    result = cnc.result()
    plan = cnc.demo.plan
    assert plan is not None
    checked = [r for r in result.rows if "consumed" not in r.what]
    assert [r for r in checked if not r.ok] == [], "\n".join(
        [f"{r.what}: Odoo {r.odoo}, truth {r.truth}" for r in checked if not r.ok] + result.notes
    )
    produced = {r.what.split()[0]: r.truth for r in result.rows if r.what.endswith("produced")}
    assert [produced[o.ref] for o in plan.orders if o.quantity == 60.0] == ["60", "60"]
    assert all(produced[o.ref] != "0" for o in plan.orders if o.quantity == 120.0)
    assert any(r.what.startswith("maintenance requests") for r in checked)
    # The orders still running: their consumption too.
    running = [o.ref for o in plan.orders if o.quantity == 120.0]
    consumed = [r for r in result.rows if "consumed" in r.what and r.what.split()[0] in running]
    assert consumed and all(r.ok for r in consumed)


@pytest.mark.timeout(150)
def test_cnc_every_order_equals_the_truth(cnc: Shift) -> None:
    result = cnc.result()
    assert result.differences == [], "\n".join(
        f"{r.what}: Odoo {r.odoo}, truth {r.truth}" for r in result.differences
    )


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Demo, Comparison]]:
    # 2 h 30 of the batch plant: three lots, a quality deviation on the reactor, a filler PLC restart
    # (which takes the whole DCS connection down: no lot moves on meanwhile), a reactor breakdown with a
    # pump fault code.
    demo = _run(tmp_path_factory.mktemp("batch"), "batch", 9000.0, 250.0)
    try:
        assert demo.wait_frozen(90)
        assert demo.drain(40)
        yield demo, demo.summary()
    finally:
        demo.stop()


@pytest.mark.timeout(150)
def test_batch_lots_stops_maintenance_and_the_deviation_hold(batch: tuple[Demo, Comparison]) -> None:
    demo, result = batch
    assert demo.ns is not None and demo.odoo is not None
    checks = {r.what: r for r in result.rows}
    lots = [r for w, r in checks.items() if w.startswith("lot ")]
    assert len(lots) >= 3 and all(r.ok for r in lots)
    for key in ("MIX-01 downtime intervals", "RX-01 downtime intervals", "FILL-01 downtime intervals"):
        assert checks[key].ok, f"{key}: Odoo {checks[key].odoo}, truth {checks[key].truth}; {result.notes}"
    assert checks["maintenance requests PU-0007"].ok
    assert (
        checks["RX-01 quality holds from the plant"].ok
        and checks["RX-01 quality holds from the plant"].truth == "1"
    )
    # The deviation's hold is retained for the line until someone releases it in Odoo.
    held = {t: p for t, p in demo.ns.under("/_erp/holds/").items() if p["hold_ref"].startswith("RX-01/")}
    assert held and next(iter(held.values()))["contract"] == "quality_hold_raised"
    admin = OdooClient.connect(demo.odoo.planner)
    try:
        wc = admin.search("mrp.workcenter", [("code", "=", "RX-01")])[0]
        admin.call("mrp.workcenter", "unblock", [wc])
    finally:
        admin.close()
    ns = demo.ns
    wait_for(lambda: all(t in ns.cleared and t not in ns.retained for t in held), 30, "the hold released")


@pytest.mark.timeout(150)
def test_batch_orders_odoo_equals_truth(batch: tuple[Demo, Comparison]) -> None:
    _demo, result = batch
    assert result.differences == [], "\n".join(
        f"{r.what}: Odoo {r.odoo}, truth {r.truth}" for r in result.differences
    )


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
