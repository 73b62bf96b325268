"""Bills of materials and the two wizards mark-done can return: backorder and consumption warning."""

from __future__ import annotations

from typing import Any

from ..fields import Boolean, Char, Float, Integer, Many2many, Many2one, One2many, Selection
from ..orm import Model, api_multi

CONSUMPTION = [("flexible", "Allowed"), ("warning", "Allowed with warning"), ("strict", "Blocked")]

#: ir.actions.act_window records of mrp/wizard/*.xml, as _for_xml_id returns them (readable fields only)
WIZARD_ACTIONS = {
    "mrp.action_mrp_production_backorder": (
        "You produced less than initial demand",
        "mrp.production.backorder",
    ),
    "mrp.action_mrp_consumption_warning": ("Consumption Warning", "mrp.consumption.warning"),
    "mrp.action_mrp_batch_produce": ("Batch Production", "mrp.batch.produce"),
}
#: actions that name their form view (view id in the sandbox, view xml name)
WIZARD_VIEWS = {"mrp.action_mrp_batch_produce": (787, "view_mrp_batch_produce_form")}


def window_action_dict(env: Any, xmlid: str, context: dict[str, Any]) -> dict[str, Any]:
    """ir.actions.actions._for_xml_id + action['context'] = ctx, as the mrp wizards' generators do."""
    name, res_model = WIZARD_ACTIONS[xmlid]
    module, _, xml_name = xmlid.partition(".")
    row = env.cr.execute(
        'SELECT res_id FROM "ir_model_data" WHERE module=? AND name=?', (module, xml_name)
    ).fetchone()
    return {
        "id": int(row[0]) if row else False,
        "name": name,
        "display_name": name,
        "type": "ir.actions.act_window",
        "xml_id": xmlid,
        "help": False,
        "path": False,
        "binding_model_id": False,
        "binding_type": "action",
        "binding_view_types": "list,form",
        "context": context,
        "domain": False,
        "filter": False,
        "groups_id": [],
        "limit": 80,
        "mobile_view_mode": "kanban",
        "res_id": 0,
        "res_model": res_model,
        "search_view_id": False,
        "target": "new",
        "view_id": list(WIZARD_VIEWS[xmlid]) if xmlid in WIZARD_VIEWS else False,
        "view_mode": "form",
        "views": [[WIZARD_VIEWS[xmlid][0] if xmlid in WIZARD_VIEWS else False, "form"]],
        "embedded_action_ids": [],
    }


class MrpBom(Model):
    _name = "mrp.bom"
    _description = "Bill of Material"
    _order = "sequence, id"
    _rec_name = "product_tmpl_id"
    _rec_names_search = ("product_tmpl_id", "code")
    code = Char("Reference")
    active = Boolean("Active", default=True)
    type = Selection(
        [("normal", "Manufacture this product"), ("phantom", "Kit")],
        "BoM Type",
        default="normal",
        required=True,
    )
    product_tmpl_id = Many2one("product.template", "Product", required=True)
    product_id = Many2one("product.product", "Product Variant")
    product_qty = Float("Quantity", default=1.0, required=True)
    product_uom_id = Many2one(
        "uom.uom", "Unit", required=True, default=lambda rec: rec.env.ref("uom.product_uom_unit").id
    )
    sequence = Integer("Sequence", default=0)
    consumption = Selection(CONSUMPTION, "Flexible Consumption", default="warning", required=True)
    bom_line_ids = One2many("mrp.bom.line", "bom_id", "BoM Lines")
    operation_ids = One2many("mrp.routing.workcenter", "bom_id", "Operations")
    company_id = Many2one("res.company", "Company")

    def _prepare_create(self, vals: dict[str, Any]) -> dict[str, Any]:
        if vals.get("product_id") and not vals.get("product_tmpl_id"):
            vals["product_tmpl_id"] = (
                self.env["product.product"].sudo().browse(vals["product_id"]).product_tmpl_id.id
            )
        return vals

    def _compute_display_name(self) -> str:
        product = self.product_tmpl_id.sudo().display_name
        return f"{self.code}: {product}" if self.code else str(product)

    def _bom_find(self, product: Model) -> Model:
        """The first normal BoM of the variant, else of its template (mrp.bom._bom_find)."""
        boms = self.sudo().search(
            [
                ("type", "=", "normal"),
                "|",
                ("product_id", "=", product.id),
                "&",
                ("product_id", "=", False),
                ("product_tmpl_id", "=", product.product_tmpl_id.id),
            ]
        )
        exact = boms.filtered(lambda b: b.product_id.id == product.id)
        chosen = exact or boms
        return self.browse(chosen.ids[:1])


class MrpBomLine(Model):
    _name = "mrp.bom.line"
    _description = "Bill of Material Line"
    _order = "sequence, id"
    _rec_name = "product_id"
    product_id = Many2one("product.product", "Component", required=True)
    product_qty = Float("Quantity", default=1.0, required=True)
    product_uom_id = Many2one(
        "uom.uom",
        "Product Unit of Measure",
        required=True,
        default=lambda rec: rec.env.ref("uom.product_uom_unit").id,
    )
    bom_id = Many2one("mrp.bom", "Parent BoM", required=True)
    sequence = Integer("Sequence", default=1)
    operation_id = Many2one("mrp.routing.workcenter", "Consumed in Operation")
    manual_consumption = Boolean("Manual Consumption", default=False)

    def _prepare_create(self, vals: dict[str, Any]) -> dict[str, Any]:
        if vals.get("product_id") and "product_uom_id" not in vals:
            vals["product_uom_id"] = self.env["product.product"].sudo().browse(vals["product_id"]).uom_id.id
        return vals


class ProcurementGroup(Model):
    _name = "procurement.group"
    _description = "Procurement Group"
    name = Char("Reference", required=True)
    mrp_production_ids = One2many("mrp.production", "procurement_group_id", "Manufacturing Orders")


class MrpProductionBackorderLine(Model):
    _name = "mrp.production.backorder.line"
    _description = "Backorder Confirmation Line"
    mrp_production_backorder_id = Many2one("mrp.production.backorder", "MO Backorder", required=True)
    mrp_production_id = Many2one("mrp.production", "Manufacturing Order", required=True)
    to_backorder = Boolean("To Backorder")


class MrpProductionBackorder(Model):
    """mrp/wizard/mrp_production_backorder.py: 'Create backorder' or 'No backorder'."""

    _name = "mrp.production.backorder"
    _description = "Wizard to mark as done or create back order"
    mrp_production_ids = Many2many("mrp.production", "Manufacturing Orders")
    mrp_production_backorder_line_ids = One2many(
        "mrp.production.backorder.line", "mrp_production_backorder_id", "Backorder Confirmation Lines"
    )
    show_backorder_lines = Boolean("Show backorder lines", compute="_compute_show_lines", store=False)

    def _compute_show_lines(self) -> bool:
        return len(self.mrp_production_backorder_line_ids) > 1

    @api_multi
    def action_close_mo(self) -> Any:
        return self.mrp_production_ids.with_context(skip_backorder=True).button_mark_done()

    @api_multi
    def action_backorder(self) -> Any:
        ctx = {k: v for k, v in self.env.context.items() if k != "default_mrp_production_ids"}
        mo_ids_to_backorder = (
            self.mrp_production_backorder_line_ids.filtered(lambda line: line.to_backorder)
            .mapped("mrp_production_id")
            .ids
        )
        return self.mrp_production_ids.with_context(
            ctx, skip_backorder=True, mo_ids_to_backorder=mo_ids_to_backorder
        ).button_mark_done()


class MrpConsumptionWarningLine(Model):
    _name = "mrp.consumption.warning.line"
    _description = "Line of issue consumption"
    mrp_consumption_warning_id = Many2one("mrp.consumption.warning", "Parent Wizard", required=True)
    mrp_production_id = Many2one("mrp.production", "Manufacturing Order", required=True)
    consumption = Selection(CONSUMPTION, "Consumption")
    product_id = Many2one("product.product", "Product", required=True)
    product_uom_id = Many2one("uom.uom", "Unit of Measure")
    product_consumed_qty_uom = Float("Consumed")
    product_expected_qty_uom = Float("To Consume")


class MrpConsumptionWarning(Model):
    """mrp/wizard/mrp_consumption_warning.py: confirm (force) or set the expected quantities."""

    _name = "mrp.consumption.warning"
    _description = "Wizard in case of consumption in warning/strict and more component has been used for a MO"
    mrp_production_ids = Many2many("mrp.production", "Manufacturing Orders")
    mrp_consumption_warning_line_ids = One2many(
        "mrp.consumption.warning.line", "mrp_consumption_warning_id", "Lines"
    )
    consumption = Selection(CONSUMPTION, "Consumption", compute="_compute_consumption", store=False)

    def _compute_consumption(self) -> str:
        kinds = set(self.mrp_consumption_warning_line_ids.mapped("consumption"))
        return "strict" if "strict" in kinds else "warning" if "warning" in kinds else "flexible"

    @api_multi
    def action_confirm(self) -> Any:
        ctx = {k: v for k, v in self.env.context.items() if k != "default_mrp_production_ids"}
        return self.mrp_production_ids.with_context(ctx, skip_consumption=True).button_mark_done()

    @api_multi
    def action_set_qty(self) -> Any:
        """Set the consumed quantities to the expected ones, then mark done."""
        for line in self.mrp_consumption_warning_line_ids:
            moves = line.mrp_production_id.move_raw_ids.filtered(
                lambda m, line=line: (
                    m.product_id.id == line.product_id.id and m.state not in ("done", "cancel")
                )
            )
            if moves:
                first = moves.browse(moves.ids[:1])
                first.write({"quantity": line.product_expected_qty_uom, "picked": True})
        ctx = {k: v for k, v in self.env.context.items() if k != "default_mrp_production_ids"}
        return self.mrp_production_ids.with_context(ctx, skip_consumption=True).button_mark_done()
