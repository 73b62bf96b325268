"""The product's TLS listeners on a real Mosquitto: 8883 (server certificate), 8884 (client certificate)."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sparkplug.datatypes import DataType
from sparkplug.edge_node import EdgeNode, MetricDef
from sparkplug.host import HostApplication
from sparkplug.host_registry import NodeBirth
from tests.broker.clients import Session
from tests.broker.conftest import make_secrets
from tests.conformance.wire import Collector
from tests.support.mosquitto import Mosquitto

NOT_AUTHORIZED = 0x87
G = "spBv1.0/toolworks"


def context(secrets: Path, client: str | None = None, *, ca: bool = True) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(secrets / "ca" / "ca.crt") if ca else None)
    if client is not None:
        ctx.load_cert_chain(secrets / "clients" / f"{client}.crt", secrets / "clients" / f"{client}.key")
    return ctx


@pytest.fixture(scope="module")
def foreign_ca(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Certificates just as valid, from another CA (another site's, or an attacker's)."""
    out = tmp_path_factory.mktemp("foreign") / "secrets"
    assert make_secrets(out).returncode == 0
    return out


@pytest.fixture
def sessions() -> Iterator[Callable[..., Session]]:
    made: list[Session] = []

    def connect(port: int, user: str | None = None, pw: str | None = None, **kw: object) -> Session:
        s = Session(port, user, pw, **kw)  # type: ignore[arg-type]
        made.append(s)
        s.connect()
        return s

    yield connect
    for s in made:
        s.close()


def test_tls_login_with_the_local_ca(secure_broker: Mosquitto, secrets_dir, passwords, sessions):
    s = sessions(secure_broker.ports[8883], "explorer", passwords["explorer"], tls=context(secrets_dir))
    assert not s.connack.is_failure
    s.subscribe(f"{G}/#")


def test_tls_refused_without_the_ca_or_without_tls(secure_broker: Mosquitto, passwords, sessions):
    # The system trust store does not know the local CA: the client refuses the server.
    with pytest.raises(ssl.SSLCertVerificationError):
        sessions(
            secure_broker.ports[8883], "explorer", passwords["explorer"], tls=context(Path("/"), ca=False)
        )
    # Plain MQTT on the TLS port gets no CONNACK.
    s = sessions(secure_broker.ports[8883], "explorer", passwords["explorer"])
    assert s.connack is None and s.disconnected
    assert secure_broker.wait_for_log("SSL routines::tlsv1 alert unknown ca")
    assert secure_broker.wait_for_log("SSL routines::wrong version number")


def test_tls_still_needs_the_password(secure_broker: Mosquitto, secrets_dir, sessions):
    s = sessions(secure_broker.ports[8883], "explorer", "wrong", tls=context(secrets_dir))
    assert s.connack.is_failure


def test_client_certificate_listener_refuses_clients_without_a_certificate_of_the_ca(
    secure_broker: Mosquitto, secrets_dir, foreign_ca, passwords, sessions
):
    port = secure_broker.ports[8884]
    # No client certificate, even with a good password: the handshake fails on the broker's side.
    s = sessions(port, "explorer", passwords["explorer"], tls=context(secrets_dir))
    assert s.connack is None and s.disconnected
    # A certificate from another CA, even with the right common name.
    foreign = ssl.create_default_context(cafile=str(secrets_dir / "ca" / "ca.crt"))
    foreign.load_cert_chain(foreign_ca / "clients" / "line1.crt", foreign_ca / "clients" / "line1.key")
    s = sessions(port, tls=foreign)
    assert s.connack is None and s.disconnected
    assert secure_broker.wait_for_log("SSL routines::peer did not return a certificate")
    assert secure_broker.wait_for_log("certificate verify failed")


def test_client_certificate_is_the_username(secure_broker: Mosquitto, secrets_dir, sessions):
    """On 8884 the certificate's common name (the edge node id) is the user the ACL sees."""
    s = sessions(secure_broker.ports[8884], tls=context(secrets_dir, "line1"), v5=True)
    assert not s.connack.is_failure
    assert not s.publish(f"{G}/NDATA/line1").is_failure
    assert s.publish(f"{G}/NDATA/line2-gateway").value == NOT_AUTHORIZED
    assert s.publish("acme/toolworks/x").value == NOT_AUTHORIZED


def test_sparkplug_over_tls_with_broker_urls(secure_broker: Mosquitto, secrets_dir, passwords, uid):
    """EdgeNode over mutual TLS, host over TLS with a password, both from `mqtts://` URLs."""
    ca = secrets_dir / "ca" / "ca.crt"
    cert, key = secrets_dir / "clients" / "line1.crt", secrets_dir / "clients" / "line1.key"
    got = Collector()
    host = HostApplication(
        "uns-bridge",
        f"mqtts://bridge:{passwords['bridge']}@127.0.0.1:{secure_broker.ports[8883]}?ca={ca}",
        groups=["toolworks"],
        on_lifecycle=got,
        reorder_timeout=0,
    )
    node = EdgeNode(
        "toolworks",
        "line1",
        f"mqtts://127.0.0.1:{secure_broker.ports[8884]}?ca={ca}&cert={cert}&key={key}",
        [MetricDef(f"probe/{uid}", DataType.Int64, 1)],
        primary_host_id="uns-bridge",
    )
    host.start()
    try:
        assert host.wait_ready(10)
        node.start()
        try:
            birth = got.wait_for(lambda e: isinstance(e, NodeBirth) and e.edge_node_id == "line1")
            assert f"probe/{uid}" in [m.name for m in birth.metrics]
        finally:
            node.stop()
    finally:
        host.stop()
