"""The contract registry: every versioned payload by name and version, and parsing of event JSON."""

from __future__ import annotations

import json
from typing import Any

from uns_model.contract_base import Event, Message, Payload
from uns_model.erp import ERP_EVENTS
from uns_model.events import PLANT_EVENTS
from uns_model.payloads import DeliveryStatus, TagValue, TagValueV2

#: Every published (contract, version). Old versions stay here when a new one is added.
ALL_PAYLOADS: tuple[type[Payload], ...] = (*PLANT_EVENTS, *ERP_EVENTS, TagValue, TagValueV2, DeliveryStatus)

CONTRACT_VERSIONS: dict[tuple[str, int], type[Payload]] = {(c.CONTRACT, c.VERSION): c for c in ALL_PAYLOADS}

#: Latest version of each contract by name.
CONTRACTS: dict[str, type[Payload]] = {}
for _cls in sorted(ALL_PAYLOADS, key=lambda c: c.VERSION):
    CONTRACTS[_cls.CONTRACT] = _cls

#: Latest version of each event contract (those with an event id), by name.
EVENT_CONTRACTS: dict[str, type[Event]] = {
    name: cls for name, cls in CONTRACTS.items() if isinstance(cls, type) and issubclass(cls, Event)
}


class UnknownContractError(ValueError):
    """JSON naming a contract or version this build does not know."""


def contract_class(name: str, version: int | None = None) -> type[Payload]:
    """The class of a contract (latest version unless one is given)."""
    cls = CONTRACTS.get(name) if version is None else CONTRACT_VERSIONS.get((name, version))
    if cls is None:
        known = ", ".join(f"{n} v{v}" for n, v in sorted(CONTRACT_VERSIONS))
        raise UnknownContractError(f"unknown contract {name!r} version {version}; known: {known}")
    return cls


def parse_message(data: str | bytes | dict[str, Any]) -> Message:
    """Parse JSON (or a dict) that names its contract and version; raise ValueError when it does not fit."""
    obj: Any = json.loads(data) if isinstance(data, str | bytes) else data
    if not isinstance(obj, dict):
        raise ValueError("a contract message is a JSON object")
    name, version = obj.get("contract"), obj.get("version")
    if not isinstance(name, str) or not isinstance(version, int):
        raise ValueError("the message lacks 'contract' (text) and 'version' (integer)")
    cls = contract_class(name, version)
    if not issubclass(cls, Message):
        raise UnknownContractError(f"{name} is not a message contract")
    return cls.model_validate(obj)


def parse_event(data: str | bytes | dict[str, Any]) -> Event:
    """Parse an ERP event (plant to ERP or ERP to plant) from its JSON; the event id is checked."""
    msg = parse_message(data)
    if not isinstance(msg, Event):
        raise UnknownContractError(f"{msg.CONTRACT} is not an event contract")
    return msg
