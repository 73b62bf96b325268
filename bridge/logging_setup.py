"""Logging of the service: plain or one JSON object per line, with secrets scrubbed from every line."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterable
from typing import Any

PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_STD_ATTRS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class ScrubSecrets(logging.Filter):
    """Replaces every known secret value in the rendered message by '***' (defence in depth)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if len(s) >= 4]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        msg = record.getMessage()
        scrubbed = msg
        for secret in self.secrets:
            scrubbed = scrubbed.replace(secret, "***")
        if scrubbed != msg:
            record.msg, record.args = scrubbed, None
        return True


class JsonFormatter(logging.Formatter):
    """{"ts": ..., "level": ..., "logger": ..., "msg": ..., extra fields..., "exc": ...}."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STD_ATTRS and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, ensure_ascii=False)


class _ConsoleHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The one console handler the `uns` command owns; marked so that a reconfiguration finds it."""


def install_console_handler(handler: logging.StreamHandler) -> None:  # type: ignore[type-arg]
    """Put `handler` on the root logger in place of the console handler installed before.

    Only our own handler is replaced: handlers that others added (a log shipper, pytest's capture)
    stay. Running `uns` twice in one process (tests, notebooks) must not leave a handler bound to a
    stream that has since been closed: Python would print '--- Logging error ---' with the whole
    call stack, arguments included, on the next record.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _ConsoleHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)


def console_handler(fmt: logging.Formatter) -> logging.StreamHandler:  # type: ignore[type-arg]
    handler = _ConsoleHandler(sys.stderr)
    handler.setFormatter(fmt)
    return handler


def setup_logging(level: str = "INFO", *, json_lines: bool = False, secrets: Iterable[str] = ()) -> None:
    """Configure the root logger for the service (replaces the console handler the CLI set up)."""
    root = logging.getLogger()
    fmt = JsonFormatter() if json_lines else logging.Formatter(PLAIN_FORMAT)
    handler = console_handler(fmt)
    handler.addFilter(ScrubSecrets(secrets))
    install_console_handler(handler)
    root.setLevel(level.upper())
    # odoorpc logs request bodies (with the password) at DEBUG: never let it.
    logging.getLogger("odoorpc").setLevel(max(logging.INFO, root.level))
