"""Checkpoint and restart: a bridge killed with SIGKILL and resumed loses and doubles no quantity.

The worker below (run as a subprocess: ``python test_windows_checkpoint.py <args>``) plays the
bridge's part of the protocol in `bridge.windows.checkpoint`: close windows, commit their counter
deltas to an outbox (a separate SQLite file, deduplicated by event id = window id + counter), then
save the checkpoint. Each run resumes from the checkpoint and replays the whole input.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
T0 = 1_764_149_400_000
N_COUNTERS = 12
STEPS = 240
STEP_MS = 7_000


def make_input(seed: int) -> tuple[list[float | None], np.ndarray, np.ndarray]:
    """Cumulative values (steps x counters) with wraps and PLC restarts, and the true production.

    Two more columns: a gauge (temperature) and a machine state, whose window aggregates must also
    come out the same when a window is closed again after a restart (they use the carried-in value).
    """
    rng = np.random.default_rng(seed)
    rollover: list[float | None] = [65536.0 if k % 2 == 0 else None for k in range(N_COUNTERS)]
    values = np.zeros((STEPS, N_COUNTERS))
    produced = np.zeros(N_COUNTERS)
    value = rng.integers(50_000, 65_000, N_COUNTERS).astype(np.float64)
    values[0] = value
    for i in range(1, STEPS):
        p = rng.integers(0, 600, N_COUNTERS).astype(np.float64)
        restart = (rng.random(N_COUNTERS) < 0.02) & (p < value) & (value < 0.9 * 65536)
        value = np.where(restart, p, value + p)
        value = np.where([r is not None for r in rollover], np.mod(value, 65536.0), value)
        produced += p
        values[i] = value
    gauge = 20 + rng.random((STEPS, 1)) * 5
    state = np.cumsum(rng.random((STEPS, 1)) < 0.1, axis=0) % 4
    return rollover, np.hstack([values, gauge, state]), produced


def worker(
    ckpt: str, outbox: str, seed: int, kill_step: int, kill_phase: str, pace_s: float, replay: str
) -> int:
    from bridge.windows import CheckpointStore, FlowSpec, TagKind, TumblingWindows

    rollover, values, _ = make_input(seed)
    spec = FlowSpec(
        "line1.production",
        60_000,
        tags=list(range(N_COUNTERS + 2)),
        kinds=[TagKind.COUNTER] * N_COUNTERS + [TagKind.GAUGE, TagKind.STATE],
        rollover=[*rollover, None, None],
        tag_keys=[f"cell{k}/parts_total" for k in range(N_COUNTERS)] + ["oven/temperature", "cell0/state"],
    )
    store = CheckpointStore(ckpt)
    cp = store.load(spec.name)
    w = TumblingWindows(spec, N_COUNTERS + 2, start_ms=T0, checkpoint=cp)
    # "since": the input is replayed from the checkpoint on (what a persistent session or
    # store-and-forward gives); "all": from the very start (older samples are then late).
    first_ts = cp.closed_until_ms if (cp is not None and replay == "since") else T0
    db = sqlite3.connect(outbox, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE IF NOT EXISTS event (id TEXT PRIMARY KEY, delta REAL, total REAL)")
    db.execute("CREATE TABLE IF NOT EXISTS mismatch (id TEXT, old REAL, new REAL)")
    tags = np.arange(N_COUNTERS + 2)

    def emit(eid: str, value: float, total: float = 0.0) -> None:
        old = db.execute("SELECT delta FROM event WHERE id = ?", (eid,)).fetchone()
        if old is None:
            db.execute("INSERT INTO event VALUES (?, ?, ?)", (eid, value, total))
        elif old[0] != value:
            db.execute("INSERT INTO mismatch VALUES (?, ?, ?)", (eid, old[0], value))

    def die(phase: str, step: int) -> None:
        # At the first window close at or after kill_step, in the given phase of the protocol.
        if 0 <= kill_step <= step and phase == kill_phase:
            os.kill(os.getpid(), signal.SIGKILL)

    def close(now_ms: int, step: int) -> None:
        results = w.close_due(now_ms)
        if not results:
            return
        die("before_outbox", step)
        db.execute("BEGIN IMMEDIATE")
        for r in results:
            for k in range(N_COUNTERS):
                delta, total = r.counter_of(k)
                emit(f"{r.window_id}/{spec.keys[k]}", delta, total)
            emit(f"{r.window_id}/oven/temperature", float(r.values.twa[r.position(N_COUNTERS)]))
            for code, ms in r.time_in_state(N_COUNTERS + 1).items():
                emit(f"{r.window_id}/cell0/state/{code}", float(ms))
        db.execute("COMMIT")
        die("after_outbox", step)
        store.save(w.checkpoint())
        die("after_checkpoint", step)

    for i in range(STEPS):
        ts = T0 + i * STEP_MS
        if ts < first_ts:
            continue
        w.ingest(tags, np.full(N_COUNTERS + 2, ts), values[i])
        close(ts, i)
        if pace_s:
            time.sleep(pace_s)
    close(T0 + STEPS * STEP_MS + 3 * 60_000, STEPS)
    return 0


def run_worker(
    tmp: Path, seed: int, kill_step: int = -1, phase: str = "", pace_s: float = 0.0, replay: str = "since"
):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    args = [sys.executable, __file__, str(tmp / "ckpt.db"), str(tmp / "outbox.db"), str(seed)]
    args += [str(kill_step), phase, str(pace_s), replay]
    return subprocess.Popen(args, env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True)


def check_exact(tmp: Path, seed: int) -> None:
    """Same events as a run that was never killed, and the counter deltas add up to the truth."""
    _, _, produced = make_input(seed)
    db = sqlite3.connect(tmp / "outbox.db")
    assert db.execute("SELECT count(*) FROM mismatch").fetchone()[0] == 0
    ref_dir = tmp / "uninterrupted"
    ref_dir.mkdir()
    ref = run_worker(ref_dir, seed)
    _, err = ref.communicate(timeout=60)
    assert ref.returncode == 0, err
    ref_events = sqlite3.connect(ref_dir / "outbox.db").execute("SELECT * FROM event ORDER BY id").fetchall()
    assert db.execute("SELECT * FROM event ORDER BY id").fetchall() == ref_events
    per_counter = np.zeros(N_COUNTERS)
    for eid, delta in db.execute("SELECT id, delta FROM event WHERE id LIKE '%/parts_total'"):
        per_counter[int(eid.rsplit("/", 2)[1].removeprefix("cell"))] += delta
    windows = db.execute("SELECT count(*) FROM event WHERE id LIKE '%/oven/temperature'").fetchone()[0]
    assert windows == (STEPS * STEP_MS + 3 * 60_000 - 2_000) // 60_000  # every window exactly once
    assert per_counter.tolist() == produced.tolist()

    from bridge.windows import CheckpointStore

    cp = CheckpointStore(tmp / "ckpt.db").load("line1.production")
    assert cp is not None
    totals = dict(zip(cp.counter_keys, cp.counters.total.tolist(), strict=True))
    assert [totals[f"cell{k}/parts_total"] for k in range(N_COUNTERS)] == produced.tolist()


@pytest.mark.parametrize(
    ("kill_step", "phase", "replay"),
    [
        (40, "after_outbox", "since"),
        (41, "before_outbox", "since"),
        (120, "after_checkpoint", "since"),
        (200, "after_outbox", "all"),
        (90, "after_outbox", "all"),
    ],
)
def test_sigkill_at_a_protocol_step_then_resume(tmp_path: Path, kill_step: int, phase: str, replay: str):
    seed = 1000 + kill_step
    a = run_worker(tmp_path, seed, kill_step, phase)
    _, err = a.communicate(timeout=60)
    assert a.returncode == -signal.SIGKILL, err
    b = run_worker(tmp_path, seed, replay=replay)
    _, err = b.communicate(timeout=60)
    assert b.returncode == 0, err
    check_exact(tmp_path, seed)


def test_sigkill_at_random_times_then_resume(tmp_path: Path):
    rnd = random.Random(20261126)
    seed = 77
    kills = 0
    for _ in range(6):
        p = run_worker(tmp_path, seed, pace_s=0.002)
        time.sleep(rnd.uniform(0.3, 1.0))
        p.send_signal(signal.SIGKILL)
        p.communicate(timeout=60)
        if p.returncode == 0:
            break
        kills += 1
    final = run_worker(tmp_path, seed)
    _, err = final.communicate(timeout=60)
    assert final.returncode == 0, err
    assert kills >= 1
    check_exact(tmp_path, seed)


if __name__ == "__main__":
    c, o, s, k, ph, pace, replay = sys.argv[1:8]
    sys.exit(worker(c, o, int(s), int(k), ph, float(pace), replay))
