"""OdooWriter: the outbox's EventSink that turns each plant event into idempotent Odoo calls."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable

from pydantic import ValidationError

from odoo_sync.client import OdooClient
from odoo_sync.errors import OdooError, OdooPermanentError, OdooTransientError
from odoo_sync.lookup import MasterData
from odoo_sync.transport import OdooSettings
from odoo_sync.write_base import Outcome, WriteContext
from odoo_sync.write_orders import goods_finished, material_consumed, production_reported
from odoo_sync.write_plant import downtime_ended, downtime_started, maintenance_requested, quality_deviation
from uns_model.contract_base import Event
from uns_model.contracts import UnknownContractError, parse_event
from uns_model.delivery import DeliveryReceipt, OutboundEvent, PermanentDeliveryError, TransientDeliveryError
from uns_model.events import (
    DowntimeEnded,
    DowntimeStarted,
    GoodsFinished,
    GoodsFinishedV2,
    MaintenanceRequested,
    MaterialConsumed,
    PlantToErp,
    ProductionReported,
    QualityDeviation,
)

log = logging.getLogger(__name__)

Handler = Callable[[WriteContext, PlantToErp], Outcome]

HANDLERS: dict[type[PlantToErp], Callable[[WriteContext, PlantToErp], Outcome]] = {
    ProductionReported: production_reported,  # type: ignore[dict-item]
    MaterialConsumed: material_consumed,  # type: ignore[dict-item]
    GoodsFinished: goods_finished,  # type: ignore[dict-item]
    GoodsFinishedV2: goods_finished,  # type: ignore[dict-item]
    DowntimeStarted: downtime_started,  # type: ignore[dict-item]
    DowntimeEnded: downtime_ended,  # type: ignore[dict-item]
    QualityDeviation: quality_deviation,  # type: ignore[dict-item]
    MaintenanceRequested: maintenance_requested,  # type: ignore[dict-item]
}


class OdooWriter:
    """EventSink for the bridge's outbox (uns_model.delivery).

    `OdooWriter(settings)` connects on the first delivery (and again after the connection was lost);
    `OdooWriter(client)` uses a connected OdooClient. `backorder_on_short`: when goods_finished
    completes less than the order's quantity, split a backorder for the rest (Odoo's default answer
    to its backorder wizard) or close the order short.

    Every event is applied as lookup-then-write, so a second delivery of the same event finds what
    the first one wrote and changes nothing. A cumulative figure (good quantity, consumption) below the
    one the bridge wrote from a newer event is stale: delivered, nothing written, the receipt's detail
    says so (odoo_sync.write_guard). Odoo's AccessError, ValidationError, UserError and
    MissingError become PermanentDeliveryError (with Odoo's message as remote_error); connection
    trouble, timeouts, 5xx and serialization failures become TransientDeliveryError.
    """

    def __init__(
        self,
        source: OdooSettings | OdooClient,
        *,
        name: str = "odoo",
        backorder_on_short: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self._settings = source if isinstance(source, OdooSettings) else None
        self._client = source if isinstance(source, OdooClient) else None
        self._context: WriteContext | None = None
        self._backorder_on_short = backorder_on_short
        self._clock = clock
        self._lock = threading.Lock()
        self.counters: dict[str, int] = {"delivered": 0, "unchanged": 0, "transient": 0, "permanent": 0}

    def _ctx(self) -> WriteContext:
        if self._context is None:
            if self._client is None:
                assert self._settings is not None
                self._client = OdooClient.connect(self._settings)
            self._context = WriteContext(
                client=self._client,
                master=MasterData(self._client),
                backorder_on_short=self._backorder_on_short,
            )
        return self._context

    def _drop_connection(self) -> None:
        # Only a writer that owns its settings can open a new connection; a given client is kept.
        if self._settings is not None:
            if self._client is not None:
                with contextlib.suppress(OdooError):
                    self._client.close()
            self._client = None
            self._context = None

    def deliver(self, event: OutboundEvent) -> DeliveryReceipt:
        parsed = self._parse(event)
        handler = HANDLERS.get(type(parsed))  # type: ignore[arg-type]
        if handler is None:
            self.counters["permanent"] += 1
            raise PermanentDeliveryError(f"{event.contract} v{event.version} is not a plant-to-Odoo event")
        with self._lock:
            try:
                ctx = self._ctx()
            except OdooError as exc:
                # A wrong key or an unreachable server is the bridge's configuration or Odoo's
                # availability, not this event's fault: the events wait in the outbox until it is fixed.
                self.counters["transient"] += 1
                log.error("odoo: cannot log in (%s); events wait in the outbox", exc)
                raise TransientDeliveryError(f"cannot log in to Odoo: {exc}", exc.remote_error) from None
            try:
                outcome = handler(ctx, parsed)  # type: ignore[arg-type]
            except OdooTransientError as exc:
                self.counters["transient"] += 1
                self._drop_connection()
                log.warning("odoo: %s %s: %s (will retry)", event.contract, event.event_id, exc)
                raise TransientDeliveryError(str(exc), exc.remote_error) from None
            except OdooPermanentError as exc:
                self.counters["permanent"] += 1
                log.error("odoo: %s %s rejected: %s", event.contract, event.event_id, exc)
                raise PermanentDeliveryError(str(exc), exc.remote_error) from None
        self.counters["delivered" if outcome.changed else "unchanged"] += 1
        return DeliveryReceipt(
            event_id=event.event_id,
            target=self.name,
            record_model=outcome.model,
            record_ids=outcome.ids,
            detail=outcome.detail,
            delivered_unix_ms=int(self._clock() * 1000),
        )

    def _parse(self, event: OutboundEvent) -> Event:
        try:
            parsed = parse_event(event.payload)
        except (UnknownContractError, ValidationError, ValueError) as exc:
            self.counters["permanent"] += 1
            raise PermanentDeliveryError(f"event {event.event_id} does not fit its contract: {exc}") from None
        if parsed.event_id != event.event_id:
            self.counters["permanent"] += 1
            raise PermanentDeliveryError(
                f"outbox event id {event.event_id} differs from the payload's {parsed.event_id}"
            )
        return parsed

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
