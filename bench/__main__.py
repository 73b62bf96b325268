"""`python -m bench`: run every benchmark module, print each figure against its baseline, write results.json.

Each module's `run(scale=...)` returns Figures (or their JSON dicts); every baseline is measured in the
same run as its figure, on the same machine, so the ratios hold even when absolute rates wander.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import os
import platform
import sys
import time
from pathlib import Path

from bench.results import Figure

MODULES = ("bench.codec_bench", "bench.ingest_bench", "bench.outbox", "bench.windows")
RESULTS = Path(__file__).resolve().parent / "results.json"
HOST_TARGET = 0.70  # our HostApplication against the bare paho ceiling


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
    for name in MODULES:
        if args.only and not any(o in name for o in args.only):
            continue
        t0 = time.monotonic()
        try:
            module = importlib.import_module(name)
            got = [_figure(f) for f in module.run(scale=args.scale)]
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
    host = [f for f in figures if f.name == "ingest our HostApplication"]
    if host:
        verdict = "met" if host[0].ratio >= HOST_TARGET else "MISSED"
        print(
            f"\nhost ingest {host[0].ratio:.1%} of the bare paho ceiling: target {HOST_TARGET:.0%} {verdict}"
        )
    print(f"{len(figures)} figures in {time.monotonic() - started:.0f} s, written to {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
