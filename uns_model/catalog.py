"""The integration catalog, derived from a plant model and the contract registry (never written by hand)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from uns_model.contract_base import Payload
from uns_model.contracts import CONTRACTS, EVENT_CONTRACTS
from uns_model.flows import ERP_TO_PLANT, ROLE_CONTRACTS
from uns_model.plant import PlantModel
from uns_model.resolver import PlantResolver, TagRef
from uns_model.tags import ModbusSource, OpcUaSource
from uns_model.topics import BRIDGE, ERP, RAW

InterfaceKind = Literal["UNS topic family", "Odoo call family"]

# Namespace families that are not ERP flows: where their retention and recovery come from.
_RAW_RECOVERY = (
    "The bridge re-mirrors every tag of a device from its Sparkplug birth (and requests a rebirth on a "
    "seq gap or an unknown alias); a dead edge node shows in its NDEATH and the values stay retained "
    "with their last timestamp_ms."
)
_STATUS_RECOVERY = (
    "Published by the outbox on every state change of an event; a dead event stays retained here "
    "until it is replayed or discarded in the outbox."
)
_BRIDGE_RECOVERY = (
    "Restart the bridge; it republishes its health on start. Read its log for the counters' causes."
)
_ERP_RETENTION = "retained while active; cleared (empty retained payload) when closed or released"


@dataclass(frozen=True, slots=True)
class Interface:
    """One row of the catalog: a UNS topic family or an Odoo call family."""

    name: str
    kind: InterfaceKind
    endpoint: str
    direction: str
    source: str
    target: str
    owner: str
    mode: str
    window: str
    contract: str
    version: str
    retention: str
    recovery: str
    purpose: str
    instances: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class Catalog:
    """Everything `uns catalog` prints, in the order it prints it."""

    plant: PlantModel
    interfaces: tuple[Interface, ...]
    tags: tuple[TagRef, ...]


def _window(mode: str, window_s: float) -> str:
    if mode == "batch":
        return f"{window_s:g} s windows"
    return "on change" if window_s == 0 else f"poll every {window_s:g} s"


def _event_places(resolver: PlantResolver, contract: str) -> list[str]:
    roles = {r for r, cs in ROLE_CONTRACTS.items() if contract in cs}
    places = {ref.place.path for ref in resolver.tags() if ref.role in roles}
    return sorted(places)


def _versions(names: tuple[str, ...] | list[str]) -> str:
    return ", ".join(f"{CONTRACTS[n].CONTRACT} v{CONTRACTS[n].VERSION}" for n in names)


def _payload_purpose(cls: type[Payload]) -> str:
    return cls.purpose()


def build_catalog(plant: PlantModel) -> Catalog:
    """Every interface of the plant: tag mirror, ERP events and their status, orders, holds, Odoo calls."""
    resolver = PlantResolver(plant)
    site = plant.site_place.path
    owners = plant.owners
    rows: list[Interface] = []
    tag_value = CONTRACTS["tag_value"]
    rows.append(
        Interface(
            name="tag values",
            kind="UNS topic family",
            endpoint=f"{site}/<area>/<line>/<cell>/{RAW}/<tag path>",
            direction="plant -> UNS",
            source="PLC (OPC UA / Modbus via edge gateway, Sparkplug B)",
            target="UNS (SCADA, MES, historians)",
            owner=owners.plant,
            mode="near_real_time",
            window="on change (per-tag deadband)",
            contract=tag_value.CONTRACT,
            version=str(tag_value.VERSION),
            retention="retained; last value per tag",
            recovery=_RAW_RECOVERY,
            purpose=_payload_purpose(tag_value),
            instances=tuple(r.raw_topic for r in resolver.tags()),
        )
    )
    for name, cls in EVENT_CONTRACTS.items():
        if cls.DIRECTION != "plant_to_erp":
            continue
        places = _event_places(resolver, name)
        flow = plant.flow(name)
        if not places or not flow.enabled:
            continue
        common = dict(
            owner=flow.owner, mode=flow.mode, window=_window(flow.mode, flow.window_s), contract=name,
            version=str(cls.VERSION), recovery=flow.recovery, purpose=cls.purpose(),
        )  # fmt: skip
        rows.append(
            Interface(
                name=f"{name} (audit)",
                kind="UNS topic family",
                endpoint=f"<line or cell>/{ERP}/events/{name}",
                direction="plant -> UNS",
                source=cls.SOURCE_SYSTEM,
                target="UNS (audit)",
                retention="not retained; the outbox keeps every event until delivered",
                instances=tuple(f"{p}/{ERP}/events/{name}" for p in places),
                **common,
            )
        )
        rows.append(
            Interface(
                name=name,
                kind="Odoo call family",
                endpoint="write " + ", ".join(cls.ODOO_MODELS),
                direction="plant -> Odoo",
                source=cls.SOURCE_SYSTEM,
                target=cls.TARGET_SYSTEM,
                retention="Odoo records (system of record); outbox rows until delivered",
                instances=tuple(places),
                **common,
            )
        )
    lines = [p.path for p, _ in plant.iter_lines()]
    for family, names in (("orders", ERP_TO_PLANT[:3]), ("holds", ERP_TO_PLANT[3:])):
        first = CONTRACTS[names[0]]
        flow = plant.flow(names[0])
        common = dict(
            owner=flow.owner, mode=flow.mode, window=_window(flow.mode, flow.window_s),
            contract=", ".join(names), version=_versions(names), recovery=flow.recovery,
            purpose=" / ".join(CONTRACTS[n].purpose() for n in names),
        )  # fmt: skip
        rows.append(
            Interface(
                name=f"work {family}" if family == "orders" else "quality holds",
                kind="UNS topic family",
                endpoint=f"<line>/{ERP}/{family}/<encoded ref>",
                direction="Odoo -> UNS",
                source=first.SOURCE_SYSTEM,
                target=first.TARGET_SYSTEM,
                retention=_ERP_RETENTION,
                instances=tuple(f"{ln}/{ERP}/{family}/<ref>" for ln in lines),
                **common,
            )
        )
        rows.append(
            Interface(
                name=f"read {family}",
                kind="Odoo call family",
                endpoint="read " + ", ".join(first.ODOO_MODELS),
                direction="Odoo -> bridge",
                source=first.SOURCE_SYSTEM,
                target="bridge (publisher)",
                retention="nothing kept by the bridge; Odoo is the system of record",
                instances=tuple(lines),
                **common,
            )
        )
    status = CONTRACTS["delivery_status"]
    rows.append(
        Interface(
            name="delivery status",
            kind="UNS topic family",
            endpoint=f"<line or cell>/{ERP}/status/<event type>/<event id>",
            direction="bridge -> UNS",
            source=status.SOURCE_SYSTEM,
            target=status.TARGET_SYSTEM,
            owner=owners.integration,
            mode="near_real_time",
            window="on change",
            contract=status.CONTRACT,
            version=str(status.VERSION),
            retention="retained while queued, retrying or dead; cleared once delivered",
            recovery=_STATUS_RECOVERY,
            purpose=status.purpose(),
        )
    )
    rows.append(
        Interface(
            name="bridge health",
            kind="UNS topic family",
            endpoint=f"{site}/{BRIDGE}/<path>",
            direction="bridge -> UNS",
            source="bridge",
            target="UNS (operators, monitoring)",
            owner=owners.integration,
            mode="near_real_time",
            window="periodic",
            contract="(bridge's own JSON)",
            version="-",
            retention="retained; last value",
            recovery=_BRIDGE_RECOVERY,
            purpose="The bridge's own health and counters (connections, rejected inputs, outbox depth).",
        )
    )
    return Catalog(plant=plant, interfaces=tuple(rows), tags=tuple(resolver.tags()))


def describe_source(ref: TagRef) -> str:
    """A tag's source in one line, e.g. 'plc: ns=2;s=X' or 'gw: holding 0 uint32 (word little)'."""
    src = ref.tag.source
    if isinstance(src, OpcUaSource):
        return f"{src.connection}: {src.node_id}"
    assert isinstance(src, ModbusSource)
    text = f"{src.connection}: {src.table} {src.address} {src.type}"
    if src.unit_id is not None:
        text += f" unit {src.unit_id}"
    if src.scale != 1.0 or src.offset != 0.0:
        text += f" x{src.scale:g}{src.offset:+g}"
    if src.register_count > 1 and (src.byte_order, src.word_order) != ("big", "big"):
        text += f" (bytes {src.byte_order}, words {src.word_order})"
    return text


def describe_role(ref: TagRef) -> str:
    """The role and its settings in one line."""
    tag = ref.tag
    role = tag.role or "mirrored only"
    extras = []
    for key in ("rollover", "component", "low", "high", "debounce_s", "equipment", "priority", "threshold_h"):
        value = getattr(tag, key, None)
        if value is not None and not (key == "debounce_s" and value == 0):
            extras.append(f"{key}={value:g}" if isinstance(value, float) else f"{key}={value}")
    if tag.role == "machine_state":
        extras.append(f"table={getattr(tag, 'state_table', '')}")
    return role + (f" ({', '.join(extras)})" if extras else "")
