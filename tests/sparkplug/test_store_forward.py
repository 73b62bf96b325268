"""The store-and-forward buffer on a real SQLite file: order, bound, drop counter, restart."""

from __future__ import annotations

import pytest

from sparkplug.store_forward import StoreForward


def test_fifo_order_and_remove_through(tmp_path):
    sf = StoreForward(tmp_path / "sf.db")
    for i in range(5):
        sf.append("d1" if i % 2 else None, 1000 + i, bytes([i]))
    assert len(sf) == 5
    first = sf.peek(3)
    assert [m.payload for m in first] == [b"\x00", b"\x01", b"\x02"]
    assert [m.device_id for m in first] == [None, "d1", None]
    assert [m.timestamp_ms for m in first] == [1000, 1001, 1002]
    sf.remove_through(first[-1].id)
    assert len(sf) == 2 and [m.payload for m in sf.peek(10)] == [b"\x03", b"\x04"]
    sf.close()


def test_bounded_by_count_drops_oldest_and_counts(tmp_path):
    sf = StoreForward(tmp_path / "sf.db", max_messages=3)
    dropped = [sf.append(None, i, str(i).encode()) for i in range(7)]
    assert dropped == [0, 0, 0, 1, 1, 1, 1]
    assert len(sf) == 3 and sf.dropped == 4
    assert [m.payload for m in sf.peek(10)] == [b"4", b"5", b"6"]
    sf.close()


def test_survives_a_restart_with_its_drop_counter(tmp_path):
    sf = StoreForward(tmp_path / "sf.db", max_messages=2)
    for i in range(3):
        sf.append("d", i, b"x%d" % i)
    sf.close()
    again = StoreForward(tmp_path / "sf.db", max_messages=2)
    assert len(again) == 2 and again.dropped == 1
    assert [m.payload for m in again.peek(10)] == [b"x1", b"x2"]
    again.close()


def test_in_memory_when_no_path():
    sf = StoreForward(None, max_messages=10)
    sf.append(None, 1, b"a")
    assert len(sf) == 1 and sf.peek(1)[0].payload == b"a"
    sf.close()


def test_rejects_a_zero_bound():
    with pytest.raises(ValueError):
        StoreForward(None, max_messages=0)
