"""Run the third-party Sparkplug peers in interop/ (Tahu's npm packages, pysparkplug) as subprocesses."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from queue import Empty, Queue
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
INTEROP = REPO / "interop"
PYSPARKPLUG_PY = REPO / ".venv-pysparkplug" / "bin" / "python"
NODE = shutil.which("node")


def tahu_missing() -> str | None:
    """Why the Tahu peers cannot run here, or None when they can."""
    if NODE is None:
        return "node is not installed (make test installs the peers: `make peers`)"
    for pkg in ("sparkplug-client", "sparkplug-payload"):
        if not (INTEROP / "node_modules" / pkg / "package.json").exists():
            return f"npm package {pkg} is missing in interop/node_modules: run `make peers`"
    return None


def pysparkplug_missing() -> str | None:
    if not PYSPARKPLUG_PY.exists():
        return "the pysparkplug venv .venv-pysparkplug is missing: run `make peers`"
    return None


needs_tahu = pytest.mark.skipif(tahu_missing() is not None, reason=tahu_missing() or "")
needs_pysparkplug = pytest.mark.skipif(pysparkplug_missing() is not None, reason=pysparkplug_missing() or "")


def _node(script: str, *args: str) -> list[str]:
    assert NODE is not None
    return [NODE, str(INTEROP / script), *args]


def tahu_decode(payloads: Iterable[bytes]) -> list[dict[str, Any]]:
    """Decode each payload with Tahu's sparkplug-payload; one {"ok", "payload"|"error"} per payload."""
    lines = "".join(base64.b64encode(p).decode() + "\n" for p in payloads)
    out = subprocess.run(_node("tahu_decode.js"), input=lines, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


def tahu_encode(payloads: Iterable[dict[str, Any]]) -> list[bytes]:
    """Encode Tahu-style JSON payloads with sparkplug-payload; AssertionError if Tahu refuses one."""
    lines = "".join(json.dumps(p) + "\n" for p in payloads)
    out = subprocess.run(_node("tahu_encode.js"), input=lines, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    result = []
    for line in out.stdout.splitlines():
        assert not line.startswith("ERROR"), line
        result.append(base64.b64decode(line))
    return result


def run_tahu_edge(
    url: str, group: str, edge: str, plan: dict[str, Any], timeout: float = 20
) -> list[dict[str, Any]]:
    """Run a Tahu sparkplug-client edge node through its plan to the end; its events."""
    out = subprocess.run(
        _node("tahu_edge.js", "--url", url, "--group", group, "--edge", edge, "--plan", json.dumps(plan)),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    events = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    assert out.returncode == 0, f"tahu_edge.js exited {out.returncode}: {events} {out.stderr}"
    return events


def run_pysparkplug_edge(
    port: int, group: str, edge: str, plan: dict[str, Any], timeout: float = 20
) -> list[dict[str, Any]]:
    out = subprocess.run(
        [
            str(PYSPARKPLUG_PY),
            str(INTEROP / "pysparkplug_edge.py"),
            *("--port", str(port), "--group", group, "--edge", edge, "--plan", json.dumps(plan)),
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    events = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    assert out.returncode == 0, f"pysparkplug_edge.py exited {out.returncode}: {events} {out.stderr}"
    return events


class PysparkplugHost:
    """pysparkplug subscribed to a group: the JSON lines it prints, read on a thread."""

    def __init__(
        self, port: int, group: str, *, state_host_id: str | None = None, timeout: float = 20
    ) -> None:
        cmd = [
            str(PYSPARKPLUG_PY),
            str(INTEROP / "pysparkplug_host.py"),
            "--port",
            str(port),
            "--group",
            group,
        ]
        cmd += ["--timeout", str(timeout)]
        if state_host_id:
            cmd += ["--state-host-id", state_host_id]
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.lines: Queue[dict[str, Any]] = Queue()
        self.seen: list[dict[str, Any]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.wait_for(lambda e: e.get("event") == "ready", timeout=10)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("{"):
                self.lines.put(json.loads(line))

    def wait_for(self, predicate: Any, timeout: float = 10) -> dict[str, Any]:
        """The first line (since the last match) that satisfies predicate; AssertionError at timeout."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                event = self.lines.get(timeout=max(left, 0.01))
            except Empty:
                err = self.proc.stderr.read() if self.proc.poll() is not None and self.proc.stderr else ""
                raise AssertionError(
                    f"pysparkplug host: no matching line in {timeout}s; saw {self.seen} {err}"
                ) from None
            self.seen.append(event)
            if predicate(event):
                return event

    def messages(self, msg_type: str) -> list[dict[str, Any]]:
        return [e for e in self.seen if e.get("event") == "message" and e.get("type") == msg_type]

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._reader.join(5)
        while True:
            try:
                self.seen.append(self.lines.get_nowait())
            except Empty:
                break
