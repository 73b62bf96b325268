"""Sequence checking of one edge node's messages, with the spec's Reorder Timeout."""

from __future__ import annotations

OK = 0
GAP = 1  # a real gap now: ask for a rebirth
HELD = 2  # out of order, tolerated until the reorder deadline


class SeqTracker:
    """Follows seq (0-255, shared by all message types of an edge node) after each NBIRTH.

    A message whose seq jumps ahead opens a reorder window: the skipped numbers may still arrive
    until `deadline` (tck-id-operational-behavior-host-reordering-start / -success). If they do not,
    `expired()` says so and the host asks for a rebirth (tck-id-operational-behavior-host-reordering-rebirth).
    With a timeout of 0 every jump is a gap at once. A duplicate, or a number far behind that was not
    missing, is a gap too.
    """

    __slots__ = ("deadline", "front", "missing")

    def __init__(self) -> None:
        self.front: int | None = None
        self.missing: set[int] = set()
        self.deadline: float | None = None

    def reset(self, seq: int) -> None:
        """A new NBIRTH: its seq starts the count."""
        self.front = seq & 0xFF
        self.missing.clear()
        self.deadline = None

    def observe(self, seq: int, now: float, timeout: float) -> int:
        front = self.front
        if front is None:
            self.reset(seq)
            return OK
        step = (seq - front) & 0xFF
        if step == 1:
            self.front = seq
            return OK
        if 1 < step < 128:
            self.front = seq
            if timeout <= 0:
                return GAP
            self.missing.update((front + k) & 0xFF for k in range(1, step))
            if self.deadline is None:
                self.deadline = now + timeout
            return HELD
        if seq in self.missing:
            self.missing.discard(seq)
            if not self.missing:
                self.deadline = None
            return OK
        return GAP

    def expired(self, now: float) -> bool:
        """True once (and clears the window) when skipped numbers did not arrive in time."""
        if self.deadline is None or now < self.deadline:
            return False
        self.missing.clear()
        self.deadline = None
        return True
