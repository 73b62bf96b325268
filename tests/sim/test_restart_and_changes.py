"""A PLC restart stops the cell and freezes its server's orders and lots; an order or lot change is
served on its own, before production of the new order or lot starts."""

from __future__ import annotations

from scenarios.sim import PlantProcess, default_scenario
from scenarios.sim.scenario import PlcRestart
from uns_model import load_plant

EPOCH = 1_764_000_000_000
CNC = load_plant("scenarios/plants/cnc_shop.yaml")
BATCH = load_plant("scenarios/plants/batch_plant.yaml")


def _restart(proc: PlantProcess) -> tuple[str, PlcRestart]:
    return next((p, d) for p, d in proc._disturbances if isinstance(d, PlcRestart))


def test_cnc_cell_makes_nothing_while_its_plc_restarts_and_reports_a_stop() -> None:
    proc = PlantProcess(CNC, seed=3, epoch_unix_ms=EPOCH)
    path, d = _restart(proc)
    end = d.at_s + d.outage_s + d.resume_s
    proc.run_until(d.at_s)
    good0, scrap0 = proc.snapshot().good(cell=path), proc.snapshot().scrap(cell=path)
    proc.run_until(end)
    truth = proc.snapshot()
    assert (truth.good(cell=path), truth.scrap(cell=path)) == (good0, scrap0)
    assert proc.value(path, "counters/good") == 0 and proc.value(path, "counters/scrap") == 0
    # The CNC table's 'Powered off or no data' (unknown: not a downtime of its own, as the bridge sees it).
    assert proc.value(path, "state") == 0
    assert not [s for s in truth.downtimes if s.cell == path and s.start_unix_ms >= EPOCH + d.at_s * 1000]
    proc.run_until(end + 600)
    assert proc.snapshot().good(cell=path) > good0, "production resumes after the restart"
    assert proc.value(path, "counters/good") == proc.snapshot().good(cell=path) - good0


def test_batch_line_changes_no_lot_while_its_dcs_restarts() -> None:
    proc = PlantProcess(BATCH, seed=1, epoch_unix_ms=EPOCH)
    _path, d = _restart(proc)
    proc.run_until(d.at_s)
    shown = {p: (c.order, c.lot) for p, c in proc.cells.items()}
    while proc.t < d.at_s + d.outage_s + d.resume_s:
        proc.step()
        assert {p: (c.order, c.lot) for p, c in proc.cells.items()} == shown


def test_a_new_lot_is_served_before_its_first_charge() -> None:
    scenario = default_scenario(BATCH).model_copy(update={"disturbances": []})
    proc = PlantProcess(BATCH, scenario, seed=1, epoch_unix_ms=EPOCH)
    mixer = next(c for c in proc.cells.values() if c.ctx.role("consumption"))
    water = mixer.ctx.role("consumption")[0].path
    changes = 0
    while proc.t < 3 * 3600:
        lot, total = mixer.lot, mixer.counters[water].value
        proc.run_until(proc.t + 600, settle=True)  # as a time-scaled run does: stops at a barrier
        if mixer.lot != lot and mixer.lot:
            changes += 1
            assert proc.barrier
            assert mixer.counters[water].value == total, "charged in the update that set the lot"
    assert changes >= 2


def test_the_last_counts_before_a_plc_restart_are_served_before_the_server_goes_down() -> None:
    proc = PlantProcess(CNC, seed=3, epoch_unix_ms=EPOCH)
    path, d = _restart(proc)
    while proc.t < d.at_s - 1:
        proc.run_until(d.at_s - 1)  # order changes stop a settled run too
    proc.run_until(d.at_s + 600, settle=True)
    assert proc.barrier and proc.t == d.at_s, "stepping stops right before the restart"
    assert proc.down_connections() == set()
    good = proc.snapshot().good(cell=path)
    shown = proc.value(path, "counters/good")
    assert shown == (default_scenario(CNC).initial["cnc-102:counters/good"] + good) % 2**32
    proc.step()
    assert proc.down_connections() == proc.connections_of(path)
    assert proc.snapshot().good(cell=path) == good, "nothing made that no client saw"
