"""A TCP proxy in front of Odoo that lets a chosen request through and then loses Odoo's answer.

It forwards each connection to Odoo; when a request's body holds the armed marker (e.g.
b'"button_mark_done"'), the request reaches Odoo and is applied, but the client's connection is
closed instead of getting the answer: what a timeout or a dropped connection looks like to the
bridge after Odoo has committed."""

from __future__ import annotations

import socket
import threading


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def _read_response(upstream: socket.socket) -> bytes:
    data = b""
    while True:
        chunk = upstream.recv(65536)
        if not chunk:
            return data
        data += chunk
        head, sep, body = data.partition(b"\r\n\r\n")
        if sep:
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length" and len(body) >= int(value.strip()):
                    return data


class LossyProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.port = self.server.getsockname()[1]
        self.armed: bytes | None = None
        self.lost = 0
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def arm(self, marker: bytes) -> None:
        """Lose the answer to the next request whose bytes hold `marker`."""
        self.armed = marker

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            while True:
                request = _read_request(conn)
                if not request:
                    return
                with socket.create_connection(self.upstream) as up:
                    up.sendall(request)
                    response = _read_response(up)
                if self.armed is not None and self.armed in request:
                    self.armed = None
                    self.lost += 1
                    return  # Odoo applied it; the client never hears so
                conn.sendall(response)

    def close(self) -> None:
        self._stop = True
        self.server.close()
