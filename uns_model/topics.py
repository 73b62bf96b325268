"""UNS topic grammar: `<enterprise>/<site>/<area>/<line>/<cell>/_<contract>/<path>`, built and parsed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from uns_model.names import LEVEL_RULE, is_contract_level, is_level, level_to_ref, ref_to_level

PLACE_LEVELS: tuple[str, ...] = ("enterprise", "site", "area", "line", "cell")
PlaceLevel = Literal["enterprise", "site", "area", "line", "cell"]

#: Contract levels this product publishes and what each allows.
RAW = "_raw"
ERP = "_erp"
BRIDGE = "_bridge"
CONTRACT_LEVELS: tuple[str, ...] = (RAW, ERP, BRIDGE)

#: Kinds below `_erp`: ERP to plant (orders, holds), plant to ERP audit (events), delivery state (status).
ERP_KINDS: tuple[str, ...] = ("orders", "holds", "events", "status")

_EVENT_ID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_CONTRACT_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_REF_LEVEL_RE = re.compile(r"^[A-Za-z0-9-][A-Za-z0-9_-]{0,511}$")


class TopicError(ValueError):
    """A topic that breaks the namespace grammar; the message names the level and the rule."""


@dataclass(frozen=True, slots=True)
class Place:
    """A place in the ISA-95 hierarchy, from enterprise down to at most the cell (work center)."""

    enterprise: str
    site: str
    area: str | None = None
    line: str | None = None
    cell: str | None = None

    def __post_init__(self) -> None:
        levels = [self.enterprise, self.site, self.area, self.line, self.cell]
        seen_gap = False
        for name, value in zip(PLACE_LEVELS, levels, strict=True):
            if value is None:
                seen_gap = True
                continue
            if seen_gap:
                raise TopicError(f"place level {name}={value!r} given without the levels above it")
            if not is_level(value):
                raise TopicError(f"place level {name}={value!r} breaks the naming rule: {LEVEL_RULE}")

    @property
    def levels(self) -> tuple[str, ...]:
        """The place's levels from the enterprise down."""
        out = [self.enterprise, self.site]
        for value in (self.area, self.line, self.cell):
            if value is None:
                break
            out.append(value)
        return tuple(out)

    @property
    def depth(self) -> PlaceLevel:
        """The lowest level this place names: 'site', 'area', 'line' or 'cell'."""
        depth: PlaceLevel = PLACE_LEVELS[len(self.levels) - 1]  # type: ignore[assignment]
        return depth

    @property
    def path(self) -> str:
        """The ISA-95 path, e.g. 'acme/plant1/machining/line1/cnc1'."""
        return "/".join(self.levels)

    def __str__(self) -> str:
        return self.path

    @classmethod
    def parse(cls, path: str) -> Place:
        """Parse an ISA-95 path 'enterprise/site[/area[/line[/cell]]]'."""
        parts = path.split("/")
        if not 2 <= len(parts) <= 5:
            raise TopicError(f"place path {path!r} must have 2 to 5 levels (enterprise/site/area/line/cell)")
        return cls(*parts)

    def child(self, name: str) -> Place:
        """The place one level below this one."""
        levels = [*self.levels, name]
        if len(levels) > 5:
            raise TopicError(f"{self.path!r} is a cell; there is no place level below it")
        return Place(*levels)

    def up_to(self, level: PlaceLevel) -> Place:
        """This place cut at `level` (e.g. the line of a cell)."""
        n = PLACE_LEVELS.index(level) + 1
        if n > len(self.levels):
            raise TopicError(f"{self.path!r} has no {level} level")
        return Place(*self.levels[:n])


@dataclass(frozen=True, slots=True)
class UnsTopic:
    """A parsed UNS topic: the place, the contract level (with '_') and the path below it."""

    place: Place
    contract: str
    path: tuple[str, ...]

    def __str__(self) -> str:
        return "/".join((*self.place.levels, self.contract, *self.path))

    @property
    def tag_path(self) -> str:
        """For `_raw` topics: the tag path in the cell."""
        if self.contract != RAW:
            raise TopicError(f"{self} is not a {RAW} topic")
        return "/".join(self.path)

    @property
    def erp_kind(self) -> str:
        """For `_erp` topics: 'orders', 'holds', 'events' or 'status'."""
        if self.contract != ERP:
            raise TopicError(f"{self} is not an {ERP} topic")
        return self.path[0]

    @property
    def ref(self) -> str:
        """For `_erp/orders|holds` topics: the decoded ERP ref (e.g. 'WH/MO/00012')."""
        if self.contract != ERP or self.path[0] not in ("orders", "holds"):
            raise TopicError(f"{self} is not an order or hold topic")
        return level_to_ref(self.path[1])


def _check_place_levels(topic: str, levels: list[str]) -> None:
    for name, value in zip(PLACE_LEVELS, levels, strict=False):
        if not is_level(value):
            raise TopicError(f"topic {topic!r}: {name} level {value!r} breaks the naming rule: {LEVEL_RULE}")


def parse_topic(topic: str) -> UnsTopic:
    """Parse a UNS topic; raise TopicError naming the offending level and the rule it breaks."""
    if not topic:
        raise TopicError("empty topic")
    if any(c in topic for c in "+#"):
        raise TopicError(f"topic {topic!r} holds an MQTT wildcard ('+' or '#'); a published topic never does")
    levels = topic.split("/")
    if "" in levels:
        raise TopicError(f"topic {topic!r} has an empty level (leading, trailing or doubled '/')")
    idx = next((i for i, lv in enumerate(levels) if lv.startswith("_")), None)
    if idx is None:
        raise TopicError(f"topic {topic!r} has no contract level ('_raw', '_erp', '_bridge')")
    place_levels, contract, path = levels[:idx], levels[idx], tuple(levels[idx + 1 :])
    if len(place_levels) < 2 or len(place_levels) > 5:
        raise TopicError(
            f"topic {topic!r}: {len(place_levels)} place level(s) before {contract!r}; expected 2 to 5 "
            "(enterprise/site/area/line/cell)"
        )
    _check_place_levels(topic, place_levels)
    if not is_contract_level(contract) or contract not in CONTRACT_LEVELS:
        raise TopicError(
            f"topic {topic!r}: unknown contract level {contract!r}; expected one of {CONTRACT_LEVELS}"
        )
    place = Place(*place_levels)
    if contract == RAW:
        _check_raw(topic, place, path)
    elif contract == ERP:
        _check_erp(topic, place, path)
    else:
        _check_bridge(topic, place, path)
    return UnsTopic(place, contract, path)


def _check_raw(topic: str, place: Place, path: tuple[str, ...]) -> None:
    if place.depth != "cell":
        raise TopicError(f"topic {topic!r}: {RAW} belongs at cell level, not at {place.depth} level")
    if not path:
        raise TopicError(f"topic {topic!r}: {RAW} needs a tag path after it")
    for folder in path:
        if not is_level(folder):
            raise TopicError(
                f"topic {topic!r}: tag path folder {folder!r} breaks the naming rule: {LEVEL_RULE}"
            )


def _check_erp(topic: str, place: Place, path: tuple[str, ...]) -> None:
    if not path or path[0] not in ERP_KINDS:
        raise TopicError(f"topic {topic!r}: after {ERP} expected one of {ERP_KINDS}")
    kind = path[0]
    if kind in ("orders", "holds"):
        if place.depth != "line":
            raise TopicError(
                f"topic {topic!r}: {ERP}/{kind} belongs at line level, not at {place.depth} level"
            )
        if len(path) != 2 or not _REF_LEVEL_RE.match(path[1]):
            raise TopicError(f"topic {topic!r}: {ERP}/{kind} takes exactly one encoded ref level")
        try:
            level_to_ref(path[1])
        except ValueError as exc:
            raise TopicError(f"topic {topic!r}: {exc}") from exc
        return
    if place.depth not in ("line", "cell"):
        raise TopicError(f"topic {topic!r}: {ERP}/{kind} belongs at line or cell level, not {place.depth}")
    want = 2 if kind == "events" else 3
    if len(path) != want or not _CONTRACT_NAME_RE.match(path[1]):
        shape = "<event type>" if kind == "events" else "<event type>/<event id>"
        raise TopicError(f"topic {topic!r}: expected {ERP}/{kind}/{shape}")
    if kind == "status" and not _EVENT_ID_RE.match(path[2]):
        raise TopicError(f"topic {topic!r}: {path[2]!r} is not an event id (lower-case UUID)")


def _check_bridge(topic: str, place: Place, path: tuple[str, ...]) -> None:
    if place.depth != "site":
        raise TopicError(f"topic {topic!r}: {BRIDGE} belongs at site level, not at {place.depth} level")
    if not path:
        raise TopicError(f"topic {topic!r}: {BRIDGE} needs a path after it")
    for part in path:
        if not is_level(part):
            raise TopicError(f"topic {topic!r}: level {part!r} breaks the naming rule: {LEVEL_RULE}")


# --- builders: each returns the topic string, validated by the same grammar ------------------------------


def raw_topic(cell: Place, tag_path: str) -> str:
    """`<cell>/_raw/<tag path>`: a tag's value, retained."""
    return str(parse_topic(f"{cell.path}/{RAW}/{tag_path}"))


def order_topic(line: Place, order_ref: str) -> str:
    """`<line>/_erp/orders/<encoded ref>`: a released work order, retained while active."""
    return str(parse_topic(f"{line.path}/{ERP}/orders/{ref_to_level(order_ref)}"))


def hold_topic(line: Place, hold_ref: str) -> str:
    """`<line>/_erp/holds/<encoded ref>`: an active quality hold, retained while active."""
    return str(parse_topic(f"{line.path}/{ERP}/holds/{ref_to_level(hold_ref)}"))


def event_topic(place: Place, contract: str) -> str:
    """`<line or cell>/_erp/events/<event type>`: a plant to ERP event for audit, not retained."""
    return str(parse_topic(f"{place.path}/{ERP}/events/{contract}"))


def status_topic(place: Place, contract: str, event_id: str) -> str:
    """`<line or cell>/_erp/status/<event type>/<event id>`: an event's delivery state."""
    return str(parse_topic(f"{place.path}/{ERP}/status/{contract}/{event_id}"))


def bridge_topic(site: Place, *path: str) -> str:
    """`<enterprise>/<site>/_bridge/<path>`: the bridge's health and counters."""
    return str(parse_topic("/".join((*site.up_to("site").levels, BRIDGE, *path))))


# --- subscription filters for consumers ------------------------------------------------------------------


def raw_filter(site: Place) -> str:
    """All tag values of a site."""
    return f"{site.up_to('site').path}/+/+/+/{RAW}/#"


def orders_filter(site: Place) -> str:
    """All work orders of a site."""
    return f"{site.up_to('site').path}/+/+/{ERP}/orders/+"


def holds_filter(site: Place) -> str:
    """All quality holds of a site."""
    return f"{site.up_to('site').path}/+/+/{ERP}/holds/+"
