"""Property tests of the topic grammar, the naming rule and the ERP ref encoding."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from uns_model.names import is_level, level_to_ref, ref_to_level
from uns_model.topics import (
    Place,
    TopicError,
    bridge_topic,
    event_topic,
    hold_topic,
    order_topic,
    parse_topic,
    raw_topic,
    status_topic,
)

LEVEL_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
levels = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from(LEVEL_CHARS.replace("_", "")),
    st.text(alphabet=LEVEL_CHARS, max_size=20),
)
cells = st.builds(Place, levels, levels, levels, levels, levels)
tag_paths = st.lists(levels, min_size=1, max_size=4).map("/".join)
bad_chars = st.sampled_from([".", "+", "#", " ", "ä", "$", ":"])


@settings(deadline=None)
@given(cells, tag_paths)
def test_raw_topic_round_trips(cell: Place, tag_path: str) -> None:
    topic = raw_topic(cell, tag_path)
    parsed = parse_topic(topic)
    assert parsed.place == cell
    assert parsed.contract == "_raw"
    assert parsed.tag_path == tag_path
    assert str(parsed) == topic


@settings(deadline=None)
@given(cells, st.text(min_size=1, max_size=40))
def test_order_and_hold_topics_round_trip_any_ref(cell: Place, ref: str) -> None:
    line = cell.up_to("line")
    for build, kind in ((order_topic, "orders"), (hold_topic, "holds")):
        parsed = parse_topic(build(line, ref))
        assert parsed.place == line
        assert parsed.erp_kind == kind
        assert parsed.ref == ref


@settings(deadline=None)
@given(st.text(min_size=1, max_size=60))
def test_ref_encoding_is_one_level_and_reversible(ref: str) -> None:
    level = ref_to_level(ref)
    assert "/" not in level and not level.startswith("_")
    assert all(c in LEVEL_CHARS for c in level)
    assert level_to_ref(level) == ref


def test_odoo_names_read_well() -> None:
    assert ref_to_level("WH/MO/00012") == "WH_MO_00012"
    assert ref_to_level("LOT-7") == "LOT--7"
    assert ref_to_level("/x") == "-2Fx"
    assert level_to_ref("WH_MO_00012") == "WH/MO/00012"


@pytest.mark.parametrize("level", ["-", "-2", "-zz", "-2f", "A-2F", "_A", "-C3"])
def test_non_canonical_ref_levels_are_rejected(level: str) -> None:
    with pytest.raises(ValueError):
        level_to_ref(level)


@settings(deadline=None)
@given(cells, st.sampled_from(["production_reported", "downtime_started"]), st.uuids())
def test_event_and_status_topics_round_trip(cell: Place, contract: str, uid: object) -> None:
    for place in (cell, cell.up_to("line")):
        parsed = parse_topic(event_topic(place, contract))
        assert (parsed.place, parsed.erp_kind, parsed.path[1]) == (place, "events", contract)
        parsed = parse_topic(status_topic(place, contract, str(uid)))
        assert parsed.path == ("status", contract, str(uid))


@settings(deadline=None)
@given(cells, tag_paths)
def test_bridge_topic_is_at_site_level(cell: Place, path: str) -> None:
    topic = bridge_topic(cell, *path.split("/"))
    assert topic.startswith(f"{cell.enterprise}/{cell.site}/_bridge/")
    assert parse_topic(topic).place == cell.up_to("site")


@settings(deadline=None)
@given(cells, tag_paths, st.integers(min_value=0, max_value=6), bad_chars)
def test_a_bad_character_in_any_level_is_rejected(cell: Place, tag_path: str, idx: int, bad: str) -> None:
    levels = [*cell.levels, "_raw", *tag_path.split("/")]
    idx = idx if idx != 5 else 0  # keep the contract level intact
    levels[idx] = levels[idx][:1] + bad + levels[idx][1:]
    with pytest.raises(TopicError):
        parse_topic("/".join(levels))


@settings(deadline=None)
@given(cells, tag_paths, st.integers(min_value=1, max_value=4))
def test_a_place_level_starting_with_underscore_is_a_contract_not_a_place(
    cell: Place, tag_path: str, idx: int
) -> None:
    levels = list(cell.levels)
    levels[idx] = "_" + levels[idx]
    with pytest.raises(TopicError):
        parse_topic("/".join([*levels, "_raw", tag_path]))


@settings(deadline=None)
@given(levels)
def test_level_rule(level: str) -> None:
    assert is_level(level)
    assert not is_level("_" + level)
    assert not is_level(level + ".x")


@pytest.mark.parametrize(
    ("topic", "words"),
    [
        ("", "empty"),
        ("acme/site/area/line/cell/_raw/", "empty level"),
        ("acme/site/area/line/cell/_raw/a+b", "wildcard"),
        ("acme/site/area/line/cell/raw/x", "no contract level"),
        ("acme/site/area/line/cell/x/_raw/y", "6 place level"),
        ("acme/_raw/x", "1 place level"),
        ("acme/site/area/line/_raw/x", "cell level"),
        ("acme/site/area/line/cell/_raw", "tag path"),
        ("acme/site/area/line/cell/_raw/_folder", "naming rule"),
        ("acme/site/area/line/cell/_history/x", "unknown contract level"),
        ("acme/site/area/line/cell/_erp/orders/WH_MO_1", "line level"),
        ("acme/site/area/line/_erp/orders/WH_MO_1/x", "exactly one"),
        ("acme/site/area/line/_erp/orders/A-ZZ", "not an encoded"),
        ("acme/site/area/line/_erp/invoices/1", "expected one of"),
        ("acme/site/area/_erp/events/production_reported", "line or cell"),
        ("acme/site/area/line/_erp/status/production_reported/not-a-uuid", "not an event id"),
        ("acme/site/area/_bridge/health", "site level"),
        ("acme/site/_bridge", "path after"),
        ("acme/site/area/line/cell/_raw/a.b", "naming rule"),
    ],
)
def test_rejections_name_the_rule(topic: str, words: str) -> None:
    with pytest.raises(TopicError, match=words):
        parse_topic(topic)


def test_place_helpers() -> None:
    cell = Place.parse("acme/toolworks/machining/line1/cnc-101")
    assert cell.depth == "cell" and cell.up_to("line").path == "acme/toolworks/machining/line1"
    with pytest.raises(TopicError):
        cell.child("deeper")
    with pytest.raises(TopicError):
        Place("acme", "site", None, "line")
