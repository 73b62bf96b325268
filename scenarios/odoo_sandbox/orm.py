"""The sandbox ORM: recordsets over SQLite with Odoo's CRUD methods, defaults, x2many commands and checks."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Self

from . import security
from .errors import MissingError, PyValueError, ValidationError
from .fields import Datetime, Field, Many2one, from_storage, now_string, to_storage
from .orm_query import QueryMixin
from .registry import MODEL_CLASSES, Env

F = Callable[..., Any]


def api_model(fn: F) -> F:
    """Callable over RPC without ids (Odoo's @api.model)."""
    fn._rpc = "model"  # type: ignore[attr-defined]
    return fn


def api_multi(fn: F) -> F:
    """Callable over RPC on the records whose ids come first in args."""
    fn._rpc = "multi"  # type: ignore[attr-defined]
    return fn


def returns_id(fn: F) -> F:
    """A recordset result goes over the wire as its single id (api.returns with lambda value: value.id)."""
    fn._returns_one = True  # type: ignore[attr-defined]
    return fn


def returns_ids(fn: F) -> F:
    """A recordset result goes over the wire as its ids (Odoo's @api.returns('self'))."""
    fn._returns_ids = True  # type: ignore[attr-defined]
    return fn


def as_vals_list(vals_list: dict[str, Any] | list[dict[str, Any]]) -> list[dict[str, Any]]:
    """create() takes one dict or a list of them."""
    return [vals_list] if isinstance(vals_list, dict) else list(vals_list)


class Model(QueryMixin):
    _name: ClassVar[str] = ""
    _description: ClassVar[str] = ""
    _order: ClassVar[str] = "id"
    _rec_name: ClassVar[str] = "name"
    _since: ClassVar[int] = 0
    #: fields name_search looks in (Odoo's _rec_names_search), default: the _rec_name
    _rec_names_search: ClassVar[tuple[str, ...]] = ()
    _until: ClassVar[int] = 99
    _fields: ClassVar[dict[str, Field]] = {}

    create_date = Datetime("Created on", readonly=True)
    write_date = Datetime("Last Updated on", readonly=True)
    create_uid = Many2one("res.users", "Created by", readonly=True)
    write_uid = Many2one("res.users", "Last Updated by", readonly=True)

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if cls.__dict__.get("_version_copy"):
            return
        fields: dict[str, Field] = {"id": Field("integer", "ID", readonly=True, name="id")}
        for klass in reversed(cls.__mro__):
            for key, value in vars(klass).items():
                if isinstance(value, Field):
                    value.name = key
                    fields[key] = value
        if "display_name" not in fields:
            fields["display_name"] = Field(
                "char", "Display Name", compute="_compute_display_name", store=False, name="display_name"
            )
            cls.display_name = fields["display_name"]  # type: ignore[attr-defined]
        cls._fields = fields
        if cls._name:
            MODEL_CLASSES[cls._name] = cls

    @classmethod
    def _available(cls, major: int) -> bool:
        return cls._since <= major < cls._until

    @classmethod
    def _for_version(cls, major: int) -> type[Model]:
        """A copy of the class whose fields are those the given Odoo major version has."""
        fields = {
            k: dataclasses.replace(f, selection=f.selection_by_version(major))
            if f.selection_by_version
            else f
            for k, f in cls._fields.items()
            if f.since <= major < f.until
        }
        return type(cls.__name__, (cls,), {"_version_copy": True, "_fields": fields})

    @classmethod
    def _table(cls) -> str:
        return cls._name.replace(".", "_")

    def __init__(self, env: Env, ids: Sequence[int]) -> None:
        self.env = env
        self._ids: tuple[int, ...] = tuple(ids)

    if TYPE_CHECKING:
        # field values are reached as attributes (Field descriptors); this tells the type checker so
        def __getattr__(self, name: str) -> Any: ...

    # ---- recordset basics -------------------------------------------------------------------
    @property
    def ids(self) -> list[int]:
        return list(self._ids)

    def __iter__(self) -> Iterator[Self]:
        for rid in self._ids:
            yield type(self)(self.env, (rid,))

    def __getitem__(self, key: int | slice) -> Self:
        if isinstance(key, slice):
            return type(self)(self.env, self._ids[key])
        return type(self)(self.env, (self._ids[key],))

    def __len__(self) -> int:
        return len(self._ids)

    def __bool__(self) -> bool:
        return bool(self._ids)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Model) and other._name == self._name and set(other._ids) == set(self._ids)

    def __hash__(self) -> int:
        return hash((self._name, frozenset(self._ids)))

    def __or__(self, other: Model) -> Self:
        return self.browse(list(dict.fromkeys(self._ids + other._ids)))

    def __sub__(self, other: Model) -> Self:
        return self.browse([i for i in self._ids if i not in other._ids])

    def __repr__(self) -> str:
        return f"{self._name}{self._ids!r}"

    def browse(self, ids: int | Sequence[int] | None = ()) -> Self:
        if ids is None or ids is False:
            ids = ()
        if isinstance(ids, int):
            ids = (ids,)
        return type(self)(self.env, tuple(ids))

    def with_env(self, env: Env) -> Self:
        return type(self)(env, self._ids)

    def sudo(self, flag: bool = True) -> Self:
        return self.with_env(self.env.derive(su=flag))

    def with_context(self, *args: dict[str, Any], **kw: Any) -> Self:
        ctx = dict(args[0] if args else self.env.context, **kw)
        return self.with_env(self.env.derive(context=ctx))

    def ensure_one(self) -> Self:
        if len(self._ids) != 1:
            raise PyValueError(f"Expected singleton: {self!r}")
        return self

    @property
    def id(self) -> Any:
        return self._ids[0] if self._ids else False

    def filtered(self, fn: Callable[[Self], Any]) -> Self:
        return self.browse([r.id for r in self if fn(r)])

    def mapped(self, fname: str) -> Any:
        f = self._fields[fname]
        if f.comodel:
            out: list[int] = []
            for rec in self:
                out.extend(i for i in getattr(rec, fname).ids if i not in out)
            return self.env[f.comodel].browse(out)
        return [getattr(rec, fname) for rec in self]

    # ---- values -----------------------------------------------------------------------------
    def _rows(self) -> dict[int, dict[str, Any]]:
        cache = self.env.cache.setdefault(self._name, {})
        missing = [i for i in self._ids if i not in cache]
        if missing:
            marks = ",".join("?" * len(missing))
            for row in self.env.cr.execute(f'SELECT * FROM "{self._table()}" WHERE id IN ({marks})', missing):
                cache[int(row["id"])] = dict(row)
        return cache

    def _row(self) -> dict[str, Any]:
        rid = self.ensure_one()._ids[0]
        row = self._rows().get(rid)
        if row is None:
            raise MissingError(
                "Record does not exist or has been deleted.\n"
                f"(Record: {self._name}({rid},), User: {self.env.uid})"
            )
        return row

    def _raw(self, fname: str) -> Any:
        """Value for domains: ids for relations, Python scalars otherwise."""
        f = self._fields[fname]
        value = getattr(self, fname)
        if f.comodel:
            return value.id if f.type == "many2one" else value.ids
        return value

    def _get_field(self, name: str) -> Any:
        f = type(self)._fields.get(name)
        if f is None:
            raise AttributeError(f"'{self._name}' object has no attribute '{name}'")
        if name == "id":
            return self._ids[0] if self._ids else False
        if not self._ids:
            return self.env[f.comodel].browse(()) if f.comodel else False
        if f.related:
            first, _, rest = f.related.partition(".")
            return getattr(getattr(self, first), rest) if rest else getattr(self, first)
        if f.compute:
            if f.store:
                self._row()  # stored in Odoo: read from the table, so a missing record is a MissingError
            return getattr(self, f.compute)()
        if f.type == "one2many":
            co = self.env[f.comodel or ""]
            domain = [(f.inverse, "=", self.ensure_one().id), *(f.domain or [])]
            return co.sudo().search(domain).with_env(self.env)
        value = from_storage(f, self._row().get(name))
        if f.type == "many2one":
            return self.env[f.comodel or ""].browse(value or ())
        if f.type == "many2many":
            co = self.env[f.comodel or ""]
            # x2many values come in the comodel's order (res.users.groups_id by group name)
            return co.browse(co.sudo()._sorted(list(value), co._order) if co._order != "id" else value)
        return value

    def _compute_display_name(self) -> str:
        value = getattr(self, self._rec_name) if self._rec_name in self._fields else False
        return str(value) if value else f"{self._name},{self.id}"

    # ---- CRUD ---------------------------------------------------------------------------------
    def _check_access(self, mode: str) -> None:
        if not self.env.su:
            security.check_model_access(self.env, self._name, mode)

    @api_model
    def create(self, vals_list: dict[str, Any] | list[dict[str, Any]]) -> Self:
        self._check_access("create")
        records = self.browse(())
        for vals in as_vals_list(vals_list):
            records |= self._create_one(dict(vals))
        for rec in records:
            rec._check_constraints()
        return records

    def _default_values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for fname, f in self._fields.items():
            key = f"default_{fname}"
            if key in self.env.context:
                out[fname] = self.env.context[key]
            elif f.default is not None:
                out[fname] = f.default(self) if callable(f.default) else f.default
        return out

    def _create_one(self, vals: dict[str, Any]) -> Self:
        for key in vals:
            if key not in self._fields:
                raise PyValueError(f"Invalid field {key!r} on model {self._name!r}")
        vals = self._prepare_create(vals)
        vals = {**self._default_values(), **vals}
        now = now_string()
        columns: dict[str, Any] = {
            "create_date": now,
            "write_date": now,
            "create_uid": self.env.uid,
            "write_uid": self.env.uid,
        }
        relational: dict[str, Any] = {}
        for key, value in vals.items():
            f = self._fields[key]
            if key in ("id", "create_date", "write_date", "create_uid", "write_uid"):
                continue
            if f.type == "one2many" or (
                f.type == "many2many" and value and isinstance(value[0], list | tuple)
            ):
                relational[key] = value
            elif f.column:
                columns[key] = self._checked_storage(f, value)
        for fname, f in self._fields.items():
            if f.required and f.column and columns.get(fname) in (None, "") and f.type != "boolean":
                raise self._not_null_error(f)
        names = ", ".join(f'"{c}"' for c in columns)
        cur = self.env.cr.execute(
            f'INSERT INTO "{self._table()}" ({names}) VALUES ({",".join("?" * len(columns))})',
            list(columns.values()),
        )
        record = self.browse(int(cur.lastrowid or 0))
        self.env.invalidate(self._name)
        for key, commands in relational.items():
            record._apply_x2many(self._fields[key], commands)
        record._post_create(vals)
        return record

    def _prepare_create(self, vals: dict[str, Any]) -> dict[str, Any]:
        """Model-specific completion of create values (sequences, related defaults)."""
        return vals

    def _post_create(self, vals: dict[str, Any]) -> None:
        """Model-specific side effects of a create."""

    def _post_write(self, vals: dict[str, Any]) -> None:
        """Model-specific side effects of a write."""

    def _check_constraints(self) -> None:
        """Python constraints (Odoo's @api.constrains), run after create and write."""

    def _not_null_error(self, f: Field) -> ValidationError:
        return ValidationError(
            "The operation cannot be completed:\n"
            "- Create/update: a mandatory field is not set.\n"
            "- Delete: another model requires the record being deleted. If possible, archive it instead.\n\n"
            f"Model: {self._description} ({self._name})\n"
            f"Field: {f.string or f.name} ({f.name})\n"
        )

    def _checked_storage(self, f: Field, value: Any) -> Any:
        stored = to_storage(f, value, self._name)
        if f.type == "many2one" and stored is not None:
            co = self.env[f.comodel or ""]
            if not co.sudo().browse(stored).exists():
                # Odoo's computes and constraints read the new record first (real 18.0 answers so)
                raise MissingError(
                    "Record does not exist or has been deleted.\n"
                    f"(Record: {co._name}({stored},), User: {self.env.uid})"
                )
        return stored

    def _apply_x2many(self, f: Field, commands: Any) -> None:
        from .x2many import apply_x2many

        apply_x2many(self, f, commands)

    def _check_field_names(self, vals: dict[str, Any]) -> None:
        for key in vals:
            if key not in self._fields:
                raise PyValueError(f"Invalid field {key!r} on model {self._name!r}")

    @api_multi
    def write(self, vals: dict[str, Any]) -> bool:
        self._check_access("write")
        self._check_field_names(vals)
        for rec in self:
            rec._row()  # MissingError on deleted records, as Odoo's write
        columns: dict[str, Any] = {"write_date": now_string(), "write_uid": self.env.uid}
        relational: dict[str, Any] = {}
        for key, value in vals.items():
            f = self._fields[key]
            if key in ("id", "create_date", "write_date", "create_uid", "write_uid"):
                continue
            if f.type == "one2many" or f.type == "many2many":
                relational[key] = value
            elif f.column:
                stored = self._checked_storage(f, value)
                if f.required and stored in (None, "") and f.type != "boolean":
                    raise self._not_null_error(f)
                columns[key] = stored
        if self._ids:
            sets = ", ".join(f'"{c}"=?' for c in columns)
            marks = ",".join("?" * len(self._ids))
            self.env.cr.execute(
                f'UPDATE "{self._table()}" SET {sets} WHERE id IN ({marks})', [*columns.values(), *self._ids]
            )
            self.env.invalidate(self._name)
        for rec in self:
            for key, commands in relational.items():
                rec._apply_x2many(self._fields[key], commands)
        self._post_write(vals)
        for rec in self:
            rec._check_constraints()
        return True

    @api_multi
    def unlink(self) -> bool:
        self._check_access("unlink")
        for rec in self:
            rec._row()
        self._pre_unlink()
        if self._ids:
            marks = ",".join("?" * len(self._ids))
            self.env.cr.execute(f'DELETE FROM "{self._table()}" WHERE id IN ({marks})', self._ids)
            self.env.invalidate(self._name)
        return True

    def _pre_unlink(self) -> None:
        """Model-specific refusal or cleanup before records go."""

    @api_multi
    @returns_ids
    def exists(self) -> Self:
        rows = self._rows()
        return self.browse([i for i in self._ids if i in rows])
