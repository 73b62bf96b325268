"""The Host Application STATE message: Sparkplug 3.0 JSON `{"online", "timestamp"}` and legacy 2.2 strings."""

from __future__ import annotations

import json
import time

from pydantic import BaseModel, ConfigDict, StrictBool, ValidationError

from sparkplug.errors import SparkplugDecodeError

NAMESPACE = "spBv1.0"
STATE_QOS = 1

# Sparkplug 2.2 hosts published plain "ONLINE"/"OFFLINE" on `STATE/<host_id>` (outside spBv1.0/).
LEGACY_ONLINE = b"ONLINE"
LEGACY_OFFLINE = b"OFFLINE"


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class HostState(BaseModel):
    """One STATE payload. Birth and death of one host session carry the same timestamp."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    online: StrictBool
    # Lax on purpose: some peers write the number as 1.7e12; pydantic still refuses 1.5 or "soon".
    timestamp: int

    def to_bytes(self) -> bytes:
        return json.dumps(
            {"online": self.online, "timestamp": self.timestamp}, separators=(",", ":")
        ).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> HostState:
        """Read a STATE payload; anything else raises SparkplugDecodeError(reason="malformed")."""
        try:
            return cls.model_validate_json(raw)
        except ValidationError as exc:
            raise SparkplugDecodeError(f"not a Sparkplug 3.0 STATE payload: {raw[:80]!r}") from exc


def state_topic(host_id: str) -> str:
    """`spBv1.0/STATE/<host_id>` (Sparkplug 3.0)."""
    _check_host_id(host_id)
    return f"{NAMESPACE}/STATE/{host_id}"


def legacy_state_topic(host_id: str) -> str:
    """`STATE/<host_id>` (Sparkplug 2.2), published only when a host is asked for legacy STATE."""
    _check_host_id(host_id)
    return f"STATE/{host_id}"


def _check_host_id(host_id: str) -> None:
    if not host_id or any(c in host_id for c in "+/#"):
        raise ValueError(f"invalid Sparkplug host id {host_id!r}: must be non-empty without + / #")
