"""The contract between the bridge's outbox and a delivery sink (Odoo, a file): events, receipts, errors."""

from __future__ import annotations

from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

# The life of an event in the outbox, as stored and as published on the delivery status topic.
# "retrying" is only ever published (a transient failure; the stored state goes back to "queued").
DeliveryState = Literal["queued", "in_flight", "delivered", "dead"]
PublishedDeliveryState = Literal["queued", "retrying", "delivered", "dead"]


class DeliveryError(Exception):
    """A sink could not deliver an event; the subclass says whether trying again can help."""

    def __init__(self, reason: str, remote_error: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.remote_error = remote_error


class TransientDeliveryError(DeliveryError):
    """Trying again later may succeed: connection refused or reset, timeout, HTTP 5xx, a database
    serialization failure on the remote side. The outbox retries with backoff, in order per key."""


class PermanentDeliveryError(DeliveryError):
    """Trying again cannot succeed without a human: Odoo's AccessError, ValidationError, UserError,
    MissingError, or an event the sink does not understand. The outbox parks the event as a dead
    letter with `reason` (our words) and `remote_error` (the remote side's words, when there are some)."""


class OutboundEvent(BaseModel):
    """One ERP event as the outbox stores and delivers it: any versioned contract's JSON plus the
    fields the outbox needs (a deterministic id, the ordering key: order or work center)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: str = Field(min_length=1, max_length=256)
    contract: str = Field(min_length=1, max_length=128)
    version: int = Field(ge=1)
    ordering_key: str = Field(min_length=1, max_length=512)
    payload: dict[str, Any]
    created_unix_ms: int = Field(ge=0)


class DeliveryReceipt(BaseModel):
    """What the sink confirms for one delivered event: where it went and which records hold it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: str = Field(min_length=1)
    target: str = Field(min_length=1)
    record_model: str | None = None
    record_ids: list[int] = Field(default_factory=list)
    detail: str | None = None
    delivered_unix_ms: int = Field(ge=0)


class EventSink(Protocol):
    """Where the outbox's worker delivers events, one at a time and in order per ordering key.

    `deliver` is synchronous and runs in the worker's thread. It returns a receipt once the target
    holds the event, raises TransientDeliveryError when a later try may succeed and
    PermanentDeliveryError when none can. It must be idempotent by `event_id`: the outbox delivers
    at least once (an event in flight when the bridge died is delivered again after the restart, and
    an operator's replay delivers again on purpose), and the sink turns that into exactly once.
    """

    name: str

    def deliver(self, event: OutboundEvent) -> DeliveryReceipt: ...
