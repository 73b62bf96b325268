"""`python -m bench`: run every benchmark module, print each figure against its baseline, write results.json.

Every module in bench/ with a `run()` is run (codec and host ingest first); `run(scale=...)` when it
takes a scale. It returns Figures (or their JSON dicts); every baseline is measured in the
same run as its figure, on the same machine, so the ratios hold even when absolute rates wander.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import inspect
import os
import pkgutil
import platform
import sys
import time
from pathlib import Path
from types import ModuleType

from bench.results import Figure

FIRST = ("bench.codec_bench", "bench.ingest_bench")  # then every other bench module, by name
RESULTS = Path(__file__).resolve().parent / "results.json"
HOST_TARGET = 0.70  # our HostApplication (and the bridge's ingest) against the bare paho ceiling
TARGETED = (
    "ingest our HostApplication",
    "ingest our HostApplication (CPU)",
    "bridge ingest to windows (10-metric DDATA)",
    "bridge ingest to windows (CPU)",
)
TIME_BUDGET_S = 180  # `make bench` on a loaded 2-core box


def _figure(item: Figure | dict[str, object]) -> Figure:
    if isinstance(item, Figure):
        return item
    return Figure(
        name=str(item["name"]),
        value=float(item["value"]),  # type: ignore[arg-type]
        unit=str(item["unit"]),
        baseline_name=str(item["baseline_name"]),
        baseline_value=float(item["baseline_value"]),  # type: ignore[arg-type]
        note=str(item.get("note", "")),
    )


def modules() -> list[str]:
    """Every module of the bench package that has a `run` (helpers such as publisher have none)."""
    import bench

    names = [f"bench.{m.name}" for m in pkgutil.iter_modules(bench.__path__) if not m.name.startswith("_")]
    return [n for n in FIRST if n in names] + sorted(n for n in names if n not in FIRST)


def run_module(module: ModuleType, scale: float) -> list[Figure]:
    run = module.run
    takes_scale = "scale" in inspect.signature(run).parameters
    return [_figure(f) for f in (run(scale=scale) if takes_scale else run())]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument("--scale", type=float, default=1.0, help="work per figure (1.0 = the documented run)")
    ap.add_argument("--only", action="append", help="run only modules whose name contains this")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)

    started = time.monotonic()
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"# bench {now}: python -m bench {' '.join(argv if argv is not None else sys.argv[1:])}".rstrip())
    print(f"# {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores,")
    print(f"# load average at start {os.getloadavg()[0]:.2f} (a busy machine lowers rates, not ratios)")
    figures: list[Figure] = []
    failed: list[str] = []
    for name in modules():
        if args.only and not any(o in name for o in args.only):
            continue
        t0 = time.monotonic()
        try:
            module = importlib.import_module(name)
            if not hasattr(module, "run"):
                continue
            got = run_module(module, args.scale)
        except Exception as exc:  # one broken module must not hide the others' figures
            print(f"!! {name} failed: {type(exc).__name__}: {exc}")
            failed.append(name)
            continue
        print(f"\n## {name} ({time.monotonic() - t0:.1f} s)")
        for fig in got:
            print(fig.line())
        figures += got
    from bench.results import write

    write(figures, args.out)
    print()
    for name in TARGETED:
        for f in figures:
            if f.name == name:
                verdict = "met" if f.ratio >= HOST_TARGET else "MISSED"
                print(f"{name}: {f.ratio:.1%} of the bare paho ceiling, target {HOST_TARGET:.0%} {verdict}")
    took = time.monotonic() - started
    print(f"{len(figures)} figures in {took:.0f} s, written to {args.out}")
    if took > TIME_BUDGET_S and not args.only:
        print(f"!! the run took longer than its budget of {TIME_BUDGET_S} s (machine load?)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
