"""Flows: which ERP contract each tag role feeds, its sync mode and window, owner and recovery procedure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SyncMode = Literal["near_real_time", "batch"]
OwnerRole = Literal["plant", "erp", "integration"]


@dataclass(frozen=True, slots=True)
class FlowDefault:
    """The product's default for one flow; a plant file may override mode, window, owner and recovery."""

    contract: str
    mode: SyncMode
    window_s: float
    owner: OwnerRole
    recovery: str


# Following the seed: order release, stoppages, quality holds and maintenance alarms move near real time;
# shift figures (production, consumption) and reconciliation move in batch windows.
_REPLAY = "The outbox keeps the event and retries it with backoff; after fixing a permanent rejection, "
_DEAD = "replay it from the outbox's dead-letter table (the event id is deterministic: a replay is a no-op)."
DEFAULT_FLOWS: dict[str, FlowDefault] = {
    f.contract: f
    for f in (
        FlowDefault(
            "production_reported", "batch", 300, "integration",
            "Quantities are cumulative per order and work center, so a lost or repeated window is "
            "repaired by the next one. " + _REPLAY + _DEAD,
        ),
        FlowDefault(
            "material_consumed", "batch", 300, "integration",
            "Consumption is cumulative per order and component; the next window restates the total. "
            + _REPLAY + _DEAD,
        ),
        FlowDefault(
            "downtime_started", "near_real_time", 0, "plant",
            "A rejected stop (unknown loss, closed work center) is parked in the dead-letter table with the "
            "reason; map the state reason to an Odoo loss in the plant file, then " + _DEAD,
        ),
        FlowDefault(
            "downtime_ended", "near_real_time", 0, "plant",
            "Delivered after its downtime_started (same ordering key). If the start was never "
            "delivered, replay the start first, then " + _DEAD,
        ),
        FlowDefault(
            "quality_deviation", "near_real_time", 0, "plant",
            "Check the spec limits in the plant file and the quality team's hold in Odoo; " + _REPLAY + _DEAD,
        ),
        FlowDefault(
            "maintenance_requested", "near_real_time", 0, "plant",
            "A request for unknown equipment is dead-lettered: add the serial in Odoo Maintenance or fix the "
            "plant file, then " + _DEAD,
        ),
        FlowDefault(
            "goods_finished", "near_real_time", 0, "integration",
            "Lots are looked up by name before creating; if Odoo rejects the quantity (order closed), "
            "reconcile the order in Odoo, then " + _DEAD,
        ),
        FlowDefault(
            "work_order_released", "near_real_time", 30, "erp",
            "The bridge polls Odoo; after an outage the next poll republishes every active order (retained), "
            "so nothing is replayed by hand. Check the bridge health under <enterprise>/<site>/_bridge/.",
        ),
        FlowDefault(
            "work_order_updated", "near_real_time", 30, "erp",
            "Republished from Odoo's current state on the next poll; the retained topic always holds the "
            "latest state.",
        ),
        FlowDefault(
            "work_order_closed", "near_real_time", 30, "erp",
            "On the next poll the bridge clears the retained topic of every order no longer active in Odoo.",
        ),
        FlowDefault(
            "quality_hold_raised", "near_real_time", 30, "erp",
            "Republished from Odoo on the next poll; a hold stays retained until Odoo releases it.",
        ),
        FlowDefault(
            "quality_hold_released", "near_real_time", 30, "erp",
            "On the next poll the bridge clears the retained topic of every hold Odoo no longer has active.",
        ),
    )
}  # fmt: skip

#: Which plant to ERP contracts each tag role feeds.
ROLE_CONTRACTS: dict[str, tuple[str, ...]] = {
    "good_count": ("production_reported", "goods_finished"),
    "scrap_count": ("production_reported",),
    "consumption": ("material_consumed",),
    "machine_state": ("downtime_started", "downtime_ended"),
    "process_value": ("quality_deviation",),
    "alarm": ("maintenance_requested",),
    "runtime_hours": ("maintenance_requested",),
    "lot": ("goods_finished", "quality_deviation"),
    "order": ("production_reported", "material_consumed", "goods_finished"),
}

ERP_TO_PLANT: tuple[str, ...] = (
    "work_order_released",
    "work_order_updated",
    "work_order_closed",
    "quality_hold_raised",
    "quality_hold_released",
)


@dataclass(frozen=True, slots=True)
class EffectiveFlow:
    """A flow as the plant runs it: defaults merged with the plant file's overrides."""

    contract: str
    mode: SyncMode
    window_s: float
    owner: str
    recovery: str
    enabled: bool
