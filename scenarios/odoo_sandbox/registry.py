"""The sandbox database: one SQLite file, the model registry, environments (user, context, sudo)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import PyKeyError

if TYPE_CHECKING:
    from .orm import Model

T = TypeVar("T")
SUPERUSER_ID = 1

#: every sandbox model class, registered by Model.__init_subclass__
MODEL_CLASSES: dict[str, type[Model]] = {}


class Registry:
    """One database: its SQLite connection, guarded by a lock that makes each RPC call one transaction."""

    def __init__(self, db_path: str, db_name: str, version: str) -> None:
        self.db_path = db_path
        self.db_name = db_name
        self.version = version
        self.major = int(version.split(".")[0].split("~")[-1].replace("saas", "") or 18)
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(db_path, check_same_thread=False, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.models: dict[str, type[Model]] = {
            name: cls._for_version(self.major)
            for name, cls in MODEL_CLASSES.items()
            if cls._available(self.major)
        }
        self._create_tables()

    def _create_tables(self) -> None:
        cur = self.conn.cursor()
        cur.execute(
            "CREATE TABLE IF NOT EXISTS sandbox_sequence (code TEXT PRIMARY KEY, next INTEGER NOT NULL)"
        )
        cur.execute("CREATE TABLE IF NOT EXISTS sandbox_meta (key TEXT PRIMARY KEY, value TEXT)")
        for cls in self.models.values():
            table = cls._table()
            cur.execute(f'CREATE TABLE IF NOT EXISTS "{table}" (id INTEGER PRIMARY KEY AUTOINCREMENT)')
            existing = {row[1] for row in cur.execute(f'PRAGMA table_info("{table}")')}
            for fname, f in cls._fields.items():
                if f.column and fname not in existing and fname != "id":
                    from .fields import STORED_COLUMN_TYPES

                    cur.execute(f'ALTER TABLE "{table}" ADD COLUMN "{fname}" {STORED_COLUMN_TYPES[f.type]}')

    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM sandbox_meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO sandbox_meta(key, value) VALUES (?, ?)", (key, value))

    def next_by_code(self, code: str) -> int:
        row = self.conn.execute("SELECT next FROM sandbox_sequence WHERE code=?", (code,)).fetchone()
        number = 1 if row is None else int(row[0])
        self.conn.execute(
            "INSERT OR REPLACE INTO sandbox_sequence(code, next) VALUES (?, ?)", (code, number + 1)
        )
        return number

    def transaction(self, fn: Callable[[], T]) -> T:
        """Run fn as one transaction: all of it lands, or none of it (as Odoo's cursor per RPC call)."""
        with self.lock:
            self.conn.execute("BEGIN")
            try:
                result = fn()
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")
            return result

    def close(self) -> None:
        with self.lock:
            self.conn.close()


class Env:
    """Who calls (uid), with which context, and whether as superuser; gives model recordsets by name."""

    def __init__(self, registry: Registry, uid: int, context: dict[str, Any] | None = None, su: bool = False):
        self.registry = registry
        self.uid = uid
        self.context: dict[str, Any] = dict(context or {})
        self.su = su
        self.cache: dict[str, dict[int, dict[str, Any]]] = {}

    @property
    def cr(self) -> sqlite3.Connection:
        return self.registry.conn

    @property
    def version(self) -> int:
        return self.registry.major

    def __getitem__(self, model: str) -> Model:
        cls = self.registry.models.get(model)
        if cls is None:
            raise PyKeyError(model)
        return cls(self, ())

    def __contains__(self, model: str) -> bool:
        return model in self.registry.models

    def derive(
        self, *, uid: int | None = None, context: dict[str, Any] | None = None, su: bool | None = None
    ) -> Env:
        env = Env(
            self.registry,
            self.uid if uid is None else uid,
            self.context if context is None else context,
            self.su if su is None else su,
        )
        env.cache = self.cache
        return env

    @property
    def user(self) -> Model:
        return self["res.users"].browse(self.uid)

    def ref(self, xmlid: str, raise_if_not_found: bool = True) -> Model:
        module, _, name = xmlid.partition(".")
        row = self.cr.execute(
            'SELECT model, res_id FROM "ir_model_data" WHERE module=? AND name=?', (module, name)
        ).fetchone()
        if row is None:
            if raise_if_not_found:
                raise ValueError(f"External ID not found in the system: {xmlid}")
            return self["res.users"].browse(())
        return self[str(row[0])].browse(int(row[1]))

    def invalidate(self, model: str) -> None:
        self.cache.pop(model, None)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        self.cr.execute("SAVEPOINT sp")
        try:
            yield
        except BaseException:
            self.cr.execute("ROLLBACK TO sp")
            self.cache.clear()
            raise
        self.cr.execute("RELEASE sp")
