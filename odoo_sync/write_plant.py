"""Work center and equipment writes: downtime blocks, quality holds, maintenance requests."""

from __future__ import annotations

import html
from typing import Any

from odoo_sync.errors import OdooPermanentError
from odoo_sync.lookup import order_chain
from odoo_sync.write_base import (
    Outcome,
    WriteContext,
    marker,
    odoo_date,
    odoo_datetime,
    post_note,
    recordset_id,
)
from uns_model.events import (
    DowntimeEnded,
    DowntimeStarted,
    MaintenanceRequested,
    QualityDeviation,
)

TIME_LOG = "mrp.workcenter.productivity"
REQUEST = "maintenance.request"
#: Odoo's maintenance priority: '0' very low .. '3' high.
PRIORITY = {"very_low": "0", "low": "1", "normal": "2", "high": "3"}


def _find_log(ctx: WriteContext, event_id: str) -> dict[str, Any] | None:
    rows = ctx.client.search_read(
        TIME_LOG, [("description", "ilike", event_id)], ["date_end", "description"], limit=1
    )
    return rows[0] if rows else None


def downtime_started(ctx: WriteContext, e: DowntimeStarted) -> Outcome:
    found = _find_log(ctx, e.event_id)
    if found:
        return Outcome(TIME_LOG, [int(found["id"])], False)
    wc = ctx.master.workcenter(e.workcenter)
    loss = ctx.master.loss(e.odoo_loss, e.loss_type)
    order = f", order {e.external_work_order_id}" if e.external_work_order_id else ""
    log_id = ctx.client.create(
        TIME_LOG,
        {
            "workcenter_id": wc["id"],
            "loss_id": loss["id"],
            "date_start": odoo_datetime(e.started_unix_ms),
            "description": f"{e.reason} (state {e.state_code} at {e.place}{order}) {marker(e.event_id)}",
        },
    )
    return Outcome(TIME_LOG, [log_id], True, [f"{loss['name']} on {wc['name']} open"])


def downtime_ended(ctx: WriteContext, e: DowntimeEnded) -> Outcome:
    found = _find_log(ctx, e.started_event_id)
    end = odoo_datetime(e.ended_unix_ms)
    if found:
        if found["date_end"]:
            return Outcome(TIME_LOG, [int(found["id"])], False)
        description = f"{found['description']} ended {marker(e.event_id)}"
        ctx.client.write(TIME_LOG, [int(found["id"])], {"date_end": end, "description": description})
        return Outcome(TIME_LOG, [int(found["id"])], True, [f"closed at {end} UTC"])
    # The start never reached Odoo (parked as a dead letter, or the bridge started mid-stop): the whole
    # interval in one record, named by both events; a replay finds it by this event's id.
    mine = _find_log(ctx, e.event_id)
    if mine:
        return Outcome(TIME_LOG, [int(mine["id"])], False)
    wc = ctx.master.workcenter(e.workcenter)
    loss = ctx.master.loss(e.odoo_loss, e.loss_type)
    log_id = ctx.client.create(
        TIME_LOG,
        {
            "workcenter_id": wc["id"],
            "loss_id": loss["id"],
            "date_start": odoo_datetime(e.started_unix_ms),
            "date_end": end,
            "description": f"{e.reason} (state {e.state_code} at {e.place}) "
            f"{marker(e.started_event_id)} ended {marker(e.event_id)}",
        },
    )
    return Outcome(TIME_LOG, [log_id], True, ["start not found: whole interval written"])


def _deviation_text(e: QualityDeviation) -> str:
    unit = f" {e.unit}" if e.unit else ""
    bound = e.low if e.limit == "low" else e.high
    side = "below" if e.limit == "low" else "above"
    lot = f", lot {e.lot}" if e.lot else ""
    return f"{e.tag_path} = {e.value:g}{unit} {side} {bound:g}{unit} at {e.place}{lot}"


def quality_deviation(ctx: WriteContext, e: QualityDeviation) -> Outcome:
    """A quality hold: a quality-loss block on the work center (it shows blocked until someone
    unblocks it, which releases the hold) and a warning activity on the order."""
    client = ctx.client
    out = Outcome(TIME_LOG, [], False)
    text = _deviation_text(e)
    if e.workcenter:
        found = _find_log(ctx, e.event_id)
        if found:
            out.ids = [int(found["id"])]
        else:
            wc = ctx.master.workcenter(e.workcenter)
            loss = ctx.master.loss(None, "quality")
            out.ids = [
                client.create(
                    TIME_LOG,
                    {
                        "workcenter_id": wc["id"],
                        "loss_id": loss["id"],
                        "date_start": odoo_datetime(e.detected_unix_ms),
                        "description": f"Quality hold: {text} {marker(e.event_id)}",
                    },
                )
            ]
            out.changed = True
            out.notes.append(f"{wc['name']} blocked ({loss['name']})")
    chain = None
    if e.external_work_order_id:
        try:
            chain = order_chain(client, e.external_work_order_id)
        except OdooPermanentError:
            # The work center is held all the same; an unknown order must not undo that.
            out.notes.append(f"order {e.external_work_order_id} not found: no activity")
    if chain is not None:
        mo = chain.open_order or chain.orders[-1]
        activity = _warning_activity(ctx, int(mo["id"]), chain.ids, e, text)
        if activity is not None:
            out.changed = True
            out.notes.append(f"mail.activity {activity} on {mo['name']}")
            if not out.ids:
                out.model, out.ids = "mail.activity", [activity]
    if ctx_has_quality_alert(ctx):
        alert = _quality_alert(ctx, e, text)
        if alert is not None:
            out.changed = True
            out.notes.append(f"quality.alert {alert}")
    if not out.ids and not out.changed:
        out.notes.append("no work center nor order to hold")
    return out


def _warning_activity(
    ctx: WriteContext, mo_id: int, chain_ids: list[int], e: QualityDeviation, text: str
) -> int | None:
    domain = [
        ("res_model", "=", "mrp.production"),
        ("res_id", "in", chain_ids),
        ("note", "ilike", e.event_id),
    ]
    if ctx.client.search_count("mail.activity", domain):
        return None
    note = f"<p>Quality hold from the plant: {html.escape(text)} {marker(e.event_id)}</p>"
    params = {
        "act_type_xmlid": "mail.mail_activity_data_warning",
        "summary": f"Quality hold: {e.tag_path}",
        "note": note,
        "date_deadline": odoo_date(e.detected_unix_ms),
    }
    # activity_schedule is public and needs no read access to ir.model (which a least-privilege
    # user lacks), unlike creating mail.activity with res_model_id.
    result = ctx.client.call("mrp.production", "activity_schedule", [mo_id], params)
    return recordset_id(result)


def ctx_has_quality_alert(ctx: WriteContext) -> bool:
    """Enterprise quality (quality.alert) installed? Asked once per writer."""
    if ctx.quality_alert is None:
        ctx.quality_alert = ctx.client.model_exists("quality.alert")
    return ctx.quality_alert


def _quality_alert(ctx: WriteContext, e: QualityDeviation, text: str) -> int | None:
    client = ctx.client
    if client.search("quality.alert", [("description", "ilike", e.event_id)], limit=1):
        return None
    values: dict[str, Any] = {
        "title": f"Quality hold: {e.tag_path}",
        "description": f"<p>{html.escape(text)} {marker(e.event_id)}</p>",
    }
    if e.workcenter:
        values["workcenter_id"] = ctx.master.workcenter(e.workcenter)["id"]
    return client.create("quality.alert", values)


def _request_name(e: MaintenanceRequested) -> str:
    if e.trigger == "alarm":
        return f"{e.equipment}: alarm {e.tag_path}"
    return f"{e.equipment}: {e.runtime_hours:g} h run (every {e.threshold_h:g} h)"


def maintenance_requested(ctx: WriteContext, e: MaintenanceRequested) -> Outcome:
    client = ctx.client
    # active_test off: an archived request still holds the event (maintenance.request archives by
    # its own 'archive' field in 18, by 'active' elsewhere).
    mine = client.search(
        REQUEST, [("description", "ilike", e.event_id)], limit=1, context={"active_test": False}
    )
    if mine:
        return Outcome(REQUEST, mine, False)
    equipment = ctx.master.equipment(e.equipment_serial)
    alarm_key = f"[uns-alarm:{e.place}/{e.tag_path}]"
    open_same = client.search(
        REQUEST,
        [
            ("equipment_id", "=", equipment["id"]),
            ("stage_id.done", "=", False),
            ("description", "ilike", alarm_key),
        ],
        limit=1,
    )
    if open_same:
        # The same alarm again while its request is still open: one request, the event named in it.
        post_note(client, REQUEST, open_same[0], e.event_id, f"{_request_name(e)} raised again")
        return Outcome(REQUEST, open_same, False, ["open request for this alarm exists"])
    when = odoo_datetime(e.raised_unix_ms)
    body = (
        f"<p>{html.escape(_request_name(e))} at {html.escape(e.place)}, {when} UTC. "
        f"{html.escape(alarm_key)} {marker(e.event_id)}</p>"
    )
    request_id = client.create(
        REQUEST,
        {
            "name": _request_name(e),
            "equipment_id": equipment["id"],
            "maintenance_type": "corrective" if e.trigger == "alarm" else "preventive",
            "priority": PRIORITY.get(e.priority, "2"),
            "request_date": odoo_date(e.raised_unix_ms),
            "description": body,
        },
    )
    return Outcome(REQUEST, [request_id], True, [f"request for {equipment['name']}"])
