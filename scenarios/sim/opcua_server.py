"""A simulated OPC UA PLC (asyncua server): one variable per OpcUaSource node id of a connection, typed
from the tag's Sparkplug datatype, stamped with the simulation clock as source timestamp."""

from __future__ import annotations

import asyncio
import datetime as dt_
import logging
import socket
from typing import cast

from asyncua import ua
from asyncua.common.node import Node
from asyncua.server.server import Server

from scenarios.sim.cells import Value
from uns_model.plant import OpcUaConnection
from uns_model.resolver import TagRef
from uns_model.tags import OpcUaSource

log = logging.getLogger(__name__)

_VARIANT: dict[str, ua.VariantType] = {
    "Int8": ua.VariantType.SByte,
    "Int16": ua.VariantType.Int16,
    "Int32": ua.VariantType.Int32,
    "Int64": ua.VariantType.Int64,
    "UInt8": ua.VariantType.Byte,
    "UInt16": ua.VariantType.UInt16,
    "UInt32": ua.VariantType.UInt32,
    "UInt64": ua.VariantType.UInt64,
    "Float": ua.VariantType.Float,
    "Double": ua.VariantType.Double,
    "Boolean": ua.VariantType.Boolean,
    "String": ua.VariantType.String,
    "Text": ua.VariantType.String,
    "DateTime": ua.VariantType.DateTime,
}
_EPOCH = dt_.datetime(1970, 1, 1, tzinfo=dt_.UTC)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (asyncua advertises the port it was given, so 0 won't do)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def to_python(datatype: str, value: Value) -> object:
    """A sim value as the Python value of the tag's OPC UA type."""
    if datatype == "Boolean":
        return bool(value)
    if datatype in ("String", "Text"):
        return str(value)
    if datatype in ("Float", "Double"):
        return float(value)
    if datatype == "DateTime":
        return _EPOCH + dt_.timedelta(milliseconds=float(value))
    return int(value)


def default_namespace(line: str, connection: str) -> str:
    return f"urn:uns-sim:{line}:{connection}"


class OpcUaPlc:
    """Serves every OpcUaSource tag of one connection of one line; `update()` writes changed values."""

    def __init__(
        self, line: str, connection: OpcUaConnection, refs: list[TagRef], host: str, port: int
    ) -> None:
        self.line = line
        self.connection = connection
        self.refs = refs
        self.host = host
        self.port = port
        self._server: Server | None = None
        self._nodes: list[tuple[TagRef, ua.NodeId, ua.VariantType]] = []
        self._last: dict[str, Value] = {}
        self.namespaces: list[str] = []
        self._closing: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"opc.tcp://{self.host}:{self.port}"

    @property
    def online(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        """Build the address space and listen (a free port when port is 0, kept for restarts)."""
        if self._server is not None:
            return
        if self.port == 0:
            self.port = free_port(self.host)
        server = Server()
        await server.init()
        server.set_endpoint(self.url)
        server.set_server_name(f"uns-sim PLC {self.line}:{self.connection.name}")
        await self._address_space(server)
        await server.start()
        self._server = server
        self._last.clear()
        log.info(
            "OPC UA PLC %s:%s serving %d nodes at %s",
            self.line,
            self.connection.name,
            len(self._nodes),
            self.url,
        )

    async def _address_space(self, server: Server) -> None:
        parsed: list[tuple[TagRef, ua.NodeId]] = []
        wanted_ns = 2
        uris: list[str] = []
        for ref in self.refs:
            src = ref.tag.source
            assert isinstance(src, OpcUaSource)
            node = ua.NodeId.from_string(src.node_id)
            uri = getattr(node, "NamespaceUri", None)
            if uri and uri not in uris:
                uris.append(uri)
            elif not uri:
                wanted_ns = max(wanted_ns, node.NamespaceIndex)
            parsed.append((ref, node))
        first = self.connection.namespace_uri or default_namespace(self.line, self.connection.name)
        index = await server.register_namespace(first)
        while index < wanted_ns:
            index = await server.register_namespace(f"{first}:ns{index + 1}")
        for uri in uris:
            await server.register_namespace(uri)
        self.namespaces = await server.get_namespace_array()
        folders: dict[str, Node] = {}
        self._nodes = []
        for ref, node in parsed:
            uri = getattr(node, "NamespaceUri", None)
            ns = self.namespaces.index(uri) if uri else node.NamespaceIndex
            if not uri and self.connection.namespace_uri and ns != 0:
                # With a namespace_uri the model's 'ns=' means "that URI's namespace", as clients resolve it.
                ns = self.namespaces.index(self.connection.namespace_uri)
            nodeid = ua.NodeId(node.Identifier, ua.Int16(ns), node.NodeIdType)
            cell = ref.place.cell or ""
            folder = folders.get(cell)
            if folder is None:
                folder_id = ua.NodeId(ua.String(f"uns-sim/{cell}"), ua.Int16(2))
                folder = await server.nodes.objects.add_folder(folder_id, cell)
                folders[cell] = folder
            vtype = _VARIANT[ref.tag.datatype]
            initial = to_python(ref.tag.datatype, "" if vtype == ua.VariantType.String else 0)
            await folder.add_variable(
                nodeid, ua.QualifiedName(ref.path, ua.Int16(ns)), initial, varianttype=vtype
            )
            self._nodes.append((ref, nodeid, vtype))

    async def update(self, values: dict[tuple[str, str], Value], source_ms: int) -> None:
        """Write every value that changed since the last update, stamped `source_ms` (sim clock)."""
        server = self._server
        if server is None:
            return
        stamp = _EPOCH + dt_.timedelta(milliseconds=source_ms)
        now = dt_.datetime.now(dt_.UTC)
        for ref, nodeid, vtype in self._nodes:
            key = ref.place.path + "\0" + ref.path
            value = values.get((ref.place.path, ref.path))
            if value is None or self._last.get(key) == value:
                continue
            self._last[key] = value
            variant = ua.Variant(to_python(ref.tag.datatype, value), vtype)
            await server.write_attribute_value(
                nodeid,
                ua.DataValue(
                    variant, SourceTimestamp=cast(ua.DateTime, stamp), ServerTimestamp=cast(ua.DateTime, now)
                ),
            )

    async def stop(self) -> None:
        """Stop answering: the listener and every session close now; the internal server (whose clock
        loop sleeps a second at a time) winds down in the background, see wait_closed()."""
        server, self._server = self._server, None
        if server is None:
            return
        if server.bserver is not None:
            await server.bserver.stop()
            server.bserver = None
        task = asyncio.create_task(server.stop())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def wait_closed(self) -> None:
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
