"""The sandbox against real Odoo 18 exchanges (captures/odoo18): each request replayed, the answer compared
in structure (status, content type, envelope keys, error class and message, result type), not in volatile
values (ids, dates, tracebacks)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import Sandbox

CAPTURES = Path(__file__).resolve().parents[2] / "scenarios" / "odoo_sandbox" / "captures" / "odoo18"

#: captures whose request stands on its own (no record created earlier in the captured session);
#: value: how to compare the result ("exact", "type", "keys" = same dict keys, "subset" = ours has theirs)
REPLAYABLE = {
    "version_info": "keys",
    "common_version": "keys",
    "common_login_ok": "type",
    "common_login_wrong_key": "exact",
    "common_authenticate_ok": "type",
    "common_authenticate_wrong_key": "exact",
    "common_login_unknown_db": "error",
    "execute_kw_wrong_key": "error",
    "json2_absent": "raw",
    "session_authenticate_ok": "session",
    "session_authenticate_with_api_key": "error",
    "jsonrpc_malformed_body": "raw",
    "access_error_ir_model": "error",
    "write_unknown_field": "error",
    "read_missing_id": "exact",
    "write_missing_id": "error_name",
    "access_error_write_workcenter": "error",
    "access_error_create_product": "error",
    "unknown_model": "error",
    "unknown_method": "error",
    "private_method": "error",
    "wrong_arity": "error",
    "sql_constraint_qty_positive": "error",
    "productivity_loss_search_read": "records",
    "res_groups_search_read_full_name": "records_noid",
    "res_users_has_group_explicit": "exact",
    "res_users_has_group_implied": "exact",
    "res_users_has_group_keyword": "exact",
    "res_users_has_group_unknown_xmlid": "exact",
    "res_users_has_group_no_ids": "error",
    "workcenter_unblock_missing_id": "error_user",
}

#: session_info keys the sandbox gives (the captured answer has many more for the web client)
SESSION_KEYS = {
    "uid",
    "is_system",
    "is_admin",
    "is_public",
    "is_internal_user",
    "user_context",
    "db",
    "name",
    "username",
    "partner_display_name",
    "partner_id",
    "server_version",
    "server_version_info",
    "support_url",
    "user_companies",
    "web.base.url",
    "active_ids_limit",
    "max_file_upload_size",
}


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CAPTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def captures_present() -> bool:
    return CAPTURES.is_dir() and any(CAPTURES.glob("*.json"))


pytestmark = pytest.mark.skipif(not captures_present(), reason="no Odoo 18 captures yet")


def substitute(value: Any, sandbox: Sandbox) -> Any:
    """Put the sandbox's database, user and secrets where the capture has the real ones."""
    if isinstance(value, list):
        return [substitute(v, sandbox) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, sandbox) for k, v in value.items()}
    return (
        {
            "<API_KEY>": sandbox.integration_key,
            "<PASSWORD>": "bridge-password",
            "<ADMIN_PASSWORD>": "admin",
            "uns": sandbox.server.db_name,
            "uns-bridge": "integration",
        }.get(value, value)
        if isinstance(value, str)
        else value
    )


def replay(sandbox: Sandbox, capture: dict[str, Any]) -> httpx.Response:
    request = capture["request"]
    headers = {
        k: v for k, v in request.get("headers", {}).items() if k.lower() not in ("cookie", "authorization")
    }
    body = request.get("json")
    if body is not None and isinstance(body.get("params"), dict):
        params = substitute(body["params"], sandbox)
        if params.get("service") == "object":
            params["args"][1] = sandbox.integration_uid if params["args"][1] == 6 else params["args"][1]
            if params["args"][3] == "res.users" and params["args"][5][:1] == [[6]]:
                params["args"][5][0] = [sandbox.integration_uid]  # the captured user's own record
        body = {**body, "params": params}
    content = json.dumps(body).encode() if body is not None else request.get("body", "{not json").encode()
    with httpx.Client(base_url=sandbox.url, follow_redirects=False) as client:
        return client.request(request["method"], request["path"], content=content, headers=headers)


def without_ids(value: Any) -> Any:
    """Records with their ids out (and many2one pairs as their names): ids differ between databases."""
    if isinstance(value, list):
        if len(value) == 2 and isinstance(value[0], int) and isinstance(value[1], str):
            return value[1]
        return [without_ids(v) for v in value]
    if isinstance(value, dict):
        return {k: without_ids(v) for k, v in value.items() if k != "id"}
    return value


def strip_volatile(error: dict[str, Any]) -> dict[str, Any]:
    data = {k: v for k, v in error["data"].items() if k != "debug"}
    return {**error, "data": data}


@pytest.fixture(scope="module")
def with_password(sandbox: Sandbox) -> Sandbox:
    from scenarios.odoo_sandbox import security

    def set_password() -> None:
        env = sandbox.server.env()
        env["res.users"].browse(sandbox.integration_uid).write(
            {"password": security.hash_secret("bridge-password")}
        )

    sandbox.server.registry.transaction(set_password)
    return sandbox


@pytest.mark.parametrize("name", sorted(REPLAYABLE))
def test_replayed_exchange_matches_real_odoo(with_password: Sandbox, name: str) -> None:
    capture = load(name)
    expected = capture["response"]
    got = replay(with_password, capture)
    assert got.status_code == expected["status"]
    exp_type = expected["headers"].get("Content-Type", "")
    assert got.headers["Content-Type"].split(";")[0] == exp_type.split(";")[0]
    mode = REPLAYABLE[name]
    if mode == "raw":
        assert got.text == expected.get("text", expected.get("body", got.text))
        if "Location" in expected["headers"]:
            assert got.headers["Location"] == expected["headers"]["Location"]
        return
    ours, theirs = got.json(), expected["json"]
    assert set(ours) == set(theirs), "envelope keys"
    if "error" in theirs:
        assert "error" in ours
        assert isinstance(ours["error"]["data"]["debug"], str) and ours["error"]["data"]["debug"]
        if mode == "error_user":  # the message names the calling user's id
            uid = re.compile(r"User: \d+")
            ours_text, theirs_text = (json.dumps(strip_volatile(e["error"])) for e in (ours, theirs))
            assert uid.sub("User: ID", ours_text) == uid.sub("User: ID", theirs_text)
        elif mode == "error_name":
            assert ours["error"]["data"]["name"] == theirs["error"]["data"]["name"]
            assert set(ours["error"]["data"]) == set(theirs["error"]["data"])
        else:
            assert strip_volatile(ours["error"]) == strip_volatile(theirs["error"])
        return
    result, real = ours.get("result"), theirs.get("result")
    if mode == "exact":
        assert result == real
    elif mode == "type":
        assert type(result) is type(real)
    elif mode == "keys":
        assert set(result) == set(real)
        assert result["server_version_info"][:2] == real["server_version_info"][:2]
    elif mode == "session":
        assert set(real) >= SESSION_KEYS and set(result) >= SESSION_KEYS
        assert result["user_context"].keys() == real["user_context"].keys()
        assert "session_id=" in got.headers["Set-Cookie"]
        assert "HttpOnly" in got.headers["Set-Cookie"] and "Max-Age=604800" in got.headers["Set-Cookie"]
    elif mode == "records_noid":
        assert without_ids(result) == without_ids(real)
    elif mode == "records":
        assert [(r["name"], r["loss_type"], r["manual"]) for r in result] == [
            (r["name"], r["loss_type"], r["manual"]) for r in real
        ]


def test_every_capture_is_a_well_formed_envelope_the_sandbox_also_uses() -> None:
    """Each JSON-RPC answer is {jsonrpc, id} plus result or error (neither when the method returned None)."""
    from scenarios.odoo_sandbox.jsonrpc import envelope

    for path in sorted(CAPTURES.glob("*.json")):
        if path.name == "INDEX.json":
            continue
        answer = json.loads(path.read_text())["response"].get("json")
        if not isinstance(answer, dict):
            continue
        ours = envelope(
            answer["id"],
            result=answer.get("result"),
            error=None if "error" not in answer else RuntimeError("x"),
        )
        assert set(ours) == set(answer), path.name
        if "error" in answer:
            assert set(ours["error"]) == set(answer["error"]) == {"code", "message", "data"}
            assert set(ours["error"]["data"]) == set(answer["error"]["data"]), path.name


def test_every_field_the_captures_use_exists_in_the_sandbox() -> None:
    """Fields read, searched, created or written in the real exchanges are fields of the sandbox's models."""
    from scenarios.odoo_sandbox.registry import MODEL_CLASSES

    unknown = set()
    for path in CAPTURES.glob("*.json"):
        request = json.loads(path.read_text()).get("request", {})
        params = (request.get("json") or {}).get("params") or {}
        if params.get("service") != "object" or params["args"][4] not in (
            "read",
            "search_read",
            "create",
            "write",
        ):
            continue
        model, method, rest = params["args"][3], params["args"][4], params["args"][5:]
        args, kwargs = (rest[0] if rest else []), (rest[1] if len(rest) > 1 else {})
        if method in ("read", "search_read"):
            names = kwargs.get("fields") or (args[1] if len(args) > 1 else [])
        else:
            vals = args[0] if method == "create" else args[1]
            names = [k for v in (vals if isinstance(vals, list) else [vals]) for k in v]
        cls = MODEL_CLASSES.get(model)
        unknown |= {(model, n) for n in names if cls is None or n not in cls._fields}
    assert unknown <= {("mrp.production", "no_such_field"), ("no.such.model", "name")}
