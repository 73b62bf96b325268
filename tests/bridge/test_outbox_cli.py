"""`uns outbox` on a real outbox file: status, list, dead, retry, replay, purge, and its error messages."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bridge.cli import main
from bridge.outbox import Backoff, JsonlFileSink, Outbox
from uns_model.delivery import DeliveryReceipt, OutboundEvent, PermanentDeliveryError

T0 = 1_764_150_000_000  # 2025-11-26T09:40:00Z


def ev(i: int, key: str = "mo-7") -> OutboundEvent:
    return OutboundEvent(
        event_id=f"{key}:{i}",
        contract="production_report" if i % 2 == 0 else "scrap_report",
        version=1,
        ordering_key=key,
        payload={"qty": i},
        created_unix_ms=T0 + i * 60_000,
    )


class RefusingJsonl:
    """The JSONL sink, except that it refuses chosen events as Odoo would (ValidationError)."""

    name = "jsonl"

    def __init__(self, inner: JsonlFileSink, refuse: set[str]) -> None:
        self.inner, self.refuse = inner, refuse

    def deliver(self, event: OutboundEvent) -> DeliveryReceipt:
        if event.event_id in self.refuse:
            raise PermanentDeliveryError("lot is mandatory for this product", remote_error="ValidationError")
        return self.inner.deliver(event)


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.002)


def run(db: Path, out: Path, refuse: set[str], events: list[OutboundEvent] | None = None) -> None:
    """One bridge run: enqueue, deliver everything it can, stop."""
    with Outbox(db, RefusingJsonl(JsonlFileSink(out), refuse), backoff=Backoff(0.001, 0.01)) as ob:
        if events:
            ob.enqueue(events)
        ob.start()
        wait_for(lambda: ob.stats().depth == 0, "delivery")


def test_operator_cycle_dead_retry_replay_leaves_each_event_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, out = tmp_path / "data" / "outbox.sqlite3", tmp_path / "out.jsonl"
    run(db, out, refuse={"mo-7:3"}, events=[ev(i) for i in range(6)])

    assert main(["outbox", "--db", str(db), "status"]) == 0
    text = capsys.readouterr().out
    assert "depth       0" in text and "delivered   5" in text and "dead        1" in text
    assert "production_report" in text and "scrap_report" in text

    assert main(["outbox", "--db", str(db.parent), "status", "--json"]) == 0  # a data dir works too
    st = json.loads(capsys.readouterr().out)
    assert st["counts"] == {"queued": 0, "in_flight": 0, "delivered": 5, "dead": 1}
    assert st["by_contract"]["scrap_report"]["dead"] == 1

    assert main(["outbox", "--db", str(db), "dead"]) == 0
    text = capsys.readouterr().out
    assert "mo-7:3 (scrap_report, key mo-7)" in text
    assert "reason: lot is mandatory for this product" in text and "remote: ValidationError" in text

    assert main(["outbox", "--db", str(db), "list", "--state", "delivered", "--limit", "2"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert len(listed) == 2 and "mo-7:0" in listed[0] and "-> jsonl 1" in listed[0]

    assert main(["outbox", "--db", str(db), "list", "--json", "--state", "dead"]) == 0
    (dead_row,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert dead_row["event_id"] == "mo-7:3" and dead_row["last_error"] == "lot is mandatory for this product"

    # Retry: the dead event goes back to the queue; a second retry of it is refused.
    assert main(["outbox", "--db", str(db), "retry", "mo-7:3"]) == 0
    assert "mo-7:3: queued again" in capsys.readouterr().out
    assert main(["outbox", "--db", str(db), "retry", "mo-7:3", "nope"]) == 1
    err = capsys.readouterr().err
    assert "'mo-7:3' is queued, not dead" in err and "no event 'nope'" in err
    run(db, out, refuse=set())  # the next bridge run delivers it
    assert main(["outbox", "--db", str(db), "dead"]) == 0
    assert capsys.readouterr().out == ""

    # Replay since the 3rd minute: events 2..5 are delivered again, and the file still holds each once.
    assert main(["outbox", "--db", str(db), "replay", "--since", "2025-11-26T09:42:00Z"]) == 0
    assert "queued again: 4 event(s)" in capsys.readouterr().out
    assert main(["outbox", "--db", str(db), "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["counts"]["queued"] == 4
    run(db, out, refuse=set())
    ids = [json.loads(line)["event_id"] for line in out.read_text().splitlines()]
    assert sorted(ids) == sorted(f"mo-7:{i}" for i in range(6)) and len(ids) == 6
    assert main(["outbox", "--db", str(db), "replay", "--since", str(T0 + 5 * 60_000)]) == 0
    assert "queued again: 1 event(s)" in capsys.readouterr().out


def test_purge_forgets_a_dead_event(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db, out = tmp_path / "outbox.sqlite3", tmp_path / "out.jsonl"
    run(db, out, refuse={"mo-7:1"}, events=[ev(i) for i in range(3)])
    assert main(["outbox", "--db", str(db), "purge", "mo-7:0"]) == 1
    assert "no dead event 'mo-7:0'" in capsys.readouterr().err
    assert main(["outbox", "--db", str(db), "purge", "mo-7:1"]) == 0
    assert main(["outbox", "--db", str(db), "status", "--json"]) == 0
    st = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert st["counts"]["dead"] == 0 and st["dead_letters"] == 0 and st["counts"]["delivered"] == 2


def test_clear_errors_for_a_missing_file_and_a_bad_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere" / "outbox.sqlite3"
    assert main(["outbox", "--db", str(missing), "status"]) == 1
    assert (
        f"outbox database {missing} not found: is the bridge's --data-dir right?" in capsys.readouterr().err
    )
    assert not missing.parent.exists()  # looking must not create it
    db = tmp_path / "outbox.sqlite3"
    run(db, tmp_path / "out.jsonl", refuse=set(), events=[ev(0)])
    assert main(["outbox", "--db", str(db), "replay", "--since", "yesterday"]) == 1
    assert "not a time: 'yesterday'" in capsys.readouterr().err
    not_db = tmp_path / "junk.sqlite3"
    not_db.write_text("this is not a database, it is a shopping list\n" * 100)
    assert main(["outbox", "--db", str(not_db), "status"]) == 1
    assert "cannot open outbox database" in capsys.readouterr().err
    other = tmp_path / "someone_elses.sqlite3"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    conn.close()
    assert main(["outbox", "--db", str(other), "status"]) == 1
    assert "not an outbox file (it has tables invoices)" in capsys.readouterr().err
    with sqlite3.connect(other) as conn:
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["invoices"]
    conn.close()


def test_a_retry_from_the_cli_reaches_a_running_bridge(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, out = tmp_path / "outbox.sqlite3", tmp_path / "out.jsonl"
    refuse = {"mo-7:1"}
    sink = RefusingJsonl(JsonlFileSink(out), refuse)
    with Outbox(db, sink, backoff=Backoff(0.001, 0.01), idle_poll_s=0.05) as ob:
        ob.enqueue([ev(i) for i in range(3)])
        ob.start()
        wait_for(lambda: ob.stats().dead_letters == 1 and ob.stats().depth == 0, "the dead letter")
        refuse.clear()
        # Another connection (the operator's shell) changes the file; the worker notices by itself.
        assert main(["outbox", "--db", str(db), "retry", "mo-7:1"]) == 0
        wait_for(lambda: "mo-7:1" in sink.inner, "the retried event at the sink")
        wait_for(lambda: ob.status().counts["delivered"] == 3, "its receipt")
    assert "mo-7:1: queued again" in capsys.readouterr().out
