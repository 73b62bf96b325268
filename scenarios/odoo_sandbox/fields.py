"""Typed field declarations of sandbox models; value conversion to and from storage and the wire."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from .errors import PyValueError

DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
DATE_FORMAT = "%Y-%m-%d"

#: Field types whose value lives in the model's own table (many2many: a JSON list in one column).
STORED_COLUMN_TYPES = {
    "char": "TEXT",
    "text": "TEXT",
    "html": "TEXT",
    "many2one_reference": "INTEGER",
    "selection": "TEXT",
    "date": "TEXT",
    "datetime": "TEXT",
    "integer": "INTEGER",
    "boolean": "INTEGER",
    "many2one": "INTEGER",
    "float": "REAL",
    "many2many": "TEXT",
}


@dataclass(slots=True)
class Field:
    type: str
    string: str = ""
    required: bool = False
    readonly: bool = False
    default: Any = None
    selection: list[tuple[str, str]] | None = None
    comodel: str | None = None
    inverse: str | None = None
    compute: str | None = None
    related: str | None = None
    store: bool = True
    copy: bool = True
    help: str = ""
    domain: list[Any] | None = None
    #: for selections whose values changed between versions: major version -> selection
    selection_by_version: Callable[[int], list[tuple[str, str]]] | None = None
    since: int = 0
    until: int = 99
    name: str = field(default="")

    def __get__(self, instance: Any, owner: Any) -> Any:
        if instance is None:
            return self
        return instance._get_field(self.name)

    def __set__(self, instance: Any, value: Any) -> None:
        instance.write({self.name: value.id if hasattr(value, "_ids") else value})

    @property
    def column(self) -> bool:
        return (
            self.store and self.compute is None and self.related is None and self.type in STORED_COLUMN_TYPES
        )

    def describe(self) -> dict[str, Any]:
        """One entry of fields_get, with the attributes Odoo's fields_get gives clients by default."""
        out: dict[str, Any] = {
            "type": self.type,
            "string": self.string or self.name.replace("_", " ").title(),
            "help": self.help,
            "required": self.required,
            "readonly": self.readonly or (self.compute is not None and not self.store),
            "store": self.store and self.related is None and not (self.compute and not self.store),
            "sortable": self.column or (self.compute is not None and self.store),
            "searchable": True,
            "manual": False,
            "company_dependent": False,
            "depends": [],
            "groupable": self.column or (self.compute is not None and self.store),
            "exportable": True,
            "change_default": False,
        }
        if self.type == "selection":
            out["selection"] = [list(pair) for pair in self.selection or []]
        if self.comodel:
            out["relation"] = self.comodel
            out["context"] = {}
            out["domain"] = []
        if self.type == "one2many":
            out["relation_field"] = self.inverse
        if self.type == "many2one_reference":
            out["model_field"] = self.help
            out["help"] = ""
        if self.type in ("char", "text"):
            out["translate"] = False
            if self.type == "char":
                out["trim"] = True
        if self.related:
            out["related"] = self.related
        return out


def Char(string: str = "", **kw: Any) -> Field:
    return Field("char", string, **kw)


def Text(string: str = "", **kw: Any) -> Field:
    return Field("text", string, **kw)


def Html(string: str = "", **kw: Any) -> Field:
    return Field("html", string, **kw)


def Many2oneReference(string: str = "", model_field: str = "", **kw: Any) -> Field:
    """An id whose model another field names (res_id next to res_model)."""
    return Field("many2one_reference", string, help=model_field, **kw)


def Integer(string: str = "", **kw: Any) -> Field:
    return Field("integer", string, **kw)


def Float(string: str = "", **kw: Any) -> Field:
    return Field("float", string, **kw)


def Boolean(string: str = "", **kw: Any) -> Field:
    return Field("boolean", string, **kw)


def Date(string: str = "", **kw: Any) -> Field:
    return Field("date", string, **kw)


def Datetime(string: str = "", **kw: Any) -> Field:
    return Field("datetime", string, **kw)


def Selection(selection: list[tuple[str, str]], string: str = "", **kw: Any) -> Field:
    return Field("selection", string, selection=selection, **kw)


def Many2one(comodel: str, string: str = "", **kw: Any) -> Field:
    return Field("many2one", string, comodel=comodel, **kw)


def One2many(comodel: str, inverse: str, string: str = "", **kw: Any) -> Field:
    return Field("one2many", string, comodel=comodel, inverse=inverse, store=False, copy=False, **kw)


def Many2many(comodel: str, string: str = "", **kw: Any) -> Field:
    return Field("many2many", string, comodel=comodel, **kw)


def now_string() -> str:
    return datetime.utcnow().strftime(DATETIME_FORMAT)


def today_string() -> str:
    return datetime.utcnow().strftime(DATE_FORMAT)


def parse_datetime(value: str) -> datetime:
    """As fields.Datetime.to_datetime: a date alone or 'YYYY-MM-DD HH:MM:SS', nothing else."""
    fmt = DATETIME_FORMAT if len(value) > 10 else DATE_FORMAT
    return datetime.strptime(value, fmt)


def to_storage(f: Field, value: Any, model: str) -> Any:
    """Convert a wire value (from create/write) to the column value; raise ValueError as Odoo would."""
    if f.type in ("integer", "many2one", "many2one_reference"):
        if value is False or value is None:
            return None
        if f.type == "many2one" and isinstance(value, list | tuple):
            value = value[0]
        return int(value)
    if f.type == "float":
        return None if value is False or value is None else float(value)
    if f.type == "boolean":
        return 1 if value else 0
    if value is False or value is None:
        return None
    if f.type == "selection":
        allowed = {k for k, _ in f.selection or []}
        if value not in allowed:
            raise PyValueError(f"Wrong value for {model}.{f.name}: {value!r}")
        return value
    if f.type == "datetime":
        if isinstance(value, datetime):
            return value.strftime(DATETIME_FORMAT)
        try:
            return parse_datetime(str(value)).strftime(DATETIME_FORMAT)
        except ValueError as exc:
            raise PyValueError(str(exc)) from None
    if f.type == "date":
        if isinstance(value, date):
            return value.strftime(DATE_FORMAT)
        try:
            return parse_datetime(str(value)).strftime(DATE_FORMAT)
        except ValueError as exc:
            raise PyValueError(str(exc)) from None
    if f.type == "many2many":
        return json.dumps(sorted({int(v) for v in value}))
    return str(value)


def from_storage(f: Field, raw: Any) -> Any:
    """Column value -> the Python value business logic sees (False for empty, as Odoo reads it)."""
    if f.type == "boolean":
        return bool(raw)
    if f.type in ("integer", "float", "many2one_reference"):
        return raw if raw is not None else (0.0 if f.type == "float" else 0)
    if f.type == "many2many":
        return json.loads(raw) if raw else []
    return raw if raw is not None else False


DefaultFn = Callable[..., Any]
