"""Sparkplug B topic grammar: spBv1.0/<group>/<type>/<edge node>[/<device>] and spBv1.0/STATE/<host>."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Final

from sparkplug.errors import TopicError

NAMESPACE: Final = "spBv1.0"
LEGACY_STATE_PREFIX: Final = "STATE/"
_RESERVED: Final = ("+", "/", "#")


class MessageType(StrEnum):
    """The spec's message_type element."""

    NBIRTH = "NBIRTH"
    NDEATH = "NDEATH"
    DBIRTH = "DBIRTH"
    DDEATH = "DDEATH"
    NDATA = "NDATA"
    DDATA = "DDATA"
    NCMD = "NCMD"
    DCMD = "DCMD"
    STATE = "STATE"

    @property
    def is_device(self) -> bool:
        """DBIRTH, DDEATH, DDATA, DCMD: the topic carries a device_id."""
        return self in _DEVICE_TYPES

    @property
    def is_birth(self) -> bool:
        return self is MessageType.NBIRTH or self is MessageType.DBIRTH

    @property
    def is_death(self) -> bool:
        return self is MessageType.NDEATH or self is MessageType.DDEATH

    @property
    def is_data(self) -> bool:
        return self is MessageType.NDATA or self is MessageType.DDATA

    @property
    def is_command(self) -> bool:
        return self is MessageType.NCMD or self is MessageType.DCMD


_DEVICE_TYPES: Final = frozenset(
    {MessageType.DBIRTH, MessageType.DDEATH, MessageType.DDATA, MessageType.DCMD}
)
_BY_NAME: Final[dict[str, MessageType]] = {t.value: t for t in MessageType}


def _check_id(kind: str, value: str) -> None:
    if not value:
        raise TopicError(f"{kind} is empty")
    for ch in _RESERVED:
        if ch in value:
            raise TopicError(f"{kind} {value!r} contains the reserved character {ch!r}")


@dataclass(frozen=True, slots=True)
class SparkplugTopic:
    """An edge node or device topic; validated on construction (TopicError)."""

    group_id: str
    message_type: MessageType
    edge_node_id: str
    device_id: str | None = None

    def __post_init__(self) -> None:
        mt = _BY_NAME.get(self.message_type)
        if mt is None:
            raise TopicError(f"unknown message type {self.message_type!r}")
        if mt is MessageType.STATE:
            raise TopicError("STATE is only valid as spBv1.0/STATE/<host_id> (use StateTopic)")
        if mt is not self.message_type:
            object.__setattr__(self, "message_type", mt)
        _check_id("group_id", self.group_id)
        _check_id("edge_node_id", self.edge_node_id)
        if mt in _DEVICE_TYPES:
            if self.device_id is None:
                raise TopicError(f"{mt} needs a device_id")
            _check_id("device_id", self.device_id)
        elif self.device_id is not None:
            raise TopicError(f"{mt} takes no device_id (got {self.device_id!r})")

    @property
    def text(self) -> str:
        """The MQTT topic string."""
        base = f"{NAMESPACE}/{self.group_id}/{self.message_type.value}/{self.edge_node_id}"
        return base if self.device_id is None else f"{base}/{self.device_id}"

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class StateTopic:
    """A Sparkplug 3.0 host application STATE topic: spBv1.0/STATE/<host_id>."""

    host_id: str

    def __post_init__(self) -> None:
        _check_id("host_id", self.host_id)

    @property
    def text(self) -> str:
        return f"{NAMESPACE}/STATE/{self.host_id}"

    @property
    def message_type(self) -> MessageType:
        return MessageType.STATE

    def __str__(self) -> str:
        return self.text


@lru_cache(maxsize=65536)
def parse_topic(topic: str) -> SparkplugTopic | StateTopic:
    """Parse a Sparkplug B topic, raising TopicError that says what is wrong with it."""
    levels = topic.split("/")
    if levels[0] != NAMESPACE:
        raise TopicError(f"topic {topic!r}: namespace is {levels[0]!r}, not {NAMESPACE!r}")
    n = len(levels)
    try:
        if n == 3 and levels[1] == "STATE":
            return StateTopic(levels[2])
        if n < 4 or n > 5:
            raise TopicError(
                f"has {n} levels, expected spBv1.0/<group_id>/<message_type>/<edge_node_id>[/<device_id>]"
                " or spBv1.0/STATE/<host_id>"
            )
        mt = _BY_NAME.get(levels[2])
        if mt is None:
            raise TopicError(f"unknown message type {levels[2]!r}")
        return SparkplugTopic(levels[1], mt, levels[3], levels[4] if n == 5 else None)
    except TopicError as exc:
        raise TopicError(f"topic {topic!r}: {exc}") from None


def is_legacy_state(topic: str) -> bool:
    """True for a Sparkplug 2.2 host STATE topic, `STATE/<host_id>` (outside the spBv1.0 namespace)."""
    if not topic.startswith(LEGACY_STATE_PREFIX):
        return False
    host_id = topic[len(LEGACY_STATE_PREFIX) :]
    return bool(host_id) and not any(ch in host_id for ch in _RESERVED)


def legacy_state_host_id(topic: str) -> str | None:
    """The host id of a Sparkplug 2.2 `STATE/<host_id>` topic, or None if it is not one."""
    return topic[len(LEGACY_STATE_PREFIX) :] if is_legacy_state(topic) else None
