"""ERP to plant contracts: work orders released, updated, closed; quality holds raised and released."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from uns_model.contract_base import Direction, PlacedEvent
from uns_model.topics import hold_topic, order_topic

#: UMH `_analytics` work order status: 0 planned, 1 in progress, 2 completed.
WorkOrderStatus = Literal[0, 1, 2]


class ProductRef(BaseModel):
    """The product of a work order, in UMH's `_analytics` field names."""

    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_serialization_defaults_required=True)

    external_product_id: str = Field(min_length=1, description="Odoo product default_code")
    name: str | None = None


class ErpToPlant(PlacedEvent):
    DIRECTION: ClassVar[Direction] = "erp_to_plant"
    SOURCE_SYSTEM: ClassVar[str] = "Odoo"
    TARGET_SYSTEM: ClassVar[str] = "UNS (SCADA, MES, operators)"


class _WorkOrder(ErpToPlant):
    ODOO_MODELS: ClassVar[tuple[str, ...]] = ("mrp.production", "mrp.workorder")
    external_work_order_id: str = Field(
        min_length=1, description="Odoo manufacturing order name, e.g. 'WH/MO/00012'"
    )
    odoo_id: int = Field(ge=1, description="id of the mrp.production record")

    @property
    def ordering_key(self) -> str:
        return f"order:{self.external_work_order_id}"

    @property
    def topic(self) -> str:
        """`<line>/_erp/orders/<encoded ref>`: retained while the order is active."""
        return order_topic(self.place_obj.up_to("line"), self.external_work_order_id)


class _WorkOrderBody(_WorkOrder):
    product: ProductRef
    quantity: float = Field(ge=0, description="quantity to produce")
    quantity_produced: float = Field(default=0, ge=0)
    uom: str = "Units"
    status: WorkOrderStatus = Field(description="UMH status: 0 planned, 1 in progress, 2 completed")
    odoo_state: str = Field(description="Odoo state: draft, confirmed, progress, to_close, done, cancel")
    start_time_unix_ms: int | None = Field(default=None, description="planned or actual start")
    end_time_unix_ms: int | None = Field(default=None, description="planned or actual end")
    workcenters: list[str] = Field(
        default_factory=list, description="codes of the work centers of its operations"
    )
    updated_unix_ms: int = Field(ge=0, description="Odoo write_date of the order")


class WorkOrderReleased(_WorkOrderBody):
    """Odoo released a manufacturing order to a line: product, quantity, planned times."""

    CONTRACT: ClassVar[str] = "work_order_released"
    VERSION: ClassVar[int] = 1
    contract: Literal["work_order_released"] = "work_order_released"
    version: Literal[1] = 1

    def key_facts(self) -> tuple[object, ...]:
        return (self.external_work_order_id,)


class WorkOrderUpdated(_WorkOrderBody):
    """A released manufacturing order changed in Odoo (quantity, dates, state)."""

    CONTRACT: ClassVar[str] = "work_order_updated"
    VERSION: ClassVar[int] = 1
    contract: Literal["work_order_updated"] = "work_order_updated"
    version: Literal[1] = 1

    def key_facts(self) -> tuple[object, ...]:
        return (self.external_work_order_id, self.updated_unix_ms)


class WorkOrderClosed(_WorkOrder):
    """A manufacturing order is done or cancelled in Odoo; its retained topic is cleared."""

    CONTRACT: ClassVar[str] = "work_order_closed"
    VERSION: ClassVar[int] = 1
    contract: Literal["work_order_closed"] = "work_order_closed"
    version: Literal[1] = 1
    status: Literal[2] = 2
    reason: Literal["done", "cancelled"]
    quantity_produced: float = Field(default=0, ge=0)
    closed_unix_ms: int = Field(ge=0)

    def key_facts(self) -> tuple[object, ...]:
        return (self.external_work_order_id,)


class _Hold(ErpToPlant):
    # Odoo Community has no quality module: a hold lives as an activity on the order (or lot).
    ODOO_MODELS: ClassVar[tuple[str, ...]] = ("mail.activity", "mrp.production")
    hold_ref: str = Field(min_length=1, description="Odoo name of the hold record")
    odoo_id: int | None = Field(default=None, ge=1)

    def key_facts(self) -> tuple[object, ...]:
        return (self.hold_ref,)

    @property
    def ordering_key(self) -> str:
        return f"hold:{self.hold_ref}"

    @property
    def topic(self) -> str:
        """`<line>/_erp/holds/<encoded ref>`: retained while the hold is active."""
        return hold_topic(self.place_obj.up_to("line"), self.hold_ref)


class QualityHoldRaised(_Hold):
    """Quality put a hold on a line, order, lot or product: the plant must not ship or use it."""

    CONTRACT: ClassVar[str] = "quality_hold_raised"
    VERSION: ClassVar[int] = 1
    contract: Literal["quality_hold_raised"] = "quality_hold_raised"
    version: Literal[1] = 1
    reason: str = Field(min_length=1)
    external_work_order_id: str | None = None
    lot: str | None = None
    product_code: str | None = None
    raised_unix_ms: int = Field(ge=0)


class QualityHoldReleased(_Hold):
    """Quality released a hold; its retained topic is cleared."""

    CONTRACT: ClassVar[str] = "quality_hold_released"
    VERSION: ClassVar[int] = 1
    contract: Literal["quality_hold_released"] = "quality_hold_released"
    version: Literal[1] = 1
    released_unix_ms: int = Field(ge=0)


ERP_EVENTS: tuple[type[ErpToPlant], ...] = (
    WorkOrderReleased,
    WorkOrderUpdated,
    WorkOrderClosed,
    QualityHoldRaised,
    QualityHoldReleased,
)
