"""Base classes of versioned contracts: frozen pydantic models, deterministic event ids, ordering keys."""

from __future__ import annotations

import math
import uuid
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from uns_model.topics import Place, TopicError, event_topic, status_topic

Direction = Literal["plant_to_erp", "erp_to_plant", "plant_to_uns", "bridge_to_uns"]

#: Namespace of every event id (uuid5). Never change it: ids already in Odoo and outboxes derive from it.
EVENT_NAMESPACE = uuid.UUID("6f1c2a4e-5b1d-4c7e-9a55-0d3e8b7f2c10")


def canonical_fact(value: object) -> str:
    """One fact as text, the same for equal facts (12 and 12.0 agree; floats to 9 decimals)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"a non-finite number ({value}) cannot identify an event")
        text = f"{value:.9f}".rstrip("0").rstrip(".")
        return "0" if text in ("-0", "") else text
    return str(value).replace("\\", "\\\\").replace("|", "\\|")


def event_id_for(contract: str, *facts: object) -> str:
    """The deterministic id of an event: uuid5 over the contract name and its key facts, in order.

    The version is left out on purpose: the same plant facts reported under v1 and v2 of a contract are
    the same business event and must not be written twice.
    """
    canonical = "|".join((contract, *(canonical_fact(f) for f in facts)))
    return str(uuid.uuid5(EVENT_NAMESPACE, canonical))


class Payload(BaseModel):
    """A versioned JSON payload of the namespace. A published version never changes; a change is a new one."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        allow_inf_nan=False,
        json_schema_serialization_defaults_required=True,
    )

    CONTRACT: ClassVar[str]
    VERSION: ClassVar[int]
    DIRECTION: ClassVar[Direction]
    SOURCE_SYSTEM: ClassVar[str]
    TARGET_SYSTEM: ClassVar[str]
    #: Odoo models a delivery of this contract reads or writes (empty when Odoo is not involved).
    ODOO_MODELS: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def purpose(cls) -> str:
        """The business purpose: the first line of the class docstring."""
        return (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""

    @classmethod
    def schema_name(cls) -> str:
        """File stem of the published JSON Schema, e.g. 'production_reported.v1'."""
        return f"{cls.CONTRACT}.v{cls.VERSION}"


class Message(Payload):
    """A payload that names its contract and version in its JSON, so readers can dispatch on them."""

    contract: str
    version: int

    @model_validator(mode="after")
    def _names_match(self) -> Message:
        if self.contract != self.CONTRACT or self.version != self.VERSION:
            raise ValueError(f"{type(self).__name__} is {self.CONTRACT} v{self.VERSION}")
        return self


class Event(Message):
    """A business event with a deterministic id derived from its source facts."""

    event_id: str = Field(
        default="", description="uuid5 of the contract name and key facts; computed if omitted"
    )

    def key_facts(self) -> tuple[object, ...]:
        """The facts that identify this event; replaying the same facts gives the same id."""
        raise NotImplementedError

    @property
    def ordering_key(self) -> str:
        """Events with the same key are delivered in order (per order, work center or equipment)."""
        raise NotImplementedError

    @model_validator(mode="after")
    def _event_id(self) -> Event:
        expected = event_id_for(self.CONTRACT, *self.key_facts())
        if not self.event_id:
            # The model is frozen; this is the one place the id is filled in, right after validation.
            object.__setattr__(self, "event_id", expected)
        elif self.event_id != expected:
            raise ValueError(
                f"event_id {self.event_id} does not match the event's facts (expected {expected})"
            )
        return self


class PlacedEvent(Event):
    """An event located at an ISA-95 place (path 'enterprise/site/area/line[/cell]')."""

    place: str = Field(description="ISA-95 path of the line or cell, e.g. 'acme/plant1/machining/line1/cnc1'")

    @field_validator("place")
    @classmethod
    def _valid_place(cls, value: str) -> str:
        try:
            place = Place.parse(value)
        except TopicError as exc:
            raise ValueError(str(exc)) from exc
        if place.depth not in ("line", "cell"):
            raise ValueError(f"place {value!r} must be a line or a cell")
        return value

    @property
    def place_obj(self) -> Place:
        return Place.parse(self.place)

    @property
    def audit_topic(self) -> str:
        """`<place>/_erp/events/<contract>`, where the event is published once for audit."""
        return event_topic(self.place_obj, self.CONTRACT)

    @property
    def status_topic(self) -> str:
        """`<place>/_erp/status/<contract>/<event id>`, where its delivery state is published."""
        return status_topic(self.place_obj, self.CONTRACT, self.event_id)


def dump_json(payload: Payload) -> str:
    """The payload as compact JSON, fields in declaration order."""
    return payload.model_dump_json()


def as_dict(payload: Payload) -> dict[str, Any]:
    return payload.model_dump(mode="json")
