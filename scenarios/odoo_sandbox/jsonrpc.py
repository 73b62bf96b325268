"""Odoo's JSON-RPC routes: /jsonrpc (common, object, db services), /web/webclient/version_info,
/web/session/* and /web/dataset/call_kw, with Odoo's result and error envelopes."""

from __future__ import annotations

import secrets
import threading
from typing import TYPE_CHECKING, Any

from . import security
from .errors import AccessDenied, AccessError, NotFound, SessionExpired, serialize_exception
from .registry import Env
from .rpc import check_db, execute_kw_in

if TYPE_CHECKING:
    from .server import SandboxServer


def version_info(server: SandboxServer) -> dict[str, Any]:
    """service/common.py RPC_VERSION_1 for the configured version."""
    major, minor = server.version_tuple
    return {
        "server_version": f"{major}.{minor}",
        "server_version_info": [major, minor, 0, "final", 0, ""],
        "server_serie": f"{major}.{minor}",
        "protocol_version": 1,
    }


class Sessions:
    """Web sessions (session_id cookie -> uid), kept in memory like a fresh filestore would."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_sid: dict[str, dict[str, Any]] = {}

    def new(self, data: dict[str, Any]) -> str:
        sid = secrets.token_urlsafe(63)[:84]
        with self._lock:
            self._by_sid[sid] = data
        return sid

    def get(self, sid: str | None) -> dict[str, Any] | None:
        with self._lock:
            return self._by_sid.get(sid or "")

    def drop(self, sid: str | None) -> None:
        with self._lock:
            self._by_sid.pop(sid or "", None)


def envelope(request_id: Any, result: Any = None, error: BaseException | None = None) -> dict[str, Any]:
    """JsonRPCDispatcher._response: 'result' is left out when None; errors carry code 200 (or 100, 404)."""
    response: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id}
    if error is not None:
        body = {"code": 200, "message": "Odoo Server Error", "data": serialize_exception(error)}
        if isinstance(error, NotFound):
            body.update(code=404, message="404: Not Found")
        elif isinstance(error, SessionExpired):
            body.update(code=100, message="Odoo Session Expired")
        response["error"] = body
    elif result is not None:
        response["result"] = result
    return response


def dispatch_rpc(server: SandboxServer, service: str, method: str, args: list[Any]) -> Any:
    registry = server.registry
    if service == "common":
        if method == "version":
            return version_info(server)
        if method in ("login", "authenticate"):
            db, login, password = args[0], args[1], args[2]
            check_db(registry, db)
            try:
                return registry.transaction(
                    lambda: security.authenticate(Env(registry, 1, su=True), login, password)
                )
            except AccessDenied:
                return False
        if method == "about":
            return "See http://openerp.com"
        raise Exception(f"Method not found: {method}")
    if service == "db":
        if method == "list":
            return [registry.db_name]
        if method == "server_version":
            return version_info(server)["server_version"]
        if method in ("db_exist",):
            return args[0] == registry.db_name
        raise KeyError(f"Method not found: {method}")
    if service == "object":
        db, uid, password = args[0], int(args[1]), args[2]
        check_db(registry, db)
        registry.transaction(lambda: security.check_credentials(Env(registry, 1, su=True), uid, password))
        if method == "execute":
            model, name, *rest = args[3:]
            return execute_kw_in(registry, uid, model, name, list(rest), {})
        if method == "execute_kw":
            model, name, call_args, *rest = args[3:]
            return execute_kw_in(registry, uid, model, name, list(call_args), rest[0] if rest else {})
        raise NameError(f"Method not available {method}")
    raise KeyError(service)


def session_info(server: SandboxServer, uid: int) -> dict[str, Any]:
    """A subset of ir.http.session_info with the keys web clients and odoorpc read."""
    registry = server.registry

    def read() -> dict[str, Any]:
        env = Env(registry, uid, su=True)
        user = env["res.users"].browse(uid)
        company = user.company_id
        return {
            "uid": uid,
            "is_system": user.has_group("base.group_system"),
            "is_admin": user.has_group("base.group_erp_manager"),
            "is_public": False,
            "is_internal_user": user.has_group("base.group_user"),
            "user_context": {"lang": user.lang or "en_US", "tz": user.tz or False, "uid": uid},
            "db": registry.db_name,
            "name": user.name,
            "username": user.login,
            "partner_display_name": user.name,
            "partner_id": uid,
            "server_version": version_info(server)["server_version"],
            "server_version_info": version_info(server)["server_version_info"],
            "support_url": "https://www.odoo.com/buy",
            "user_companies": {
                "current_company": company.id,
                "allowed_companies": {
                    str(company.id): {
                        "id": company.id,
                        "name": company.name,
                        "sequence": 10,
                        "child_ids": [],
                        "parent_id": False,
                    }
                },
                "disallowed_ancestor_companies": {},
            },
            "web.base.url": server.url,
            "active_ids_limit": 20000,
            "max_file_upload_size": 134217728,
        }

    return registry.transaction(read)


def handle(
    server: SandboxServer, path: str, params: dict[str, Any], sid: str | None
) -> tuple[Any, str | None]:
    """Run one JSON-RPC route; returns (result, new session id to set or None)."""
    if path == "/web/webclient/version_info":
        return version_info(server), None
    if path == "/jsonrpc":
        return dispatch_rpc(
            server, params.get("service", ""), params.get("method", ""), params.get("args", [])
        ), None
    if path == "/web/session/authenticate":
        db = params.get("db")
        if db != server.registry.db_name:
            raise AccessError("Database not found.")
        uid = server.registry.transaction(
            lambda: security.authenticate(
                Env(server.registry, 1, su=True), params.get("login", ""), params.get("password", ""), True
            )
        )
        new_sid = server.sessions.new({"uid": uid, "db": db, "login": params.get("login")})
        return session_info(server, uid), new_sid
    if path == "/web/session/get_session_info":
        session = _session(server, sid)
        return session_info(server, session["uid"]), None
    if path == "/web/session/destroy":
        server.sessions.drop(sid)
        return None, None
    if path == "/web/dataset/call_kw" or path.startswith("/web/dataset/call_kw/"):
        session = _session(server, sid)
        return execute_kw_in(
            server.registry,
            session["uid"],
            params.get("model", ""),
            params.get("method", ""),
            params.get("args", []),
            params.get("kwargs", {}),
        ), None
    raise NotFound(
        "The requested URL was not found on the server. If you entered the URL manually please check "
        "your spelling and try again."
    )


def _session(server: SandboxServer, sid: str | None) -> dict[str, Any]:
    session = server.sessions.get(sid)
    if session is None:
        raise SessionExpired("Session expired")
    return session


JSONRPC_PATHS = (
    "/jsonrpc",
    "/web/webclient/version_info",
    "/web/session/authenticate",
    "/web/session/get_session_info",
    "/web/session/destroy",
    "/web/dataset/call_kw",
)
