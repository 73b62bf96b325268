"""x2many write commands (0..6) on one2many and many2many fields."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import PyValueError
from .fields import Field, to_storage

if TYPE_CHECKING:
    from .orm import Model


def apply_x2many(self: Model, f: Field, commands: Any) -> None:
    """Odoo's x2many commands: 0 create, 1 update, 2 delete, 3 unlink, 4 link, 5 clear, 6 set."""
    co = self.env[f.comodel or ""]
    current = getattr(self, f.name).ids
    for cmd in commands or []:
        if isinstance(cmd, int):
            cmd = (4, cmd, 0)
        op = cmd[0]
        if op == 0:
            vals = dict(cmd[2])
            if f.type == "one2many":
                vals[f.inverse or ""] = self.id
                co.create(vals)
            else:
                current.append(co.create(vals).id)
        elif op == 1:
            co.browse(cmd[1]).write(cmd[2])
        elif op in (2, 3):
            if f.type == "one2many" or op == 2:
                target = co.browse(cmd[1])
                target.unlink() if op == 2 else target.write({f.inverse or "": False})
            current = [i for i in current if i != cmd[1]]
        elif op == 4:
            if f.type == "one2many":
                co.browse(cmd[1]).write({f.inverse or "": self.id})
            elif cmd[1] not in current:
                current.append(cmd[1])
        elif op == 5:
            if f.type == "one2many":
                co.browse(current).write({f.inverse or "": False})
            current = []
        elif op == 6:
            if f.type == "one2many":
                co.browse([i for i in current if i not in cmd[2]]).write({f.inverse or "": False})
                co.browse(list(cmd[2])).write({f.inverse or "": self.id})
            current = list(cmd[2])
        else:
            raise PyValueError(f"Invalid command {cmd!r}")
    if f.type == "many2many":
        self.env.cr.execute(
            f'UPDATE "{self._table()}" SET "{f.name}"=? WHERE id=?',
            (to_storage(f, current, self._name), self.id),
        )
        self.env.invalidate(self._name)
