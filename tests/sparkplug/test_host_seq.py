"""The host's seq tracker: wrap, reorder window, timeout, duplicates (pure logic, explicit clock)."""

from __future__ import annotations

from sparkplug.host_seq import GAP, HELD, OK, SeqTracker


def test_in_order_wraps_from_255_to_0():
    s = SeqTracker()
    s.reset(0)
    assert [s.observe(i % 256, 0.0, 0) for i in range(1, 600)] == [OK] * 599


def test_without_reorder_timeout_a_jump_is_a_gap_at_once():
    s = SeqTracker()
    s.reset(0)
    assert s.observe(1, 0.0, 0) == OK
    assert s.observe(3, 0.0, 0) == GAP
    assert s.observe(4, 0.0, 0) == OK  # resynchronised on the new front


def test_out_of_order_within_the_window_is_tolerated():
    s = SeqTracker()
    s.reset(254)
    assert s.observe(255, 0.0, 1.0) == OK
    assert s.observe(2, 0.0, 1.0) == HELD  # 0 and 1 skipped, across the wrap
    assert s.missing == {0, 1} and s.deadline == 1.0
    assert s.observe(0, 0.5, 1.0) == OK
    assert s.observe(1, 0.6, 1.0) == OK
    assert s.deadline is None and not s.expired(5.0)
    assert s.observe(3, 0.7, 1.0) == OK


def test_missing_after_the_window_expires_once():
    s = SeqTracker()
    s.reset(0)
    assert s.observe(5, 10.0, 2.0) == HELD
    assert not s.expired(11.9)
    assert s.expired(12.0)
    assert not s.expired(13.0)
    assert s.observe(6, 13.0, 2.0) == OK


def test_a_duplicate_or_stale_number_is_a_gap():
    s = SeqTracker()
    s.reset(0)
    s.observe(1, 0.0, 1.0)
    assert s.observe(1, 0.0, 1.0) == GAP
    assert s.observe(200, 0.0, 1.0) == GAP  # far behind, never missing
