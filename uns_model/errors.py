"""Plant model errors that name the file, line, field and the fix."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

Loc = tuple[str | int, ...]


def format_loc(loc: Loc) -> str:
    """'areas[0].lines[1].cells[0].tags[2].rollover' from ('areas', 0, 'lines', 1, ...)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


@dataclass(frozen=True, slots=True)
class PlantIssue:
    """One problem in a plant file: where it is, what is wrong, how to fix it."""

    loc: Loc
    message: str
    fix: str
    line: int | None = None
    column: int | None = None

    def at(self, line: int | None, column: int | None) -> PlantIssue:
        """The same issue placed at a line and column of the file."""
        return replace(self, line=line, column=column)

    def format(self, source: str = "<plant>") -> str:
        """'plant.yaml:12:5: areas[0].name: <message> -> fix: <fix>'."""
        where = source
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {format_loc(self.loc)}: {self.message}\n    fix: {self.fix}"


class PlantModelError(Exception):
    """A plant model that does not validate; carries every issue found, not only the first.

    Deliberately not a ValueError: raised from a pydantic validator, it passes through pydantic unchanged,
    so its locations stay those of the file rather than of the validator.
    """

    def __init__(self, issues: Sequence[PlantIssue], source: str = "<plant>") -> None:
        self.issues = tuple(issues)
        self.source = source
        super().__init__(self.report())

    def report(self) -> str:
        """All issues, one block each, sorted by line."""
        ordered = sorted(self.issues, key=lambda i: (i.line is None, i.line or 0, i.column or 0))
        head = f"{self.source}: {len(ordered)} problem(s)"
        return "\n".join([head, *(i.format(self.source) for i in ordered)])

    def with_source(self, source: str, issues: Sequence[PlantIssue] | None = None) -> PlantModelError:
        """The same error attributed to a file, optionally with located issues."""
        return PlantModelError(self.issues if issues is None else issues, source)
