"""The sink the outbox delivers to: the JSONL file or odoo_sync's OdooWriter, timed for the metrics."""

from __future__ import annotations

import time

from bridge.config import BridgeSettings
from bridge.metrics import BridgeMetrics
from bridge.outbox.sinks import JsonlFileSink
from odoo_sync.transport import OdooSettings
from odoo_sync.writer import OdooWriter
from uns_model.delivery import DeliveryReceipt, EventSink, OutboundEvent, TransientDeliveryError


class TimedSink:
    """The configured sink, with each call's duration and outcome in the metrics (Odoo call latency)."""

    def __init__(self, sink: EventSink, metrics: BridgeMetrics) -> None:
        self.inner = sink
        self.name = sink.name
        self._hist = metrics.sink_call_s

    def deliver(self, event: OutboundEvent) -> DeliveryReceipt:
        t0 = time.perf_counter()
        outcome = "error"
        try:
            receipt = self.inner.deliver(event)
            outcome = "ok"
            return receipt
        except TransientDeliveryError:
            outcome = "transient"
            raise
        finally:
            self._hist.observe(time.perf_counter() - t0, sink=self.name, outcome=outcome)


class ConfigError(RuntimeError):
    """The settings cannot make a working bridge (the message says what to change)."""


def odoo_settings(settings: BridgeSettings) -> OdooSettings:
    missing = [
        flag
        for flag, value in (
            ("--odoo / UNS_ODOO_URL", settings.odoo_url),
            ("--odoo-db / UNS_ODOO_DB", settings.odoo_db),
            ("--odoo-user / UNS_ODOO_USER", settings.odoo_user),
            ("UNS_ODOO_API_KEY or UNS_ODOO_API_KEY_FILE", settings.odoo_api_key),
        )
        if not value
    ]
    if missing:
        raise ConfigError("the Odoo sink needs " + ", ".join(missing))
    assert settings.odoo_api_key is not None
    try:
        return OdooSettings(
            url=settings.odoo_url or "",
            db=settings.odoo_db or "",
            user=settings.odoo_user or "",
            key=settings.odoo_api_key,
            api=settings.odoo_api,
        )
    except ValueError as exc:
        raise ConfigError(f"bad Odoo settings: {exc}") from None


def build_sink(settings: BridgeSettings) -> EventSink:
    """The JSONL file, or the Odoo writer (it connects at its first delivery, so Odoo may be down now)."""
    if settings.sink == "jsonl":
        return JsonlFileSink(settings.events_path)
    return OdooWriter(odoo_settings(settings))
