"""JSON-2 transport (Odoo 19+): POST /json/2/<model>/<method>, bearer API key, named parameters."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from odoo_sync.errors import (
    OdooAuthError,
    OdooError,
    OdooPermanentError,
    OdooTimeoutError,
    OdooTransientError,
    classify,
)
from odoo_sync.transport import Flavour, OdooSettings, quiet_secret_loggers


def http_error(what: str, exc: httpx.HTTPError) -> OdooError:
    """A failure below HTTP (no Odoo answer): always worth a later try."""
    if isinstance(exc, httpx.TimeoutException):
        return OdooTimeoutError(what, "timeout", str(exc) or "no answer in time")
    return OdooTransientError(what, type(exc).__name__, str(exc))


def error_from_response(what: str, response: httpx.Response) -> OdooError:
    """JSON-2 answers an error with a 4xx/5xx status and {name, message, arguments, context, debug}."""
    name, message = "", response.text[:500]
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        name = str(body.get("name") or "")
        message = str(body.get("message") or message)
    elif isinstance(body, str):
        message = body
    return classify(what, name or f"HTTP {response.status_code}", message, http_status=response.status_code)


class Json2Transport:
    """httpx client with the bearer key; each call is its own transaction in Odoo."""

    flavour: Flavour = "json2"

    def __init__(self, settings: OdooSettings, *, version: str | None = None) -> None:
        quiet_secret_loggers()
        self._lock = threading.Lock()
        headers = {
            "Authorization": f"bearer {settings.key.get_secret_value()}",
            "X-Odoo-Database": settings.db,
            "User-Agent": "uns-bridge odoo_sync",
        }
        self._client = httpx.Client(
            base_url=settings.url.rstrip("/"), headers=headers, timeout=settings.timeout_s
        )
        self.version: str = version or self._server_version()
        found = self.call("res.users", "search", params={"domain": [("login", "=", settings.user)]})
        if not found:
            raise OdooAuthError(f"find user {settings.user!r}", "", "the API key belongs to another user")
        self.uid: int = int(found[0])

    def _server_version(self) -> str:
        what = "GET /web/version"
        try:
            response = self._client.get("/web/version")
        except httpx.HTTPError as exc:
            raise http_error(what, exc) from None
        if response.status_code == 404:
            raise OdooPermanentError(
                what, "HTTP 404", "no /web/version: JSON-2 needs Odoo 19+; use api=jsonrpc"
            )
        if response.status_code != 200:
            raise error_from_response(what, response)
        try:
            return str(response.json()["version"])
        except (ValueError, KeyError, TypeError):
            raise OdooPermanentError(what, "", "no version in the answer; is this Odoo 19+?") from None

    def call(
        self,
        model: str,
        method: str,
        ids: Sequence[int] | None = None,
        params: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            return self._call(model, method, ids, params, context)
        except OdooPermanentError as exc:
            # Some overrides name write's parameter `values` (mrp.workorder in 18); JSON-2 binds by name.
            if method == "write" and params and "vals" in params and "unexpected keyword" in str(exc):
                renamed = {("values" if k == "vals" else k): v for k, v in params.items()}
                return self._call(model, method, ids, renamed, context)
            raise

    def _call(
        self,
        model: str,
        method: str,
        ids: Sequence[int] | None,
        params: Mapping[str, Any] | None,
        context: Mapping[str, Any] | None,
    ) -> Any:
        body: dict[str, Any] = dict(params or {})
        if ids is not None:
            body["ids"] = list(ids)
        if context:
            body["context"] = dict(context)
        what = f"{model}.{method}"
        with self._lock:
            try:
                response = self._client.post(
                    f"/json/2/{model}/{method}",
                    content=json.dumps(body),
                    headers={"Content-Type": "application/json; charset=utf-8"},
                )
            except httpx.HTTPError as exc:
                raise http_error(what, exc) from None
        if response.is_redirect or (
            response.status_code == 200 and "json" not in response.headers.get("content-type", "")
        ):
            raise OdooPermanentError(what, "", "not a JSON-2 answer (Odoo before 19 has no /json/2)")
        if response.status_code != 200:
            raise error_from_response(what, response)
        try:
            return response.json()
        except ValueError:
            raise OdooTransientError(what, "", "the answer is not JSON") from None

    def close(self) -> None:
        self._client.close()
