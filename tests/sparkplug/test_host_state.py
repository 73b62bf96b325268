"""The STATE payload model: what a host publishes and what an edge node accepts."""

from __future__ import annotations

import json

import pytest

from sparkplug.errors import SparkplugDecodeError
from sparkplug.state import HostState, legacy_state_topic, state_topic


def test_round_trip_is_compact_json():
    raw = HostState(online=True, timestamp=1_700_000_000_123).to_bytes()
    assert json.loads(raw) == {"online": True, "timestamp": 1_700_000_000_123}
    assert HostState.from_bytes(raw) == HostState(online=True, timestamp=1_700_000_000_123)


def test_integral_float_timestamps_from_other_peers_are_read():
    assert HostState.from_bytes(b'{"online": false, "timestamp": 1.7e12}').timestamp == 1_700_000_000_000


@pytest.mark.parametrize(
    "raw",
    [b"", b"ONLINE", b"{}", b'{"online": 1, "timestamp": 1}', b'{"online": true, "timestamp": 1.5}', b"[1]"],
)
def test_anything_else_is_a_decode_error(raw):
    with pytest.raises(SparkplugDecodeError):
        HostState.from_bytes(raw)


def test_topics():
    assert state_topic("scada") == "spBv1.0/STATE/scada"
    assert legacy_state_topic("scada") == "STATE/scada"
    for bad in ("", "a/b", "a+", "#"):
        with pytest.raises(ValueError):
            state_topic(bad)
