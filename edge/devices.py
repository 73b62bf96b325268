"""Devices of the edge node as their feeds come and go: DBIRTH when all are up, DDEATH when one goes,
DDATA by exception in between."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from edge.deadband import ReportByException
from edge.points import Point, Sample
from edge.values import BadValue, coerce
from sparkplug.datatypes import DataType
from sparkplug.edge_node import EdgeNode
from sparkplug.edge_node_model import MetricDef
from sparkplug.errors import SparkplugError

log = logging.getLogger(__name__)


@dataclass(slots=True)
class DeviceState:
    """One Sparkplug device (a cell): its metrics in file order, the feeds it needs, its current values."""

    device_id: str
    points: dict[str, Point]
    feeds: set[str]
    feeds_up: set[str] = field(default_factory=set)
    values: dict[str, Any] = field(default_factory=dict)
    born: bool = False


class DeviceBook:
    """Implements the sources' FeedSink for one EdgeNode. Runs on the gateway's event loop."""

    def __init__(self, node: EdgeNode, points: list[Point], feed_of: dict[tuple[str, str], str]) -> None:
        """`feed_of[(device, metric)]` names the feed that reads each point."""
        self.node = node
        self.devices: dict[str, DeviceState] = {}
        self._by_feed: dict[str, set[str]] = defaultdict(set)
        for p in points:
            dev = self.devices.get(p.device_id)
            if dev is None:
                dev = self.devices[p.device_id] = DeviceState(p.device_id, {}, set())
            dev.points[p.metric] = p
            dev.values[p.metric] = None
            feed = feed_of[(p.device_id, p.metric)]
            dev.feeds.add(feed)
            self._by_feed[feed].add(p.device_id)
        self.rbe = ReportByException()
        self.stats: Counter[str] = Counter()
        self._bad: set[tuple[str, str]] = set()

    # -- FeedSink -------------------------------------------------------------------------------------

    def feed_up(self, feed: str, samples: list[Sample]) -> None:
        self._store(samples)
        for device_id in sorted(self._by_feed.get(feed, ())):
            dev = self.devices[device_id]
            dev.feeds_up.add(feed)
            if not dev.born and dev.feeds <= dev.feeds_up:
                self._birth(dev)

    def feed_samples(self, feed: str, samples: list[Sample]) -> None:
        self.stats["samples"] += len(samples)
        out: dict[str, dict[int, dict[str, Any]]] = defaultdict(lambda: defaultdict(dict))
        for s, value in self._store(samples):
            p = s.point
            dev = self.devices[p.device_id]
            if not dev.born:
                continue
            if self.rbe.offer(p.device_id, p.metric, p.datatype, p.deadband, value):
                out[p.device_id][s.timestamp_ms][p.metric] = value
        for device_id, by_ts in out.items():
            # One DDATA per source timestamp: the EdgeNode stamps every metric of a DATA with one time.
            for ts, values in sorted(by_ts.items()):
                try:
                    self.node.publish_device_data(device_id, values, ts)
                    self.stats["data_messages"] += 1
                    self.stats["metrics_reported"] += len(values)
                except SparkplugError as exc:
                    self.stats["publish_errors"] += 1
                    log.error("device %s: DDATA refused: %s", device_id, exc)

    def feed_down(self, feed: str, reason: str) -> None:
        for device_id in sorted(self._by_feed.get(feed, ())):
            dev = self.devices[device_id]
            dev.feeds_up.discard(feed)
            if dev.born:
                dev.born = False
                self.stats["deaths"] += 1
                log.warning("device %s: DDEATH (%s: %s)", device_id, feed, reason)
                try:
                    self.node.device_death(device_id)
                except SparkplugError as exc:
                    log.error("device %s: DDEATH failed: %s", device_id, exc)

    # -- inside ---------------------------------------------------------------------------------------

    def _store(self, samples: list[Sample]) -> list[tuple[Sample, Any]]:
        """Coerce each sample into its metric's datatype and keep it as the device's current value."""
        out = []
        for s in samples:
            p = s.point
            key = (p.device_id, p.metric)
            try:
                value = coerce(p.datatype, s.value)
            except BadValue as exc:
                value = None
                self.stats["bad_values"] += 1
                if key not in self._bad:
                    log.warning("device %s metric %s: %s: reported null (bad)", p.device_id, p.metric, exc)
            if value is None:
                self._bad.add(key)
            else:
                self._bad.discard(key)
            self.devices[p.device_id].values[p.metric] = value
            out.append((s, value))
        return out

    def _birth(self, dev: DeviceState) -> None:
        defs = [MetricDef(m, DataType[p.datatype], dev.values[m]) for m, p in dev.points.items()]
        try:
            self.node.add_device(dev.device_id, defs)
        except SparkplugError as exc:
            self.stats["publish_errors"] += 1
            log.error("device %s: DBIRTH refused: %s", dev.device_id, exc)
            return
        dev.born = True
        self.stats["births"] += 1
        self.rbe.reset(dev.device_id, dict(dev.values))
        log.info("device %s: DBIRTH with %d metrics", dev.device_id, len(defs))
