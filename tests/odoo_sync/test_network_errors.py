"""Transports against real sockets: nothing listening, a server that never answers, an HTTP 503."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pydantic import SecretStr

from odoo_sync.client import OdooClient, probe_version
from odoo_sync.errors import OdooPermanentError, OdooTimeoutError, OdooTransientError
from odoo_sync.json2 import Json2Transport
from odoo_sync.jsonrpc import JsonRpcTransport
from odoo_sync.transport import OdooSettings
from tests.support.mosquitto import free_port


def settings(port: int, api: str = "auto", timeout: float = 0.5) -> OdooSettings:
    return OdooSettings(
        url=f"http://127.0.0.1:{port}",
        db="db",
        user="u",
        key=SecretStr("k"),
        api=api,  # type: ignore[arg-type]
        timeout_s=timeout,
    )


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A TCP server that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    yield server.getsockname()[1]
    server.close()


class _Status(BaseHTTPRequestHandler):
    status = 503

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b'{"name": "werkzeug.exceptions.ServiceUnavailable", "message": "maintenance"}'
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST


@pytest.fixture
def http_503() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Status)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("api", ["auto", "jsonrpc", "json2"])
def test_nothing_listening_is_transient(api: str) -> None:
    with pytest.raises(OdooTransientError):
        OdooClient.connect(settings(free_port(), api))


def test_no_answer_is_a_timeout(silent_port: int) -> None:
    with pytest.raises(OdooTimeoutError):
        JsonRpcTransport(settings(silent_port, "jsonrpc"))
    with pytest.raises(OdooTimeoutError):
        Json2Transport(settings(silent_port, "json2"))


def test_http_5xx_is_transient(http_503: int) -> None:
    with pytest.raises(OdooTransientError) as err:
        Json2Transport(settings(http_503, "json2"))
    assert "ServiceUnavailable" in (err.value.remote_error or "")
    with pytest.raises(OdooTransientError):
        JsonRpcTransport(settings(http_503, "jsonrpc"))
    with pytest.raises(OdooPermanentError):
        probe_version(settings(http_503))  # 503 to both version probes: nothing that looks like Odoo


def test_odoorpc_below_a_path_is_refused() -> None:
    with pytest.raises(OdooPermanentError):
        JsonRpcTransport(OdooSettings(url="http://127.0.0.1:1/odoo", db="d", user="u", key=SecretStr("k")))


def test_settings_never_show_the_key() -> None:
    s = settings(1)
    assert "k'" not in repr(s) and "SecretStr" not in repr(s)
    assert s.key.get_secret_value() == "k" and "**" in str(s.key)


def test_writer_waits_while_odoo_cannot_be_reached() -> None:
    """A writer that cannot log in keeps the event in the outbox (transient), never dead-letters it."""
    from odoo_sync.writer import OdooWriter
    from tests.contract.harness import outbound
    from uns_model.delivery import TransientDeliveryError
    from uns_model.events import DowntimeStarted

    event = DowntimeStarted(
        place="acme/s1/a1/l1/c1",
        workcenter="WC",
        state_code=4,
        state="unplanned_stop",
        reason="Tool breakage",
        started_unix_ms=1,
    )
    writer = OdooWriter(settings(free_port()))
    with pytest.raises(TransientDeliveryError, match="cannot log in"):
        writer.deliver(outbound(event))
    assert writer.counters["transient"] == 1
