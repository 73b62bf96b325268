"""Machine states: state table entries, the UMH-compatible default table, and code lookup."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

StateKind = Literal["running", "reduced_speed", "unknown", "microstop", "unplanned_stop", "planned_stop"]
#: Odoo's mrp.workcenter.productivity.loss loss_type values.
LossType = Literal["availability", "performance", "quality", "productive"]

#: State kinds during which a work center is not producing: these open a downtime.
STOP_KINDS: frozenset[str] = frozenset({"microstop", "unplanned_stop", "planned_stop"})

#: Name of the built-in table; a machine_state tag uses it unless it names another.
DEFAULT_TABLE = "umh"

#: UMH groups state codes in blocks of 10000 (10000-19999 is one state and its sub-states).
UMH_BLOCK = 10000


#: Odoo's default productivity loss names (mrp module data) and their loss types.
ODOO_DEFAULT_LOSSES: dict[str, LossType] = {
    "Material Availability": "availability",
    "Equipment Failure": "availability",
    "Setup and Adjustments": "availability",
    "Reduced Speed": "performance",
    "Process Defect": "quality",
    "Reduced Yield": "quality",
    "Fully Productive Time": "productive",
}


class StateEntry(BaseModel):
    """What a machine state code means: its kind, the reason shown to people, the Odoo productivity loss."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    state: StateKind = Field(
        description="running, reduced_speed, unknown, microstop, unplanned_stop, planned_stop"
    )
    reason: str = Field(min_length=1, description="the reason people read, e.g. 'Tool breakage'")
    odoo_loss: str | None = Field(
        default=None, description="name of the Odoo productivity loss (mrp.workcenter.productivity.loss)"
    )
    loss_type: LossType | None = Field(
        default=None, description="Odoo loss type; derived from state if omitted"
    )

    @property
    def is_stop(self) -> bool:
        """True when the work center does not produce in this state."""
        return self.state in STOP_KINDS

    @property
    def effective_loss_type(self) -> LossType:
        """The loss type: given, else that of a default Odoo loss, else derived from the state kind."""
        if self.loss_type is not None:
            return self.loss_type
        if self.odoo_loss in ODOO_DEFAULT_LOSSES:
            return ODOO_DEFAULT_LOSSES[self.odoo_loss]
        if self.state == "running":
            return "productive"
        if self.state == "reduced_speed":
            return "performance"
        return "availability"


def _e(state: StateKind, reason: str, loss: str | None) -> StateEntry:
    return StateEntry(state=state, reason=reason, odoo_loss=loss)


# Codes and meanings follow the UMH data model's states (datamodel/states.go in united-manufacturing-hub):
# blocks of 10000, sub-states inside a block. Losses use the names of Odoo's default productivity losses.
UMH_STATES: dict[int, StateEntry] = {
    10000: _e("running", "Producing at full speed", "Fully Productive Time"),
    20000: _e("reduced_speed", "Producing at lower than full speed", "Reduced Speed"),
    30000: _e("unknown", "Unknown (no data)", None),
    40000: _e("unplanned_stop", "Unspecified stop", "Equipment Failure"),
    40100: _e("unplanned_stop", "Idle", "Equipment Failure"),
    40200: _e("unplanned_stop", "Operator interaction", "Equipment Failure"),
    50000: _e("microstop", "Microstop", "Reduced Speed"),
    60000: _e("unplanned_stop", "Inlet jam", "Material Availability"),
    70000: _e("unplanned_stop", "Outlet jam", "Material Availability"),
    80000: _e("unplanned_stop", "Congestion in bypass", "Material Availability"),
    90000: _e("unplanned_stop", "Material issue", "Material Availability"),
    100000: _e("planned_stop", "Changeover", "Setup and Adjustments"),
    110000: _e("planned_stop", "Cleaning", "Setup and Adjustments"),
    120000: _e("planned_stop", "Emptying", "Setup and Adjustments"),
    130000: _e("planned_stop", "Setting up", "Setup and Adjustments"),
    140000: _e("unplanned_stop", "Operator not at machine", "Material Availability"),
    150000: _e("planned_stop", "Operator break", None),
    160000: _e("planned_stop", "No shift", None),
    170000: _e("planned_stop", "No order", None),
    180000: _e("unplanned_stop", "Equipment failure", "Equipment Failure"),
    190000: _e("unplanned_stop", "External failure", "Equipment Failure"),
    200000: _e("unplanned_stop", "External interference", "Equipment Failure"),
    210000: _e("planned_stop", "Preventive maintenance", "Setup and Adjustments"),
    220000: _e("unplanned_stop", "Other technical stop", "Equipment Failure"),
}


def lookup_state(table: dict[int, StateEntry], code: int, *, umh_blocks: bool) -> StateEntry | None:
    """The entry for `code`: the exact code first, then (for UMH-style tables) its block of 10000."""
    entry = table.get(code)
    if entry is None and umh_blocks and code >= UMH_BLOCK:
        entry = table.get(code - code % UMH_BLOCK)
    return entry
