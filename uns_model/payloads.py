"""Namespace payloads that are not ERP events: tag values and the delivery status of an event."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, StrictBool, StrictFloat, StrictInt, StrictStr

from uns_model.contract_base import Direction, Message, Payload
from uns_model.delivery import PublishedDeliveryState

TagScalar = StrictBool | StrictInt | StrictFloat | StrictStr | None


class TagValue(Payload):
    """A tag's value at a time: `{"timestamp_ms": ..., "value": ...}` under `_raw/`, retained."""

    CONTRACT: ClassVar[str] = "tag_value"
    VERSION: ClassVar[int] = 1
    DIRECTION: ClassVar[Direction] = "plant_to_uns"
    SOURCE_SYSTEM: ClassVar[str] = "PLC (via edge gateway and bridge)"
    TARGET_SYSTEM: ClassVar[str] = "UNS (SCADA, MES, historians, MQTT Explorer)"

    timestamp_ms: int = Field(ge=0, description="source timestamp of the value, Unix epoch milliseconds")
    value: TagScalar = Field(description="the value in engineering units; null when the source sent null")


class TagValueV2(TagValue):
    """v2 adds `stale`: true when the edge node or device that publishes the tag has died.

    The bridge republishes the last value with `"stale": true` at NDEATH/DDEATH, so a reader of the
    retained topic can tell a frozen value from a live one; `stale` is absent (false) otherwise.
    """

    VERSION: ClassVar[int] = 2

    stale: bool = Field(
        default=False,
        description="true when the source (edge node or device) is dead and the value is the last known",
    )


class DeliveryStatus(Message):
    """Where an event stands on its way to Odoo: queued, retrying, delivered (with the records) or dead."""

    CONTRACT: ClassVar[str] = "delivery_status"
    VERSION: ClassVar[int] = 1
    DIRECTION: ClassVar[Direction] = "bridge_to_uns"
    SOURCE_SYSTEM: ClassVar[str] = "bridge outbox"
    TARGET_SYSTEM: ClassVar[str] = "UNS (operators, audit)"

    contract: Literal["delivery_status"] = "delivery_status"
    version: Literal[1] = 1
    event_id: str = Field(min_length=1, description="id of the event this status is about")
    event_contract: str = Field(min_length=1, description="that event's contract name")
    event_version: int = Field(ge=1)
    ordering_key: str = Field(min_length=1, description="the event's delivery queue (order, work center...)")
    state: PublishedDeliveryState = Field(description="queued, retrying, delivered or dead (parked)")
    attempts: int = Field(default=0, ge=0)
    target: str | None = Field(default=None, description="the sink holding it, once delivered")
    record_model: str | None = Field(default=None, description="Odoo model written, once delivered")
    record_ids: list[int] = Field(default_factory=list, description="Odoo record ids, once delivered")
    reason: str | None = Field(default=None, description="why it is retrying or dead, in our words")
    remote_error: str | None = Field(default=None, description="the remote side's own error text, if any")
    updated_unix_ms: int = Field(ge=0)
