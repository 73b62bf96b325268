"""Naming rules of the namespace: place levels, tag paths, contract levels, and ERP refs as topic levels."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import StringConstraints

#: One place level (enterprise, site, area, line, cell) or one folder of a tag path.
LEVEL_PATTERN = r"^[A-Za-z0-9-][A-Za-z0-9_-]{0,63}$"
#: A contract level: `_` then a lower-case word (`_raw`, `_erp`, `_bridge`).
CONTRACT_LEVEL_PATTERN = r"^_[a-z][a-z0-9_]{0,31}$"
#: Sparkplug ids: UTF-8 without the MQTT wildcards and the topic separator (Sparkplug 3.0, tck-id-topic-...).
SPARKPLUG_ID_PATTERN = r"^[^/+#]{1,128}$"

_LEVEL_RE = re.compile(LEVEL_PATTERN)
_CONTRACT_RE = re.compile(CONTRACT_LEVEL_PATTERN)
_SPARKPLUG_ID_RE = re.compile(SPARKPLUG_ID_PATTERN)

LEVEL_RULE = (
    "letters, digits, '_' and '-' only (at most 64), not starting with '_' (a leading '_' marks a contract)"
)
LEVEL_FIX = "rename it with letters, digits, '_' and '-' only, e.g. 'line_1' or 'cnc-01'"

#: pydantic type for a place level or a name used as one.
LevelName = Annotated[str, StringConstraints(pattern=LEVEL_PATTERN)]
#: pydantic type for a tag path: levels joined by '/'.
TagPathStr = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9-][A-Za-z0-9_-]{0,63}(/[A-Za-z0-9-][A-Za-z0-9_-]{0,63}){0,15}$"),
]
SparkplugId = Annotated[str, StringConstraints(pattern=SPARKPLUG_ID_PATTERN)]


def is_level(text: str) -> bool:
    """True when `text` is a valid place level or tag folder."""
    return bool(_LEVEL_RE.match(text))


def is_contract_level(text: str) -> bool:
    """True when `text` is a contract level such as `_raw`."""
    return bool(_CONTRACT_RE.match(text))


def is_sparkplug_id(text: str) -> bool:
    """True when `text` may be a Sparkplug group, edge node or device id."""
    return bool(_SPARKPLUG_ID_RE.match(text))


def check_level(text: str, what: str = "level") -> str:
    """Return `text` when it is a valid level, else raise ValueError naming the rule."""
    if not is_level(text):
        raise ValueError(f"{what} {text!r} breaks the naming rule: {LEVEL_RULE}")
    return text


def split_tag_path(path: str) -> tuple[str, ...]:
    """Split a tag path into its folders, checking each against the level rule."""
    if not path:
        raise ValueError("a tag path must not be empty")
    parts = tuple(path.split("/"))
    for part in parts:
        check_level(part, "tag path folder")
    return parts


# --- ERP refs as one topic level -------------------------------------------------------------------------
# Odoo names such as 'WH/MO/00012' hold '/', which would split the topic. The encoding keeps letters and
# digits, turns '/' into '_' (so 'WH/MO/00012' reads 'WH_MO_00012' in MQTT Explorer) and escapes the rest
# with '-': '--' is '-', '-_' is '_', '-XX' is one UTF-8 byte in upper-case hex. '-' may start a level and
# '_' may not, so a leading '/' is written '-2F'. Every ref has exactly one encoding and decoding rejects
# anything that is not that encoding, so level and ref map one to one.

_PLAIN = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_HEX = frozenset("0123456789ABCDEF")


def ref_to_level(ref: str) -> str:
    """Encode an ERP ref (order name, hold name, lot) as one topic level; reversible with level_to_ref."""
    if not ref:
        raise ValueError("an ERP ref must not be empty")
    out: list[str] = []
    for i, ch in enumerate(ref):
        if ch in _PLAIN:
            out.append(ch)
        elif ch == "/" and i > 0:
            out.append("_")
        elif ch == "-":
            out.append("--")
        elif ch == "_":
            out.append("-_")
        else:
            out.extend(f"-{b:02X}" for b in ch.encode("utf-8"))
    return "".join(out)


def level_to_ref(level: str) -> str:
    """Decode a topic level written by ref_to_level; raise ValueError when it is not such an encoding."""
    if not level:
        raise ValueError("an empty topic level holds no ERP ref")
    buf = bytearray()
    i = 0
    n = len(level)
    while i < n:
        ch = level[i]
        if ch in _PLAIN:
            buf.append(ord(ch))
            i += 1
        elif ch == "_" and i > 0:
            buf.append(ord("/"))
            i += 1
        elif ch == "-" and i + 1 < n and level[i + 1] in "-_":
            buf.append(ord(level[i + 1]))
            i += 2
        elif ch == "-" and i + 2 < n and level[i + 1] in _HEX and level[i + 2] in _HEX:
            buf.append(int(level[i + 1 : i + 3], 16))
            i += 3
        else:
            raise ValueError(f"topic level {level!r} is not an encoded ERP ref (bad escape at position {i})")
    try:
        ref = buf.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"topic level {level!r} decodes to invalid UTF-8") from exc
    if ref_to_level(ref) != level:
        raise ValueError(f"topic level {level!r} is not the canonical encoding of {ref!r}")
    return ref
