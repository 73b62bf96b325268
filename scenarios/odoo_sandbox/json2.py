"""Odoo 19's JSON-2 API: POST /json/2/<model>/<method>, bearer API key, plain JSON in and out, HTTP statuses
for errors (addons/web/controllers/json2.py and base/models/ir_http.py _auth_method_bearer of 19.0)."""

from __future__ import annotations

import inspect
import json
import re
from typing import TYPE_CHECKING, Any

from .errors import (
    BadRequest,
    NotFound,
    OdooError,
    PyTypeError,
    Unauthorized,
    UnprocessableEntity,
    UserError,
    serialize_exception,
)
from .orm import Model
from .registry import Env
from .rpc import MethodMissing, downgrade, public_method
from .security import api_key_user

if TYPE_CHECKING:
    from .server import SandboxServer

BEARER = re.compile(r"^bearer\s+(.+)$", re.IGNORECASE)


def handle(server: SandboxServer, method_http: str, path: str, headers: Any, body: bytes) -> tuple[int, Any]:
    """Returns (HTTP status, JSON-able body)."""
    try:
        return 200, _handle(server, method_http, path, headers, body)
    except Exception as exc:
        return _error(exc)


def _error(exc: BaseException) -> tuple[int, Any]:
    if isinstance(exc, BadRequest | NotFound | Unauthorized | UnprocessableEntity):
        message = str(exc.args[0]) if exc.args else ""
        return exc.http_status, serialize_exception(
            exc, message=message, arguments=[message, exc.http_status]
        )
    if isinstance(exc, UserError):
        return exc.http_status, serialize_exception(exc)
    return 500, serialize_exception(exc)


def _handle(server: SandboxServer, method_http: str, path: str, headers: Any, body: bytes) -> Any:
    parts = path.strip("/").split("/")
    if len(parts) != 4 or method_http != "POST":
        raise NotFound("Did you mean POST /json/2/<model>/<method>?")
    model, name = parts[2], parts[3]
    params: dict[str, Any] = {}
    if body:
        try:
            params = json.loads(body)
        except ValueError as exc:
            raise BadRequest(f"could not parse the body as json: {exc.args[0]}") from None
        if not isinstance(params, dict):
            raise BadRequest("could not parse the body, expecting a json object")
    registry = server.registry
    database = headers.get("X-Odoo-Database")
    if database and database != registry.db_name:
        raise NotFound(f"database {database!r} not found")
    match = BEARER.match(headers.get("Authorization", "") or "")
    if not match:
        raise Unauthorized('User not authenticated, use the "Authorization" header')
    token = match.group(1).strip()
    uid = registry.transaction(lambda: api_key_user(Env(registry, 1, su=True), token))
    if uid is None:
        raise Unauthorized("Invalid apikey")
    ids = params.pop("ids", [])
    context = params.pop("context", {}) or {}

    def run() -> Any:
        env = Env(registry, uid, context=dict(context))
        if model not in env:
            raise NotFound(f"the model {model!r} does not exist")
        recs = env[model]
        try:
            func = public_method(recs, name)
        except MethodMissing as exc:
            raise NotFound(str(exc.args[0])) from None
        if func._rpc == "model" and ids:
            raise UnprocessableEntity(f"cannot call {model}.{name} with ids")
        records = recs.browse(ids)
        try:
            inspect.signature(func).bind(records, **params)
        except TypeError as exc:
            raise UnprocessableEntity(exc.args[0]) from None
        try:
            result = func(records, **params)
        except PyTypeError as exc:  # a parameter this version's signature does not have (bind() in Odoo)
            raise UnprocessableEntity(str(exc.args[0])) from None
        if isinstance(result, Model):
            return result.ids
        return downgrade(func, name, result, single_create=False)

    return registry.transaction(run)


def is_json2(path: str) -> bool:
    return path == "/json/2" or path.startswith("/json/2/")


__all__ = ["OdooError", "handle", "is_json2"]
