"""What the outbox tells the bridge when an event changes state, for the delivery status topic."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from uns_model.delivery import DeliveryReceipt, OutboundEvent, PublishedDeliveryState

# on_state(event_id, contract, state, detail): detail is None for "queued", the error text for
# "retrying", the receipt for "delivered" and the reason for "dead".
StateHook = Callable[[str, str, PublishedDeliveryState, DeliveryReceipt | str | None], None]


@dataclass(frozen=True, slots=True)
class DeliveryUpdate:
    """One state change with everything a delivery status message needs (the event's place is in
    `event.payload`): given to `on_update`, the richer twin of `on_state`."""

    event: OutboundEvent
    state: PublishedDeliveryState
    attempts: int  # tries made so far (0 while queued)
    updated_unix_ms: int
    receipt: DeliveryReceipt | None = None  # delivered
    reason: str | None = None  # retrying (the error) or dead (why)
    remote_error: str | None = None  # dead, when the remote side said something
    next_attempt_unix_ms: int | None = None  # retrying


# Both hooks are called after the change is committed, from the thread that made it (the
# enqueuing thread, or the worker): keep them quick (a paho publish is). Their failures are
# logged and counted, never allowed to touch delivery.
UpdateHook = Callable[[DeliveryUpdate], None]
