"""Broker URLs (`mqtt://user:pass@host:port`, `mqtts://...`) and the paho client Sparkplug needs."""

from __future__ import annotations

import ssl
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from sparkplug.errors import SparkplugError

_DEFAULT_PORTS = {"mqtt": 1883, "tcp": 1883, "mqtts": 8883, "ssl": 8883}


@dataclass(frozen=True, slots=True)
class BrokerUrl:
    """Where and how to reach one MQTT server; TLS options come from the query string of mqtts URLs."""

    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    insecure: bool = False

    def redacted(self) -> str:
        """The URL for logs: never the password."""
        scheme = "mqtts" if self.tls else "mqtt"
        user = f"{self.username}:***@" if self.username and self.password else ""
        user = user or (f"{self.username}@" if self.username else "")
        return f"{scheme}://{user}{self.host}:{self.port}"


def parse_broker_url(url: str) -> BrokerUrl:
    """Read `mqtt[s]://[user[:password]@]host[:port][?ca=..&cert=..&key=..&insecure=1]`."""
    parts = urlsplit(url if "://" in url else f"mqtt://{url}")
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise SparkplugError(f"unsupported broker URL scheme {scheme!r} (use mqtt:// or mqtts://)")
    if not parts.hostname:
        raise SparkplugError(f"broker URL has no host: {url!r}")
    try:
        port = parts.port or _DEFAULT_PORTS[scheme]
    except ValueError as exc:
        raise SparkplugError(f"broker URL has a bad port: {exc}") from None
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    tls = scheme in ("mqtts", "ssl")
    return BrokerUrl(
        host=parts.hostname,
        port=port,
        tls=tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        ca_file=query.get("ca") or query.get("cafile"),
        cert_file=query.get("cert") or query.get("certfile"),
        key_file=query.get("key") or query.get("keyfile"),
        insecure=query.get("insecure", "").lower() in ("1", "true", "yes"),
    )


def make_client(broker: BrokerUrl | str, client_id: str | None = None, *, prefix: str = "sp") -> mqtt.Client:
    """A paho 2.x client speaking MQTT 3.1.1 with a clean session, as Sparkplug requires of every client."""
    b = parse_broker_url(broker) if isinstance(broker, str) else broker
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=client_id or f"{prefix}-{uuid.uuid4().hex[:12]}",
        clean_session=True,
        protocol=mqtt.MQTTv311,
    )
    if b.username:
        client.username_pw_set(b.username, b.password)
    if b.tls:
        ctx = ssl.create_default_context(cafile=b.ca_file)
        if b.cert_file:
            ctx.load_cert_chain(b.cert_file, b.key_file)
        if b.insecure:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        client.tls_set_context(ctx)
    return client
