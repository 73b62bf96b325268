"""The product ACL on a real Mosquitto: each role reaches its own topics and nothing else."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from sparkplug.datatypes import DataType
from sparkplug.edge_node import EdgeNode, MetricDef
from sparkplug.host import HostApplication
from sparkplug.host_registry import DeviceBirth, NodeBirth, RebirthRequested
from tests.broker.clients import Session
from tests.conformance.wire import Collector
from tests.support.mosquitto import Mosquitto

NOT_AUTHORIZED = 0x87
G = "spBv1.0/toolworks"  # the cnc_shop plant's Sparkplug group; its edge nodes: line1, line2-gateway
UNS = "acme/toolworks"  # its JSON view


@pytest.fixture
def sessions(secure_broker: Mosquitto, passwords: dict[str, str]) -> Iterator[Callable[..., Session]]:
    made: list[Session] = []

    def connect(user: str | None, *, v5: bool = False, password: str | None = None) -> Session:
        pw = password if password is not None else passwords.get(user or "")
        s = Session(secure_broker.port, user, pw, v5=v5)
        made.append(s)
        s.connect()
        return s

    yield connect
    for s in made:
        s.close()


@pytest.fixture
def watcher(sessions: Callable[..., Session], uid: str) -> Session:
    """The admin user: reads every topic (and $SYS), writes none. Starts empty: the retained messages
    of earlier tests (delivered on subscribe, before a first sentinel) are forgotten."""
    w = sessions("admin")
    w.subscribe("#")
    start = f"{UNS}/_test/{uid}/start"
    sessions("bridge").publish(start)
    w.wait_for(start)
    w.forget()
    return w


def assert_dropped(watcher: Session, sentinel_from: Session, uid: str, *topics: str) -> None:
    """The topics (already published and acknowledged) never reached the watcher.

    The broker hands a QoS 1 message to its subscribers before it acknowledges it, and one
    subscriber's queue keeps order: once a later sentinel arrived, an allowed message would have too.
    """
    sentinel = f"{UNS}/_test/{uid}/sentinel"
    sentinel_from.publish(sentinel)
    watcher.wait_for(sentinel)
    assert not set(topics) & set(watcher.topics())


def test_anonymous_and_wrong_passwords_are_refused(secure_broker, sessions, passwords):
    for user, pw in ((None, None), ("explorer", "wrong"), ("line2-gateway", passwords["line1"])):
        reason = sessions(user, password=pw).connack
        assert reason is not None and reason.is_failure and reason.value in (5, NOT_AUTHORIZED)
    # The line docs/broker.md tells operators to look for (2.0.11 does not know the client id yet).
    assert secure_broker.wait_for_log("Client <unknown> disconnected, not authorised.")
    for user in ("bridge", "line1", "scada", "explorer", "admin"):
        assert not sessions(user).connack.is_failure


def test_edge_node_publishes_only_its_own_sparkplug_topics(sessions, watcher, uid):
    line1, bridge = sessions("line1"), sessions("bridge")
    own = [f"{G}/NBIRTH/line1", f"{G}/NDATA/line1", f"{G}/DDATA/line1/{uid}", f"{G}/DBIRTH/line1/{uid}"]
    foreign = [
        f"{G}/NBIRTH/line2-gateway",  # another edge node
        f"{G}/DDATA/line2-gateway/{uid}",
        f"spBv1.0/other-{uid}/NBIRTH/line1",  # its own id in a group that is not its own
        f"{G}/NCMD/line2-gateway",  # commands are the host's
        f"{G}/DCMD/line1/{uid}",
        "spBv1.0/STATE/uns-bridge",  # the host's STATE
        f"{UNS}/machining/line1/_raw/{uid}",  # the JSON view is the bridge's
        f"{UNS}/machining/line1/_erp/orders/{uid}",
    ]
    for topic in own + foreign:
        assert not line1.publish(topic).is_failure  # MQTT 3.1.1: a denied PUBLISH is acknowledged
    for topic in own:
        watcher.wait_for(topic)
    assert_dropped(watcher, bridge, uid, *foreign)


def test_mqtt5_denied_publish_carries_not_authorized(sessions, uid):
    line1 = sessions("line1", v5=True)
    assert not line1.publish(f"{G}/NDATA/line1").is_failure  # 0, or 0x10 no subscribers
    assert line1.publish(f"{G}/NDATA/line2-gateway").value == NOT_AUTHORIZED
    assert line1.publish(f"{UNS}/_test/{uid}").value == NOT_AUTHORIZED
    explorer = sessions("explorer", v5=True)
    assert explorer.publish(f"{UNS}/_test/{uid}").value == NOT_AUTHORIZED


def test_edge_node_reads_its_commands_and_host_state_only(sessions, uid):
    line1, bridge = sessions("line1"), sessions("bridge")
    # Mosquitto grants any subscription (SUBACK) and filters each message by the read rules.
    line1.subscribe(f"{G}/NCMD/#", f"{G}/DCMD/#", "spBv1.0/STATE/#", f"{UNS}/#")
    forbidden = [f"{G}/NCMD/line2-gateway", f"{UNS}/_test/{uid}/view"]
    for topic in forbidden:
        bridge.publish(topic)
    bridge.publish(f"{G}/NCMD/line1", b"rebirth")
    assert line1.wait_for(f"{G}/NCMD/line1") == b"rebirth"
    assert not set(forbidden) & set(line1.topics())
    bridge.publish("spBv1.0/STATE/uns-bridge", b'{"online":true,"timestamp":1}', retain=True)
    line1.wait_for("spBv1.0/STATE/uns-bridge")


def test_bridge_writes_state_rebirth_requests_and_its_site_view(sessions, watcher, uid):
    bridge = sessions("bridge")
    allowed = [
        "spBv1.0/STATE/uns-bridge",
        f"{G}/NCMD/line1",
        f"{UNS}/machining/line1/cnc-101/_raw/{uid}",
        f"{UNS}/machining/line1/_erp/orders/{uid}",
        f"{UNS}/_bridge/health",
    ]
    for topic in allowed:
        bridge.publish(topic)
        watcher.wait_for(topic)
    foreign = [
        f"{G}/NBIRTH/line1",  # cannot pose as an edge node
        f"{G}/DCMD/line1/{uid}",  # rebirth is an NCMD; no device commands
        f"spBv1.0/other-{uid}/NCMD/line1",  # groups of other plants
        "spBv1.0/STATE/rogue-host",  # another host's STATE
        f"acme/other-site-{uid}/x",  # another site of the enterprise
        f"other-{uid}/toolworks/x",
    ]
    for topic in foreign:
        bridge.publish(topic)
    assert_dropped(watcher, bridge, uid, *foreign)


def test_readers_read_everything_and_write_nothing(sessions, watcher, uid):
    scada, explorer, bridge, admin = sessions("scada"), sessions("explorer"), sessions("bridge"), watcher
    for reader in (scada, explorer):
        reader.subscribe("#")
    bridge.publish(f"{UNS}/_test/{uid}/seen")
    for reader in (scada, explorer):
        reader.wait_for(f"{UNS}/_test/{uid}/seen")
    denied = [f"{UNS}/_test/{uid}/by-reader", f"{G}/NCMD/line1", "spBv1.0/STATE/uns-bridge", f"$SYS/{uid}"]
    for reader in (scada, explorer, admin):
        for topic in denied:
            reader.publish(topic)
    assert_dropped(watcher, bridge, uid, *denied)


def test_sys_topics_are_for_the_admin_only(sessions, uid):
    admin, explorer, bridge = sessions("admin"), sessions("explorer"), sessions("bridge")
    admin.subscribe("$SYS/broker/version")
    assert admin.wait_for("$SYS/broker/version").startswith(b"mosquitto version")  # retained
    explorer.subscribe("$SYS/#", f"{UNS}/_test/{uid}/after")
    bridge.publish(f"{UNS}/_test/{uid}/after")
    explorer.wait_for(f"{UNS}/_test/{uid}/after")  # retained $SYS would have come first
    assert not [t for t in explorer.topics() if t.startswith("$SYS")]


def test_sparkplug_edge_node_and_primary_host_work_under_the_acl(secure_broker, passwords, uid):
    """The real EdgeNode and HostApplication with their own logins: births, data, a rebirth request."""
    url = f"mqtt://{{}}:{{}}@127.0.0.1:{secure_broker.port}"
    got = Collector()
    host = HostApplication(
        "uns-bridge",
        url.format("bridge", passwords["bridge"]),
        groups=["toolworks"],
        on_lifecycle=got,
        reorder_timeout=0,
        rebirth_min_interval=0,
    )
    node = EdgeNode(
        "toolworks",
        "line1",
        url.format("line1", passwords["line1"]),
        [MetricDef("uptime", DataType.Int64, 1)],
        primary_host_id="uns-bridge",
    )
    node.add_device(uid, [MetricDef("counters/good", DataType.UInt32, 7)])
    host.start()
    try:
        assert host.wait_ready(10)
        node.start()
        try:
            got.wait_for(lambda e: isinstance(e, NodeBirth) and e.edge_node_id == "line1")
            got.wait_for(lambda e: isinstance(e, DeviceBirth) and e.device_id == uid)
            assert host.request_rebirth("toolworks", "line1", "test")
            got.wait_for(lambda e: isinstance(e, RebirthRequested))
            # The NCMD went through the ACL both ways: the node answers with a second birth.
            got.wait_for(lambda e: len([x for x in got.items if isinstance(x, NodeBirth)]) >= 2)
        finally:
            node.stop()
    finally:
        host.stop()
