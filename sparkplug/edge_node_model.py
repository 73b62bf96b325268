"""The edge node's metric model: definitions, aliases, current values, and the BIRTH/DATA/DEATH payloads."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sparkplug.codec import set_metric_value
from sparkplug.codec_struct import fill_propertyset
from sparkplug.datatypes import DataType
from sparkplug.errors import SparkplugError
from sparkplug.payload import PropertySet
from sparkplug.proto import pb

BDSEQ = "bdSeq"
REBIRTH = "Node Control/Rebirth"


@dataclass(frozen=True, slots=True)
class MetricDef:
    """A metric the edge node will report: name, datatype, initial value (None = null), properties."""

    name: str
    datatype: DataType
    value: Any = None
    properties: PropertySet | None = None


@dataclass(slots=True)
class MetricSlot:
    """A defined metric with its alias and its current value (what the next BIRTH will carry)."""

    name: str
    alias: int
    datatype: DataType
    value: Any
    timestamp_ms: int
    properties: PropertySet | None


@dataclass(slots=True)
class DeviceModel:
    device_id: str
    slots: dict[str, MetricSlot] = field(default_factory=dict)
    alive: bool = True


class NodeModel:
    """Metric definitions of one edge node and its devices.

    Aliases are unique across the node and all its devices and stay stable for a (device, name)
    for the life of the process, so a device that dies and is born again keeps its aliases.
    `bdSeq` and `Node Control/Rebirth` carry no alias: any host must be able to address the
    rebirth metric by name (tck-id-operational-behavior-data-commands-rebirth-name-aliases).
    """

    def __init__(self, node_metrics: Iterable[MetricDef], now_ms: int) -> None:
        self._next_alias = 1
        self._aliases: dict[tuple[str | None, str], int] = {}
        self.node: dict[str, MetricSlot] = {}
        self.devices: dict[str, DeviceModel] = {}
        for d in node_metrics:
            if d.name in (BDSEQ, REBIRTH):
                raise SparkplugError(f"metric name {d.name!r} is reserved by Sparkplug")
            self.node[d.name] = self._slot(None, d, now_ms)

    def _slot(self, device_id: str | None, d: MetricDef, now_ms: int) -> MetricSlot:
        dt = DataType(d.datatype)
        _check_value(dt, d.value, d.name)
        key = (device_id, d.name)
        alias = self._aliases.get(key)
        if alias is None:
            alias = self._next_alias
            self._next_alias += 1
            self._aliases[key] = alias
        return MetricSlot(d.name, alias, dt, d.value, now_ms, d.properties)

    def set_device(self, device_id: str, metrics: Iterable[MetricDef], now_ms: int) -> DeviceModel:
        """Define (or redefine) a device's metrics; it is alive until `mark_dead`."""
        if not device_id or any(c in device_id for c in "+/#"):
            raise SparkplugError(f"invalid device id {device_id!r}: must be non-empty without + / #")
        dev = DeviceModel(device_id)
        for d in metrics:
            if d.name in dev.slots:
                raise SparkplugError(f"device {device_id}: metric {d.name!r} defined twice")
            dev.slots[d.name] = self._slot(device_id, d, now_ms)
        self.devices[device_id] = dev
        return dev

    def slots_for(self, device_id: str | None) -> dict[str, MetricSlot]:
        if device_id is None:
            return self.node
        dev = self.devices.get(device_id)
        if dev is None:
            raise SparkplugError(f"unknown device {device_id!r}: call add_device first")
        if not dev.alive:
            raise SparkplugError(f"device {device_id!r} is dead: call add_device to give it a new DBIRTH")
        return dev.slots

    # -- payloads (seq is set by the session at publish time) -------------------------------------

    def nbirth(self, bdseq: int, now_ms: int) -> pb.Payload:
        p = pb.Payload(timestamp=now_ms)
        m = p.metrics.add(name=BDSEQ, timestamp=now_ms, datatype=DataType.Int64)
        m.long_value = bdseq
        m = p.metrics.add(name=REBIRTH, timestamp=now_ms, datatype=DataType.Boolean)
        m.boolean_value = False
        for slot in self.node.values():
            _birth_metric(p, slot)
        return p

    def dbirth(self, device_id: str, now_ms: int) -> pb.Payload:
        p = pb.Payload(timestamp=now_ms)
        for slot in self.devices[device_id].slots.values():
            _birth_metric(p, slot)
        return p

    def data(
        self, device_id: str | None, values: Mapping[str, Any], timestamp_ms: int, now_ms: int
    ) -> pb.Payload:
        """A DATA payload (alias, timestamp, value per metric), and the values kept for the next birth.

        Raises SparkplugError before anything is kept if a name is unknown or a value does not fit.
        """
        slots = self.slots_for(device_id)
        p = pb.Payload(timestamp=now_ms)
        changes: list[tuple[MetricSlot, Any]] = []
        for name, value in values.items():
            slot = slots.get(name)
            if slot is None:
                where = f"device {device_id!r}" if device_id else "the edge node"
                raise SparkplugError(f"metric {name!r} was not in the birth of {where}")
            m = p.metrics.add(alias=slot.alias, timestamp=timestamp_ms)
            try:
                # tck-id-payloads-metric-datatype-not-req: the birth told the datatype, DATA omits it.
                set_metric_value(m, slot.datatype, value, set_datatype=False)
            except (ValueError, TypeError) as exc:
                raise SparkplugError(f"metric {name!r}: {exc}") from None
            changes.append((slot, value))
        for slot, value in changes:
            slot.value = value
            slot.timestamp_ms = timestamp_ms
        return p


def ndeath(bdseq: int, now_ms: int) -> pb.Payload:
    """NDEATH: the bdSeq metric only, no seq (tck-id-topics-ndeath-payload, tck-id-topics-ndeath-seq)."""
    p = pb.Payload(timestamp=now_ms)
    m = p.metrics.add(name=BDSEQ, timestamp=now_ms, datatype=DataType.Int64)
    m.long_value = bdseq
    return p


def _birth_metric(p: pb.Payload, slot: MetricSlot) -> None:
    m = p.metrics.add(name=slot.name, alias=slot.alias, timestamp=slot.timestamp_ms, datatype=slot.datatype)
    set_metric_value(m, slot.datatype, slot.value)
    if slot.properties is not None:
        fill_propertyset(m.properties, slot.properties, f"metric {slot.name!r}")


def _check_value(datatype: DataType, value: Any, name: str) -> None:
    """Raise SparkplugError now rather than fail later on the network thread."""
    probe = pb.Payload.Metric()
    try:
        set_metric_value(probe, datatype, value)
    except (ValueError, TypeError) as exc:
        raise SparkplugError(f"metric {name!r}: {exc}") from None
