"""Sinks of our own: a JSONL file that holds each event once, for standalone runs, audits and tests."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from uns_model.delivery import DeliveryReceipt, OutboundEvent, PermanentDeliveryError, TransientDeliveryError

log = logging.getLogger(__name__)


class JsonlFileSink:
    """Appends one JSON line per event to a file, and never the same event_id twice.

    The ids already written are indexed when the file is opened, so an event delivered again (the
    outbox's at-least-once after a crash, or an operator's replay) gets its first line's receipt
    and the file stays exactly-once. A line torn by a crash in the middle of a write was never
    confirmed to the outbox: it is cut off at open, and the outbox delivers that event again.
    """

    name = "jsonl"

    def __init__(self, path: Path | str, *, fsync: bool = True) -> None:
        self.path = Path(path)
        self._fsync = fsync
        self._lock = threading.Lock()
        self._index: dict[str, int] = {}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lines = self._load()
        existed = self.path.exists()
        self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        if not existed and fsync:
            # A new file's name lives in its directory: make it durable too, or a power cut could
            # lose the file with the lines we confirmed.
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    def _load(self) -> int:
        if not self.path.exists():
            return 0
        with open(self.path, "r+b") as f:
            data = f.read()
            end = data.rfind(b"\n") + 1
            if end < len(data):
                log.warning(
                    "%s: cutting a torn last line (%d bytes) left by a crash; its event is delivered again",
                    self.path,
                    len(data) - end,
                )
                f.truncate(end)
                os.fsync(f.fileno())
        lines = data[:end].splitlines()
        for number, line in enumerate(lines, start=1):
            try:
                event_id = json.loads(line)["event_id"]
            except (ValueError, KeyError, TypeError) as exc:
                log.warning(
                    "%s:%d: not an event line, kept as is and not indexed (%s)", self.path, number, exc
                )
                continue
            self._index.setdefault(str(event_id), number)
        return len(lines)

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._index

    def __len__(self) -> int:
        return len(self._index)

    def deliver(self, event: OutboundEvent) -> DeliveryReceipt:
        with self._lock:
            if self._fd is None:
                raise TransientDeliveryError(f"{self.path}: sink is closed")
            line_no = self._index.get(event.event_id)
            detail = f"{self.path}:{line_no} (already written)"
            if line_no is None:
                record: dict[str, Any] = event.model_dump()
                try:
                    line = json.dumps(record, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
                except ValueError as exc:
                    raise PermanentDeliveryError(f"event is not valid JSON: {exc}") from exc
                start = os.lseek(self._fd, 0, os.SEEK_END)
                try:
                    self._append(self._fd, line.encode() + b"\n")
                    if self._fsync:
                        os.fsync(self._fd)
                except OSError as exc:  # disk full, I/O error: may pass; the outbox retries
                    self._cut_back(self._fd, start)
                    raise TransientDeliveryError(f"{self.path}: {exc}") from exc
                self._lines += 1
                line_no = self._lines
                self._index[event.event_id] = line_no
                detail = f"{self.path}:{line_no}"
        return DeliveryReceipt(
            event_id=event.event_id,
            target=self.name,
            record_ids=[line_no],
            detail=detail,
            delivered_unix_ms=time.time_ns() // 1_000_000,
        )

    @staticmethod
    def _append(fd: int, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]

    def _cut_back(self, fd: int, size: int) -> None:
        # A half-written line would glue itself to the next one: take it back out.
        try:
            os.ftruncate(fd, size)
        except OSError as exc:
            log.error("%s: could not cut a failed write back to %d bytes: %s", self.path, size, exc)

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
