"""Window engine figures: close of a 100k-tag window, RSS at 100k tags, ingest rate; each with a baseline."""

from __future__ import annotations

import logging
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench.results import Figure
from bridge.windows import FlowSpec, TagKind, TumblingWindows

T0 = 1_764_149_400_000
WINDOW_MS = 60_000
ROOT = Path(__file__).resolve().parents[1]
Batch = tuple[np.ndarray, np.ndarray, np.ndarray]


def flow(n: int) -> FlowSpec:
    """80 % gauges, 10 % machine states, 10 % 16-bit part counters."""
    kinds = np.full(n, TagKind.GAUGE, np.uint8)
    kinds[0::10] = TagKind.STATE
    kinds[1::10] = TagKind.COUNTER
    rollover = np.where(kinds == TagKind.COUNTER, 65536.0, np.nan)
    return FlowSpec("bench", WINDOW_MS, tags=np.arange(n), kinds=kinds, rollover=rollover)


def window_batches(n: int, per_tag: int, window: int, seed: int, per_device: int = 100) -> list[Batch]:
    """One window of DDATA-like batches: devices of `per_device` tags report in random order."""
    rng = np.random.default_rng(seed + window)
    kinds = flow(n).kind_array if n <= 1000 else None
    devices = np.arange(n, dtype=np.int32).reshape(-1, per_device)
    base = T0 + window * WINDOW_MS
    out: list[Batch] = []
    for r in range(per_tag):
        ts_round = base + r * (WINDOW_MS // per_tag)
        for d in rng.permutation(devices.shape[0]):
            tags = devices[d]
            ts = np.full(per_device, ts_round + int(rng.integers(0, 1000)), np.int64)
            kind = (tags % 10).astype(np.int64)
            state = rng.integers(0, 5, per_device).astype(np.float64)
            counter = (window * per_tag + r) * 7.0 + tags % 13
            gauge = rng.random(per_device) * 100
            values = np.where(kind == 0, state, np.where(kind == 1, counter, gauge))
            out.append((tags, ts, values))
    del kinds
    return out


def shuffled(batches: list[Batch], seed: int) -> list[Batch]:
    """The same samples in random arrival order, 100 batches: a whole window of store-and-forward."""
    tag, ts, val = (np.concatenate([b[i] for b in batches]) for i in range(3))
    perm = np.random.default_rng(seed).permutation(tag.shape[0])
    return [(tag[c], ts[c], val[c]) for c in np.array_split(perm, 100)]


def engine_close_ms(n: int, per_tag: int, rounds: int = 7, shuffle: bool = False) -> tuple[float, float]:
    """(median, min) ms of a window close; the first two closes fault the workspace in, not counted."""
    w = TumblingWindows(flow(n), n_tags=n, start_ms=T0)
    times: list[float] = []
    for win in range(rounds + 2):
        batches = window_batches(n, per_tag, win, seed=1)
        for b in shuffled(batches, win) if shuffle else batches:
            w.ingest(*b)
        now = T0 + (win + 1) * WINDOW_MS + 2_000
        w.flush()  # staged small batches belong to ingest, not to the close
        t0 = time.perf_counter()
        (r,) = w.close_due(now)
        dt = (time.perf_counter() - t0) * 1e3
        if win >= 2:
            times.append(dt)
        assert r.samples == n * per_tag
    return statistics.median(times), min(times)


def naive_close_ms(n: int, per_tag: int) -> float:
    """The same aggregates with a Python loop per tag over per-tag lists (built at ingest, not timed)."""
    spec = flow(n)
    kinds = spec.kind_array.tolist()
    per: dict[int, list[tuple[int, float]]] = {}
    for win in range(2):
        per = {}
        for tags, ts, values in window_batches(n, per_tag, win, seed=1):
            for t, s, v in zip(tags.tolist(), ts.tolist(), values.tolist(), strict=True):
                per.setdefault(t, []).append((s, v))
    start, end = T0 + WINDOW_MS, T0 + 2 * WINDOW_MS
    carry = dict.fromkeys(range(n), 1.0)
    last_counter = dict.fromkeys(range(n), 0.0)
    t0 = time.perf_counter()
    out: dict[int, tuple[object, ...]] = {}
    for tag, samples in per.items():
        samples.sort(key=lambda x: x[0])
        vals = [v for _, v in samples]
        total = sum(vals)
        weighted = carry[tag] * (samples[0][0] - start)
        states: dict[int, int] = {}
        for i, (s, v) in enumerate(samples):
            hold = (samples[i + 1][0] if i + 1 < len(samples) else end) - s
            weighted += v * hold
            if kinds[tag] == TagKind.STATE:
                states[int(v)] = states.get(int(v), 0) + hold
        delta = 0.0
        if kinds[tag] == TagKind.COUNTER:
            prev = last_counter[tag]
            for v in vals:
                d = v - prev
                delta += d if d >= 0 else (65536 - prev + v if prev > 58982 and v < 6554 else v)
                prev = v
        mean = total / len(vals)
        twa = weighted / (end - start)
        out[tag] = (len(vals), total, min(vals), max(vals), mean, vals[0], vals[-1], twa, delta, states)
    return (time.perf_counter() - t0) * 1e3


_RSS_ENGINE = """
import logging, numpy as np
logging.disable(logging.WARNING)
from bench.windows import flow, window_batches, T0, WINDOW_MS
from bridge.windows import TumblingWindows
n = {n}
w = TumblingWindows(flow(n), n_tags=n, start_ms=T0)
for win in range(3):
    for b in window_batches(n, {per_tag}, win, seed=2):
        w.ingest(*b)
    w.close_due(T0 + (win + 1) * WINDOW_MS + 2000)
for b in window_batches(n, {per_tag}, 3, seed=2):
    w.ingest(*b)
"""
_RSS_BARE = "import numpy as np\n"
_RSS_READ = """
status = open('/proc/self/status').read().split('\\n')
kb = {{l.split(':')[0]: int(l.split()[1]) for l in status if l.startswith(('VmRSS', 'VmHWM'))}}
print(kb['VmRSS'], kb['VmHWM'])
"""


def rss_kb(code: str) -> tuple[int, int]:
    """(VmRSS, VmHWM) in kB of a fresh interpreter after running code."""
    res = subprocess.run(
        [sys.executable, "-c", code + _RSS_READ.format()],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    rss, hwm = res.stdout.split()
    return int(rss), int(hwm)


def ingest_rate(n: int, per_tag: int) -> tuple[float, float, int]:
    """(engine samples/s, np.concatenate-per-batch samples/s, batch size)."""
    batches = window_batches(n, per_tag, 0, seed=3)
    w = TumblingWindows(flow(n), n_tags=n, start_ms=T0)
    total = sum(b[0].shape[0] for b in batches)
    t0 = time.perf_counter()
    for b in batches:
        w.ingest(*b)
    w.flush()
    engine = total / (time.perf_counter() - t0)
    tag = np.empty(0, np.int32)
    ts = np.empty(0, np.int64)
    val = np.empty(0, np.float64)
    t0 = time.perf_counter()
    for bt, bs, bv in batches:
        tag = np.concatenate((tag, bt))
        ts = np.concatenate((ts, bs))
        val = np.concatenate((val, bv))
    naive = total / (time.perf_counter() - t0)
    return engine, naive, int(batches[0][0].shape[0])


def run(scale: float = 1.0) -> list[dict[str, object]]:
    """Figures as dicts: name, value, unit, baseline_name, baseline_value, ratio (and a note)."""
    logging.getLogger("bridge.windows").setLevel(logging.ERROR)  # resets are part of the bench data
    n = max(1000, int(100_000 * scale) // 1000 * 1000)
    per_tag = 10
    figures: list[Figure] = []

    close_ms, close_min = engine_close_ms(n, per_tag)
    probe_n = min(n, 10_000)
    probe = naive_close_ms(probe_n, per_tag)
    if probe * n / probe_n < 10_000:
        naive, how = naive_close_ms(n, per_tag), "same data"
    else:
        naive, how = probe * n / probe_n, f"{probe_n} tags, scaled x{n // probe_n}"
    figures.append(
        Figure(
            name=f"window close, {n // 1000}k tags x {per_tag}",
            value=close_ms,
            unit="ms",
            baseline_name="pure-Python loop per tag",
            baseline_value=naive,
            note=(
                f"median of 7 (min {close_min:.1f}); all aggregates, state times, counter deltas;"
                f" target < 50 ms; baseline {how}"
            ),
        )
    )

    worst_ms, worst_min = engine_close_ms(n, per_tag, shuffle=True)
    figures.append(
        Figure(
            name=f"window close, {n // 1000}k tags, shuffled",
            value=worst_ms,
            unit="ms",
            baseline_name="pure-Python loop per tag",
            baseline_value=naive,
            note=f"median of 7 (min {worst_min:.1f}); arrival in random order: the sorting fallback",
        )
    )

    rss, hwm = rss_kb(_RSS_ENGINE.format(n=n, per_tag=per_tag))
    bare, _ = rss_kb(_RSS_BARE)
    figures.append(
        Figure(
            name=f"RSS at {n // 1000}k tags, window full",
            value=rss / 1024,
            unit="MB",
            baseline_name="bare python + numpy",
            baseline_value=bare / 1024,
            note=f"peak (VmHWM) {hwm / 1024:.0f} MB; target < 300 MB",
        )
    )

    engine, concat, batch = ingest_rate(n, per_tag)
    figures.append(
        Figure(
            name="window ingest",
            value=engine,
            unit="samples/s",
            baseline_name="np.concatenate per batch",
            baseline_value=concat,
            note=f"batches of {batch} samples, {n * per_tag:,} samples",
        )
    )
    return [f.as_json() for f in figures]


if __name__ == "__main__":
    for fig in run(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0):
        print(fig)
