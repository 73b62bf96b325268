"""What a simulation runs: orders, process parameters, recipes and scripted disturbances (pydantic)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OrderSpec(_Model):
    """A work order a cell (or batch line) works through: ref as Odoo names it, quantity of good units."""

    ref: str = Field(min_length=1, description="manufacturing order name, e.g. 'WH/MO/00012'")
    qty: float = Field(gt=0, description="good units to make")


class CncParams(_Model):
    """Process parameters of a discrete machining cell."""

    cycle_s: float = Field(default=45.0, gt=0, description="nominal cycle time of one part")
    cycle_jitter: float = Field(default=0.05, ge=0, description="relative std dev of the cycle time")
    scrap_rate: float = Field(default=0.03, ge=0, le=1, description="probability a part is scrap")
    setup_s: float = Field(default=600.0, ge=0, description="changeover between orders (planned stop)")
    tool_life_parts: int = Field(default=150, ge=1, description="parts between tool changes")
    tool_change_s: float = Field(default=120.0, ge=0, description="tool change (planned stop)")
    break_every_s: float = Field(default=4 * 3600.0, gt=0, description="an operator break every so often")
    break_s: float = Field(
        default=900.0, ge=0, description="break length (only when the state table has a break code)"
    )
    material_kg_per_part: float = Field(default=0.8, ge=0, description="stock used per part (good or scrap)")
    ambient_c: float = 24.0
    temp_rise_c: float = Field(default=38.0, description="spindle temperature rise at full load")
    temp_tau_s: float = Field(default=420.0, gt=0, description="thermal time constant of the spindle")
    alarm_high_c: float = Field(default=80.0, description="spindle overtemperature alarm threshold")
    alarm_hysteresis_c: float = Field(default=8.0, ge=0, description="alarm clears this far below it")


class Recipe(_Model):
    """A batch recipe: ingredients charged in order, reaction at a setpoint, filled into units."""

    name: str = "SYRUP-STD"
    ingredients: dict[str, float] = Field(
        default_factory=dict, description="component code -> nominal kg per batch, charged in this order"
    )
    charge_kg_per_s: float = Field(default=2.0, gt=0)
    charge_jitter: float = Field(default=0.01, ge=0, description="relative std dev of a charged quantity")
    mix_s: float = Field(default=600.0, ge=0)
    agitator_rpm: float = 120.0
    react_s: float = Field(default=1800.0, gt=0)
    out_of_spec_rate: float = Field(
        default=0.2, ge=0, le=1, description="share of batches with a temperature excursion"
    )
    units_per_batch: int = Field(default=950, ge=1)
    fill_units_per_min: float = Field(default=40.0, gt=0)
    reject_rate: float = Field(default=0.01, ge=0, le=1)


class _Disturbance(_Model):
    cell: str = Field(min_length=1, description="cell name (or its ISA-95 path when names repeat)")
    at_s: float = Field(ge=0, description="sim time it starts, seconds since the start of the run")


class Breakdown(_Disturbance):
    """The cell goes to an unplanned stop with a reason for a while; optionally raises an alarm tag."""

    kind: Literal["breakdown"] = "breakdown"
    duration_s: float = Field(gt=0)
    reason: Literal["breakdown", "material", "overtemp"] = "breakdown"
    alarm: str | None = Field(default=None, description="path of an alarm tag active meanwhile")
    alarm_value: int = Field(default=1, description="value of an integer alarm tag while active")


class Overtemperature(_Disturbance):
    """Extra heat on the spindle (coolant failure): temperature climbs, the alarm trips, the cell stops."""

    kind: Literal["overtemperature"] = "overtemperature"
    duration_s: float = Field(gt=0)
    extra_c: float = 35.0


class QualityDeviation(_Disturbance):
    """A process value driven outside its spec limit (limit + shift, or limit - shift below)."""

    kind: Literal["quality_deviation"] = "quality_deviation"
    tag: str = Field(min_length=1, description="path of a process_value tag of the cell")
    duration_s: float = Field(gt=0)
    side: Literal["high", "low"] = "high"
    shift: float = Field(default=1.5, gt=0, description="how far beyond the limit")


class PlcRestart(_Disturbance):
    """The cell's PLC restarts: its servers stop answering for `outage_s`, its counters restart at 0.

    The cell is stopped from the start of the outage until `resume_s` after its server is back (the PLC
    boots, the machine is brought back); meanwhile no cell served by that server changes order or lot,
    as an MES does not release work to a machine it cannot reach."""

    kind: Literal["plc_restart"] = "plc_restart"
    outage_s: float = Field(default=120.0, gt=0, description="sim seconds the server does not answer")
    resume_s: float = Field(
        default=60.0, ge=0, description="sim seconds the cell stays stopped after its server is back"
    )


Disturbance = Annotated[
    Breakdown | Overtemperature | QualityDeviation | PlcRestart, Field(discriminator="kind")
]


class Scenario(_Model):
    """Everything a run needs besides the plant model and the seed."""

    step_s: float = Field(default=1.0, gt=0, description="sim seconds per process step")
    orders: dict[str, list[OrderSpec]] = Field(
        default_factory=dict, description="cell name (discrete cells) or line name (batch lines) -> orders"
    )
    cnc: CncParams = Field(default_factory=CncParams)
    recipe: Recipe = Field(default_factory=Recipe)
    initial: dict[str, float] = Field(
        default_factory=dict, description="'<cell>:<tag path>' -> PLC value at the start (counters, hours)"
    )
    disturbances: list[Disturbance] = Field(default_factory=list)
