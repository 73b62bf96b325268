"""Units of measure and products (product.template with its product.product variant, Odoo's _inherits)."""

from __future__ import annotations

from typing import Any, Self

from ..errors import ValidationError
from ..fields import Boolean, Char, Float, Many2one, One2many, Selection
from ..orm import Model, api_model, api_multi, as_vals_list

TEMPLATE_FIELDS = (
    "name",
    "type",
    "detailed_type",
    "is_storable",
    "tracking",
    "uom_id",
    "uom_po_id",
    "sale_ok",
    "purchase_ok",
    "list_price",
    "standard_price",
    "active",
)


class UomCategory(Model):
    _name = "uom.category"
    _description = "Product UoM Categories"
    name = Char("Unit of Measure Category", required=True)


class UomUom(Model):
    _name = "uom.uom"
    _description = "Product Unit of Measure"
    _order = "factor DESC, id"
    name = Char("Unit of Measure", required=True)
    category_id = Many2one("uom.category", "Category", required=True)
    factor = Float("Ratio", default=1.0)
    rounding = Float("Rounding Precision", default=0.01)
    active = Boolean("Active", default=True)
    uom_type = Selection(
        [
            ("bigger", "Bigger than the reference Unit of Measure"),
            ("reference", "Reference Unit of Measure for this category"),
            ("smaller", "Smaller than the reference Unit of Measure"),
        ],
        "Type",
        default="reference",
    )


def _default_uom(rec: Model) -> Any:
    units = rec.env.ref("uom.product_uom_unit", raise_if_not_found=False)
    return units.id if units else False


def _product_types(version: int) -> list[tuple[str, str]]:
    if version >= 18:
        return [("consu", "Goods"), ("service", "Service"), ("combo", "Combo")]
    return [("consu", "Consumable"), ("service", "Service"), ("product", "Storable Product")]


#: 17.0 product/models/product_template.py (+ stock's 'product'): type follows detailed_type
DETAILED_TYPES_17 = [("consu", "Consumable"), ("service", "Service"), ("product", "Storable Product")]


class ProductTemplate(Model):
    _name = "product.template"
    _description = "Product"
    _order = "name"
    name = Char("Name", required=True)
    default_code = Char("Internal Reference")
    detailed_type = Selection(DETAILED_TYPES_17, "Product Type", default="consu", required=True, until=18)
    type = Selection(_product_types(18), "Product Type", default="consu", selection_by_version=_product_types)
    is_storable = Boolean("Track Inventory", default=False, since=18)
    tracking = Selection(
        [("serial", "By Unique Serial Number"), ("lot", "By Lots"), ("none", "By Quantity")],
        "Tracking",
        default="none",
    )
    uom_id = Many2one("uom.uom", "Unit of Measure", default=_default_uom, required=True)
    uom_po_id = Many2one("uom.uom", "Purchase Unit", default=_default_uom, required=True)
    sale_ok = Boolean("Can be Sold", default=True)
    purchase_ok = Boolean("Can be Purchased", default=True)
    list_price = Float("Sales Price", default=1.0)
    standard_price = Float("Cost", default=0.0)
    active = Boolean("Active", default=True)
    product_variant_ids = One2many("product.product", "product_tmpl_id", "Products")
    bom_ids = One2many("mrp.bom", "product_tmpl_id", "Bill of Materials")

    def _sanitize_vals(self, vals: dict[str, Any]) -> dict[str, Any]:
        """17.0 _sanitize_vals: a type alone sets detailed_type (unless the records have it already),
        a detailed_type alone sets type (no module here maps one detailed type onto another type)."""
        if "detailed_type" not in self._fields:
            return vals
        if "type" in vals and "detailed_type" not in vals and vals["type"] not in self.mapped("type"):
            vals["detailed_type"] = vals["type"]
        if "detailed_type" in vals and "type" not in vals:
            vals["type"] = vals["detailed_type"]
        return vals

    def _prepare_create(self, vals: dict[str, Any]) -> dict[str, Any]:
        return self._sanitize_vals(vals)

    @api_multi
    def write(self, vals: dict[str, Any]) -> bool:
        return bool(super().write(self._sanitize_vals(dict(vals))))

    def _check_constraints(self) -> None:
        """17.0 _constrains_detailed_type."""
        if "detailed_type" in self._fields and self.type != self.detailed_type:
            raise ValidationError("The Type of this product doesn't match the Detailed Type")

    def _post_create(self, vals: dict[str, Any]) -> None:
        if not self.env.context.get("create_product_product_skip"):
            self.env["product.product"].sudo().with_context(create_from_tmpl=True).create(
                {"product_tmpl_id": self.id, "default_code": vals.get("default_code") or False}
            )

    def _compute_display_name(self) -> str:
        return f"[{self.default_code}] {self.name}" if self.default_code else str(self.name)


class ProductProduct(Model):
    _name = "product.product"
    _description = "Product Variant"
    _order = "default_code, name, id"
    _rec_names_search = ("default_code", "name", "barcode")
    product_tmpl_id = Many2one("product.template", "Product Template", required=True)
    default_code = Char("Internal Reference")
    barcode = Char("Barcode")
    active = Boolean("Active", default=True)
    name = Char("Name", related="product_tmpl_id.name")
    detailed_type = Selection(
        DETAILED_TYPES_17, "Product Type", related="product_tmpl_id.detailed_type", until=18
    )
    type = Selection(
        _product_types(18),
        "Product Type",
        related="product_tmpl_id.type",
        selection_by_version=_product_types,
    )
    is_storable = Boolean("Track Inventory", related="product_tmpl_id.is_storable", since=18)
    tracking = Selection(
        [("serial", "By Unique Serial Number"), ("lot", "By Lots"), ("none", "By Quantity")],
        "Tracking",
        related="product_tmpl_id.tracking",
    )
    uom_id = Many2one("uom.uom", "Unit of Measure", related="product_tmpl_id.uom_id")
    uom_po_id = Many2one("uom.uom", "Purchase Unit", related="product_tmpl_id.uom_po_id")
    sale_ok = Boolean("Can be Sold", related="product_tmpl_id.sale_ok")
    purchase_ok = Boolean("Can be Purchased", related="product_tmpl_id.purchase_ok")
    list_price = Float("Sales Price", related="product_tmpl_id.list_price")
    standard_price = Float("Cost", related="product_tmpl_id.standard_price")

    @classmethod
    def _available(cls, major: int) -> bool:
        return True

    @api_model
    def create(self, vals_list: dict[str, Any] | list[dict[str, Any]]) -> Self:
        self._check_access("create")
        out = self.browse(())
        for vals in as_vals_list(vals_list):
            self._check_field_names(vals)  # named on product.product, before the template takes its part
            vals = dict(vals)
            tmpl_vals = {k: vals.pop(k) for k in TEMPLATE_FIELDS if k in vals}
            if not vals.get("product_tmpl_id"):
                tmpl_vals.setdefault("default_code", vals.get("default_code") or False)
                tmpl = (
                    self.env["product.template"]
                    .with_context(create_product_product_skip=True)
                    .create(tmpl_vals)
                )
                vals["product_tmpl_id"] = tmpl.id
            out |= self.browse(super().create(vals).id)
        return out

    create._rpc = "model"  # type: ignore[attr-defined]

    def write(self, vals: dict[str, Any]) -> bool:
        self._check_access("write")
        self._check_field_names(vals)
        vals = dict(vals)
        tmpl_vals = {k: vals.pop(k) for k in TEMPLATE_FIELDS if k in vals}
        if tmpl_vals:
            self.mapped("product_tmpl_id").write(tmpl_vals)
        return bool(super().write(vals))

    write._rpc = "multi"  # type: ignore[attr-defined]

    def _storable(self) -> bool:
        """Whether on-hand quantities are tracked: is_storable from 18 on, type 'product' before."""
        if "is_storable" in self._fields:
            return bool(self.is_storable)
        return bool(self.type == "product")

    def _compute_display_name(self) -> str:
        name = self.product_tmpl_id.sudo().name
        return f"[{self.default_code}] {name}" if self.default_code else str(name)
