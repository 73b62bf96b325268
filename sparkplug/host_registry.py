"""What a host learns from births: metric handles, per-node/device sessions, and the events it hands on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sparkplug.datatypes import DataType
from sparkplug.host_seq import SeqTracker
from sparkplug.payload import PropertySet


@dataclass(frozen=True, slots=True)
class MetricInfo:
    """A metric as its latest birth defined it. `handle` is stable for (group, edge, device, name)."""

    handle: int
    group_id: str
    edge_node_id: str
    device_id: str | None
    name: str
    alias: int | None
    datatype: DataType
    properties: PropertySet | None = None


@dataclass(slots=True)
class UpdateBatch:
    """The metric values of one received message, columnar; births' values come as batches too.

    values[i] is None for a null (is_null) metric; timestamps_ms[i] falls back to the payload time.
    """

    group_id: str
    edge_node_id: str
    device_id: str | None
    message_type: str
    seq: int | None
    received_ms: int
    handles: list[int] = field(default_factory=list)
    values: list[Any] = field(default_factory=list)
    timestamps_ms: list[int] = field(default_factory=list)
    historical: list[bool] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.handles)


@dataclass(frozen=True, slots=True)
class NodeBirth:
    group_id: str
    edge_node_id: str
    bdseq: int | None
    timestamp_ms: int
    metrics: list[MetricInfo]


@dataclass(frozen=True, slots=True)
class DeviceBirth:
    group_id: str
    edge_node_id: str
    device_id: str
    timestamp_ms: int
    metrics: list[MetricInfo]


@dataclass(frozen=True, slots=True)
class NodeDeath:
    """The node and all its devices are offline; every handle in stale_handles is STALE since timestamp_ms.

    timestamp_ms is the host's time of receipt: a will's payload time is the CONNECT time.
    """

    group_id: str
    edge_node_id: str
    bdseq: int | None
    timestamp_ms: int
    stale_handles: list[int]


@dataclass(frozen=True, slots=True)
class DeviceDeath:
    """A device is offline; timestamp_ms is the DDEATH payload's (the edge node's) time."""

    group_id: str
    edge_node_id: str
    device_id: str
    timestamp_ms: int
    stale_handles: list[int]


@dataclass(frozen=True, slots=True)
class HostDisconnected:
    """The host lost the broker: every metric of every online node is STALE until its next birth."""

    timestamp_ms: int
    stale_handles: list[int]


@dataclass(frozen=True, slots=True)
class RebirthRequested:
    group_id: str
    edge_node_id: str
    reason: str
    timestamp_ms: int


LifecycleEvent = NodeBirth | DeviceBirth | NodeDeath | DeviceDeath | HostDisconnected | RebirthRequested

# (handle, datatype, value decoder, read, field, mask, sign) for the hot path: a tuple unpacks in one
# step where a class would cost an attribute access per field. read..sign: codec_metric.value_reader.
Slot = tuple[int, int, Callable[[Any], Any], Callable[[Any], Any] | None, str, int, int]


class MetricRegistry:
    """Every metric ever born, by handle. Written from the host's network thread only."""

    def __init__(self) -> None:
        self._infos: list[MetricInfo] = []
        self._by_key: dict[tuple[str, str, str | None, str], int] = {}

    def __len__(self) -> int:
        return len(self._infos)

    def __getitem__(self, handle: int) -> MetricInfo:
        return self._infos[handle]

    def lookup(self, group_id: str, edge_node_id: str, device_id: str | None, name: str) -> MetricInfo | None:
        handle = self._by_key.get((group_id, edge_node_id, device_id, name))
        return None if handle is None else self._infos[handle]

    def all(self) -> list[MetricInfo]:
        return list(self._infos)

    def register(
        self,
        group_id: str,
        edge_node_id: str,
        device_id: str | None,
        name: str,
        alias: int | None,
        datatype: DataType,
        properties: PropertySet | None,
    ) -> MetricInfo:
        key = (group_id, edge_node_id, device_id, name)
        handle = self._by_key.get(key)
        if handle is None:
            handle = len(self._infos)
            self._by_key[key] = handle
            self._infos.append(MetricInfo(handle, *key, alias, datatype, properties))
            return self._infos[handle]
        info = self._infos[handle]
        if info.alias != alias or info.datatype != datatype or info.properties != properties:
            info = MetricInfo(handle, *key, alias, datatype, properties)
            self._infos[handle] = info
        return info


@dataclass(slots=True)
class MetricScope:
    """The metrics of one birth (node or device): lookups by alias and by name."""

    by_alias: dict[int, Slot] = field(default_factory=dict)
    by_name: dict[str, Slot] = field(default_factory=dict)
    handles: list[int] = field(default_factory=list)
    alias_first: bool = True  # False once a birth uses alias 0 (indistinguishable from no alias)
    table: Any = None  # the compiled DATA reader's alias table, built at the scope's first DATA


@dataclass(slots=True)
class DeviceSession:
    device_id: str
    online: bool = False
    scope: MetricScope = field(default_factory=MetricScope)


@dataclass(slots=True)
class NodeSession:
    """What the host knows of one edge node's current Sparkplug session."""

    group_id: str
    edge_node_id: str
    online: bool = False
    bdseq: int | None = None
    birth_ms: int = 0
    death_ms: int = 0
    scope: MetricScope = field(default_factory=MetricScope)
    devices: dict[str, DeviceSession] = field(default_factory=dict)
    seq: SeqTracker = field(default_factory=SeqTracker)
    last_rebirth_request: float = float("-inf")

    def all_handles(self) -> list[int]:
        handles = list(self.scope.handles)
        for dev in self.devices.values():
            handles.extend(dev.scope.handles)
        return handles
