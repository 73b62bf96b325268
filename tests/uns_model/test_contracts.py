"""Contracts: deterministic event ids, JSON round trips, ordering keys, and the published-schema rule."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from uns_model import (
    CONTRACT_VERSIONS,
    CONTRACTS,
    EVENT_CONTRACTS,
    DeliveryStatus,
    DowntimeEnded,
    DowntimeStarted,
    GoodsFinished,
    GoodsFinishedV2,
    MaintenanceRequested,
    MaterialConsumed,
    ProductionReported,
    QualityDeviation,
    QualityHoldRaised,
    QualityHoldReleased,
    TagValue,
    TagValueV2,
    WorkOrderClosed,
    WorkOrderReleased,
    WorkOrderUpdated,
    parse_event,
    parse_message,
)
from uns_model.contracts import UnknownContractError
from uns_model.flows import DEFAULT_FLOWS, ERP_TO_PLANT, ROLE_CONTRACTS
from uns_model.schema import all_schema_texts

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"
CELL = "acme/toolworks/machining/line1/cnc-101"
LINE = "acme/toolworks/machining/line1"

EXAMPLES: dict[str, dict[str, Any]] = {
    "production_reported": dict(
        place=CELL, workcenter="CNC-101", external_work_order_id="WH/MO/00012", good_quantity=120,
        scrap_quantity=3, window_start_unix_ms=1764150000000, window_end_unix_ms=1764150060000,
    ),
    "material_consumed": dict(
        place=CELL, workcenter="CNC-101", external_work_order_id="WH/MO/00012", component="RM-ALU-BAR",
        quantity=12.5, unit="kg", window_start_unix_ms=1764150000000, window_end_unix_ms=1764150060000,
    ),
    "downtime_started": dict(
        place=CELL, workcenter="CNC-101", state_code=4, state="unplanned_stop", reason="Tool breakage",
        odoo_loss="Equipment Failure", started_unix_ms=1764150000000,
    ),
    "downtime_ended": dict(
        place=CELL, workcenter="CNC-101", state_code=4, state="unplanned_stop", reason="Tool breakage",
        started_unix_ms=1764150000000, ended_unix_ms=1764150300000,
    ),
    "quality_deviation": dict(
        place=CELL, tag_path="temperature", value=83.2, low=78, high=82, limit="high",
        detected_unix_ms=1764150000000, lot="L-0042",
    ),
    "maintenance_requested": dict(
        place=CELL, equipment="spindle", equipment_serial="SP-101-0001", trigger="runtime_threshold",
        tag_path="spindle/runtime_hours", raised_unix_ms=1764150000000, runtime_hours=1000.4, threshold_h=500,
        threshold_count=2,
    ),
    "goods_finished": dict(
        place=LINE, external_work_order_id="WH/MO/00012", quantity=500, lot="L-0042",
        finished_unix_ms=1764150000000, finished_total=1000,
    ),
    "work_order_released": dict(
        place=LINE, external_work_order_id="WH/MO/00012", odoo_id=12, product={"external_product_id": "FG-A"},
        quantity=500, status=0, odoo_state="confirmed", updated_unix_ms=1764150000000,
    ),
    "work_order_updated": dict(
        place=LINE, external_work_order_id="WH/MO/00012", odoo_id=12, product={"external_product_id": "FG-A"},
        quantity=450, status=1, odoo_state="progress", updated_unix_ms=1764150100000,
    ),
    "work_order_closed": dict(
        place=LINE, external_work_order_id="WH/MO/00012", odoo_id=12, reason="done",
        closed_unix_ms=1764159999000,
    ),
    "quality_hold_raised": dict(
        place=LINE, hold_ref="QA/0007", reason="Reactor over temperature", lot="L-0042",
        raised_unix_ms=1764150000000,
    ),
    "quality_hold_released": dict(place=LINE, hold_ref="QA/0007", released_unix_ms=1764153600000),
}  # fmt: skip


def test_every_event_contract_has_an_example() -> None:
    assert set(EXAMPLES) == set(EVENT_CONTRACTS)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_json_round_trip_keeps_id_and_names_contract(name: str) -> None:
    event = EVENT_CONTRACTS[name](**EXAMPLES[name])
    data = json.loads(event.model_dump_json())
    assert data["contract"] == name and data["version"] == event.VERSION
    assert data["event_id"] == event.event_id
    again = parse_event(event.model_dump_json())
    assert again == event and type(again) is type(event)
    assert event.ordering_key


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_same_facts_same_id(name: str) -> None:
    cls = EVENT_CONTRACTS[name]
    assert cls(**EXAMPLES[name]).event_id == cls(**EXAMPLES[name]).event_id


def test_ids_are_stable_across_releases() -> None:
    # Ids are stored in Odoo and in outboxes: the derivation must never change silently.
    assert (
        ProductionReported(**EXAMPLES["production_reported"]).event_id
        == "53914904-6730-5415-9c3d-5b32a501c3a9"
    )


@pytest.mark.parametrize(
    ("name", "field", "other"),
    [
        ("production_reported", "good_quantity", 121),
        ("production_reported", "scrap_quantity", 4),
        ("production_reported", "external_work_order_id", "WH/MO/00013"),
        ("production_reported", "place", "acme/toolworks/machining/line1/cnc-102"),
        ("material_consumed", "quantity", 12.6),
        ("material_consumed", "component", "RM-OTHER"),
        ("downtime_started", "started_unix_ms", 1764150000001),
        ("downtime_ended", "ended_unix_ms", 1764150300001),
        ("quality_deviation", "detected_unix_ms", 1764150000001),
        ("quality_deviation", "tag_path", "pressure"),
        ("maintenance_requested", "threshold_count", 3),
        ("maintenance_requested", "equipment", "other"),
        ("goods_finished", "lot", "L-0043"),
        ("goods_finished", "quantity", 501),
        ("goods_finished", "finished_total", 1500),
        ("goods_finished", "place", "acme/toolworks/machining/line2"),
        ("work_order_updated", "updated_unix_ms", 1764150100001),
        ("quality_hold_raised", "hold_ref", "QA/0008"),
    ],
)
def test_different_facts_different_id(name: str, field: str, other: object) -> None:
    cls = EVENT_CONTRACTS[name]
    assert cls(**EXAMPLES[name]).event_id != cls(**{**EXAMPLES[name], field: other}).event_id


def test_facts_outside_the_key_do_not_change_the_id() -> None:
    base = EXAMPLES["production_reported"]
    a = ProductionReported(**base)
    later = ProductionReported(
        **{**base, "window_start_unix_ms": 1764150060000, "window_end_unix_ms": 1764150120000}
    )
    assert a.event_id == later.event_id  # same cumulative totals: a replay, not new production
    assert ProductionReported(**{**base, "good_quantity": 120.0}).event_id == a.event_id


@settings(deadline=None)
@given(st.integers(0, 10**9), st.integers(0, 10**6), st.integers(0, 10**6))
def test_production_ids_depend_only_on_the_key(good: int, scrap: int, start: int) -> None:
    base = {**EXAMPLES["production_reported"], "good_quantity": good, "scrap_quantity": scrap}
    a = ProductionReported(**base)
    b = ProductionReported(**{**base, "window_start_unix_ms": start, "window_end_unix_ms": start + 1})
    c = ProductionReported(**{**base, "good_quantity": good + 1})
    assert a.event_id == b.event_id != c.event_id


def test_same_facts_in_two_contracts_give_two_ids() -> None:
    started = DowntimeStarted(**EXAMPLES["downtime_started"])
    ended = DowntimeEnded(**EXAMPLES["downtime_ended"])
    assert started.event_id != ended.event_id
    assert ended.started_event_id == started.event_id
    assert ended.ordering_key == started.ordering_key
    assert ended.duration_ms == 300000


def test_ordering_keys() -> None:
    assert ProductionReported(**EXAMPLES["production_reported"]).ordering_key == "order:WH/MO/00012"
    assert MaterialConsumed(**EXAMPLES["material_consumed"]).ordering_key == "order:WH/MO/00012"
    assert GoodsFinishedV2(**EXAMPLES["goods_finished"]).ordering_key == "order:WH/MO/00012"
    assert QualityDeviation(**EXAMPLES["quality_deviation"]).ordering_key == f"workcenter:{CELL}"
    assert MaintenanceRequested(**EXAMPLES["maintenance_requested"]).ordering_key == "equipment:SP-101-0001"


def test_tampered_or_inconsistent_events_are_rejected() -> None:
    data = json.loads(ProductionReported(**EXAMPLES["production_reported"]).model_dump_json())
    with pytest.raises(ValidationError, match="does not match"):
        parse_event({**data, "good_quantity": 121})
    with pytest.raises(ValidationError):
        parse_event({**data, "surprise": 1})
    with pytest.raises(ValidationError):
        ProductionReported(**{**EXAMPLES["production_reported"], "place": "acme/toolworks"})
    with pytest.raises(ValidationError):
        DowntimeEnded(**{**EXAMPLES["downtime_ended"], "ended_unix_ms": 1})
    with pytest.raises(ValidationError):
        QualityDeviation(**{**EXAMPLES["quality_deviation"], "limit": "low", "low": None})
    with pytest.raises(ValidationError):
        MaintenanceRequested(**{**EXAMPLES["maintenance_requested"], "threshold_count": None})
    with pytest.raises(ValidationError):
        ProductionReported(**{**EXAMPLES["production_reported"], "good_quantity": float("nan")})
    with pytest.raises(UnknownContractError):
        parse_event({**data, "version": 99})
    with pytest.raises(ValueError):
        parse_event(b"[1, 2]")


def test_non_event_payloads() -> None:
    assert TagValue.model_validate_json('{"timestamp_ms": 1764150000000, "value": 12.5}').value == 12.5
    assert TagValue(timestamp_ms=1, value=True).model_dump() == {"timestamp_ms": 1, "value": True}
    with pytest.raises(ValidationError):
        TagValue.model_validate_json('{"timestamp_ms": 1, "value": 1, "quality": "good"}')
    # v2 adds the stale mark the bridge publishes at a death; v1 stays strict and unchanged.
    stale = '{"timestamp_ms": 1, "value": 7, "stale": true}'
    assert TagValueV2.model_validate_json(stale).stale is True
    assert TagValueV2.model_validate_json('{"timestamp_ms": 1, "value": 7}').stale is False
    with pytest.raises(ValidationError):
        TagValue.model_validate_json(stale)
    status = DeliveryStatus(
        event_id="x", event_contract="production_reported", event_version=1, ordering_key="order:A",
        state="delivered", record_model="mrp.production", record_ids=[12], updated_unix_ms=5,
    )  # fmt: skip
    assert parse_message(status.model_dump_json()) == status
    with pytest.raises(UnknownContractError):
        parse_event(status.model_dump_json())


def test_topics_of_events() -> None:
    produced = ProductionReported(**EXAMPLES["production_reported"])
    assert produced.audit_topic == f"{CELL}/_erp/events/production_reported"
    assert produced.status_topic == f"{CELL}/_erp/status/production_reported/{produced.event_id}"
    assert WorkOrderReleased(**EXAMPLES["work_order_released"]).topic == f"{LINE}/_erp/orders/WH_MO_00012"
    assert WorkOrderClosed(**EXAMPLES["work_order_closed"]).topic == f"{LINE}/_erp/orders/WH_MO_00012"
    assert QualityHoldReleased(**EXAMPLES["quality_hold_released"]).topic == f"{LINE}/_erp/holds/QA_0007"


def test_erp_contracts_use_umh_names() -> None:
    order = WorkOrderReleased(**EXAMPLES["work_order_released"])
    data = order.model_dump(mode="json")
    assert {"external_work_order_id", "start_time_unix_ms", "end_time_unix_ms", "quantity", "status"} <= set(
        data
    )
    assert data["product"]["external_product_id"] == "FG-A"
    assert WorkOrderUpdated(**EXAMPLES["work_order_updated"]).event_id != order.event_id
    assert WorkOrderClosed(**EXAMPLES["work_order_closed"]).status == 2
    raised = QualityHoldRaised(**EXAMPLES["quality_hold_raised"])
    assert raised.ordering_key == QualityHoldReleased(**EXAMPLES["quality_hold_released"]).ordering_key


def test_every_flow_names_a_contract() -> None:
    names = set(CONTRACTS)
    assert set(DEFAULT_FLOWS) <= names
    assert set(ERP_TO_PLANT) <= names
    assert {c for cs in ROLE_CONTRACTS.values() for c in cs} <= names
    assert set(DEFAULT_FLOWS) == set(EVENT_CONTRACTS)


# --- the compatibility rule ------------------------------------------------------------------------------


def test_published_schemas_are_unchanged_unless_their_version_changed() -> None:
    """A published contract version is immutable. Changing a model changes its schema text; this fails
    until the change gets a new VERSION (a new class, the old one kept) and its file is generated with
    'uns schema --out docs/schemas'."""
    generated = all_schema_texts()
    for name, text in generated.items():
        path = SCHEMAS / name
        assert path.exists(), f"{name} is not published yet: run 'uns schema --out docs/schemas'"
        assert path.read_text(encoding="utf-8") == text, (
            f"{name} differs from its published schema: contract versions are immutable; "
            "add a new version instead of changing this one"
        )


def test_no_published_schema_lost_its_contract() -> None:
    published = {p.name for p in SCHEMAS.glob("*.json")}
    assert published <= set(all_schema_texts()), "a published contract version was removed from the registry"
    assert len(CONTRACT_VERSIONS) == len(published)


def test_goods_finished_v1_still_parses_and_v2_tells_equal_completions_apart() -> None:
    v1 = {k: v for k, v in EXAMPLES["goods_finished"].items() if k != "finished_total"}
    old = GoodsFinished(**v1)
    again = parse_event(old.model_dump_json())
    assert type(again) is GoodsFinished and again.event_id == old.event_id
    assert old.version == 1
    # An order and its backorder both finish 50 without a lot: v1 gives one id (the second looks like a
    # replay), v2 two, because the order's finished total on the cell differs.
    common = {**v1, "lot": None, "quantity": 50}
    assert GoodsFinished(**common).event_id == GoodsFinished(**common).event_id
    first = GoodsFinishedV2(**common, finished_total=50)
    second = GoodsFinishedV2(**common, finished_total=100)
    assert first.event_id != second.event_id
    assert GoodsFinishedV2(**common, finished_total=100).event_id == second.event_id
    assert isinstance(second, GoodsFinished)  # a superset of v1: code reading v1 fields reads v2
    with pytest.raises(ValidationError):
        GoodsFinishedV2(**common, finished_total=40)
