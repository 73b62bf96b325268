"""Exceptions of the sparkplug package, with short reason codes that hosts can count by."""

from __future__ import annotations

from typing import Literal

DecodeReason = Literal["malformed", "type_mismatch", "unknown_datatype", "oversized"]


class SparkplugError(Exception):
    """Base of every error raised by the sparkplug package."""


class SparkplugDecodeError(SparkplugError, ValueError):
    """A payload that cannot be read as Sparkplug B; `.reason` is a short code for counters."""

    def __init__(
        self,
        message: str,
        *,
        reason: DecodeReason = "malformed",
        metric: str | None = None,
        datatype: int | None = None,
    ) -> None:
        super().__init__(message)
        self.reason: DecodeReason = reason
        self.metric = metric
        self.datatype = datatype


class TopicError(SparkplugError, ValueError):
    """A topic that is not a valid Sparkplug B topic."""
