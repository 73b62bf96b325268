"""The sandbox HTTP server: Odoo's routes on a stdlib ThreadingHTTPServer, one SQLite database behind them."""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import date, datetime
from email.utils import formatdate
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

from . import json2, jsonrpc, models  # noqa: F401 - models registers the sandbox's Odoo models
from .registry import Env, Registry
from .seed import add_api_key, add_user, seed_base, seed_plant

log = logging.getLogger(__name__)
SUPPORTED_VERSIONS = ("17.0", "18.0", "19.0")
SESSION_MAX_AGE = 604800
JSON_MIMETYPES = ("application/json", "application/json-rpc")
#: werkzeug's BadRequest page, as Odoo 18 answers a type='json' route called without a JSON body
WRONG_TYPE_HTML = (
    "<!doctype html>\n<html lang=en>\n<title>400 Bad Request</title>\n<h1>Bad Request</h1>\n"
    "<p>Request inferred type is compatible with [&#39;http&#39;] "
    "but &#39;{path}&#39; is type=&#39;json&#39;.</p>\n"
)
REDIRECT_HTML = (
    "<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n"
    '<p>You should be redirected automatically to the target URL: <a href="{target}">{target}</a>. '
    "If not, click the link.\n"
)
NOT_FOUND_HTML = (
    "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n"
    "<p>The requested URL was not found on the server. If you entered the URL manually please check your "
    "spelling and try again.</p>\n"
)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, datetime):
        return obj.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(obj, date):
        return obj.strftime("%Y-%m-%d")
    if isinstance(obj, bytes):
        return obj.decode()
    return str(obj)


def dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, default=_json_default).encode()


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "Werkzeug/3.0.1"
    sys_version = "Python/3.11"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("odoo sandbox: " + format, *args)

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        cookie: str | None = None,
        location: str | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if cookie:
            expires = formatdate(time.time() + SESSION_MAX_AGE, usegmt=True)
            self.send_header(
                "Set-Cookie",
                f"session_id={cookie}; Expires={expires}; Max-Age={SESSION_MAX_AGE}; HttpOnly; Path=/",
            )
        if location:
            self.send_header("Location", location)
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def _route(self, method: str) -> None:
        sandbox = self.server.sandbox
        path = self.path.split("?", 1)[0]
        body = self._body()
        if json2.is_json2(path) and sandbox.major >= 19:
            status, payload = json2.handle(sandbox, method, path, self.headers, body)
            self._send(status, dumps(payload), "application/json; charset=utf-8")
            return
        if path.startswith("/json/") and sandbox.major == 18:
            # 18's web client route /json/<path> (auth=user): anonymous callers are sent to the login page
            target = "/web/login?redirect=" + quote(path + "?", safe="")
            html = REDIRECT_HTML.format(target=target)
            self._send(303, html.encode(), "text/html; charset=utf-8", location=target)
            return
        if method != "POST" or not _is_jsonrpc_path(path):
            self._send(404, NOT_FOUND_HTML.encode(), "text/html; charset=utf-8")
            return
        if (self.headers.get("Content-Type") or "").split(";")[0].strip() not in JSON_MIMETYPES:
            self._send(400, WRONG_TYPE_HTML.format(path=path).encode(), "text/html; charset=utf-8")
            return
        try:
            request = json.loads(body or b"{}")
            if not isinstance(request, dict):
                raise AttributeError("not an object")
        except ValueError:
            self._send(400, b"Invalid JSON data", "text/html; charset=utf-8")
            return
        except AttributeError:
            self._send(400, b"Invalid JSON-RPC data", "text/html; charset=utf-8")
            return
        cookie = SimpleCookie(self.headers.get("Cookie") or "")
        sid = cookie["session_id"].value if "session_id" in cookie else None
        params = request.get("params") or {}
        new_sid = None
        try:
            result, new_sid = jsonrpc.handle(sandbox, path, params, sid)
            response = jsonrpc.envelope(request.get("id"), result=result)
        except Exception as exc:
            log.info("odoo sandbox: %s %s -> %s: %s", path, params.get("method", ""), type(exc).__name__, exc)
            response = jsonrpc.envelope(request.get("id"), error=exc)
        self._send(200, dumps(response), "application/json; charset=utf-8", cookie=new_sid)


def _is_jsonrpc_path(path: str) -> bool:
    return path in jsonrpc.JSONRPC_PATHS or path.startswith("/web/dataset/call_kw/")


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sandbox: SandboxServer


class SandboxServer:
    """An Odoo look-alike on 127.0.0.1: ``SandboxServer(port=0, db_path=..., version="18.0").start()``."""

    def __init__(
        self,
        port: int = 0,
        db_path: str | Path = "odoo_sandbox.sqlite",
        version: str = "18.0",
        db_name: str = "sandbox",
        admin_password: str = "admin",
        host: str = "127.0.0.1",
    ) -> None:
        if version not in SUPPORTED_VERSIONS:
            raise ValueError(f"unsupported Odoo version {version!r}; the sandbox knows {SUPPORTED_VERSIONS}")
        self.version = version
        self.major = int(version.split(".")[0])
        self.version_tuple = (self.major, 0)
        self.host = host
        self._port = port
        self.db_name = db_name
        self.registry = Registry(str(db_path), db_name, version)
        self.sessions = jsonrpc.Sessions()
        if self.registry.meta("seeded") is None:
            self.registry.transaction(lambda: seed_base(self.registry, admin_password))
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1] if self._httpd else self._port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> SandboxServer:
        self._httpd = _HTTPServer((self.host, self._port), _Handler)
        self._httpd.sandbox = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="odoo-sandbox", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.registry.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- seed helpers for tests and the demo ------------------------------------------------
    def env(self, uid: int = 1) -> Env:
        return Env(self.registry, uid, su=True)

    def add_user(self, login: str, name: str, groups: list[str], password: str | None = None) -> int:
        return self.registry.transaction(lambda: add_user(self.env(), login, name, groups, password))

    def add_api_key(self, uid: int, name: str = "integration", key: str | None = None) -> str:
        return self.registry.transaction(lambda: add_api_key(self.env(), uid, name, key))

    def seed_plant(self, plant: dict[str, Any]) -> dict[str, dict[str, int]]:
        return self.registry.transaction(lambda: seed_plant(self.env(), plant))
