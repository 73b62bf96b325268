"""The bridge's durable outbox: ERP events committed to SQLite, then delivered in order to a sink."""

from bridge.outbox.admin import DeadLetter, EventRow, OutboxError, OutboxStatus
from bridge.outbox.backoff import Backoff
from bridge.outbox.hooks import DeliveryUpdate, StateHook, UpdateHook
from bridge.outbox.schema import DEFAULT_DB_NAME, OutboxSchemaError
from bridge.outbox.sinks import JsonlFileSink
from bridge.outbox.stats import OutboxCounters, OutboxStats
from bridge.outbox.store import OutboxStore
from bridge.outbox.worker import Outbox, OutboxBusyError

__all__ = [
    "DEFAULT_DB_NAME",
    "Backoff",
    "DeadLetter",
    "DeliveryUpdate",
    "EventRow",
    "JsonlFileSink",
    "Outbox",
    "OutboxBusyError",
    "OutboxCounters",
    "OutboxError",
    "OutboxSchemaError",
    "OutboxStats",
    "OutboxStatus",
    "OutboxStore",
    "StateHook",
    "UpdateHook",
]
