"""Machine state codes a simulated cell reports, picked from its plant's state table by meaning."""

from __future__ import annotations

import re

from uns_model.plant import StateTable
from uns_model.states import StateEntry

#: What a simulated cell can be doing, each with the (state kind, reason pattern) choices to look for
#: in the plant's table, best first. A pattern of None takes the first code of that kind.
_CHOICES: dict[str, tuple[tuple[str, str | None], ...]] = {
    "running": (("running", None),),
    "setup": (("planned_stop", r"setup|setting up|changeover"), ("planned_stop", None)),
    "tool_change": (("planned_stop", r"tool"), ("planned_stop", r"setup|setting up|changeover")),
    "no_order": (("planned_stop", r"no order"), ("planned_stop", None)),
    "break": (("planned_stop", r"break"),),
    "breakdown": (("unplanned_stop", r"breakage|failure|fault"), ("unplanned_stop", None)),
    "overtemp": (("unplanned_stop", r"temperature"), ("unplanned_stop", r"breakage|failure|fault")),
    "material": (("unplanned_stop", r"material"), ("unplanned_stop", None)),
    "idle": (("unplanned_stop", r"idle|starv|waiting"), ("unplanned_stop", None)),
    "powered_off": (
        ("unplanned_stop", r"plc|controller|communication"),
        ("unknown", None),
        ("unplanned_stop", r"fault|failure"),
        ("unplanned_stop", None),
    ),
}

ACTIVITIES: tuple[str, ...] = tuple(_CHOICES)


class StateCodes:
    """Activity -> code for one state table, resolved once; an activity the table cannot express
    falls back to 'breakdown' (stops) or 'running' so that a cell always reports a known code."""

    def __init__(self, table: StateTable) -> None:
        self.table = table
        self._codes: dict[str, int] = {}
        for activity, choices in _CHOICES.items():
            code = self._pick(choices)
            if code is not None:
                self._codes[activity] = code
        #: Activities the table names itself (the others borrow a fallback code).
        self.native: frozenset[str] = frozenset(self._codes)
        if "running" not in self._codes:
            raise ValueError("the state table has no 'running' code; a simulated cell needs one")
        for activity in ACTIVITIES:
            if activity not in self._codes:
                # A cell that cannot say why it stopped still reports a stop, never 'running'.
                self._codes[activity] = self._codes.get("breakdown", self._codes["running"])

    def _pick(self, choices: tuple[tuple[str, str | None], ...]) -> int | None:
        for kind, pattern in choices:
            for code, entry in sorted(self.table.codes.items()):
                if entry.state != kind:
                    continue
                if pattern is None or re.search(pattern, entry.reason, re.IGNORECASE):
                    return code
        return None

    def code(self, activity: str) -> int:
        return self._codes[activity]

    def entry(self, code: int) -> StateEntry | None:
        return self.table.lookup(code)
