"""Sparkplug coordinates <-> ISA-95 places and tags of a plant, both ways, by dict lookups."""

from __future__ import annotations

from dataclasses import dataclass

from uns_model.plant import Cell, Connection, Equipment, Line, PlantModel, Product, StateTable
from uns_model.tags import AnyTag
from uns_model.topics import Place, raw_topic


@dataclass(frozen=True, slots=True)
class SparkplugAddress:
    """Where a metric lives in Sparkplug: group, edge node, device and metric name."""

    group_id: str
    edge_node_id: str
    device_id: str
    metric: str


@dataclass(frozen=True, slots=True)
class TagRef:
    """One tag seen from both sides: its ISA-95 place, its Sparkplug address, its role and config."""

    place: Place  # the cell
    tag: AnyTag
    address: SparkplugAddress
    raw_topic: str
    workcenter: str | None

    @property
    def path(self) -> str:
        return self.tag.path

    @property
    def role(self) -> str | None:
        return self.tag.role

    @property
    def line_place(self) -> Place:
        return self.place.up_to("line")


@dataclass(frozen=True, slots=True)
class DeviceRef:
    """A cell as a Sparkplug device, with its tags in file order."""

    place: Place
    group_id: str
    edge_node_id: str
    device_id: str
    cell: Cell
    tags: tuple[TagRef, ...]


@dataclass(frozen=True, slots=True)
class EdgeNodeRef:
    """An edge node (by default a line gateway) with its connections and devices, for the edge gateway."""

    group_id: str
    edge_node_id: str
    lines: tuple[Line, ...]
    devices: tuple[DeviceRef, ...]


class PlantResolver:
    """Built once from a plant model; every lookup afterwards is a dict access."""

    def __init__(self, plant: PlantModel) -> None:
        self.plant = plant
        self._by_address: dict[tuple[str, str, str, str], TagRef] = {}
        self._by_place: dict[tuple[str, str], TagRef] = {}
        self._by_topic: dict[str, TagRef] = {}
        self._devices: dict[tuple[str, str, str], DeviceRef] = {}
        self._cells: dict[str, DeviceRef] = {}
        self._connections: dict[tuple[str, str], Connection] = {}
        self._equipment: dict[tuple[str, str], Equipment] = {}
        for line_place, line in plant.iter_lines():
            for conn in line.connections:
                self._connections[(line_place.path, conn.name)] = conn
        nodes: dict[tuple[str, str], tuple[list[Line], list[DeviceRef]]] = {}
        for place, line, cell in plant.iter_cells():
            group = plant.group_of(line)
            edge = line.edge_node_id or line.name
            device = cell.device_id or cell.name
            refs = []
            for eq in cell.equipment:
                self._equipment[(place.path, eq.name)] = eq
            for tag in cell.tags:
                address = SparkplugAddress(group, edge, device, tag.path)
                ref = TagRef(place, tag, address, raw_topic(place, tag.path), cell.workcenter)
                refs.append(ref)
                self._by_address[(group, edge, device, tag.path)] = ref
                self._by_place[(place.path, tag.path)] = ref
                self._by_topic[ref.raw_topic] = ref
            dev = DeviceRef(place, group, edge, device, cell, tuple(refs))
            self._devices[(group, edge, device)] = dev
            self._cells[place.path] = dev
            lines, devices = nodes.setdefault((group, edge), ([], []))
            if not any(ln is line for ln in lines):
                lines.append(line)
            devices.append(dev)
        self._edge_nodes = {
            key: EdgeNodeRef(key[0], key[1], tuple(lines), tuple(devices))
            for key, (lines, devices) in nodes.items()
        }

    def by_sparkplug(self, group_id: str, edge_node_id: str, device_id: str, metric: str) -> TagRef | None:
        """The tag a Sparkplug metric carries, or None when the plant does not know it."""
        return self._by_address.get((group_id, edge_node_id, device_id, metric))

    def by_place(self, cell: Place | str, tag_path: str) -> TagRef | None:
        """The tag at an ISA-95 cell path and tag path."""
        return self._by_place.get((str(cell), tag_path))

    def by_raw_topic(self, topic: str) -> TagRef | None:
        """The tag behind a `_raw` topic."""
        return self._by_topic.get(topic)

    def device(self, group_id: str, edge_node_id: str, device_id: str) -> DeviceRef | None:
        """The cell behind a Sparkplug device."""
        return self._devices.get((group_id, edge_node_id, device_id))

    def cell(self, place: Place | str) -> DeviceRef | None:
        """The Sparkplug device of a cell."""
        return self._cells.get(str(place))

    def edge_node(self, group_id: str, edge_node_id: str) -> EdgeNodeRef | None:
        return self._edge_nodes.get((group_id, edge_node_id))

    def edge_nodes(self) -> list[EdgeNodeRef]:
        """Every edge node of the plant, in file order."""
        return list(self._edge_nodes.values())

    def tags(self, role: str | None = None) -> list[TagRef]:
        """Every tag (or every tag of one role), in file order."""
        refs = list(self._by_address.values())
        return refs if role is None else [r for r in refs if r.role == role]

    def connection_of(self, ref: TagRef) -> Connection:
        """The connection the edge gateway reads this tag through (checked to exist when the plant loaded)."""
        return self._connections[(ref.line_place.path, ref.tag.source.connection)]

    def equipment_of(self, ref: TagRef) -> Equipment | None:
        """For alarm and runtime_hours tags: the equipment (with its Odoo serial)."""
        name = getattr(ref.tag, "equipment", None)
        return None if name is None else self._equipment.get((ref.place.path, name))

    def state_table_of(self, ref: TagRef) -> StateTable | None:
        """For machine_state tags: the state table that gives the codes meaning."""
        name = getattr(ref.tag, "state_table", None)
        return None if name is None else self.plant.state_table(name)

    def product_of(self, ref: TagRef) -> Product | None:
        """For consumption tags: the component product (code and unit of measure)."""
        code = getattr(ref.tag, "component", None)
        return None if code is None else self.plant.product(code)

    def groups(self) -> list[str]:
        """The Sparkplug group ids the plant uses."""
        return sorted({g for g, _ in self._edge_nodes})
