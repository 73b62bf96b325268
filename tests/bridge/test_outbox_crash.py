"""The outbox across SIGKILL: a child delivers to a JSONL file and dies; a new process finishes the job."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from bridge.outbox import Backoff, JsonlFileSink, Outbox, OutboxCounters
from uns_model.delivery import DeliveryReceipt, OutboundEvent

REPO = Path(__file__).resolve().parents[2]
KEYS = ("mo-1", "mo-2", "wc-3")
BATCH = 10


def make_events(batch: int) -> list[OutboundEvent]:
    return [
        OutboundEvent(
            event_id=f"{KEYS[i % 3]}:{batch * BATCH + i}",
            contract="production_report",
            version=1,
            ordering_key=KEYS[i % 3],
            payload={"qty_produced": batch * BATCH + i},
            created_unix_ms=1_764_150_000_000 + batch * BATCH + i,
        )
        for i in range(BATCH)
    ]


class DieAfterWriting:
    """Our JSONL sink, but the process kills itself right after the n-th write, before the outbox
    can record the delivery: the worst moment for exactly-once."""

    name = "jsonl"

    def __init__(self, inner: JsonlFileSink, die_after: int) -> None:
        self.inner, self.die_after, self.count = inner, die_after, 0

    def deliver(self, event: OutboundEvent) -> DeliveryReceipt:
        receipt = self.inner.deliver(event)
        self.count += 1
        if self.count == self.die_after:
            os.kill(os.getpid(), signal.SIGKILL)
        return receipt


def child(mode: str, db: str, out: str, batches: int, die_after: int) -> None:
    sink = JsonlFileSink(out)
    outbox = Outbox(
        db,
        sink if mode == "ack" else DieAfterWriting(sink, die_after),
        backoff=Backoff(0.001, 0.01),
        batch_size=4,
    )
    outbox.start()
    for b in range(batches):
        outbox.enqueue(make_events(b))
        # The window is acknowledged now: the parent may kill us at any point from here on.
        print(f"acked {b}", flush=True)
        if mode == "ack" and sys.stdin.readline().strip() != "go":
            break
    time.sleep(60)  # the parent (or the sink) kills us long before this
    sys.exit(3)


def lines_of(out: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []


def finish_and_check(db: Path, out: Path, expected: set[str]) -> OutboxCounters:
    outbox = Outbox(db, JsonlFileSink(out), backoff=Backoff(0.001, 0.01))
    outbox.start()
    deadline = time.monotonic() + 60
    while outbox.stats().depth:
        assert time.monotonic() < deadline, "the new process did not finish the queue"
        time.sleep(0.005)
    counters = outbox.stats().counters
    outbox.close()
    records = lines_of(out)
    ids = [str(r["event_id"]) for r in records]
    assert len(ids) == len(set(ids)), "an event was written twice"
    assert set(ids) == expected
    per_key: dict[str, list[int]] = defaultdict(list)
    for r in records:
        per_key[str(r["ordering_key"])].append(int(str(r["event_id"]).split(":")[1]))
    for key, seqs in per_key.items():
        assert seqs == sorted(seqs), f"order broken for {key}"
    return counters


def spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.bridge.test_outbox_crash", *args],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        bufsize=1,
    )


def test_sigkill_between_sink_write_and_commit_leaves_every_event_once(tmp_path: Path) -> None:
    db, out = tmp_path / "outbox.sqlite3", tmp_path / "out.jsonl"
    proc = spawn("die", str(db), str(out), "5", "17")
    try:
        proc.wait(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == -signal.SIGKILL
    written = lines_of(out)
    assert len(written) == 17  # the 17th reached the file, but the outbox never heard of it
    counters = finish_and_check(db, out, {e.event_id for b in range(5) for e in make_events(b)})
    # The 17th event was in flight at the kill: delivered again, and the sink wrote it once.
    assert counters.recovered >= 1
    assert counters.delivered == 5 * BATCH - 16


def test_sigkill_right_after_enqueue_returns_loses_no_acknowledged_event(tmp_path: Path) -> None:
    db, out = tmp_path / "outbox.sqlite3", tmp_path / "out.jsonl"
    kill_at = 6
    proc = spawn("ack", str(db), str(out), "20", "0")
    assert proc.stdin is not None and proc.stdout is not None
    try:
        for b in range(kill_at + 1):
            assert proc.stdout.readline().strip() == f"acked {b}"
            if b == kill_at:
                proc.send_signal(signal.SIGKILL)  # right after the enqueue of batch 6 returned
                break
            if b == kill_at - 1:
                # Make sure the worker is mid-stream when the kill lands.
                deadline = time.monotonic() + 60
                while len(lines_of(out)) < 5:
                    assert time.monotonic() < deadline, "the child delivered nothing"
                    time.sleep(0.005)
            proc.stdin.write("go\n")
            proc.stdin.flush()
        proc.wait(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == -signal.SIGKILL
    finish_and_check(db, out, {e.event_id for b in range(kill_at + 1) for e in make_events(b)})


if __name__ == "__main__":
    child(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
