"""What differs between Odoo 16, 17, 18 and 19 for the models the bridge uses: field names and values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from odoo_sync.transport import major_version


@dataclass(frozen=True, slots=True)
class Dialect:
    """Field names and value shapes of one Odoo major version."""

    major: int

    @property
    def mo_date_start(self) -> str:
        """17 renamed date_planned_start to date_start."""
        return "date_planned_start" if self.major <= 16 else "date_start"

    @property
    def mo_date_finished(self) -> str:
        return "date_planned_finished" if self.major <= 16 else "date_finished"

    @property
    def move_done_field(self) -> str:
        """16 counts consumption in quantity_done; 17+ in quantity, made final by picked."""
        return "quantity_done" if self.major <= 16 else "quantity"

    def move_consumed(self, quantity: float) -> dict[str, Any]:
        """Values that set a component move's consumed quantity to an absolute value."""
        if self.major <= 16:
            return {"quantity_done": quantity}
        return {"quantity": quantity, "picked": True}

    @property
    def lot_producing_field(self) -> str:
        """19 produces several lots at once (lot_producing_ids, many2many); before, one lot_producing_id."""
        return "lot_producing_ids" if self.major >= 19 else "lot_producing_id"

    def lot_producing_value(self, lot_id: int) -> Any:
        return [(6, 0, [lot_id])] if self.major >= 19 else lot_id

    def lot_producing_ids(self, value: Any) -> list[int]:
        """Lot ids from a read of the lot producing field in either shape."""
        if not value:
            return []
        if self.major >= 19:
            return [int(v) for v in value]
        return [int(value[0])] if isinstance(value, list | tuple) else [int(value)]

    def storable_product(self) -> dict[str, Any]:
        """A product kept in stock: 'product' type until 17, 'consu' + is_storable from 18."""
        if self.major >= 18:
            return {"type": "consu", "is_storable": True}
        if self.major == 17:
            return {"detailed_type": "product"}
        return {"detailed_type": "product", "type": "product"}

    @property
    def has_set_qty_producing(self) -> bool:
        """Public mrp.production.set_qty_producing (applies the quantity to the component moves), 17+."""
        return self.major >= 17

    @property
    def has_json2(self) -> bool:
        return self.major >= 19

    @property
    def mark_done_wizards(self) -> dict[str, str]:
        """Wizards button_mark_done may return, and what the bridge does with each."""
        return {
            "mrp.production.backorder": "context skip_backorder + mo_ids_to_backorder",
            "mrp.consumption.warning": "context skip_consumption",
            "mrp.immediate.production": "context skip_immediate (16)",
            "mrp.batch.produce": "refused: serial-tracked products need one goods_finished per serial",
        }


def dialect_for(version: str) -> Dialect:
    """The dialect of a server version string ('18.0', 'saas~17.4', '19.0+e')."""
    major = major_version(version)
    return Dialect(major if major else 18)
