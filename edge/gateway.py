"""The edge gateway: one Sparkplug EdgeNode fed by the OPC UA and Modbus sources the plant model gives it."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edge.config import ModbusOptions, OpcUaOptions, opcua_options_from_env
from edge.devices import DeviceBook
from edge.modbus_source import ModbusPoller
from edge.opcua_source import OpcUaReader
from edge.points import Point
from sparkplug.edge_node import EdgeNode
from sparkplug.mqtt_url import BrokerUrl
from uns_model.plant import Connection, ModbusConnection, OpcUaConnection
from uns_model.resolver import EdgeNodeRef, PlantResolver

log = logging.getLogger(__name__)

Source = OpcUaReader | ModbusPoller


class UnknownEdgeNode(LookupError):
    """The edge node id is not in the plant model; the message lists the known ones."""


def find_edge_node(resolver: PlantResolver, edge_node_id: str, group_id: str | None = None) -> EdgeNodeRef:
    """The plant's edge node by id (and group, when two groups use the same id)."""
    nodes = [n for n in resolver.edge_nodes() if n.edge_node_id == edge_node_id]
    if group_id is not None:
        nodes = [n for n in nodes if n.group_id == group_id]
    known = ", ".join(f"{n.group_id}/{n.edge_node_id}" for n in resolver.edge_nodes())
    if not nodes:
        raise UnknownEdgeNode(f"edge node {edge_node_id!r} is not in the plant model (known: {known})")
    if len(nodes) > 1:
        groups = ", ".join(n.group_id for n in nodes)
        raise UnknownEdgeNode(f"edge node {edge_node_id!r} is in several groups ({groups}): give the group")
    return nodes[0]


def guard_library_logs() -> None:
    """asyncua logs whole requests at DEBUG (ActivateSession with the user's password in clear) and every
    publish response at INFO: keep its loggers at WARNING, whatever the root level is."""
    lib = logging.getLogger("asyncua")
    if lib.getEffectiveLevel() < logging.WARNING:
        lib.setLevel(logging.WARNING)


class Gateway:
    """Reads the sources of one edge node and publishes them through its EdgeNode.

    Devices are born once every feed they read answers, with current values; they die (DDEATH) when
    one of their feeds stops answering, and are born again when it is back.
    """

    def __init__(
        self,
        resolver: PlantResolver,
        edge: EdgeNodeRef,
        broker: str | BrokerUrl,
        *,
        primary_host_id: str | None = None,
        data_dir: Path | None = None,
        opcua_options: Callable[[str], OpcUaOptions] = opcua_options_from_env,
        modbus_options: Callable[[str], ModbusOptions] = lambda _name: ModbusOptions(),
        client_id: str | None = None,
    ) -> None:
        guard_library_logs()
        self.edge = edge
        self.stats: Counter[str] = Counter()
        if data_dir is not None:
            data_dir.mkdir(parents=True, exist_ok=True)
        self.node = EdgeNode(
            edge.group_id,
            edge.edge_node_id,
            broker,
            [],
            primary_host_id=primary_host_id,
            store_forward_path=data_dir / "store_forward.sqlite3" if data_dir else None,
            bdseq_path=data_dir / "bdseq" if data_dir else None,
            on_command=self._on_command,
            client_id=client_id,
        )
        by_conn: dict[str, tuple[Connection, list[Point]]] = {}
        feed_names: dict[str, str] = {}
        multi_line = len(edge.lines) > 1
        for dev in edge.devices:
            for ref in dev.tags:
                conn = resolver.connection_of(ref)
                key = f"{ref.line_place.path}/{conn.name}"
                # A feed is named by its connection, with the line in front when the node reads several.
                feed_names[key] = f"{ref.line_place.line}/{conn.name}" if multi_line else conn.name
                point = Point(dev.device_id, ref.path, ref.tag.datatype, ref.tag.source, ref.tag.deadband)
                by_conn.setdefault(key, (conn, []))[1].append(point)
        self.sources: list[Source] = []
        self.book_points: list[Point] = []
        feed_of: dict[tuple[str, str], str] = {}
        sink = _LateSink()
        for key, (conn, points) in by_conn.items():
            name = feed_names[key]
            source: Source
            if isinstance(conn, OpcUaConnection):
                source = OpcUaReader(name, conn, points, sink, opcua_options(conn.name))
            elif isinstance(conn, ModbusConnection):
                source = ModbusPoller(name, conn, points, sink, modbus_options(conn.name))
            else:  # pragma: no cover - the plant model knows only these two kinds
                raise TypeError(conn)
            self.sources.append(source)
            for feed, devices in source.feeds.items():
                for p in points:
                    if p.device_id in devices and _reads(source, feed, p):
                        feed_of[(p.device_id, p.metric)] = feed
            self.book_points += points
        self.book = DeviceBook(self.node, self.book_points, feed_of)
        sink.target = self.book

    # -- running ------------------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Start the EdgeNode and every source; on `stop`, stop the sources and send NDEATH."""
        log.info(
            "edge node %s/%s: %d device(s), %d source(s), broker %s",
            self.edge.group_id,
            self.edge.edge_node_id,
            len(self.book.devices),
            len(self.sources),
            self.node.broker.redacted(),
        )
        self.node.start()
        tasks = [asyncio.create_task(self._keep_running(s), name=f"edge-{s.name}") for s in self.sources]
        try:
            await stop.wait()
        finally:
            for s in self.sources:
                s.stopping = True
            pending: set[asyncio.Task[None]] = set(tasks)
            while pending:
                # Again and again: a cancellation can be lost inside a library (see ModbusPoller.stopping).
                for t in pending:
                    t.cancel()
                _done, pending = await asyncio.wait(pending, timeout=1.0)
                if pending:
                    log.warning("%d source(s) still running after cancel: cancelling again", len(pending))
            await asyncio.to_thread(self.node.stop)
            log.info("edge node %s: stopped (NDEATH sent)", self.edge.edge_node_id)

    async def _keep_running(self, source: Source) -> None:
        """A source's loop handles its own failures; this guards against a bug stopping it for good."""
        while not source.stopping:
            try:
                await source.run()
            except asyncio.CancelledError:
                raise
            except Exception:
                self.stats["source_crashes"] += 1
                log.exception("%s: crashed; restarting in 5 s", source.where)
                for feed in source.feeds:
                    self.book.feed_down(feed, "source crashed")
                await asyncio.sleep(5.0)

    def _on_command(self, device_id: str | None, values: dict[str, Any]) -> None:
        # Paho's thread. Odoo never commands machines and the gateway writes nothing to PLCs.
        self.stats["commands_refused"] += 1
        log.warning(
            "edge node %s: command to %s refused (%s): the gateway does not write to PLCs",
            self.edge.edge_node_id,
            device_id or "the node",
            ", ".join(sorted(values)),
        )

    def all_stats(self) -> dict[str, int]:
        """Counters of the node, the devices and every source, flat."""
        out = {f"node.{k}": v for k, v in self.node.stats().items()}
        out.update({f"devices.{k}": v for k, v in self.book.stats.items()})
        out["devices.suppressed_by_deadband"] = self.book.rbe.suppressed
        for s in self.sources:
            out.update({f"{s.name}.{k}": v for k, v in s.stats.items()})
        out.update(self.stats)
        return out


def _reads(source: Source, feed: str, point: Point) -> bool:
    """Whether `feed` of `source` is the one that reads `point` (a Modbus unit, or the OPC UA connection)."""
    if isinstance(source, ModbusPoller):
        unit = getattr(point.source, "unit_id", None)
        return feed == source.feed(source.conn.unit_id if unit is None else unit)
    return True


class _LateSink:
    """Lets sources be built before the DeviceBook that needs their feed names exists."""

    target: DeviceBook

    def feed_up(self, feed: str, samples: list[Any]) -> None:
        self.target.feed_up(feed, samples)

    def feed_samples(self, feed: str, samples: list[Any]) -> None:
        self.target.feed_samples(feed, samples)

    def feed_down(self, feed: str, reason: str) -> None:
        self.target.feed_down(feed, reason)
