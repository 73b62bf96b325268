"""JSON-2 (Odoo 19+): POST /json/2/<model>/<method> with a bearer API key, plain JSON in and out, errors as
HTTP statuses; and its absence on 18.0."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from .conftest import Sandbox, make_sandbox


@pytest.fixture(scope="module")
def sandbox19(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    yield from make_sandbox(tmp_path_factory.mktemp("odoo19"), "19.0")


@pytest.fixture(scope="module")
def client(sandbox19: Sandbox) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"bearer {sandbox19.integration_key}", "X-Odoo-Database": "sandbox"}
    with httpx.Client(base_url=f"{sandbox19.url}/json/2", headers=headers) as http:
        yield http


UNPROCESSABLE = "werkzeug.exceptions.UnprocessableEntity"


def call(client: httpx.Client, model: str, method: str, **body: Any) -> Any:
    response = client.post(f"/{model}/{method}", json=body)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()


def error(response: httpx.Response, status: int, name: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"name", "message", "arguments", "context", "debug"}
    assert body["name"] == name
    return body


def test_manufacturing_order_over_json2(sandbox19: Sandbox, client: httpx.Client) -> None:
    gear = sandbox19.ids["products"]["GEAR-01"]
    ids = call(client, "mrp.production", "create", vals_list=[{"product_id": gear, "product_qty": 3}])
    assert isinstance(ids, list) and len(ids) == 1
    assert call(client, "mrp.production", "action_confirm", ids=ids) is True
    rows = call(
        client,
        "mrp.production",
        "search_read",
        domain=[["id", "in", ids]],
        fields=["name", "state", "lot_producing_ids"],
    )
    assert rows[0]["state"] == "confirmed" and rows[0]["lot_producing_ids"] == []
    assert call(client, "mrp.production", "write", ids=ids, vals={"qty_producing": 1}) is True
    lot = call(client, "stock.lot", "create", vals_list=[{"name": "J2-1", "product_id": gear}])
    call(client, "mrp.production", "write", ids=ids, vals={"lot_producing_ids": [[6, 0, lot]]})
    assert call(client, "mrp.production", "set_qty_producing", ids=ids) is None  # JSON null
    action = call(
        client,
        "mrp.production",
        "button_mark_done",
        ids=ids,
        context={"skip_backorder": True, "mo_ids_to_backorder": ids},
    )
    assert action["res_model"] == "mrp.production" and action["res_id"] not in ids
    fields = call(client, "mrp.production", "fields_get", attributes=["type"])
    assert "lot_producing_ids" in fields and "lot_producing_id" not in fields


def test_json2_errors_are_http_statuses(sandbox19: Sandbox, client: httpx.Client) -> None:
    url = f"{sandbox19.url}/json/2/mrp.production/search"
    body = error(httpx.post(url, json={"domain": []}), 401, "werkzeug.exceptions.Unauthorized")
    assert body["message"] == 'User not authenticated, use the "Authorization" header'
    bad = httpx.post(url, json={"domain": []}, headers={"Authorization": "bearer " + "0" * 40})
    assert error(bad, 401, "werkzeug.exceptions.Unauthorized")["arguments"] == ["Invalid apikey", 401]
    error(client.post("/no.such.model/search", json={}), 404, "werkzeug.exceptions.NotFound")
    missing = error(
        client.post("/mrp.production/no_such_method", json={}), 404, "werkzeug.exceptions.NotFound"
    )
    assert missing["message"] == "The method 'mrp.production.no_such_method' does not exist"
    error(client.post("/mrp.production/_post_inventory", json={}), 403, "odoo.exceptions.AccessError")
    error(
        client.post("/mrp.workcenter/write", json={"ids": [1], "vals": {"name": "x"}}),
        403,
        "odoo.exceptions.AccessError",
    )
    error(
        client.post("/mrp.production/search", json={"ids": [1], "domain": []}),
        422,
        "werkzeug.exceptions.UnprocessableEntity",
    )
    error(
        client.post("/mrp.production/search", json={"no_such_arg": 1}),
        422,
        "werkzeug.exceptions.UnprocessableEntity",
    )
    gear = sandbox19.ids["products"]["GEAR-01"]
    call(client, "stock.lot", "create", vals_list=[{"name": "J2-DUP", "product_id": gear}])
    dup = client.post("/stock.lot/create", json={"vals_list": [{"name": "J2-DUP", "product_id": gear}]})
    error(dup, 422, "odoo.exceptions.ValidationError")
    error(
        client.post("/mrp.production/write", json={"ids": [10**6], "vals": {"origin": "x"}}),
        404,
        "odoo.exceptions.MissingError",
    )
    assert client.get("/mrp.production/search").status_code == 404


def test_no_json2_on_18(sandbox: Sandbox) -> None:
    """Odoo 18's /json/<path> web-client route sends an anonymous caller to the login page."""
    response = httpx.post(
        f"{sandbox.url}/json/2/mrp.production/search_read",
        json={"domain": []},
        headers={"Authorization": f"bearer {sandbox.integration_key}"},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/web/login?redirect=%2Fjson%2F2%2Fmrp.production%2Fsearch_read%3F"


def test_name_search_takes_domain_on_19(client: httpx.Client) -> None:
    assert call(client, "mrp.workcenter", "name_search", name="CNC", domain=[])[0][1] == "CNC Mill 1"
    old_style = client.post("/mrp.workcenter/name_search", json={"name": "CNC", "args": []})
    assert error(old_style, 422, UNPROCESSABLE)["arguments"][1] == 422


def test_bad_bodies_are_bad_requests(client: httpx.Client) -> None:
    not_json = client.post(
        "/mrp.production/search", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert error(not_json, 400, "werkzeug.exceptions.BadRequest")["message"].startswith("could not parse")
    error(client.post("/mrp.production/search", json=[1, 2]), 400, "werkzeug.exceptions.BadRequest")
