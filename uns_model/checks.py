"""Rules across fields of a plant model: unique names, references, datatypes per role, Sparkplug ids."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from uns_model.errors import Loc, PlantIssue
from uns_model.flows import DEFAULT_FLOWS
from uns_model.tags import (
    ROLE_DATATYPES,
    TEXT_TYPES,
    ConsumptionTag,
    MachineStateTag,
    ModbusSource,
    OpcUaSource,
    ProcessValueTag,
)

if TYPE_CHECKING:
    from uns_model.plant import Cell, Line, PlantModel

#: Roles a cell may have at most once: two good counters in one work center would double count.
SINGLE_ROLES = ("good_count", "scrap_count", "machine_state", "lot", "order")
#: Roles whose events Odoo files against the cell's work center.
WORKCENTER_ROLES = frozenset({"good_count", "scrap_count", "machine_state", "consumption"})


def _dupes(items: Iterable[tuple[Loc, str]], what: str) -> list[PlantIssue]:
    seen: dict[str, Loc] = {}
    out: list[PlantIssue] = []
    for loc, name in items:
        if name in seen:
            out.append(
                PlantIssue(
                    loc,
                    f"{what} {name!r} is used twice",
                    f"each {what} must be unique; change this one",
                )
            )
        else:
            seen[name] = loc
    return out


def check_plant(plant: PlantModel) -> list[PlantIssue]:
    """Every cross-field problem of the plant; empty when the plant is sound."""
    issues: list[PlantIssue] = []
    issues += _dupes(
        ((("products", i, "code"), p.code) for i, p in enumerate(plant.products)), "product code"
    )
    issues += _dupes(((("areas", i, "name"), a.name) for i, a in enumerate(plant.areas)), "area name")
    for key in plant.flows:
        if key not in DEFAULT_FLOWS:
            issues.append(
                PlantIssue(
                    ("flows", key), f"no flow named {key!r}", "use one of: " + ", ".join(DEFAULT_FLOWS)
                )
            )
    for key, over in plant.flows.items():
        if key in DEFAULT_FLOWS:
            flow = plant.flow(key)
            if flow.mode == "batch" and flow.window_s <= 0:
                where: Loc = (
                    ("flows", key, "window_s") if over.window_s is not None else ("flows", key, "mode")
                )
                issues.append(
                    PlantIssue(where, f"flow {key!r} runs in batch without a window", "set 'window_s: 300'")
                )
    serials = [
        (("areas", ai, "lines", li, "cells", ci, "equipment", ei, "serial"), e.serial)
        for ai, area in enumerate(plant.areas)
        for li, line in enumerate(area.lines)
        for ci, cell in enumerate(line.cells)
        for ei, e in enumerate(cell.equipment)
    ]
    issues += _dupes(serials, "equipment serial")
    sparkplug: dict[tuple[str, str, str], Loc] = {}
    workcenters: dict[str, Loc] = {}
    for ai, area in enumerate(plant.areas):
        issues += _dupes(
            ((("areas", ai, "lines", li, "name"), ln.name) for li, ln in enumerate(area.lines)), "line name"
        )
        for li, line in enumerate(area.lines):
            lloc: Loc = ("areas", ai, "lines", li)
            issues += _check_line(plant, line, lloc, sparkplug, workcenters)
    return issues


def _check_line(
    plant: PlantModel,
    line: Line,
    lloc: Loc,
    sparkplug: dict[tuple[str, str, str], Loc],
    workcenters: dict[str, Loc],
) -> list[PlantIssue]:
    issues = _dupes(
        (((*lloc, "connections", i, "name"), c.name) for i, c in enumerate(line.connections)),
        "connection name",
    )
    issues += _dupes((((*lloc, "cells", i, "name"), c.name) for i, c in enumerate(line.cells)), "cell name")
    group = plant.group_of(line)
    edge = line.edge_node_id or line.name
    for ci, cell in enumerate(line.cells):
        cloc: Loc = (*lloc, "cells", ci)
        key = (group, edge, cell.device_id or cell.name)
        if key in sparkplug:
            issues.append(
                PlantIssue(
                    (*cloc, "device_id") if cell.device_id else (*cloc, "name"),
                    f"Sparkplug device {'/'.join(key)} is already used by another cell",
                    "set a distinct device_id on this cell (or a distinct edge_node_id on its line)",
                )
            )
        else:
            sparkplug[key] = cloc
        if cell.workcenter is not None:
            if cell.workcenter in workcenters:
                issues.append(
                    PlantIssue(
                        (*cloc, "workcenter"),
                        f"work center code {cell.workcenter!r} is mapped to two cells",
                        "each cell maps to its own Odoo work center; fix the code",
                    )
                )
            workcenters.setdefault(cell.workcenter, cloc)
        issues += _check_cell(plant, line, cell, cloc)
    return issues


def _check_cell(plant: PlantModel, line: Line, cell: Cell, cloc: Loc) -> list[PlantIssue]:
    issues = _dupes(
        (((*cloc, "equipment", i, "name"), e.name) for i, e in enumerate(cell.equipment)), "equipment name"
    )
    issues += _dupes((((*cloc, "tags", i, "path"), t.path) for i, t in enumerate(cell.tags)), "tag path")
    equipment = {e.name for e in cell.equipment}
    connections = {c.name: c.kind for c in line.connections}
    role_seen: dict[str, int] = {}
    for ti, tag in enumerate(cell.tags):
        tloc: Loc = (*cloc, "tags", ti)
        role = tag.role
        if role is not None and role in SINGLE_ROLES:
            if role in role_seen:
                issues.append(
                    PlantIssue(
                        (*tloc, "role"),
                        f"cell {cell.name!r} already has a {role} tag (tags[{role_seen[role]}])",
                        f"a cell has at most one {role} tag; remove the role from one of them",
                    )
                )
            role_seen.setdefault(role, ti)
        if role is not None and tag.datatype not in ROLE_DATATYPES[role]:
            allowed = ", ".join(sorted(ROLE_DATATYPES[role]))
            issues.append(
                PlantIssue(
                    (*tloc, "datatype"),
                    f"datatype {tag.datatype} cannot carry a {role}",
                    f"use one of {allowed}",
                )
            )
        if role in WORKCENTER_ROLES and cell.workcenter is None:
            issues.append(
                PlantIssue(
                    (*cloc, "name"),
                    f"cell {cell.name!r} has a {role} tag but no Odoo work center",
                    "add 'workcenter: <Odoo work center code>' to the cell",
                )
            )
        if hasattr(tag, "equipment") and tag.equipment not in equipment:
            known = ", ".join(sorted(equipment)) or "none declared"
            issues.append(
                PlantIssue(
                    (*tloc, "equipment"),
                    f"equipment {tag.equipment!r} is not declared in cell {cell.name!r} (known: {known})",
                    "add it under the cell's 'equipment:' with its Odoo serial, or fix the name",
                )
            )
        issues += _check_role_fields(plant, tag, tloc)
        issues += _check_source(tag, tloc, connections)
    return issues


def _check_role_fields(plant: PlantModel, tag: object, tloc: Loc) -> list[PlantIssue]:
    if isinstance(tag, MachineStateTag) and plant.state_table(tag.state_table) is None:
        known = ", ".join(["umh", *plant.state_tables])
        return [
            PlantIssue(
                (*tloc, "state_table"),
                f"no state table named {tag.state_table!r}",
                f"use one of: {known}, or define it under 'state_tables:'",
            )
        ]
    if isinstance(tag, ConsumptionTag):
        product = plant.product(tag.component)
        if product is None or product.kind != "component":
            return [
                PlantIssue(
                    (*tloc, "component"),
                    f"component {tag.component!r} is not a product of kind 'component' in 'products:'",
                    f"add '- {{code: {tag.component}, kind: component}}' to products, or fix the code",
                )
            ]
    if isinstance(tag, ProcessValueTag):
        if tag.low is None and tag.high is None:
            return [PlantIssue(tloc, "a process_value needs spec limits", "add 'low:' and/or 'high:'")]
        if tag.low is not None and tag.high is not None and tag.low >= tag.high:
            return [
                PlantIssue(
                    (*tloc, "high"),
                    f"high ({tag.high}) is not above low ({tag.low})",
                    "swap or fix the limits",
                )
            ]
    return []


def _check_source(tag: object, tloc: Loc, connections: Mapping[str, str]) -> list[PlantIssue]:
    source = getattr(tag, "source", None)
    datatype = getattr(tag, "datatype", "")
    sloc: Loc = (*tloc, "source")
    kind = "opcua" if isinstance(source, OpcUaSource) else "modbus"
    assert isinstance(source, OpcUaSource | ModbusSource)
    issues: list[PlantIssue] = []
    if source.connection not in connections:
        known = ", ".join(sorted(connections)) or "none declared"
        issues.append(
            PlantIssue(
                (*sloc, "connection"),
                f"no connection named {source.connection!r} on this line (known: {known})",
                f"declare it under the line's 'connections:' (kind: {kind}) or fix the name",
            )
        )
    elif connections[source.connection] != kind:
        issues.append(
            PlantIssue(
                (*sloc, "connection"),
                f"connection {source.connection!r} is {connections[source.connection]}, the source {kind}",
                "use 'node_id' for OPC UA connections, 'table'/'address'/'type' for Modbus ones",
            )
        )
    if isinstance(source, ModbusSource):
        if datatype in TEXT_TYPES:
            issues.append(
                PlantIssue(
                    (*tloc, "datatype"), f"a Modbus register cannot hold a {datatype}", "read it over OPC UA"
                )
            )
        bit_table = source.table in ("coil", "discrete")
        if bit_table != (source.type == "bool"):
            fix = "set 'type: bool'" if bit_table else "use a coil or discrete table for 'type: bool'"
            issues.append(PlantIssue((*sloc, "type"), f"{source.table} table with type {source.type}", fix))
    return issues
