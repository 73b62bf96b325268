"""An OPC UA connection: read current values, subscribe to data changes, reconnect and re-subscribe."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Any

from asyncua import ua
from asyncua.client.client import Client
from asyncua.crypto import security_policies, uacrypto
from cryptography import x509

from edge.config import OpcUaOptions
from edge.points import FeedSink, Point, Sample
from edge.values import datetime_ms, now_ms
from uns_model.plant import OpcUaConnection
from uns_model.tags import OpcUaSource

log = logging.getLogger(__name__)

_SERVER_STATE = ua.NodeId.from_string("i=2259")  # Server/ServerStatus/State: the liveness probe
#: Nodes per Read / CreateMonitoredItems request; servers cap both (MaxNodesPerRead and the like).
CHUNK = 500


def _certificate_uri(cert: x509.Certificate) -> str | None:
    """The application URI a certificate carries in its subjectAltName, if any."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return None
    uris = san.value.get_values_for_type(x509.UniformResourceIdentifier)
    return uris[0] if uris else None


def sample_of(point: Point, dv: ua.DataValue) -> Sample:
    """A sample from a DataValue: bad status -> null; SourceTimestamp, else ServerTimestamp, else now."""
    ts_dt = dv.SourceTimestamp or dv.ServerTimestamp
    ts = datetime_ms(ts_dt) if ts_dt is not None else now_ms()
    status = dv.StatusCode
    if status is not None and not status.is_good() and not status.is_uncertain():
        return Sample(point, None, ts)
    value = dv.Value.Value if dv.Value is not None else None
    return Sample(point, value, ts)


class _Handler:
    """asyncua subscription callbacks -> the reader's queue (on the event loop)."""

    def __init__(self, reader: OpcUaReader, generation: int) -> None:
        self.reader = reader
        self.generation = generation

    def datachange_notification(self, node: Any, val: Any, data: Any) -> None:
        node_id = data.subscription_data.node.nodeid.to_string()
        self.reader._notified(self.generation, node_id, data.monitored_item.Value)

    def status_change_notification(self, status: Any) -> None:
        code = getattr(status, "Status", None)
        if code is not None and not code.is_good():
            self.reader._lose(self.generation, f"subscription status {code.name}")


class OpcUaReader:
    """Reads one OPC UA server for the gateway; the connection is one feed."""

    def __init__(
        self, name: str, conn: OpcUaConnection, points: list[Point], sink: FeedSink, options: OpcUaOptions
    ) -> None:
        self.name = name
        self.conn = conn
        self.points = points
        self.sink = sink
        self.options = options
        self.feeds = {name: {p.device_id for p in points}}
        self.stats: Counter[str] = Counter()
        self._queue: asyncio.Queue[tuple[str, ua.DataValue]] = asyncio.Queue()
        self._by_node: dict[str, list[Point]] = {}
        self._lost: asyncio.Event = asyncio.Event()
        self._lost_reason = ""
        self._bad_nodes: set[str] = set()
        self._generation = 0
        self.stopping = False  # set by the gateway before it cancels (see ModbusPoller.stopping)

    @property
    def where(self) -> str:
        return f"opcua {self.name} ({self.conn.endpoint})"

    # -- callbacks ----------------------------------------------------------------------------------------

    # Callbacks carry the generation (connection attempt) they belong to: a late one from a previous
    # connection (asyncua dispatches them as tasks) must not feed or kill the current one.

    def _notified(self, generation: int, node_id: str, dv: ua.DataValue) -> None:
        if generation == self._generation:
            self._queue.put_nowait((node_id, dv))

    def _lose(self, generation: int, reason: str) -> None:
        if generation == self._generation and not self._lost.is_set():
            self._lost_reason = reason
            self._lost.set()

    # -- the loop -----------------------------------------------------------------------------------------

    async def run(self) -> None:
        """Forever: connect, read, feed_up, subscribe, forward changes; on loss feed_down, back off, again."""
        delays = self.options.backoff.delays()
        up = False
        while not self.stopping:
            self._generation += 1
            self._lost = asyncio.Event()
            self._queue = asyncio.Queue()
            client: Client | None = None
            reason = "connect failed"
            try:
                client = await self._client()
                await client.connect()
                self.stats["connects"] += 1
                log.info("%s: connected", self.where)
                nodes = await self._resolve(client)
                dvs: list[ua.DataValue] = []
                for i in range(0, len(nodes), CHUNK):
                    dvs += await client.read_attributes([client.get_node(n) for n in nodes[i : i + CHUNK]])
                self.sink.feed_up(
                    self.name, [sample_of(p, dv) for p, dv in zip(self.points, dvs, strict=True)]
                )
                up = True
                delays.reset()
                await self._subscribe(client, nodes)
                reason = await self._forward(client)
            except asyncio.CancelledError:
                if client is not None:
                    await self._close(client)
                raise
            except Exception as exc:
                # asyncua raises many kinds (UaStatusCodeError, OSError, TimeoutError ...): all mean gone.
                reason = f"{type(exc).__name__}: {exc}"
            if client is not None:
                await self._close(client)
            if self.stopping:
                return
            if up:
                self.sink.feed_down(self.name, reason)
                up = False
            self.stats["connection_failures"] += 1
            delay = delays.next()
            log.warning("%s: %s; retrying in %.1f s", self.where, reason, delay)
            await asyncio.sleep(delay)

    async def _client(self) -> Client:
        o = self.options
        client = Client(self.conn.endpoint, timeout=o.request_timeout_s, watchdog_intervall=o.watchdog_s)
        generation = self._generation

        async def lost(exc: Exception) -> None:
            self._lose(generation, f"connection lost: {exc!r}")

        client.connection_lost_callback = lost
        if o.username is not None:
            client.set_user(o.username)
        if o.password is not None:
            client.set_password(o.password.get_secret_value())
        if o.security_policy != "None":
            assert o.certificate is not None and o.private_key is not None  # checked by OpcUaOptions
            # Servers check the client's ApplicationUri against the URI in its certificate: use that one.
            uri = _certificate_uri(await uacrypto.load_certificate(str(o.certificate)))
            if uri:
                client.application_uri = uri
            policy = getattr(security_policies, f"SecurityPolicy{o.security_policy}")
            await client.set_security(
                policy,
                str(o.certificate),
                str(o.private_key),
                o.private_key_password.get_secret_value() if o.private_key_password else None,
                str(o.server_certificate) if o.server_certificate else None,
                getattr(ua.MessageSecurityMode, o.security_mode),
            )
        return client

    async def _close(self, client: Client) -> None:
        try:
            await asyncio.wait_for(client.disconnect(), self.options.request_timeout_s)
        except Exception:  # the transport is already gone, or going: nothing left to close
            log.debug("%s: disconnect", self.where, exc_info=True)

    async def _resolve(self, client: Client) -> list[ua.NodeId]:
        """Node ids as the server numbers its namespaces now (nsu= and the connection's namespace_uri)."""
        index: int | None = None
        if self.conn.namespace_uri:
            index = await client.get_namespace_index(self.conn.namespace_uri)
        array: list[str] | None = None
        out = []
        for p in self.points:
            src = p.source
            assert isinstance(src, OpcUaSource)
            nid = ua.NodeId.from_string(src.node_id)
            uri = getattr(nid, "NamespaceUri", None)
            if uri:
                array = array if array is not None else await client.get_namespace_array()
                if uri not in array:
                    raise ValueError(f"{p.device_id}/{p.metric}: namespace {uri} is not on the server")
                nid = ua.NodeId(nid.Identifier, ua.Int16(array.index(uri)), nid.NodeIdType)
            elif index is not None and nid.NamespaceIndex != 0:
                nid = ua.NodeId(nid.Identifier, ua.Int16(index), nid.NodeIdType)
            out.append(nid)
        return out

    async def _subscribe(self, client: Client, nodes: list[ua.NodeId]) -> None:
        sub = await client.create_subscription(self.conn.poll_ms, _Handler(self, self._generation))
        self._by_node = {}
        results: list[int | ua.StatusCode] = []
        for i in range(0, len(nodes), CHUNK):
            results += await sub.subscribe_data_change(
                [client.get_node(n) for n in nodes[i : i + CHUNK]],
                queuesize=self.options.queue_size,
                sampling_interval=ua.Double(self.conn.poll_ms),
            )
        for point, node, result in zip(self.points, nodes, results, strict=True):
            if isinstance(result, ua.StatusCode):
                key = f"{point.device_id}/{point.metric}"
                self.stats["bad_monitored_items"] += 1
                if key not in self._bad_nodes:
                    self._bad_nodes.add(key)
                    log.warning("%s: cannot monitor %s (%s): stays null", self.where, key, result.name)
                continue
            self._by_node.setdefault(node.to_string(), []).append(point)

    async def _forward(self, client: Client) -> str:
        """Hand each notification burst on as one batch until the connection is lost."""
        probe = client.get_node(_SERVER_STATE)
        lost = asyncio.ensure_future(self._lost.wait())
        get: asyncio.Future[tuple[str, ua.DataValue]] | None = None
        try:
            while not self.stopping:
                get = asyncio.ensure_future(self._queue.get())
                done, _ = await asyncio.wait({get, lost}, timeout=self.options.watchdog_s * 2,
                                             return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
                if lost in done:
                    get.cancel()
                    return self._lost_reason
                if get not in done:
                    get.cancel()
                    # Quiet: make sure the server is still there (old asyncua has no loss callback).
                    try:
                        await asyncio.wait_for(probe.read_value(), self.options.request_timeout_s)
                    except Exception as exc:
                        return f"server does not answer: {type(exc).__name__}"
                    continue
                batch = [get.result()]
                while not self._queue.empty():
                    batch.append(self._queue.get_nowait())
                samples = [sample_of(p, dv) for n, dv in batch for p in self._by_node.get(n, ())]
                self.stats["notifications"] += len(batch)
                if samples:
                    self.sink.feed_samples(self.name, samples)
            return "stopping"
        finally:
            lost.cancel()
            if get is not None:
                get.cancel()
