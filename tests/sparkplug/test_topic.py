"""Sparkplug topic grammar: round trips over valid ids and every rejection with its message."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sparkplug.errors import TopicError
from sparkplug.topic import (
    MessageType,
    SparkplugTopic,
    StateTopic,
    is_legacy_state,
    legacy_state_host_id,
    parse_topic,
)

ids = st.text(st.characters(blacklist_characters="+/#", blacklist_categories=["Cs"]), min_size=1, max_size=20)
node_types = st.sampled_from([MessageType.NBIRTH, MessageType.NDEATH, MessageType.NDATA, MessageType.NCMD])
device_types = st.sampled_from([MessageType.DBIRTH, MessageType.DDEATH, MessageType.DDATA, MessageType.DCMD])


@settings(max_examples=200, deadline=None)
@given(ids, node_types, ids)
def test_node_topic_roundtrip(group: str, mt: MessageType, edge: str) -> None:
    t = SparkplugTopic(group, mt, edge)
    assert t.text == f"spBv1.0/{group}/{mt}/{edge}" == str(t)
    assert parse_topic(t.text) == t


@settings(max_examples=200, deadline=None)
@given(ids, device_types, ids, ids)
def test_device_topic_roundtrip(group: str, mt: MessageType, edge: str, device: str) -> None:
    t = SparkplugTopic(group, mt, edge, device)
    assert t.text == f"spBv1.0/{group}/{mt}/{edge}/{device}"
    parsed = parse_topic(t.text)
    assert parsed == t and isinstance(parsed, SparkplugTopic) and parsed.message_type.is_device


@settings(max_examples=100, deadline=None)
@given(ids)
def test_state_topic_roundtrip(host: str) -> None:
    t = StateTopic(host)
    assert t.text == f"spBv1.0/STATE/{host}"
    assert parse_topic(t.text) == t
    assert t.message_type is MessageType.STATE


def test_message_type_from_plain_string() -> None:
    t = SparkplugTopic("g", "DDATA", "e", "d")  # type: ignore[arg-type]
    assert t.message_type is MessageType.DDATA
    assert MessageType.NBIRTH.is_birth and MessageType.DDEATH.is_death
    assert MessageType.NDATA.is_data and MessageType.DCMD.is_command and not MessageType.NCMD.is_device


@pytest.mark.parametrize(
    ("topic", "message"),
    [
        ("spAv1.0/g/NDATA/e", "namespace is 'spAv1.0', not 'spBv1.0'"),
        ("spBv1.0", "has 1 levels"),
        ("spBv1.0/g/NDATA", "has 3 levels"),
        ("spBv1.0/g/DDATA/e/d/x", "has 6 levels"),
        ("spBv1.0/g/FOO/e", "unknown message type 'FOO'"),
        ("spBv1.0/g/ndata/e", "unknown message type 'ndata'"),
        ("spBv1.0//NDATA/e", "group_id is empty"),
        ("spBv1.0/g/NDATA/", "edge_node_id is empty"),
        ("spBv1.0/g/DDATA/e/", "device_id is empty"),
        ("spBv1.0/STATE/", "host_id is empty"),
        ("spBv1.0/g+/NDATA/e", "group_id 'g+' contains the reserved character '+'"),
        ("spBv1.0/g/NDATA/e#", "edge_node_id 'e#' contains the reserved character '#'"),
        ("spBv1.0/g/DDATA/e/d+", "device_id 'd+' contains the reserved character '+'"),
        ("spBv1.0/g/NBIRTH/e/d", "NBIRTH takes no device_id (got 'd')"),
        ("spBv1.0/g/DBIRTH/e", "DBIRTH needs a device_id"),
        ("spBv1.0/g/STATE/e", "STATE is only valid as spBv1.0/STATE/<host_id>"),
    ],
)
def test_rejections(topic: str, message: str) -> None:
    with pytest.raises(TopicError, match=re.escape(f"topic {topic!r}: ")) as info:
        parse_topic(topic)
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)


def test_constructor_validates_too() -> None:
    with pytest.raises(TopicError, match="reserved character '/'"):
        SparkplugTopic("a/b", MessageType.NDATA, "e")
    with pytest.raises(TopicError, match="unknown message type"):
        SparkplugTopic("g", "XDATA", "e")  # type: ignore[arg-type]
    with pytest.raises(TopicError, match="host_id is empty"):
        StateTopic("")


def test_legacy_state() -> None:
    assert is_legacy_state("STATE/scada1")
    assert legacy_state_host_id("STATE/scada1") == "scada1"
    assert not is_legacy_state("spBv1.0/STATE/scada1")
    assert not is_legacy_state("STATE/")
    assert not is_legacy_state("STATE/a/b")
    assert legacy_state_host_id("spBv1.0/g/NDATA/e") is None
