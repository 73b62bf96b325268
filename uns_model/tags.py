"""Tags of a cell: Sparkplug datatype, source (OPC UA node or Modbus registers) and business role."""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from uns_model.names import LevelName, TagPathStr


class Strict(BaseModel):
    """Base of every plant-file model: frozen, unknown fields rejected (a typo is an error, not a no-op)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


#: Sparkplug B 3.0 scalar datatype names usable for a tag.
SparkplugType = Literal[
    "Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64",
    "Float", "Double", "Boolean", "String", "DateTime", "Text",
]  # fmt: skip
INTEGER_TYPES: frozenset[str] = frozenset(
    {"Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64"}
)
NUMERIC_TYPES: frozenset[str] = INTEGER_TYPES | {"Float", "Double"}
TEXT_TYPES: frozenset[str] = frozenset({"String", "Text"})

ModbusTable = Literal["holding", "input", "coil", "discrete"]
ModbusType = Literal["bool", "int16", "uint16", "int32", "uint32", "float32", "float64"]
ByteOrder = Literal["big", "little"]

#: Registers (16 bit) each Modbus value type takes.
MODBUS_REGISTERS: dict[str, int] = {
    "bool": 1, "int16": 1, "uint16": 1, "int32": 2, "uint32": 2, "float32": 2, "float64": 4,
}  # fmt: skip


class OpcUaSource(Strict):
    """A tag read from an OPC UA server: the node id, e.g. 'ns=2;s=Line1.CNC1.GoodCount'."""

    connection: LevelName = Field(description="name of an OPC UA connection of the line")
    node_id: str = Field(
        min_length=3, pattern=r"^(ns=\d+;|nsu=[^;]+;)?[isgb]=.+$", description="OPC UA node id"
    )


class ModbusSource(Strict):
    """A tag read from Modbus TCP registers, with type, scaling and byte and word order."""

    connection: LevelName = Field(description="name of a Modbus connection of the line")
    unit_id: int | None = Field(
        default=None, ge=0, le=255, description="Modbus unit id; the connection's if omitted"
    )
    table: ModbusTable = Field(description="holding, input, coil or discrete")
    address: int = Field(ge=0, le=65535, description="zero-based register or coil address")
    type: ModbusType = Field(default="uint16", description="value type held by the register(s)")
    scale: float = Field(default=1.0, description="engineering value = raw * scale + offset")
    offset: float = 0.0
    byte_order: ByteOrder = Field(default="big", description="byte order inside each 16-bit register")
    word_order: ByteOrder = Field(default="big", description="register order of 32/64-bit values")
    poll_ms: int | None = Field(
        default=None,
        ge=10,
        description="polling interval of this tag; the connection's if omitted (one group per rate)",
    )

    @property
    def register_count(self) -> int:
        """How many 16-bit registers (or coils) the value spans."""
        return MODBUS_REGISTERS[self.type]


def _source_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "opcua" if "node_id" in value else "modbus"
    return "opcua" if isinstance(value, OpcUaSource) else "modbus"


Source = Annotated[
    Annotated[OpcUaSource, Tag("opcua")] | Annotated[ModbusSource, Tag("modbus")],
    Discriminator(_source_kind),
]


class TagBase(Strict):
    """Fields every tag has, whatever its role."""

    path: TagPathStr = Field(
        description="tag path in the cell, '/' for folders; also the Sparkplug metric name"
    )
    datatype: SparkplugType = Field(description="Sparkplug datatype of the metric")
    source: Source = Field(description="where the edge gateway reads it: OPC UA node or Modbus registers")
    unit: str | None = Field(default=None, description="engineering unit, e.g. 'pcs', 'degC', 'kg'")
    deadband: float | None = Field(default=None, ge=0, description="report only changes larger than this")
    description: str = ""


class MirroredTag(TagBase):
    """A tag without business role: mirrored into the namespace, never sent to the ERP."""

    role: None = None


class CounterTag(TagBase):
    """A cumulative counter in the PLC that wraps at `rollover`."""

    rollover: int = Field(
        default=2**32, gt=1, description="value at which the counter wraps to 0, e.g. 65536"
    )


class GoodCountTag(CounterTag):
    """Cumulative count of good parts; feeds production_reported."""

    role: Literal["good_count"]


class ScrapCountTag(CounterTag):
    """Cumulative count of scrapped parts; feeds production_reported."""

    role: Literal["scrap_count"]


class MachineStateTag(TagBase):
    """The machine state code, looked up in a state table; feeds downtime_started / downtime_ended."""

    role: Literal["machine_state"]
    state_table: str = Field(default="umh", description="name of a state table; 'umh' is the built-in one")


class ConsumptionTag(TagBase):
    """A cumulative totalizer of one component product; feeds material_consumed."""

    role: Literal["consumption"]
    component: str = Field(min_length=1, description="product code (Odoo default_code) of the component")
    rollover: float | None = Field(
        default=None, gt=0, description="value at which the totalizer wraps, if it does"
    )


class ProcessValueTag(TagBase):
    """A measured process value with spec limits; a value outside them feeds quality_deviation."""

    role: Literal["process_value"]
    low: float | None = Field(default=None, description="lower spec limit")
    high: float | None = Field(default=None, description="upper spec limit")
    debounce_s: float = Field(
        default=0.0, ge=0, description="how long a value must stay out of spec to count"
    )


AlarmPriority = Literal["very_low", "low", "normal", "high"]


class AlarmTag(TagBase):
    """An alarm bit or code (active when true or non-zero) of an equipment; feeds maintenance_requested."""

    role: Literal["alarm"]
    equipment: LevelName = Field(description="name of an equipment of this cell")
    priority: AlarmPriority = "normal"


class RuntimeHoursTag(TagBase):
    """Operating hours of a piece of equipment; each `threshold_h` hours feeds maintenance_requested."""

    role: Literal["runtime_hours"]
    equipment: LevelName = Field(description="name of an equipment of this cell")
    threshold_h: float = Field(gt=0, description="preventive maintenance interval in hours")


class LotTag(TagBase):
    """The id of the lot the cell is making now; closes goods_finished and tags quality events."""

    role: Literal["lot"]


class OrderTag(TagBase):
    """The ref of the work order the cell is running (e.g. 'WH/MO/00012')."""

    role: Literal["order"]


TagRole = Literal[
    "good_count", "scrap_count", "machine_state", "consumption", "process_value",
    "alarm", "runtime_hours", "lot", "order",
]  # fmt: skip
ROLES: tuple[str, ...] = get_args(TagRole)


def _role_of(value: Any) -> str:
    if isinstance(value, dict):
        role = value.get("role")
        return "mirrored" if role is None else str(role)
    role = getattr(value, "role", None)
    return "mirrored" if role is None else str(role)


AnyTag = Annotated[
    Annotated[MirroredTag, Tag("mirrored")]
    | Annotated[GoodCountTag, Tag("good_count")]
    | Annotated[ScrapCountTag, Tag("scrap_count")]
    | Annotated[MachineStateTag, Tag("machine_state")]
    | Annotated[ConsumptionTag, Tag("consumption")]
    | Annotated[ProcessValueTag, Tag("process_value")]
    | Annotated[AlarmTag, Tag("alarm")]
    | Annotated[RuntimeHoursTag, Tag("runtime_hours")]
    | Annotated[LotTag, Tag("lot")]
    | Annotated[OrderTag, Tag("order")],
    Discriminator(
        _role_of,
        custom_error_type="invalid_role",
        custom_error_message="unknown tag role",
        custom_error_context={"roles": ", ".join(get_args(TagRole))},
    ),
]

#: Datatypes each role accepts.
ROLE_DATATYPES: dict[str, frozenset[str]] = {
    "good_count": INTEGER_TYPES | {"Double"},
    "scrap_count": INTEGER_TYPES | {"Double"},
    "machine_state": INTEGER_TYPES,
    "consumption": NUMERIC_TYPES,
    "process_value": NUMERIC_TYPES,
    "alarm": INTEGER_TYPES | {"Boolean"},
    "runtime_hours": NUMERIC_TYPES,
    "lot": TEXT_TYPES,
    "order": TEXT_TYPES,
}
