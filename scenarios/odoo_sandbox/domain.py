"""Odoo domains (prefix notation with '&', '|', '!') evaluated in Python over sandbox records."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from .errors import PyValueError
from .fields import Field

OPERATORS = {
    "=",
    "!=",
    "<>",
    "<",
    ">",
    "<=",
    ">=",
    "in",
    "not in",
    "like",
    "ilike",
    "not like",
    "not ilike",
    "=like",
    "=ilike",
    "=?",
}

Getter = Callable[[str, int, str], Any]
FieldsOf = Callable[[str], dict[str, Field]]
NameOf = Callable[[str, int], str]


def normalize(domain: Sequence[Any]) -> list[Any]:
    """Add the implicit '&' between consecutive terms, as expression.normalize_domain does."""
    if not isinstance(domain, list | tuple):
        raise PyValueError(f"Invalid domain {domain!r}")
    result: list[Any] = []
    expected = 1
    for token in domain:
        if expected == 0:
            result[0:0] = ["&"]
            expected = 1
        if isinstance(token, list | tuple):
            if len(token) != 3:
                raise PyValueError(f"Invalid leaf {token!r}")
            expected -= 1
            result.append(tuple(token))
        elif token in ("&", "|"):
            expected += 1
            result.append(token)
        elif token == "!":
            result.append(token)
        else:
            raise PyValueError(f"Invalid leaf {token!r}")
    if expected != 0 and domain:
        raise PyValueError(f"Invalid domain {list(domain)!r}")
    return result


class DomainEvaluator:
    def __init__(self, model: str, fields_of: FieldsOf, getter: Getter, name_of: NameOf) -> None:
        self.model = model
        self.fields_of = fields_of
        self.getter = getter
        self.name_of = name_of

    def matches(self, record_id: int, domain: Sequence[Any]) -> bool:
        tokens = normalize(domain)
        if not tokens:
            return True
        _pos, result = self._eval(tokens, 0, record_id)
        return result

    def _eval(self, tokens: list[Any], pos: int, rid: int) -> tuple[int, bool]:
        token = tokens[pos]
        if token == "!":
            nxt, value = self._eval(tokens, pos + 1, rid)
            return nxt, not value
        if token in ("&", "|"):
            nxt, left = self._eval(tokens, pos + 1, rid)
            nxt, right = self._eval(tokens, nxt, rid)
            return nxt, (left and right) if token == "&" else (left or right)
        return pos + 1, self.leaf(self.model, rid, token)

    def leaf(self, model: str, rid: int, term: tuple[Any, str, Any]) -> bool:
        path, op, value = term
        if path in (1, 0, True, False) and op == "=":
            return bool(path == value)
        op = op.lower()
        if op not in OPERATORS:
            raise PyValueError(f"Invalid leaf {term!r}")
        if op == "<>":
            op = "!="
        if op == "=?":
            if value is None or value is False:
                return True
            op = "="
        fname, _, rest = str(path).partition(".")
        fields = self.fields_of(model)
        if fname not in fields:
            raise PyValueError(f"Invalid field {model}.{fname} in leaf {term!r}")
        f = fields[fname]
        raw = self.getter(model, rid, fname)
        if rest:
            if not f.comodel:
                raise PyValueError(f"Invalid field {model}.{fname} in leaf {term!r}")
            ids = _as_ids(raw)
            sub = [self.leaf(f.comodel, i, (rest, op, value)) for i in ids]
            negative = op in ("!=", "not in", "not like", "not ilike")
            return all(sub) if negative and ids else (any(sub) if ids else negative)
        if f.comodel:
            return self._relational(f, raw, op, value)
        return compare(raw, op, value)

    def _relational(self, f: Field, raw: Any, op: str, value: Any) -> bool:
        ids = _as_ids(raw)
        if isinstance(value, str) or (
            isinstance(value, list | tuple) and value and isinstance(value[0], str)
        ):
            names = [self.name_of(f.comodel or "", i) for i in ids]
            negative = op in ("!=", "not in", "not like", "not ilike")
            positive_op = {"!=": "=", "not in": "in", "not like": "like", "not ilike": "ilike"}.get(op, op)
            hit = any(compare(n, positive_op, value) for n in names)
            return not hit if negative else hit
        if value is False or value is None:
            return (not ids) if op == "=" else bool(ids) if op == "!=" else False
        if op in ("=", "!="):
            hit = int(value) in ids
            return hit if op == "=" else not hit
        if op in ("in", "not in"):
            wanted = {v for v in value if v is not False}
            hit = bool(set(ids) & wanted) or (False in value and not ids)
            return hit if op == "in" else not hit
        return any(compare(i, op, value) for i in ids)


def _as_ids(raw: Any) -> list[int]:
    if raw is False or raw is None:
        return []
    if isinstance(raw, list):
        return [int(i) for i in raw]
    return [int(raw)]


def _like(pattern: str, text: str, ci: bool, anchored: bool) -> bool:
    body = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    regex = body if anchored else f".*{body}.*"
    return re.fullmatch(regex, text, re.IGNORECASE | re.DOTALL if ci else re.DOTALL) is not None


def compare(raw: Any, op: str, value: Any) -> bool:
    """One leaf on a scalar value, with SQL's NULL rules where Odoo keeps them."""
    empty = raw is False or raw is None
    if op in ("in", "not in"):
        values = list(value) if isinstance(value, list | tuple | set) else [value]
        hit = (empty and (False in values or None in values)) or (not empty and raw in values)
        return hit if op == "in" else not hit
    if op in ("=", "!="):
        if value is False or value is None:
            hit = empty
        elif isinstance(raw, bool) or isinstance(value, bool):
            hit = bool(raw) == bool(value)
        else:
            hit = (not empty) and raw == value
        return hit if op == "=" else not hit
    if op in ("like", "ilike", "not like", "not ilike", "=like", "=ilike"):
        text = "" if empty else str(raw)
        positive = op.replace("not ", "")
        ci = "ilike" in positive
        hit = not empty and _like(str(value), text, ci, positive.startswith("="))
        if op.startswith("not"):
            return empty or not hit
        return hit
    if empty or value is False or value is None:
        return False
    try:
        if op == "<":
            return bool(raw < value)
        if op == ">":
            return bool(raw > value)
        if op == "<=":
            return bool(raw <= value)
        return bool(raw >= value)
    except TypeError:
        return False
