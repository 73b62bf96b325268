"""Odoo 17+ webhooks ("Send Webhook Notification" automation) as a hint to poll now; never trusted as data."""

from __future__ import annotations

import hmac
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

log = logging.getLogger(__name__)

#: Bodies above this are refused unread; a hint needs none of its body.
MAX_BODY = 64 * 1024


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    hint: WebhookHint


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        log.debug("odoo webhook: " + format, *args)

    def do_POST(self) -> None:
        hint = self.server.hint
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._reply(413)
            return
        self.rfile.read(length)
        # Odoo's webhook action cannot add headers, so the shared secret is the last path level.
        token = self.path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        if not hmac.compare_digest(token.encode(), hint.token.encode()):
            hint.counters["refused"] += 1
            self._reply(404)
            return
        hint.counters["hints"] += 1
        self._reply(204)
        hint.on_hint()

    def do_GET(self) -> None:
        self._reply(405)

    def _reply(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


class WebhookHint:
    """Listens for POST <url>/odoo-hint/<token> and calls `on_hint` (e.g. OdooReader.wake).

    The body (the record Odoo sends) is not used: the reader reads Odoo itself, so a forged or lost
    webhook can at worst cause or miss one early poll. In Odoo: Settings > Technical > Automation
    Rules, on Manufacturing Order (and Work Order) updates, action "Send Webhook Notification" to `url`.
    """

    def __init__(
        self, on_hint: Callable[[], None], token: str, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        if len(token) < 16:
            raise ValueError("the webhook token must have at least 16 characters")
        self.on_hint = on_hint
        self.token = token
        self.counters: dict[str, int] = {"hints": 0, "refused": 0}
        self._server = _Server((host, port), _Handler)
        self._server.hint = self
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The URL to give Odoo (holds the token: treat it as a secret)."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/odoo-hint/{self.token}"

    def start(self) -> WebhookHint:
        self._thread = threading.Thread(target=self._server.serve_forever, name="odoo-webhook", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)
