"""Gateway against a real asyncua server (user/password) and a real Mosquitto: births, source timestamps,
deadband, DDEATH when the server stops, DBIRTH when it is back; a wrong password never births."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from asyncua import ua
from asyncua.crypto.permission_rules import User, UserRole
from asyncua.server.server import Server
from pydantic import SecretStr

from edge.config import Backoff, OpcUaOptions
from tests.conformance.wire import WAIT, Wire
from tests.edge.support import Births, LoopThread, RunningGateway, free_port

NS_URI = "urn:uns-edge-test"
USER, PASSWORD = "operator", "s3cret-Pa55"

PLANT = """
enterprise: acme
site: {site}
areas:
  - name: machining
    lines:
      - name: line1
        connections:
          - {{name: plc, kind: opcua, endpoint: "opc.tcp://127.0.0.1:{port}/edge", poll_ms: 50}}
        cells:
          - name: cnc-101
            tags:
              - {{path: counters/good, datatype: UInt32,
                 source: {{connection: plc, node_id: "ns=2;s=CNC101.Good"}}}}
              - {{path: state, datatype: Int32, source: {{connection: plc, node_id: "ns=2;s=CNC101.State"}}}}
              - {{path: spindle/temperature, datatype: Float, deadband: 0.5,
                 source: {{connection: plc, node_id: "ns=2;s=CNC101.Temp"}}}}
              - {{path: order, datatype: String, source: {{connection: plc, node_id: "ns=2;s=CNC101.Order"}}}}
              - {{path: alarm, datatype: Boolean,
                 source: {{connection: plc, node_id: "ns=2;s=CNC101.Alarm"}}}}
              - {{path: hours, datatype: Double,
                 source: {{connection: plc, node_id: "nsu={uri};s=CNC101.Hours"}}}}
              - {{path: ghost, datatype: Int32, source: {{connection: plc, node_id: "ns=2;s=CNC101.Nope"}}}}
"""

INITIAL: dict[str, tuple[Any, ua.VariantType]] = {
    "CNC101.Good": (41, ua.VariantType.UInt32),
    "CNC101.State": (1, ua.VariantType.Int32),
    "CNC101.Temp": (20.0, ua.VariantType.Double),
    "CNC101.Order": ("WH/MO/00012", ua.VariantType.String),
    "CNC101.Alarm": (False, ua.VariantType.Boolean),
    "CNC101.Hours": (12.5, ua.VariantType.Double),
}


class _Users:
    def get_user(
        self, iserver: Any, username: Any = None, password: Any = None, certificate: Any = None
    ) -> Any:
        return User(role=UserRole.User) if (username, password) == (USER, PASSWORD) else None


class Plc:
    """A small asyncua server: user/password required, no security policy."""

    def __init__(self, lt: LoopThread, port: int) -> None:
        self.lt, self.port = lt, port
        self.server: Server | None = None
        self.vars: dict[str, Any] = {}

    def start(self, **override: Any) -> None:
        async def start() -> None:
            server = Server(user_manager=_Users())  # type: ignore[arg-type]
            await server.init()
            server.set_endpoint(f"opc.tcp://127.0.0.1:{self.port}/edge")
            server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
            server.set_identity_tokens([ua.UserNameIdentityToken])
            idx = await server.register_namespace(NS_URI)
            plc = await server.nodes.objects.add_object(idx, "CNC101")
            for name, (value, vt) in INITIAL.items():
                value = override.get(name, value)
                node_id = ua.NodeId(ua.String(name), ua.Int16(idx))
                self.vars[name] = await plc.add_variable(node_id, name, ua.Variant(value, vt))
            await server.start()
            self.server = server

        self.lt.run(start(), timeout=30)

    def write(self, name: str, value: Any, source_ts: datetime | None = None) -> None:
        vt = INITIAL[name][1]
        when: Any = source_ts or datetime.now(UTC)  # ua.DateTime is datetime at run time
        dv = ua.DataValue(ua.Variant(value, vt), SourceTimestamp=when)
        self.lt.run(self.vars[name].write_value(dv))

    def stop(self) -> None:
        if self.server is not None:
            self.lt.run(self.server.stop(), timeout=30)
            self.server = None


@pytest.fixture(scope="module")
def lt() -> Iterator[LoopThread]:
    t = LoopThread()
    yield t
    t.close()


@pytest.fixture(scope="module")
def plc(lt: LoopThread) -> Iterator[Plc]:
    p = Plc(lt, free_port())
    p.start()
    yield p
    p.stop()


@pytest.fixture
def wire(broker) -> Iterator[Wire]:
    w = Wire(broker.host, broker.port)
    yield w
    w.close()


def options(password: str = PASSWORD) -> OpcUaOptions:
    return OpcUaOptions(
        username=USER, password=SecretStr(password), watchdog_s=0.5, backoff=Backoff(min_s=0.2, max_s=0.5)
    )


def values(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, (v, _ts) in d.items()}


def test_wrong_password_keeps_retrying_and_never_logs_it(broker, wire, lt, plc, uid, caplog):
    caplog.set_level(logging.DEBUG)
    plant = PLANT.format(site=uid, port=plc.port, uri=NS_URI)
    gw = RunningGateway(lt, plant, "line1", broker.url, opcua_options=lambda _n: options("wrong-Pa55"))
    try:
        wire.wait_topic(f"spBv1.0/{uid}/NBIRTH/line1")  # the node is born; its device is not
        deadline = time.monotonic() + WAIT
        while gw.gateway.all_stats().get("plc.connection_failures", 0) < 2:
            assert time.monotonic() < deadline, "the gateway did not retry"
            time.sleep(0.05)
        wire.barrier()
        assert not [m for m in wire.messages if m.topic.startswith(f"spBv1.0/{uid}/DBIRTH")]
        assert "BadUserAccessDenied" in caplog.text
    finally:
        gw.stop()
    assert "wrong-Pa55" not in caplog.text


def test_opcua_births_timestamps_deadband_death_and_rebirth(broker, wire, lt, plc, uid):
    plant = PLANT.format(site=uid, port=plc.port, uri=NS_URI)
    gw = RunningGateway(lt, plant, "line1", broker.url, opcua_options=lambda _n: options())
    births = Births()
    topic = f"spBv1.0/{uid}/{{}}/line1/cnc-101"
    try:
        b = wire.wait_topic(topic.format("DBIRTH"))
        assert values(births.birth(b)) == {
            "counters/good": 41,
            "state": 1,
            "spindle/temperature": 20.0,
            "order": "WH/MO/00012",
            "alarm": False,
            "hours": 12.5,  # found through nsu=<uri>
            "ghost": None,  # no such node: null (bad), the device lives
        }

        # A value keeps the PLC's source timestamp.
        plc.write("CNC101.Good", 42, datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC))
        d1 = wire.wait_topic(topic.format("DDATA"), after=b.index)
        assert births.data(d1) == {"counters/good": (42, 1767268800000)}

        # 0.3 inside the 0.5 deadband: not reported; the order change after it is reported alone.
        plc.write("CNC101.Temp", 20.3)
        plc.write("CNC101.Order", "WH/MO/00013")
        d2 = wire.wait_for(lambda m: "order" in _names(births, m, topic), after=d1.index)
        assert all(
            "spindle/temperature" not in births.data(m) for m in _data_since(wire, d1.index, d2.index, topic)
        )
        plc.write("CNC101.Temp", 21.0)
        d3 = wire.wait_for(lambda m: "spindle/temperature" in _names(births, m, topic), after=d2.index)
        assert values(births.data(d3))["spindle/temperature"] == 21.0

        # The server goes away: DDEATH (the node stays). It comes back: DBIRTH with what it holds now.
        plc.stop()
        x = wire.wait_topic(topic.format("DDEATH"), after=d3.index)
        plc.start(**{"CNC101.Good": 99})
        r = wire.wait_topic(topic.format("DBIRTH"), after=x.index)
        assert values(births.birth(r))["counters/good"] == 99
        # Re-subscribed: changes flow again.
        plc.write("CNC101.Alarm", True)
        d4 = wire.wait_for(lambda m: "alarm" in _names(births, m, topic), after=r.index)
        assert values(births.data(d4))["alarm"] is True
        assert not [m for m in wire.since(b.index) if m.topic == f"spBv1.0/{uid}/NDEATH/line1"]
    finally:
        gw.stop()
    wire.wait_topic(f"spBv1.0/{uid}/NDEATH/line1")


def _names(births: Births, m: Any, topic: str) -> set[str]:
    return set(births.data(m)) if m.topic == topic.format("DDATA") else set()


def _data_since(wire: Wire, after: int, upto: int, topic: str) -> list[Any]:
    return [m for m in wire.since(after) if m.index <= upto and m.topic == topic.format("DDATA")]


def test_basic256sha256_sign_and_encrypt_with_certificate_and_password(broker, wire, lt, uid, tmp_path):
    from asyncua.crypto import cert_gen
    from cryptography.x509.oid import ExtendedKeyUsageOID

    async def make_certs() -> None:
        for who, use in (
            ("server", ExtendedKeyUsageOID.SERVER_AUTH),
            ("client", ExtendedKeyUsageOID.CLIENT_AUTH),
        ):
            await cert_gen.setup_self_signed_certificate(
                tmp_path / f"{who}-key.pem",
                tmp_path / f"{who}.der",
                f"urn:uns-test:{who}",
                "localhost",
                [use],
                {},
            )

    lt.run(make_certs(), timeout=30)
    port = free_port()

    async def start() -> Server:
        server = Server(user_manager=_Users())  # type: ignore[arg-type]
        await server.init()
        server.set_endpoint(f"opc.tcp://127.0.0.1:{port}/edge")
        await server.load_certificate(tmp_path / "server.der")
        await server.load_private_key(tmp_path / "server-key.pem")
        server.set_security_policy([ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt])
        server.set_identity_tokens([ua.UserNameIdentityToken])
        idx = await server.register_namespace(NS_URI)
        plc = await server.nodes.objects.add_object(idx, "CNC101")
        for name, (value, vt) in INITIAL.items():
            await plc.add_variable(ua.NodeId(ua.String(name), ua.Int16(idx)), name, ua.Variant(value, vt))
        await server.start()
        return server

    server = lt.run(start(), timeout=30)
    secure = OpcUaOptions(
        security_policy="Basic256Sha256",
        security_mode="SignAndEncrypt",
        certificate=tmp_path / "client.der",
        private_key=tmp_path / "client-key.pem",
        username=USER,
        password=SecretStr(PASSWORD),
        backoff=Backoff(min_s=0.2, max_s=0.5),
    )
    gw = RunningGateway(lt, PLANT.format(site=uid, port=port, uri=NS_URI), "line1", broker.url,
                        opcua_options=lambda _n: secure)  # fmt: skip
    try:
        b = wire.wait_topic(f"spBv1.0/{uid}/DBIRTH/line1/cnc-101")
        assert values(Births().birth(b))["order"] == "WH/MO/00012"
        assert gw.gateway.all_stats()["plc.connects"] == 1
    finally:
        gw.stop()
        lt.run(server.stop(), timeout=30)
