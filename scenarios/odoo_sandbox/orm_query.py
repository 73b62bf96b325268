"""Searching and reading records: search(_read, _count), read, fields_get, name_search, default_get."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Self

from .domain import DomainEvaluator
from .errors import PyTypeError, PyValueError
from .fields import Field

if TYPE_CHECKING:
    from .registry import Env


def api_model_q(fn: Any) -> Any:
    fn._rpc = "model"
    return fn


def api_multi_q(fn: Any) -> Any:
    fn._rpc = "multi"
    return fn


def returns_ids_q(fn: Any) -> Any:
    fn._returns_ids = True
    return fn


class QueryMixin:
    """The read side of Model; mixed in so that orm.py keeps the record and write side."""

    _name: ClassVar[str]
    _order: ClassVar[str]
    _rec_name: ClassVar[str]
    _fields: ClassVar[dict[str, Field]]
    env: Env
    _ids: tuple[int, ...]

    if TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any: ...

        def __iter__(self) -> Any: ...

        def browse(self, ids: Any = ()) -> Self: ...

    # ---- search and read ----------------------------------------------------------------------
    def _evaluator(self) -> DomainEvaluator:
        env = self.env.derive(su=True)
        return DomainEvaluator(
            self._name,
            lambda m: env.registry.models[m]._fields,
            lambda m, i, f: env[m].browse(i)._raw(f),
            lambda m, i: str(env[m].browse(i).display_name),
        )

    def _all_ids(self) -> list[int]:
        return [int(r[0]) for r in self.env.cr.execute(f'SELECT id FROM "{self._table()}" ORDER BY id')]

    @api_model_q
    @returns_ids_q
    def search(
        self, domain: Sequence[Any] = (), offset: int = 0, limit: int | None = None, order: str | None = None
    ) -> Self:
        self._check_access("read")
        domain = list(domain or [])
        mentions_active = any(isinstance(t, list | tuple) and t[0] == "active" for t in domain)
        if "active" in self._fields and self.env.context.get("active_test", True) and not mentions_active:
            domain = [("active", "=", True), *domain]
        evaluator = self._evaluator()
        ids = [i for i in self._all_ids() if evaluator.matches(i, domain)]
        ids = self._sorted(ids, order or self._order)
        ids = ids[int(offset or 0) :]
        if limit:
            ids = ids[: int(limit)]
        return self.browse(ids)

    def _sorted(self, ids: list[int], order: str) -> list[int]:
        recs = self.sudo()
        for part in reversed([p.strip() for p in order.split(",") if p.strip()]):
            tokens = part.split()
            fname, desc = tokens[0].strip('"'), len(tokens) > 1 and tokens[1].lower() == "desc"
            if fname not in self._fields:
                raise PyValueError(f"Invalid field {fname!r} on model {self._name!r}")

            def key(rid: int, fname: str = fname) -> tuple[bool, Any]:
                value = recs.browse(rid)._raw(fname)
                empty = value is False or value is None
                return (empty, 0 if empty else value)

            ids.sort(key=key, reverse=desc)
        return ids

    @api_model_q
    def search_count(self, domain: Sequence[Any] = (), limit: int | None = None) -> int:
        return len(self.search(domain, limit=limit))

    @api_model_q
    def search_read(
        self,
        domain: Sequence[Any] | None = None,
        fields: list[str] | None = None,
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
        **read_kwargs: Any,
    ) -> list[dict[str, Any]]:
        records = self.search(domain or [], offset=offset, limit=limit, order=order)
        return records.read(fields, **read_kwargs) if records else []

    @api_multi_q
    def read(self, fields: list[str] | None = None, load: str = "_classic_read") -> list[dict[str, Any]]:
        self._check_access("read")
        names = list(fields) if fields else [n for n in self._fields if n != "id"]
        for name in names:
            if name not in self._fields:
                raise PyValueError(f"Invalid field {name!r} on model {self._name!r}")
        rows = self._rows()
        out = []
        for rec in self:
            if rec.id not in rows:
                continue
            vals: dict[str, Any] = {"id": rec.id}
            for name in names:
                vals[name] = rec._read_value(self._fields[name], load)
            out.append(vals)
        return out

    def _read_value(self, f: Field, load: str) -> Any:
        if f.name == "id":
            return self.id
        value = getattr(self, f.name)
        if f.type == "many2one":
            if not value:
                return False
            return [value.id, value.sudo().display_name] if load == "_classic_read" else value.id
        if f.type in ("one2many", "many2many"):
            return value.ids
        return value

    @api_model_q
    def fields_get(
        self, allfields: list[str] | None = None, attributes: list[str] | None = None
    ) -> dict[str, Any]:
        out = {}
        for name, f in self._fields.items():
            if allfields and name not in allfields:
                continue
            desc = f.describe()
            desc["name"] = name
            out[name] = {k: v for k, v in desc.items() if not attributes or k in attributes}
        return out

    @api_model_q
    def default_get(self, fields_list: list[str]) -> dict[str, Any]:
        defaults = self._default_values()
        return {k: v for k, v in defaults.items() if k in fields_list}

    @api_model_q
    def name_search(
        self,
        name: str = "",
        args: Sequence[Any] | None = None,
        operator: str = "ilike",
        limit: int = 100,
        domain: Sequence[Any] | None = None,
    ) -> list[list[Any]]:
        """Odoo 19 renamed the domain parameter from args to domain; each version takes only its own."""
        wrong = "domain" if self.env.version < 19 and domain is not None else None
        wrong = wrong or ("args" if self.env.version >= 19 and args is not None else None)
        if wrong:
            raise PyTypeError(f"BaseModel.name_search() got an unexpected keyword argument '{wrong}'")
        domain = list(args or domain or [])
        if name:
            names = getattr(self, "_rec_names_search", ()) or (self._rec_name,)
            domain = [*(["|"] * (len(names) - 1)), *[(n, operator, name) for n in names], *domain]
        return [[r.id, r.display_name] for r in self.search(domain, limit=limit)]
