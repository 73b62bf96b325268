"""Odoo's exceptions as the sandbox raises them, with their wire names and JSON-2 HTTP statuses."""

from __future__ import annotations

import traceback
from typing import Any


class OdooError(Exception):
    """An exception that crosses the wire under Odoo's fully qualified class name."""

    wire_name = "builtins.Exception"
    #: HTTP status in the JSON-2 protocol (odoo/exceptions.py of 19.0: ``http_status``)
    http_status = 500

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.context: dict[str, Any] = {}


class UserError(OdooError):
    wire_name = "odoo.exceptions.UserError"
    http_status = 422


class AccessDenied(UserError):
    """Bad login or key; Odoo strips the traceback of this one."""

    wire_name = "odoo.exceptions.AccessDenied"
    http_status = 401

    def __init__(self, message: str = "Access Denied") -> None:
        super().__init__(message)


class AccessError(UserError):
    wire_name = "odoo.exceptions.AccessError"
    http_status = 403


class MissingError(UserError):
    wire_name = "odoo.exceptions.MissingError"
    http_status = 404


class ValidationError(UserError):
    wire_name = "odoo.exceptions.ValidationError"
    http_status = 422


class PyValueError(OdooError):
    """Odoo lets Python's ValueError through (bad field names, bad domains)."""

    wire_name = "builtins.ValueError"


class PyAttributeError(OdooError):
    wire_name = "builtins.AttributeError"


class PyTypeError(OdooError):
    wire_name = "builtins.TypeError"


class PyKeyError(OdooError):
    wire_name = "builtins.KeyError"


class NotFound(OdooError):
    """werkzeug's 404, as Odoo's dispatchers report it."""

    wire_name = "werkzeug.exceptions.NotFound"
    http_status = 404


class BadRequest(OdooError):
    wire_name = "werkzeug.exceptions.BadRequest"
    http_status = 400


class Unauthorized(OdooError):
    wire_name = "werkzeug.exceptions.Unauthorized"
    http_status = 401


class UnprocessableEntity(OdooError):
    wire_name = "werkzeug.exceptions.UnprocessableEntity"
    http_status = 422


class SessionExpired(OdooError):
    wire_name = "odoo.http.SessionExpiredException"
    http_status = 403


def wire_name(exc: BaseException) -> str:
    if isinstance(exc, OdooError):
        return exc.wire_name
    cls = type(exc)
    return f"{cls.__module__}.{cls.__name__}" if cls.__module__ != "builtins" else f"builtins.{cls.__name__}"


def serialize_exception(
    exc: BaseException, message: str | None = None, arguments: Any = None
) -> dict[str, Any]:
    """The ``data`` object of http.serialize_exception: name, debug, message, arguments, context."""
    msg = message if message is not None else (str(exc.args[0]) if len(exc.args) == 1 else str(exc))
    if isinstance(exc, PyKeyError) and exc.args:
        msg = repr(exc.args[0])
    debug = _traceback_text(exc)
    return {
        "name": wire_name(exc),
        "debug": debug,
        "message": msg,
        "arguments": list(arguments if arguments is not None else exc.args),
        "context": dict(getattr(exc, "context", {}) or {}),
    }


def _traceback_text(exc: BaseException) -> str:
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    # Odoo's debug text is a server traceback whose last line names the Odoo exception class
    lines[-1] = f"{wire_name(exc)}: {exc.args[0] if exc.args else ''}\n"
    return "".join(lines)
