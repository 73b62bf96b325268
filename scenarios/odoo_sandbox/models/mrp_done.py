"""Marking manufacturing orders done: quantity and consumption checks, backorder split, inventory posting
(Odoo 18 mrp_production.py: pre_button_mark_done, button_mark_done, _split_productions, _post_inventory)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ..errors import UserError
from ..fields import now_string
from ..orm import Model
from .mrp_bom import window_action_dict
from .mrp_production import EPS, _lots, backorder_name, is_manual_consumption


def pre_mark_done(productions: Model) -> Any:
    for mo in productions:
        if mo.state in ("cancel", "done"):
            continue
        if mo.state == "draft":
            mo.action_confirm()  # Odoo's _action_done confirms draft moves on the way
        if abs(mo.qty_producing) > EPS:
            # Manual moves nobody picked are consumed with what they hold (reservation, BoM share).
            mo.move_raw_ids.filtered(lambda m: m.manual_consumption and not m.picked).write({"picked": True})
            continue
        if not _auto_production_checks(mo):
            return window_action_dict(
                mo.env, "mrp.action_mrp_batch_produce", {"default_production_id": mo.id}
            )
        _set_quantities(mo)
    issues = _consumption_issues(productions)
    if issues:
        return productions._consumption_action(issues)
    if not productions.env.context.get("skip_backorder"):
        short = [mo for mo in productions if mo.product_qty - mo.qty_producing > EPS]
        if short:
            return productions._backorder_action(short)
    return True


def _auto_production_checks(mo: Model) -> bool:
    """Whether marking done from zero may produce everything without asking for serial numbers."""
    products = mo.move_raw_ids.mapped("product_id") | mo.move_finished_ids.mapped("product_id")
    return (
        all(p.tracking == "none" for p in products)
        or mo.product_qty == 1
        or (
            mo.product_id.tracking != "serial"
            and mo.reservation_state in ("assigned", "confirmed", "waiting")
        )
    )


def _set_quantities(mo: Model) -> None:
    """_set_quantities: a lot is generated when missing, one serial or everything is produced, and the
    components follow (_set_qty_producing)."""
    if mo.product_id.tracking in ("lot", "serial") and not _lots(mo):
        lot = mo.env["stock.lot"].create(
            {
                "name": f"{mo.env.registry.next_by_code('stock.lot.serial'):07d}",
                "product_id": mo.product_id.id,
                "company_id": mo.company_id.id,
            }
        )
        field = "lot_producing_ids" if "lot_producing_ids" in mo._fields else "lot_producing_id"
        Model.write(mo, {field: [(6, 0, lot.ids)] if field == "lot_producing_ids" else lot.id})
    produce = 1.0 if mo.product_id.tracking == "serial" else mo.product_qty - mo.qty_produced
    Model.write(mo, {"qty_producing": produce})
    mo._set_qty_producing()
    mo._recompute_state()


def _consumption_issues(productions: Model) -> list[tuple[Model, Model, float, float]]:
    """_get_consumption_issues: picked quantities against the BoM's share for qty_producing."""
    issues: list[tuple[Model, Model, float, float]] = []
    if productions.env.context.get("skip_consumption"):
        return issues
    for mo in productions:
        bom = mo.bom_id.sudo()
        if mo.consumption == "flexible" or not bom or not bom.bom_line_ids:
            continue
        expected: dict[int, float] = defaultdict(float)
        products: dict[int, Model] = {}
        for line in bom.bom_line_ids:
            share = line.product_qty * mo.product_qty / (bom.product_qty or 1.0)
            expected[line.product_id.id] += share * mo.qty_producing / mo.product_qty
            products[line.product_id.id] = line.product_id
        done: dict[int, float] = defaultdict(float)
        for move in mo.move_raw_ids:
            quantity = move.quantity if move.picked else 0.0
            if move.product_id.id not in expected and move.picked and abs(move.quantity) > EPS:
                issues.append((mo, move.product_id, move.quantity, 0.0))
                continue
            done[move.product_id.id] += quantity
        for product_id, qty in expected.items():
            rounding = products[product_id].uom_id.rounding or 0.01
            if abs(round(qty / rounding) - round(done.get(product_id, 0.0) / rounding)) > 0:
                issues.append((mo, products[product_id], done.get(product_id, 0.0), qty))
    return issues


def mark_done(productions: Model) -> Any:
    # Odoo 18 answers True for done and cancelled orders and leaves them as they are (checked on 18.0)
    productions = productions.filtered(lambda mo: mo.state not in ("done", "cancel"))
    if not productions:
        return True
    res = pre_mark_done(productions)
    if res is not True:
        return res
    env = productions.env
    to_backorder = productions.browse(env.context.get("mo_ids_to_backorder") or [])
    to_backorder = productions.browse([i for i in to_backorder.ids if i in productions.ids])
    productions.mapped("workorder_ids").button_finish()
    backorders = split_productions(to_backorder) if to_backorder else productions.browse(())
    for mo in productions:
        _post_inventory(mo)
    for mo in productions - to_backorder:
        (mo.move_raw_ids | mo.move_finished_ids).filtered(lambda m: m.state not in ("done", "cancel")).write(
            {"state": "done", "product_uom_qty": 0.0}
        )
    for mo in productions:
        Model.write(mo, {"date_finished": now_string(), "priority": "0", "is_locked": True, "state": "done"})
    if env.context.get("skip_redirection") or not backorders:
        return True
    ctx = {k: v for k, v in env.context.items() if not k.startswith("default_")}
    ctx = {k: (False if k.startswith("skip_") else v) for k, v in ctx.items()}
    action: dict[str, Any] = {
        "res_model": "mrp.production",
        "type": "ir.actions.act_window",
        "context": dict(ctx, mo_ids_to_backorder=None),
    }
    if len(backorders) == 1:
        action.update({"views": [[False, "form"]], "view_mode": "form", "res_id": backorders.ids[0]})
    else:
        action.update(
            {
                "name": "Backorder MO",
                "domain": [["id", "in", backorders.ids]],
                "views": [[False, "list"], [False, "form"]],
                "view_mode": "list,form",
            }
        )
    return action


def split_productions(productions: Model) -> Model:
    """_split_productions with default amounts [qty_producing, rest]: rename, shrink, create backorders."""
    backorders = productions.browse(())
    for mo in productions.sudo():
        initial_qty = mo.product_qty
        remainder = max(mo.product_qty - mo.qty_producing, 0.0)
        if remainder <= EPS:
            continue
        if mo.backorder_sequence == 0:
            Model.write(mo, {"backorder_sequence": 1})
        mo_name = backorder_name(mo.name, mo.backorder_sequence)
        Model.write(mo, {"name": mo_name, "product_qty": mo.qty_producing})
        (mo.move_raw_ids | mo.move_finished_ids).write({"name": mo_name})
        group = mo.procurement_group_id
        next_seq = max(group.mrp_production_ids.mapped("backorder_sequence") or [1]) + 1
        backorder = mo.with_context(skip_moves=True).create(
            {
                "name": backorder_name(mo_name, next_seq),
                "backorder_sequence": next_seq,
                "product_id": mo.product_id.id,
                "product_qty": remainder,
                "product_uom_id": mo.product_uom_id.id,
                "bom_id": mo.bom_id.id,
                "consumption": mo.consumption,
                "origin": mo.origin,
                "procurement_group_id": group.id,
                "date_start": mo.date_start,
                "date_deadline": mo.date_deadline,
                "user_id": mo.user_id.id,
                "company_id": mo.company_id.id,
            }
        )
        Model.write(backorder, {"state": "confirmed"})
        for move in mo.move_raw_ids | mo.move_finished_ids:
            unit_factor = move.product_uom_qty / initial_qty if initial_qty else 0.0
            move.write({"product_uom_qty": mo.product_qty * unit_factor})
            link = "raw_material_production_id" if move.raw_material_production_id else "production_id"
            move.create(
                {
                    "name": backorder.name,
                    "origin": move.origin,
                    "product_id": move.product_id.id,
                    "product_uom_qty": remainder * unit_factor,
                    "product_uom": move.product_uom.id,
                    link: backorder.id,
                    "bom_line_id": move.bom_line_id.id,
                    "state": "confirmed",
                    # _get_backorder_move_vals: from the BoM line again, not the move's own flag (checked
                    # on 18.0: a move the bridge made manual gives a non-manual move on the backorder)
                    "manual_consumption": is_manual_consumption(move.bom_line_id),
                }
            )
        backorder.move_raw_ids._reserve()
        for wo in mo.workorder_ids:
            wo.create(
                {
                    "name": wo.name,
                    "workcenter_id": wo.workcenter_id.id,
                    "production_id": backorder.id,
                    "operation_id": wo.operation_id.id,
                    "sequence": wo.sequence,
                    "state": "ready",
                }
            )
        backorders |= backorder
    return backorders.with_env(productions.env)


def _post_inventory(mo: Model) -> None:
    """Picked components are consumed, unpicked ones cancelled; the finished move gets qty and lot."""
    for move in mo.move_raw_ids:
        if move.state in ("done", "cancel"):
            continue
        # stock.move._action_done(cancel_backorder=True): nothing picked, or picked with nothing, is cancelled
        done = move.picked and move.quantity > EPS
        move.write({"state": "done"} if done else {"state": "cancel", "picked": False})
    finished = mo.move_finished_ids.filtered(
        lambda m: m.product_id.id == mo.product_id.id and m.state not in ("done", "cancel")
    )
    lots = _lots(mo)
    if finished and mo.product_id.tracking in ("lot", "serial") and not lots:
        raise UserError(
            f"You need to supply a Lot/Serial Number for product:\n- {mo.product_id.display_name}"
        )
    for move in finished:
        move.write(
            {
                "quantity": mo.qty_producing - mo.qty_produced,
                "picked": True,
                "state": "done",
                "lot_ids": [(6, 0, lots.ids)],
            }
        )


def consumption_action(self: Model, issues: list[tuple[Model, Model, float, float]]) -> dict[str, Any]:
    lines = [
        [
            0,
            0,
            {
                "mrp_production_id": mo.id,
                "product_id": product.id,
                "consumption": mo.consumption,
                "product_uom_id": product.uom_id.id,
                "product_consumed_qty_uom": consumed,
                "product_expected_qty_uom": expected,
            },
        ]
        for mo, product, consumed, expected in issues
    ]
    ctx = dict(self.env.context)
    ctx.update(
        {
            "default_mrp_production_ids": self.ids,
            "default_mrp_consumption_warning_line_ids": lines,
            "form_view_ref": False,
        }
    )
    return window_action_dict(self.env, "mrp.action_mrp_consumption_warning", ctx)


def backorder_action(self: Model, issues: list[Model]) -> dict[str, Any]:
    lines = [[0, 0, {"mrp_production_id": mo.id, "to_backorder": True}] for mo in issues]
    ctx = dict(self.env.context)
    ctx.setdefault("always_backorder_mo_ids", [])
    ctx.update({"default_mrp_production_ids": self.ids, "default_mrp_production_backorder_line_ids": lines})
    return window_action_dict(self.env, "mrp.action_mrp_production_backorder", ctx)
