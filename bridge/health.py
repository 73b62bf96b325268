"""Prometheus /metrics and /healthz over HTTP, on a thread of their own."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bridge.metrics import Registry

log = logging.getLogger(__name__)

HealthCheck = Callable[[], dict[str, Any]]
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class HealthServer:
    """GET /metrics: the registry in Prometheus text format. GET /healthz: 200 with the checks as JSON
    when every check is ok, 503 otherwise (a check is a dict with at least "ok": bool)."""

    def __init__(
        self, registry: Registry, checks: dict[str, Callable[[], bool]], host: str, port: int
    ) -> None:
        self.registry = registry
        self.checks = checks
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/metrics":
                    try:
                        body = outer.registry.render().encode()
                    except Exception as exc:
                        log.exception("metrics rendering failed")
                        self._send(500, "text/plain", f"metrics failed: {exc}\n".encode())
                        return
                    self._send(200, CONTENT_TYPE, body)
                elif path == "/healthz":
                    status = outer.health()
                    code = 200 if status["ok"] else 503
                    self._send(code, "application/json", json.dumps(status).encode())
                else:
                    self._send(404, "text/plain", b"not found: try /metrics or /healthz\n")

            def _send(self, code: int, ctype: str, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("http %s", format % args)

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def health(self) -> dict[str, Any]:
        results: dict[str, bool] = {}
        for name, check in self.checks.items():
            try:
                results[name] = bool(check())
            except Exception:
                results[name] = False
        return {"ok": all(results.values()), "checks": results}

    def start(self) -> None:
        self._thread = threading.Thread(target=self.server.serve_forever, name="uns-http", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:  # shutdown() waits for serve_forever: only if it ever ran
            self.server.shutdown()
        self.server.server_close()
        if self._thread is not None:
            self._thread.join(5)
