"""The edge node's bdSeq counter (0-255), optionally kept in a file so a restart does not reuse a number."""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)


class BdSeqCounter:
    """Hands out the bdSeq for each MQTT CONNECT.

    Without a path it starts at 0 as the spec says. With a path, the next value survives a restart:
    a host still holding the previous process's NBIRTH then never mistakes that session's late will
    for the new session's death (both would carry bdSeq 0 otherwise).
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self._path = Path(path) if path is not None else None
        self._next = self._load()

    @property
    def next_value(self) -> int:
        return self._next

    def advance(self, used: int) -> None:
        """Record that a CONNECT carrying `used` was accepted by the broker; the next one is used+1."""
        self._next = (used + 1) % 256
        self._save()

    def _load(self) -> int:
        if self._path is None or not self._path.exists():
            return 0
        try:
            return int(self._path.read_text().strip()) % 256
        except (OSError, ValueError) as exc:
            log.warning("bdSeq file %s unreadable (%s): starting at 0", self._path, exc)
            return 0

    def _save(self) -> None:
        if self._path is None:
            return
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._path.with_suffix(self._path.suffix + ".tmp")
            tmp.write_text(str(self._next))
            os.replace(tmp, self._path)
        except OSError as exc:
            log.warning("cannot persist bdSeq to %s: %s", self._path, exc)
