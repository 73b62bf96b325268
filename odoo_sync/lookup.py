"""Lookups the writer does before every write: order chains, work centers, products, losses, equipment."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from odoo_sync.client import OdooClient
from odoo_sync.errors import OdooPermanentError

#: A backorder name: the original name plus '-' and a zero-padded sequence ('WH/MO/00001-002').
_BACKORDER_SUFFIX = re.compile(r"-(\d{3,})$")
OPEN_STATES = ("draft", "confirmed", "progress", "to_close")
CLOSED_STATES = ("done", "cancel")

MO_FIELDS = (
    "name",
    "state",
    "product_id",
    "product_qty",
    "product_uom_id",
    "qty_producing",
    "qty_produced",
    "backorder_sequence",
    "origin",
    "workorder_ids",
    "move_raw_ids",
)


def many2one_id(value: Any) -> int | None:
    """The id of a many2one as read ([id, name] or false)."""
    if isinstance(value, list | tuple) and value:
        return int(value[0])
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def root_name(name: str) -> str:
    """The name an order had before Odoo split it: 'WH/MO/00001-002' -> 'WH/MO/00001'."""
    return _BACKORDER_SUFFIX.sub("", name)


@dataclass(frozen=True, slots=True)
class OrderChain:
    """The manufacturing orders a plant ref names: the order itself, or the order and its backorders.

    Odoo renames an order when it splits it (WH/MO/00001 becomes WH/MO/00001-001, its backorders
    -002, -003), so the ref the plant got at release names no record any more after a partial
    completion. The plant's cumulative quantities then cover the whole chain.
    """

    ref: str
    orders: tuple[dict[str, Any], ...]

    @property
    def ids(self) -> list[int]:
        return [int(o["id"]) for o in self.orders]

    @property
    def open_order(self) -> dict[str, Any] | None:
        """The order that takes new quantities: the first not done nor cancelled, in backorder order."""
        return next((o for o in self.orders if o["state"] not in CLOSED_STATES), None)

    @property
    def done_orders(self) -> list[dict[str, Any]]:
        return [o for o in self.orders if o["state"] == "done"]

    @property
    def produced_in_done(self) -> float:
        return float(sum(o["qty_produced"] for o in self.done_orders))


def order_chain(client: OdooClient, ref: str, extra_fields: tuple[str, ...] = ()) -> OrderChain:
    """The orders behind a ref; raises a permanent error when there is none."""
    domain: list[Any] = ["|", ("name", "=", ref), ("name", "=like", f"{ref}-%")]
    fields = (*MO_FIELDS, *extra_fields)
    rows = client.search_read("mrp.production", domain, fields, order="backorder_sequence, id")
    # '=like' also matches 'WH/MO/00001-foo' and, with '_' wildcards, neighbours; keep true backorders.
    rows = [r for r in rows if r["name"] == ref or root_name(r["name"]) == ref]
    if not rows:
        raise OdooPermanentError(
            f"find manufacturing order {ref!r}",
            "",
            "no mrp.production has this name (nor a backorder of it); is the plant's order tag right?",
        )
    return OrderChain(ref, tuple(rows))


class MasterData:
    """Ids of master data by the plant's names, cached for the life of the writer (they rarely change)."""

    def __init__(self, client: OdooClient) -> None:
        self.client = client
        self._cache: dict[tuple[str, str], Any] = {}

    def _one(self, key: tuple[str, str], model: str, domain: list[Any], fields: list[str], fix: str) -> Any:
        if key not in self._cache:
            rows = self.client.search_read(model, domain, fields, limit=1)
            if not rows:
                raise OdooPermanentError(f"find {model} {key[1]!r}", "", fix)
            self._cache[key] = rows[0]
        return self._cache[key]

    def workcenter(self, code: str) -> dict[str, Any]:
        return self._one(  # type: ignore[no-any-return]
            ("workcenter", code),
            "mrp.workcenter",
            [("code", "=", code)],
            ["name", "code"],
            f"no work center with code {code!r}: create it (Manufacturing > Configuration > Work Centers) "
            "or run `uns odoo bootstrap`",
        )

    def product(self, code: str) -> dict[str, Any]:
        return self._one(  # type: ignore[no-any-return]
            ("product", code),
            "product.product",
            [("default_code", "=", code)],
            ["name", "uom_id", "tracking", "default_code"],
            f"no product with internal reference {code!r}",
        )

    def product_by_id(self, product_id: int) -> dict[str, Any]:
        key = ("product_id", str(product_id))
        if key not in self._cache:
            self._cache[key] = self.client.read_one(
                "product.product", product_id, ["name", "uom_id", "tracking", "default_code"]
            )
        return self._cache[key]  # type: ignore[no-any-return]

    def loss(self, name: str | None, loss_type: str) -> dict[str, Any]:
        """The productivity loss by name; without a name, the first loss of the type."""
        if name:
            return self._one(  # type: ignore[no-any-return]
                ("loss", name),
                "mrp.workcenter.productivity.loss",
                [("name", "=", name)],
                ["name", "loss_type"],
                f"no productivity loss named {name!r} (Manufacturing > Configuration > Loss Reasons)",
            )
        return self._one(  # type: ignore[no-any-return]
            ("loss_type", loss_type),
            "mrp.workcenter.productivity.loss",
            [("loss_type", "=", loss_type)],
            ["name", "loss_type"],
            f"no productivity loss of type {loss_type!r}",
        )

    def equipment(self, serial: str) -> dict[str, Any]:
        return self._one(  # type: ignore[no-any-return]
            ("equipment", serial),
            "maintenance.equipment",
            [("serial_no", "=", serial)],
            ["name", "serial_no"],
            f"no maintenance equipment with serial number {serial!r} (Maintenance > Equipments)",
        )
