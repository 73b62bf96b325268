"""The bridge service: wires host ingest, pipeline, outbox, mirror, status and health; runs and stops them."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from bridge.config import BridgeSettings
from bridge.erp_orders import ErpOrder, ErpOrderFollower
from bridge.erp_publisher import ErpPublisher, read_retained
from bridge.health import HealthServer
from bridge.ingest import Part, build_chunk
from bridge.metrics import BridgeMetrics, host_outbox_collector
from bridge.mirror import Mirror
from bridge.outbox.backoff import Backoff
from bridge.outbox.worker import Outbox
from bridge.pipeline import Pipeline
from bridge.rejected import RejectedStore
from bridge.sink_setup import TimedSink, build_sink, odoo_settings
from bridge.status import ErpStatus, queued_then
from bridge.uns_client import UnsClient, dumps
from odoo_sync.client import OdooClient
from odoo_sync.errors import OdooError
from odoo_sync.reader import OdooReader
from sparkplug.data_kernel import describe
from sparkplug.host import HostApplication
from sparkplug.host_columns import ColumnBatch
from sparkplug.host_registry import (
    DeviceBirth,
    DeviceDeath,
    HostDisconnected,
    NodeBirth,
    NodeDeath,
    UpdateBatch,
)
from uns_model.delivery import EventSink
from uns_model.loader import load_plant
from uns_model.plant import PlantModel
from uns_model.topics import bridge_topic

log = logging.getLogger("bridge.service")

DRAIN_MAX = 20_000  # items taken from the queue per loop turn
BIRTH_HOLD_S = 5.0  # how long a DBIRTH's values wait for the device's store-and-forward flush
LOOP_S = 0.05  # the bridge thread's turn: it looks at the clock and the queue this often
# Work arriving within a turn is taken together: one chunk of many messages costs a few numpy calls,
# where a chunk per message would cost them per message and starve paho's thread of the GIL.
MIN_TURN_S = 0.02


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class _Reject:
    received_ms: int
    topic: str
    reason: str
    payload: bytes


class BridgeService:
    """One bridge process. Threads: paho's (the host: only queues), the bridge thread (ingest,
    windows, rules, commit, mirror), the outbox worker (delivery), paho's for the UNS publisher,
    and the HTTP server."""

    def __init__(
        self, settings: BridgeSettings, *, sink: EventSink | None = None, plant: PlantModel | None = None
    ) -> None:
        self.settings = settings
        self.plant = plant or load_plant(settings.plant)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.metrics = BridgeMetrics()
        self.queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.pipeline = Pipeline(
            self.plant,
            metrics=self.metrics,
            state_path=settings.state_path,
            checkpoint_path=settings.checkpoint_path,
            window_s=settings.window_s,
            grace_ms=settings.grace_ms,
        )
        self.index = self.pipeline.index
        broker = settings.broker_url()
        self.site = self.plant.site_place
        self.uns = UnsClient(broker, self.site, settings.host_id)
        self.mirror = (
            Mirror(self.index, self.uns.publish, settings.mirror_interval_s, self.metrics)
            if settings.mirror
            else None
        )
        self.status = ErpStatus(self.uns.publish, self.metrics, settings.status_retention_s)
        # `is None`, not `or`: a sink with no events yet has len() 0 and is falsy.
        self.sink = sink if sink is not None else build_sink(settings)
        self.outbox = Outbox(
            settings.outbox_path,
            TimedSink(self.sink, self.metrics),
            on_state=self.status.on_state,
            backoff=Backoff(settings.outbox_backoff_base_s, settings.outbox_backoff_cap_s),
            max_attempts=settings.outbox_max_attempts,
            retention_days=settings.outbox_retention_days,
        )
        self.status.store = self.outbox.store
        self._enqueue = queued_then(self.status, self.outbox.enqueue)
        self.rejected = RejectedStore(settings.rejected_path)
        self.host = HostApplication(
            settings.host_id,
            broker,
            groups=self.index.resolver.groups(),
            role=settings.role,
            on_batch=self.queue.put,
            on_lifecycle=self.queue.put,
            on_columns=self.queue.put,
            on_reject=self._on_reject,
            reorder_timeout=settings.reorder_timeout_s,
        )
        self.http: HealthServer | None = None
        if settings.metrics_port is not None:
            checks = {
                "broker": lambda: bool(self.host.stats()["connected"]),
                "bridge_thread": lambda: self._thread is not None and self._thread.is_alive(),
                "outbox": lambda: self.outbox.stats() is not None,
                "uns_publisher": lambda: self.uns.connected,
            }
            self.http = HealthServer(
                self.metrics.registry, checks, settings.metrics_host, settings.metrics_port
            )
        self.metrics.registry.add_collector(host_outbox_collector(self.host, self.outbox))
        self._stop = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._reader_thread: threading.Thread | None = None
        self.erp_publisher: ErpPublisher | None = None
        self._started_ms = now_ms()
        self._rejects: list[_Reject] = []
        # DBIRTH values held back until the device's historical flush is through (see _process).
        self._held: dict[tuple[str, str, str | None], tuple[float, UpdateBatch]] = {}

    # -- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> None:
        log.info("bridge starting: %s", self.settings.redacted())
        log.info("sparkplug DATA: %s", describe())
        self.outbox.start()  # first: a second bridge on the same data dir stops here (OutboxBusyError)
        self.uns.start()
        self._thread = threading.Thread(target=self._loop, name="uns-bridge", daemon=True)
        self._thread.start()
        self.host.start()
        if self.settings.sink == "odoo":
            self.erp_publisher = ErpPublisher(self._publish)
            self._reader_thread = threading.Thread(
                target=self._read_odoo, name="uns-odoo-reader", daemon=True
            )
            self._reader_thread.start()
        if self.http is not None:
            self.http.start()
            log.info("metrics on http://%s:%d/metrics", self.settings.metrics_host, self.http.port)

    def wait_ready(self, timeout: float = 10.0) -> bool:
        return self.host.wait_ready(timeout) and self.uns.wait_connected(timeout)

    def request_stop(self) -> None:
        self._stop.set()

    def run_until_stopped(self) -> None:
        self._stop.wait()
        self.stop()

    def stop(self) -> None:
        """Graceful: STATE offline, the queue drained and committed, the outbox closed (WAL folded)."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        log.info("bridge stopping")
        self.host.stop()  # STATE offline; nothing more comes in
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
        if self._reader_thread is not None:
            self._reader_thread.join(10)
        self.outbox.close()
        self.pipeline.close()
        self.rejected.close()
        self.uns.stop()
        if self.http is not None:
            self.http.stop()
        close = getattr(self.sink, "close", None)
        if callable(close):
            close()
        log.info("bridge stopped")

    def _read_odoo(self) -> None:
        """Orders and holds from Odoo to retained JSON under <line>/_erp/ (information, never commands)."""
        settings = odoo_settings(self.settings)
        pause = 1.0
        while not self._stop.is_set():
            try:
                client = OdooClient.connect(settings)
                break
            except OdooError as exc:
                log.warning("odoo reader: cannot connect (%s); next try in %.0f s", exc, pause)
                self._stop.wait(pause)
                pause = min(60.0, pause * 2)
        else:
            return
        reader = OdooReader(client, self.plant, default_line=self.settings.odoo_default_line)
        publisher = self.erp_publisher
        assert publisher is not None
        follower = ErpOrderFollower(self.index)
        try:

            def publish(changes: list[Any]) -> None:
                publisher.apply(changes)
                # Cells without an order tag book on the order Odoo has in progress there.
                for item in follower.follow(changes):
                    self.queue.put(item)

            # At start, retained order/hold topics of an earlier run that Odoo closed meanwhile are cleared.
            retained = partial(read_retained, self.uns.broker, self.site)
            reader.run(publish, self._stop, interval_s=self.settings.odoo_poll_s, retained=retained)
        finally:
            client.close()

    def _publish(self, topic: str, payload: bytes, qos: int, retain: bool) -> None:
        self.uns.publish(topic, payload, qos, retain)

    # -- paho thread -----------------------------------------------------------------------------------

    def _on_reject(self, topic: str, payload: bytes, reason: str) -> None:
        self.queue.put(_Reject(now_ms(), topic, reason, payload))

    # -- the bridge thread -----------------------------------------------------------------------------

    def _loop(self) -> None:
        next_health = 0.0
        turn = time.monotonic()
        while True:
            stopping = self._stop.is_set()
            try:
                rest = MIN_TURN_S - (time.monotonic() - turn)
                if rest > 0 and not stopping:
                    time.sleep(rest)
                turn = time.monotonic()
                self.host.flush_columns()
                items = self._drain(0 if stopping else LOOP_S)
                if items:
                    self._process(items)
                if self._held:
                    self._release_births(force=stopping)
                now = now_ms()
                self.pipeline.tick(now)
                if self.mirror is not None:
                    self.mirror.flush(now)
                self.pipeline.commit(self._enqueue)
                self._flush_rejects()
                if time.monotonic() >= next_health:
                    next_health = time.monotonic() + self.settings.health_interval_s
                    self.status.expire(now)
                    self._publish_health()
            except Exception:
                self.metrics.loop_errors.inc()
                log.exception(
                    "bridge thread error; going on in 1 s (nothing is acknowledged before it is durable)"
                )
                if self._stop.wait(1.0) and stopping:
                    return
                continue
            if stopping and self.queue.empty():
                return

    def _drain(self, timeout: float) -> list[Any]:
        items: list[Any] = []
        try:
            items.append(self.queue.get(timeout=timeout) if timeout > 0 else self.queue.get_nowait())
        except queue.Empty:
            return items
        get = self.queue.get_nowait
        try:
            for _ in range(DRAIN_MAX):
                items.append(get())
        except queue.Empty:
            pass
        return items

    def _process(self, items: Iterable[Any]) -> None:
        """Items in arrival order. A DBIRTH's values are held back until the device's first live DATA
        (or BIRTH_HOLD_S): after a host or edge outage the birth carries the newest values, and the
        store-and-forward flush that follows carries older ones. Taken in that order, the detectors and
        counters would see time go backwards (a reset or a stop hidden in the flush would be lost);
        held, every value meets the rules in time order."""
        run: list[Part] = []
        for item in items:
            if isinstance(item, ColumnBatch):
                self._columns_after_births(item, run)
                continue
            if isinstance(item, UpdateBatch):
                key = (item.group_id, item.edge_node_id, item.device_id)
                if item.message_type == "DBIRTH":
                    previous = self._held.pop(key, None)
                    if previous is not None:
                        run.append(previous[1])
                    self._held[key] = (time.monotonic() + BIRTH_HOLD_S, item)
                    if self.mirror is not None:
                        self.mirror.on_chunk(build_chunk(self.index, [item]), now_ms())
                    continue
                held = self._held.get(key)
                if held is not None and not any(item.historical):
                    run.append(self._held.pop(key)[1])
                run.append(item)
                continue
            if run:
                self._ingest(run)
                run = []
            if isinstance(item, ErpOrder):
                if self.pipeline.set_erp_order(item.cell, item.order, item.ts_ms):
                    log.info("cell %s: order %s (in progress in Odoo)", item.cell, item.order or "none")
            elif isinstance(item, _Reject):
                self._rejects.append(item)
                self.metrics.rejected_input.inc(reason=item.reason)
            else:
                self._lifecycle(item)
        if run:
            self._ingest(run)

    def _columns_after_births(self, item: ColumnBatch, run: list[Part]) -> None:
        """A columnar run of DATA: a held DBIRTH goes in just before its device's first live value."""
        while self._held and len(item):
            live = ~item.historical
            first: tuple[int, tuple[str, str, str | None]] | None = None
            for key, (_, birth) in self._held.items():
                hit = np.flatnonzero(np.isin(item.handle, birth.handles) & live)
                if hit.shape[0] and (first is None or int(hit[0]) < first[0]):
                    first = (int(hit[0]), key)
            if first is None:
                break
            at, key = first
            if at:
                run.append(item.slice(0, at))
            run.append(self._held.pop(key)[1])
            item = item.slice(at, len(item))
        if len(item):
            run.append(item)

    def _release_births(self, force: bool = False) -> None:
        now = time.monotonic()
        due = [k for k, (deadline, _) in self._held.items() if force or deadline <= now]
        if due:
            self._ingest([self._held.pop(k)[1] for k in due])

    def _ingest(self, batches: list[Part]) -> None:
        chunk = build_chunk(self.index, batches)
        self.metrics.batches_in.inc(sum(b.messages if isinstance(b, ColumnBatch) else 1 for b in batches))
        self.metrics.samples_in.inc(len(chunk))
        if chunk.unmapped:
            self.metrics.unmapped.inc(chunk.unmapped)
        self.pipeline.ingest(chunk)
        if self.mirror is not None:
            self.mirror.on_chunk(chunk, now_ms())

    def _lifecycle(self, event: Any) -> None:
        kind = type(event).__name__
        self.metrics.lifecycle.inc(type=kind)
        if isinstance(event, NodeBirth | DeviceBirth):
            known = self.index.learn_birth(event.metrics)
            device = f"/{event.device_id}" if isinstance(event, DeviceBirth) else ""
            where = f"{event.group_id}/{event.edge_node_id}{device}"
            log.info("%s %s: %d metric(s), %d in the plant model", kind, where, len(event.metrics), known)
            if isinstance(event, NodeBirth):
                self.pipeline.on_node_birth(
                    f"{event.group_id}/{event.edge_node_id}", event.bdseq, event.timestamp_ms
                )
        elif isinstance(event, NodeDeath | DeviceDeath | HostDisconnected):
            held = [k for k in self._held if isinstance(event, HostDisconnected) or k[:2] == (
                event.group_id, event.edge_node_id)]  # fmt: skip
            if held:
                self._ingest([self._held.pop(k)[1] for k in held])
            if not isinstance(event, HostDisconnected):
                # After the held births (the old session's): the counters' next births open a new one.
                tags = self.index.tags_of_handles(event.stale_handles)
                self.pipeline.on_death(tags, f"{event.group_id}/{event.edge_node_id}", event.timestamp_ms)
            if self.mirror is not None:
                tags = self.index.tags_of_handles(event.stale_handles)
                self.mirror.mark_stale(tags.tolist())

    def _flush_rejects(self) -> None:
        if not self._rejects:
            return
        rows, self._rejects = self._rejects, []
        try:
            self.rejected.add_many((r.received_ms, r.topic, r.reason, r.payload) for r in rows)
        except Exception:
            self.metrics.rejected_store_errors.inc(len(rows))
            log.exception("could not keep %d rejected message(s) in %s", len(rows), self.rejected.path)

    def _publish_health(self) -> None:
        try:
            outbox = self.outbox.stats().as_dict()
        except Exception as exc:
            outbox = {"error": str(exc)}
        body = {
            "host_id": self.settings.host_id,
            "timestamp_ms": now_ms(),
            "uptime_s": round((now_ms() - self._started_ms) / 1000, 1),
            "sparkplug": {k: v for k, v in self.host.stats().items() if k != "rejected"},
            "rejected": self.host.stats()["rejected"],
            "outbox": outbox,
            "counters": self.metrics.registry.snapshot(),
        }
        self.uns.publish(bridge_topic(self.site, "health"), dumps(body), 0, True)
        self.metrics.queue_depth.set(self.queue.qsize())
