"""Plant to ERP contracts: production, consumption, downtime, quality, maintenance, goods finished."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from uns_model.contract_base import Direction, PlacedEvent, event_id_for
from uns_model.states import LossType, StateKind
from uns_model.tags import AlarmPriority

Quantity = float
_ORDER_FIELD = Field(min_length=1, description="the Odoo manufacturing order name, e.g. 'WH/MO/00012'")


class PlantToErp(PlacedEvent):
    DIRECTION: ClassVar[Direction] = "plant_to_erp"
    SOURCE_SYSTEM: ClassVar[str] = "PLC (via edge gateway and bridge)"
    TARGET_SYSTEM: ClassVar[str] = "Odoo"


class _Windowed(PlantToErp):
    window_start_unix_ms: int = Field(ge=0, description="start of the aggregation window")
    window_end_unix_ms: int = Field(ge=0, description="end of the window; the totals hold at this time")

    @model_validator(mode="after")
    def _window(self) -> _Windowed:
        if self.window_end_unix_ms < self.window_start_unix_ms:
            raise ValueError("window_end_unix_ms is before window_start_unix_ms")
        return self


class ProductionReported(_Windowed):
    """Cumulative good and scrap quantity of one order on one work center, so far."""

    CONTRACT: ClassVar[str] = "production_reported"
    VERSION: ClassVar[int] = 1
    ODOO_MODELS: ClassVar[tuple[str, ...]] = ("mrp.production", "mrp.workorder", "stock.scrap")
    contract: Literal["production_reported"] = "production_reported"
    version: Literal[1] = 1
    workcenter: str = Field(min_length=1, description="Odoo work center code of the cell")
    external_work_order_id: str = _ORDER_FIELD
    product_code: str | None = Field(default=None, description="Odoo default_code of the product, when known")
    good_quantity: Quantity = Field(
        ge=0, description="good quantity made for this order on this cell, cumulative"
    )
    scrap_quantity: Quantity = Field(
        ge=0, description="scrapped quantity for this order on this cell, cumulative"
    )
    unit: str | None = None

    def key_facts(self) -> tuple[object, ...]:
        # Cumulative totals identify the state: a later window with the same totals is the same event.
        return (self.place, self.external_work_order_id, self.good_quantity, self.scrap_quantity)

    @property
    def ordering_key(self) -> str:
        return f"order:{self.external_work_order_id}"


class MaterialConsumed(_Windowed):
    """Cumulative quantity of one component consumed by one order on one work center, so far."""

    CONTRACT: ClassVar[str] = "material_consumed"
    VERSION: ClassVar[int] = 1
    ODOO_MODELS: ClassVar[tuple[str, ...]] = ("mrp.production", "stock.move")
    contract: Literal["material_consumed"] = "material_consumed"
    version: Literal[1] = 1
    workcenter: str = Field(min_length=1)
    external_work_order_id: str = _ORDER_FIELD
    component: str = Field(min_length=1, description="Odoo default_code of the component")
    quantity: Quantity = Field(ge=0, description="quantity consumed for this order on this cell, cumulative")
    unit: str | None = None

    def key_facts(self) -> tuple[object, ...]:
        return (self.place, self.external_work_order_id, self.component, self.quantity)

    @property
    def ordering_key(self) -> str:
        return f"order:{self.external_work_order_id}"


class _Downtime(PlantToErp):
    workcenter: str = Field(min_length=1)
    state_code: int = Field(description="the machine state code read from the PLC")
    state: StateKind
    reason: str = Field(min_length=1)
    odoo_loss: str | None = Field(default=None, description="name of the Odoo productivity loss")
    loss_type: LossType = "availability"
    started_unix_ms: int = Field(ge=0)
    external_work_order_id: str | None = None

    @property
    def ordering_key(self) -> str:
        # Start and end of a stop go through the same queue, so an end is never written before its start.
        return f"workcenter:{self.place}"


class DowntimeStarted(_Downtime):
    """A work center stopped: state code, reason and Odoo productivity loss."""

    CONTRACT: ClassVar[str] = "downtime_started"
    VERSION: ClassVar[int] = 1
    ODOO_MODELS: ClassVar[tuple[str, ...]] = (
        "mrp.workcenter.productivity",
        "mrp.workcenter.productivity.loss",
    )
    contract: Literal["downtime_started"] = "downtime_started"
    version: Literal[1] = 1

    def key_facts(self) -> tuple[object, ...]:
        return (self.place, self.started_unix_ms)


class DowntimeEnded(_Downtime):
    """A stop of a work center ended; refers to its start by started_event_id."""

    CONTRACT: ClassVar[str] = "downtime_ended"
    VERSION: ClassVar[int] = 1
    ODOO_MODELS: ClassVar[tuple[str, ...]] = ("mrp.workcenter.productivity",)
    contract: Literal["downtime_ended"] = "downtime_ended"
    version: Literal[1] = 1
    ended_unix_ms: int = Field(ge=0)

    @model_validator(mode="after")
    def _order(self) -> DowntimeEnded:
        if self.ended_unix_ms < self.started_unix_ms:
            raise ValueError("ended_unix_ms is before started_unix_ms")
        return self

    def key_facts(self) -> tuple[object, ...]:
        return (self.place, self.started_unix_ms, self.ended_unix_ms)

    @property
    def started_event_id(self) -> str:
        """The event id of the matching downtime_started."""
        return event_id_for(DowntimeStarted.CONTRACT, self.place, self.started_unix_ms)

    @property
    def duration_ms(self) -> int:
        return self.ended_unix_ms - self.started_unix_ms


class QualityDeviation(PlantToErp):
    """A process value left its spec limits (after debounce): tag, value, limits, lot."""

    CONTRACT: ClassVar[str] = "quality_deviation"
    VERSION: ClassVar[int] = 1
    ODOO_MODELS: ClassVar[tuple[str, ...]] = ("mail.activity", "mrp.production")
    contract: Literal["quality_deviation"] = "quality_deviation"
    version: Literal[1] = 1
    workcenter: str | None = None
    tag_path: str = Field(min_length=1)
    value: float
    low: float | None = None
    high: float | None = None
    limit: Literal["low", "high"] = Field(description="which spec limit the value crossed")
    unit: str | None = None
    detected_unix_ms: int = Field(ge=0, description="when the value first left the limits")
    lot: str | None = None
    external_work_order_id: str | None = None

    @model_validator(mode="after")
    def _crossed(self) -> QualityDeviation:
        bound = self.low if self.limit == "low" else self.high
        if bound is None:
            raise ValueError(f"limit is {self.limit!r} but {self.limit} is not given")
        return self

    def key_facts(self) -> tuple[object, ...]:
        return (self.place, self.tag_path, self.detected_unix_ms)

    @property
    def ordering_key(self) -> str:
        return f"workcenter:{self.place}"


class MaintenanceRequested(PlantToErp):
    """Equipment needs maintenance: an alarm was raised or a runtime threshold was reached."""

    CONTRACT: ClassVar[str] = "maintenance_requested"
    VERSION: ClassVar[int] = 1
    ODOO_MODELS: ClassVar[tuple[str, ...]] = ("maintenance.request", "maintenance.equipment")
    contract: Literal["maintenance_requested"] = "maintenance_requested"
    version: Literal[1] = 1
    equipment: str = Field(min_length=1, description="equipment name in the plant model")
    equipment_serial: str = Field(min_length=1, description="serial_no of the Odoo maintenance.equipment")
    trigger: Literal["alarm", "runtime_threshold"]
    tag_path: str = Field(min_length=1)
    priority: AlarmPriority = "normal"
    raised_unix_ms: int = Field(ge=0)
    alarm_value: int | bool | None = Field(
        default=None, description="the alarm value read, for alarm triggers"
    )
    runtime_hours: float | None = Field(default=None, ge=0)
    threshold_h: float | None = Field(default=None, gt=0)
    threshold_count: int | None = Field(
        default=None, ge=1, description="n-th interval of threshold_h reached"
    )

    @model_validator(mode="after")
    def _trigger_fields(self) -> MaintenanceRequested:
        runtime = (self.runtime_hours, self.threshold_h, self.threshold_count)
        if self.trigger == "runtime_threshold" and None in runtime:
            raise ValueError(
                "a runtime_threshold trigger needs runtime_hours, threshold_h and threshold_count"
            )
        return self

    def key_facts(self) -> tuple[object, ...]:
        # A runtime request is the n-th interval, whenever it was noticed; an alarm is its raise time.
        when = self.raised_unix_ms if self.trigger == "alarm" else self.threshold_count
        return (self.place, self.equipment, self.tag_path, self.trigger, when)

    @property
    def ordering_key(self) -> str:
        return f"equipment:{self.equipment_serial}"


class GoodsFinished(PlantToErp):
    """A quantity of finished product of an order is done, with its lot."""

    CONTRACT: ClassVar[str] = "goods_finished"
    VERSION: ClassVar[int] = 1
    ODOO_MODELS: ClassVar[tuple[str, ...]] = ("mrp.production", "stock.lot")
    contract: Literal["goods_finished"] = "goods_finished"
    version: Literal[1] = 1
    workcenter: str | None = None
    external_work_order_id: str = _ORDER_FIELD
    product_code: str | None = None
    quantity: Quantity = Field(gt=0, description="finished quantity of this lot (absolute, not an increment)")
    unit: str | None = None
    lot: str | None = Field(default=None, description="lot / serial name; None for untracked products")
    finished_unix_ms: int = Field(ge=0)

    def key_facts(self) -> tuple[object, ...]:
        return (self.external_work_order_id, self.lot, self.quantity)

    @property
    def ordering_key(self) -> str:
        return f"order:{self.external_work_order_id}"


class GoodsFinishedV2(GoodsFinished):
    """v2 adds `finished_total`, so that two equal completions of one order are two events.

    v1's id derives from order, lot and quantity: an order and its backorder that both finish 50
    units without a lot share one id, and the second is dropped as a replay. v2's id adds the cell and
    the order's cumulative finished quantity on that cell, this completion included: the same plant
    facts (replayed after a restart) give the same total, a later completion a larger one.
    `finished_unix_ms` is the plant's time of the change that finished the lot or order.
    """

    VERSION: ClassVar[int] = 2
    version: Literal[2] = 2  # type: ignore[assignment]
    finished_total: Quantity = Field(
        gt=0,
        description="good quantity of this order finished on this cell so far, this completion included",
    )

    @model_validator(mode="after")
    def _total(self) -> GoodsFinishedV2:
        if self.finished_total < self.quantity - 1e-9:
            raise ValueError("finished_total is less than this completion's quantity")
        return self

    def key_facts(self) -> tuple[object, ...]:
        return (self.place, self.external_work_order_id, self.lot, self.quantity, self.finished_total)


PLANT_EVENTS: tuple[type[PlantToErp], ...] = (
    ProductionReported,
    MaterialConsumed,
    DowntimeStarted,
    DowntimeEnded,
    QualityDeviation,
    MaintenanceRequested,
    GoodsFinished,
    GoodsFinishedV2,
)
