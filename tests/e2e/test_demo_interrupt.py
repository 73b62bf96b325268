"""`uns demo` stops everything cleanly on Ctrl-C (SIGINT): edge gateways with NDEATH, the plant, the
bridge with its STATE offline, the broker and the sandbox; exit code 130, no process left behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _running(run_dir: Path) -> list[str]:
    """Command lines of live processes that name the run directory."""
    out = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(run_dir) in cmd:
            out.append(cmd)
    return out


@pytest.mark.timeout(90)
def test_ctrl_c_stops_every_part(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "bridge", "demo", "--no-live", "--duration", "8h", "--run-dir", str(run_dir)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        status = run_dir / "plant" / "status.json"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if status.exists() and json.loads(status.read_text() or "{}").get("phase") == "running":
                break
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            time.sleep(0.2)
        else:
            pytest.fail("the plant did not start its shift")
        proc.send_signal(signal.SIGINT)
        out = proc.communicate(timeout=45)[0].decode()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, out
    assert "stopping" in out
    assert _running(run_dir) == []
    logs = run_dir / "logs"
    assert "bridge stopped" in (logs / "bridge.log").read_text()
    edges = sorted(logs.glob("edge-*.log"))
    assert len(edges) == 2 and all("NDEATH sent" in e.read_text() for e in edges)
