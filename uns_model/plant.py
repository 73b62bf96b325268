"""The plant model file: ISA-95 hierarchy, Sparkplug placement, connections, products, states, flows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import Field, model_validator

from uns_model.flows import DEFAULT_FLOWS, EffectiveFlow, SyncMode
from uns_model.names import LevelName, SparkplugId
from uns_model.states import DEFAULT_TABLE, UMH_STATES, StateEntry, lookup_state
from uns_model.tags import AnyTag, Strict
from uns_model.topics import Place

#: Version of the plant file format itself (not of any contract).
PLANT_FORMAT = 1


class OpcUaConnection(Strict):
    """An OPC UA server the line's edge gateway reads."""

    name: LevelName
    kind: Literal["opcua"]
    endpoint: str = Field(pattern=r"^opc\.tcp://\S+$", description="e.g. 'opc.tcp://10.0.1.20:4840'")
    namespace_uri: str | None = Field(default=None, description="resolve 'ns=' by this URI at connect time")
    poll_ms: int = Field(default=1000, ge=10, description="sampling interval of subscriptions")


class ModbusConnection(Strict):
    """A Modbus TCP server (PLC or gateway) the line's edge gateway polls."""

    name: LevelName
    kind: Literal["modbus"]
    host: str = Field(min_length=1)
    port: int = Field(default=502, ge=1, le=65535)
    unit_id: int = Field(default=1, ge=0, le=255)
    poll_ms: int = Field(default=1000, ge=10, description="polling interval")
    timeout_ms: int = Field(default=2000, ge=10)


Connection = Annotated[OpcUaConnection | ModbusConnection, Field(discriminator="kind")]


class Equipment(Strict):
    """A piece of equipment of a cell, known to Odoo Maintenance by its serial number."""

    name: LevelName
    serial: str = Field(min_length=1, description="serial_no of the Odoo maintenance.equipment")
    description: str = ""


class Cell(Strict):
    """A cell (ISA-95 work cell / Odoo work center); by default one Sparkplug device."""

    name: LevelName
    workcenter: str | None = Field(default=None, description="code of the Odoo mrp.workcenter")
    device_id: SparkplugId | None = Field(
        default=None, description="Sparkplug device id; the cell name if omitted"
    )
    description: str = ""
    equipment: list[Equipment] = Field(default_factory=list)
    tags: list[AnyTag] = Field(default_factory=list)


class Line(Strict):
    """A production line; by default one edge node (the line gateway)."""

    name: LevelName
    group_id: SparkplugId | None = Field(
        default=None, description="Sparkplug group id; the plant's if omitted"
    )
    edge_node_id: SparkplugId | None = Field(
        default=None, description="Sparkplug edge node id; line name if omitted"
    )
    description: str = ""
    connections: list[Connection] = Field(default_factory=list)
    cells: list[Cell] = Field(min_length=1)


class Area(Strict):
    """An area of the site."""

    name: LevelName
    description: str = ""
    lines: list[Line] = Field(min_length=1)


class Product(Strict):
    """A product the plant makes or consumes, by its Odoo internal reference (default_code)."""

    code: str = Field(min_length=1, description="Odoo product default_code")
    kind: Literal["finished", "component"]
    uom: str = Field(default="Units", description="Odoo unit of measure name")
    name: str = ""


class StateTable(Strict):
    """A machine state table: code -> state, reason, Odoo loss."""

    umh_blocks: bool = Field(default=False, description="look codes up by UMH blocks of 10000 when not exact")
    codes: dict[int, StateEntry] = Field(min_length=1)

    def lookup(self, code: int) -> StateEntry | None:
        """The entry for a state code, or None when the table does not know it."""
        return lookup_state(self.codes, code, umh_blocks=self.umh_blocks)


UMH_TABLE = StateTable(umh_blocks=True, codes=dict(UMH_STATES))


class FlowOverride(Strict):
    """A plant's settings for one flow; anything omitted keeps the product default."""

    mode: SyncMode | None = None
    window_s: float | None = Field(default=None, ge=0)
    owner: str | None = None
    recovery: str | None = None
    enabled: bool = True


class Owners(Strict):
    """Who owns each side: named people or teams, shown in the integration catalog."""

    plant: str = Field(default="OT engineering", description="owner of the plant side (PLCs, edge gateways)")
    erp: str = Field(default="ERP team", description="owner of the Odoo side")
    integration: str = Field(default="Integration team", description="owner of the bridge and its outbox")


class PlantModel(Strict):
    """One plant (one ISA-95 site): hierarchy, Sparkplug placement, Odoo mapping and flows."""

    plant_model: Literal[1] = Field(default=1, description="version of this file format")
    enterprise: LevelName
    site: LevelName
    description: str = ""
    group_id: SparkplugId | None = Field(
        default=None, description="Sparkplug group id; the site name if omitted"
    )
    owners: Owners = Field(default_factory=Owners)
    products: list[Product] = Field(default_factory=list)
    state_tables: dict[str, StateTable] = Field(default_factory=dict)
    flows: dict[str, FlowOverride] = Field(default_factory=dict)
    areas: list[Area] = Field(min_length=1)

    @model_validator(mode="after")
    def _semantics(self) -> PlantModel:
        # Imported here: checks reads the model's classes, the model runs the checks.
        from uns_model.checks import check_plant
        from uns_model.errors import PlantModelError

        issues = check_plant(self)
        if issues:
            raise PlantModelError(issues)
        return self

    # --- navigation --------------------------------------------------------------------------------------

    @property
    def site_place(self) -> Place:
        return Place(self.enterprise, self.site)

    def iter_lines(self) -> Iterator[tuple[Place, Line]]:
        """Every line with its place."""
        for area in self.areas:
            for line in area.lines:
                yield Place(self.enterprise, self.site, area.name, line.name), line

    def iter_cells(self) -> Iterator[tuple[Place, Line, Cell]]:
        """Every cell with its place and line."""
        for line_place, line in self.iter_lines():
            for cell in line.cells:
                yield line_place.child(cell.name), line, cell

    def group_of(self, line: Line) -> str:
        """The Sparkplug group id of a line: line override, then plant override, then the site name."""
        return line.group_id or self.group_id or self.site

    def state_table(self, name: str) -> StateTable | None:
        """A state table by name; 'umh' is built in unless the plant defines its own under that name."""
        if name in self.state_tables:
            return self.state_tables[name]
        return UMH_TABLE if name == DEFAULT_TABLE else None

    def product(self, code: str) -> Product | None:
        return next((p for p in self.products if p.code == code), None)

    def flow(self, contract: str) -> EffectiveFlow:
        """The flow of a contract as this plant runs it."""
        base = DEFAULT_FLOWS[contract]
        over = self.flows.get(contract) or FlowOverride()
        owner = over.owner or getattr(self.owners, base.owner)
        return EffectiveFlow(
            contract=contract,
            mode=over.mode or base.mode,
            window_s=base.window_s if over.window_s is None else over.window_s,
            owner=owner,
            recovery=over.recovery or base.recovery,
            enabled=over.enabled,
        )
