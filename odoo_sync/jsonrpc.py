"""JSON-RPC transport (Odoo 16-21) through odoorpc: common.login with the API key, object.execute_kw."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import urllib.error
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import odoorpc

from odoo_sync.errors import (
    OdooAuthError,
    OdooError,
    OdooPermanentError,
    OdooTimeoutError,
    OdooTransientError,
    classify,
)
from odoo_sync.transport import Flavour, OdooSettings, quiet_secret_loggers


def _host_port(url: str) -> tuple[str, int, str]:
    parts = urlsplit(url)
    if parts.path not in ("", "/"):
        raise OdooPermanentError(
            f"Odoo URL {url!r}", "", "odoorpc cannot reach Odoo below a path; give the server root URL"
        )
    ssl = parts.scheme == "https"
    port = parts.port or (443 if ssl else 80)
    return parts.hostname or "localhost", port, "jsonrpc+ssl" if ssl else "jsonrpc"


def network_error(what: str, exc: BaseException) -> OdooError:
    """A transport-level failure (no Odoo answer to read) as a transient error."""
    if isinstance(exc, TimeoutError | socket.timeout):
        return OdooTimeoutError(what, "timeout", str(exc) or "no answer in time")
    if isinstance(exc, urllib.error.HTTPError):
        if exc.code >= 500 or exc.code in (408, 429):
            return OdooTransientError(what, f"HTTP {exc.code}", str(exc.reason))
        return OdooPermanentError(what, f"HTTP {exc.code}", str(exc.reason))
    if isinstance(exc, urllib.error.URLError) and isinstance(exc.reason, TimeoutError | socket.timeout):
        return OdooTimeoutError(what, "timeout", str(exc.reason))
    return OdooTransientError(what, type(exc).__name__, str(exc))


#: Parameters execute_kw must send by position (JSON-2 takes every parameter by name).
#: Overrides name their parameter differently (mrp.workorder.write(values)), so write goes by position too.
POSITIONAL: dict[str, tuple[str, ...]] = {"create": ("vals_list",), "write": ("vals",)}

_NETWORK_ERRORS = (urllib.error.URLError, http.client.HTTPException, OSError, json.JSONDecodeError)


class JsonRpcTransport:
    """odoorpc underneath, one lock around it (its urllib opener and cookie jar are not thread-safe).

    odoorpc 0.10 logs in with `common.login` on /jsonrpc for Odoo >= 10, which accepts an API key in
    place of the password (`/web/session/authenticate` would refuse it), and then sends the key with
    every `execute_kw`. Its logger prints those bodies at DEBUG, so it is pinned above DEBUG here.
    """

    flavour: Flavour = "jsonrpc"

    def __init__(self, settings: OdooSettings) -> None:
        quiet_secret_loggers()
        host, port, protocol = _host_port(settings.url)
        self._lock = threading.Lock()
        what = f"connect to Odoo at {settings.url}"
        try:
            self._odoo = odoorpc.ODOO(host, protocol=protocol, port=port, timeout=settings.timeout_s)
            self.version: str = str(self._odoo.version)
        except odoorpc.error.InternalError as exc:
            raise OdooPermanentError(what, "odoorpc.InternalError", str(exc)) from None
        except _NETWORK_ERRORS as exc:
            raise network_error(what, exc) from None
        what = f"log in to database {settings.db!r} as {settings.user!r}"
        try:
            self._odoo.login(settings.db, settings.user, settings.key.get_secret_value())
        except odoorpc.error.RPCError as exc:
            if "Wrong login ID or password" in str(exc):
                raise OdooAuthError(what, "AccessDenied", "wrong login or API key") from None
            raise self._rpc_error(what, exc) from None
        except _NETWORK_ERRORS as exc:
            raise network_error(what, exc) from None
        self.uid: int = int(self._odoo.env.uid)

    @staticmethod
    def _rpc_error(what: str, exc: odoorpc.error.RPCError) -> OdooError:
        info = exc.info if isinstance(exc.info, dict) else {}
        raw = info.get("data")
        data: dict[str, Any] = raw if isinstance(raw, dict) else {}
        name = str(data.get("name") or "")
        message = str(data.get("message") or info.get("message") or exc)
        if not name and "does not exist" in message and "database" in message:
            return OdooAuthError(what, "database", message)
        return classify(what, name, message)

    def call(
        self,
        model: str,
        method: str,
        ids: Sequence[int] | None = None,
        params: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> Any:
        kw = dict(params or {})
        if context:
            kw["context"] = dict(context)
        args: list[Any] = [list(ids)] if ids is not None else []
        for name in POSITIONAL.get(method, ()):
            # model_create_multi's wrapper takes its argument by position only.
            if name in kw:
                args.append(kw.pop(name))
        what = f"{model}.{method}"
        with self._lock:
            try:
                return self._odoo.execute_kw(model, method, args, kw)
            except odoorpc.error.RPCError as exc:
                raise self._rpc_error(what, exc) from None
            except _NETWORK_ERRORS as exc:
                raise network_error(what, exc) from None

    def close(self) -> None:
        with self._lock:
            self._odoo.logout()
