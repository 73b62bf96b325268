"""Error classes from Odoo's exception names and HTTP statuses; field names per Odoo version."""

from __future__ import annotations

import pytest

from odoo_sync.dialect import dialect_for
from odoo_sync.errors import OdooAuthError, OdooPermanentError, OdooTransientError, classify
from odoo_sync.lookup import root_name
from odoo_sync.transport import default_flavour, major_version
from odoo_sync.write_base import event_ids_in, marker, odoo_datetime, recordset_id


@pytest.mark.parametrize(
    ("name", "status", "expected"),
    [
        ("odoo.exceptions.AccessError", None, OdooPermanentError),
        ("odoo.exceptions.ValidationError", None, OdooPermanentError),
        ("odoo.exceptions.UserError", None, OdooPermanentError),
        ("odoo.exceptions.MissingError", None, OdooPermanentError),
        ("odoo.exceptions.AccessDenied", None, OdooAuthError),
        ("werkzeug.exceptions.Unauthorized", 401, OdooAuthError),
        ("psycopg2.errors.SerializationFailure", None, OdooTransientError),
        ("psycopg2.extensions.TransactionRollbackError", None, OdooTransientError),
        ("odoo.http.SessionExpiredException", None, OdooTransientError),
        ("psycopg2.OperationalError", None, OdooTransientError),
        ("HTTP 502", 502, OdooTransientError),
        ("HTTP 503", 503, OdooTransientError),
        ("HTTP 429", 429, OdooTransientError),
        ("werkzeug.exceptions.UnprocessableEntity", 422, OdooPermanentError),
        ("builtins.ValueError", None, OdooPermanentError),
        ("some.module.UnknownError", None, OdooPermanentError),
    ],
)
def test_classify(name: str, status: int | None, expected: type) -> None:
    error = classify("mrp.production.write", name, "the message", http_status=status)
    assert type(error) is expected
    assert error.remote_error == f"{name}: the message"
    assert "mrp.production.write" in str(error)


def test_versions_and_flavours() -> None:
    assert [major_version(v) for v in ("16.0", "17.0+e", "saas~17.4", "18.0-20250421", "19.0", "x")] == [
        16,
        17,
        17,
        18,
        19,
        0,
    ]
    assert default_flavour("18.0") == "jsonrpc" and default_flavour("19.0") == "json2"
    assert default_flavour("saas~18.3") == "jsonrpc"


def test_dialects() -> None:
    v16, v17, v18, v19 = (dialect_for(v) for v in ("16.0", "17.0", "18.0", "19.0"))
    assert (v16.mo_date_start, v17.mo_date_start) == ("date_planned_start", "date_start")
    assert v16.move_consumed(2.5) == {"quantity_done": 2.5}
    assert v18.move_consumed(2.5) == {"quantity": 2.5, "picked": True}
    assert v18.lot_producing_field == "lot_producing_id" and v18.lot_producing_value(7) == 7
    assert v19.lot_producing_field == "lot_producing_ids" and v19.lot_producing_value(7) == [(6, 0, [7])]
    assert v18.lot_producing_ids([7, "L1"]) == [7] and v19.lot_producing_ids([7, 8]) == [7, 8]
    assert v18.lot_producing_ids(False) == []
    assert v18.storable_product() == {"type": "consu", "is_storable": True}
    assert v17.storable_product() == {"detailed_type": "product"}
    assert not v16.has_set_qty_producing and v17.has_set_qty_producing
    assert dialect_for("garbage").major == 18


def test_backorder_names_and_markers() -> None:
    assert root_name("WH/MO/00001-002") == "WH/MO/00001"
    assert root_name("WH/MO/00001") == "WH/MO/00001"
    assert root_name("MO-7") == "MO-7"  # a dash and one digit is part of the name, not a backorder
    eid = "0f8fad5b-d9cb-569f-a165-70867728950e"
    assert event_ids_in(f"Tool breakage {marker(eid)} ended {marker(eid)}") == [eid, eid]
    assert recordset_id("mail.activity(12,)") == 12 and recordset_id([4]) == 4 and recordset_id(None) is None
    assert odoo_datetime(1_764_150_000_000) == "2025-11-26 09:40:00"
