"""What sources and the gateway exchange: points (tags as a source reads them), samples, feed events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from uns_model.tags import ModbusSource, OpcUaSource


@dataclass(frozen=True, slots=True)
class Point:
    """One tag as a source reads it: the device and metric it feeds, its Sparkplug datatype, its source."""

    device_id: str
    metric: str
    datatype: str
    source: OpcUaSource | ModbusSource
    deadband: float | None = None


@dataclass(frozen=True, slots=True)
class Sample:
    """A value read for a point; value None means bad (the metric goes null), timestamp in ms UTC."""

    point: Point
    value: Any
    timestamp_ms: int


class FeedSink(Protocol):
    """The gateway side of a source. A feed is what comes and goes as one: an OPC UA connection, a
    Modbus unit behind a connection. Called on the gateway's event loop."""

    def feed_up(self, feed: str, samples: list[Sample]) -> None:
        """The feed answers again; `samples` are the current values of all its points."""

    def feed_samples(self, feed: str, samples: list[Sample]) -> None:
        """New values (one subscription notification burst or one poll scan)."""

    def feed_down(self, feed: str, reason: str) -> None:
        """The feed stopped answering; its devices die until it is up again."""
