"""Our HostApplication with everything it hands on recorded, for the interop tests to wait on."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from sparkplug.host import HostApplication
from sparkplug.host_registry import LifecycleEvent, UpdateBatch


class RecordingHost:
    """Starts a primary HostApplication for one group and records batches, lifecycle events, rejects."""

    def __init__(self, url: str, group: str, host_id: str, **options: Any) -> None:
        self.batches: list[UpdateBatch] = []
        self.events: list[LifecycleEvent] = []
        self.rejects: list[tuple[str, bytes, str]] = []
        self._cond = threading.Condition()
        self.app = HostApplication(
            host_id,
            url,
            groups=[group],
            on_batch=self._record(self.batches),
            on_lifecycle=self._record(self.events),
            on_reject=lambda topic, raw, reason: self._record(self.rejects)((topic, raw, reason)),
            **options,
        )
        self.app.start()
        assert self.app.wait_ready(10), "host did not get ready"

    def _record(self, into: list[Any]) -> Callable[[Any], None]:
        def record(item: Any) -> None:
            with self._cond:
                into.append(item)
                self._cond.notify_all()

        return record

    def wait(self, predicate: Callable[[], bool], timeout: float = 10, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                left = deadline - time.monotonic()
                assert left > 0, (
                    f"host: {what} not seen in {timeout}s; events {self.events}, rejects {self.rejects}"
                )
                self._cond.wait(min(left, 0.05))  # some conditions (stats) change without a callback

    def events_of(self, kind: type) -> list[Any]:
        with self._cond:
            return [e for e in self.events if isinstance(e, kind)]

    def values(self, message_type: str) -> list[dict[str, Any]]:
        """Each batch of that message type as {metric name: value}."""
        reg = self.app.registry
        with self._cond:
            return [
                {reg[h].name: v for h, v in zip(b.handles, b.values, strict=True)}
                for b in self.batches
                if b.message_type == message_type
            ]

    def stop(self) -> None:
        self.app.stop()
