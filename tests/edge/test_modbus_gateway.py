"""Gateway against a real pymodbus TCP server and a real Mosquitto: types, scaling, RBE, DDEATH, DBIRTH."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from edge.config import Backoff, ModbusOptions
from edge.modbus_plan import plan_blocks, plan_groups
from edge.modbus_source import ModbusPoller
from edge.points import Point
from tests.conformance.wire import Wire
from tests.edge.support import Births, LoopThread, RunningGateway, free_port
from uns_model.plant import ModbusConnection
from uns_model.tags import ModbusSource

HR, IR, CO, DI = 3, 4, 1, 2  # function codes the server's setValues takes as table names

PLANT = """
enterprise: acme
site: {site}
areas:
  - name: turning
    lines:
      - name: line2
        edge_node_id: gw
        connections:
          - {{name: mb, kind: modbus, host: 127.0.0.1, port: {port}, unit_id: 1, poll_ms: 100,
             timeout_ms: 500}}
        cells:
          - name: cnc-201
            device_id: lathe-201
            tags:
              - {{path: counters/good, datatype: UInt32,
                 source: {{connection: mb, table: holding, address: 0, type: uint32, word_order: little}}}}
              - {{path: state, datatype: Int16,
                 source: {{connection: mb, table: holding, address: 2, type: int16}}}}
              - {{path: feed_pct, datatype: Double,
                 source: {{connection: mb, table: holding, address: 5, type: uint16, scale: 0.5,
                           offset: -10}}}}
              - {{path: spindle/temperature, datatype: Float, deadband: 0.5,
                 source: {{connection: mb, table: input, address: 0, type: int16, scale: 0.1}}}}
              - {{path: hours_be, datatype: Double,
                 source: {{connection: mb, table: input, address: 2, type: float32}}}}
              - {{path: hours_le, datatype: Double,
                 source: {{connection: mb, table: input, address: 4, type: float32, word_order: little}}}}
              - {{path: energy, datatype: Double,
                 source: {{connection: mb, table: input, address: 6, type: float64, byte_order: little}}}}
              - {{path: alarm, datatype: Boolean,
                 source: {{connection: mb, table: coil, address: 3, type: bool}}}}
              - {{path: door, datatype: Boolean,
                 source: {{connection: mb, table: discrete, address: 1, type: bool}}}}
          - name: cnc-202
            device_id: lathe-202
            tags:
              - {{path: counters/good, datatype: UInt32,
                 source: {{connection: mb, unit_id: 2, table: holding, address: 0, type: uint32}}}}
              - {{path: missing, datatype: UInt16,
                 source: {{connection: mb, unit_id: 2, table: holding, address: 60, type: uint16}}}}
"""


def _device(unit: int) -> SimDevice:
    return SimDevice(
        id=unit,
        simdata=(
            [SimData(0, count=16, values=False, datatype=DataType.BITS)],
            [SimData(0, count=16, values=False, datatype=DataType.BITS)],
            [SimData(0, count=50, values=0, datatype=DataType.REGISTERS)],
            [SimData(0, count=50, values=0, datatype=DataType.REGISTERS)],
        ),
    )


class Plc:
    """A pymodbus TCP server with units 1 and 2, values set by hand-computed registers."""

    def __init__(self, lt: LoopThread, port: int) -> None:
        self.lt, self.port = lt, port
        self.server: ModbusTcpServer | None = None

    def start(self) -> None:
        async def start() -> None:
            self.server = ModbusTcpServer([_device(1), _device(2)], address=("127.0.0.1", self.port))
            await self.server.serve_forever(background=True)
            await self.server.async_setValues(1, HR, 0, [0x1170, 0x0001, 0xFFFD])  # 70000 low word first; -3
            await self.server.async_setValues(1, HR, 5, [100])  # 100 * 0.5 - 10 = 40.0
            await self.server.async_setValues(1, IR, 0, [652])  # 65.2 degC
            await self.server.async_setValues(1, IR, 2, [0x449A, 0x5000, 0x5000, 0x449A])  # 1234.5 twice
            # 1.1 as float64 (0x3FF199999999999A), bytes swapped inside each register:
            await self.server.async_setValues(1, IR, 6, [0xF13F, 0x9999, 0x9999, 0x9A99])
            await self.server.async_setValues(1, CO, 3, [True])
            await self.server.async_setValues(1, DI, 1, [True])
            await self.server.async_setValues(2, HR, 0, [0x0000, 0x0005])

        self.lt.run(start())

    def set(self, unit: int, table: int, address: int, values: list[int] | list[bool]) -> None:
        assert self.server is not None
        self.lt.run(self.server.async_setValues(unit, table, address, values))

    def stop(self) -> None:
        assert self.server is not None
        self.lt.run(self.server.shutdown())  # type: ignore[no-untyped-call]


@pytest.fixture(scope="module")
def lt() -> Iterator[LoopThread]:
    t = LoopThread()
    yield t
    t.close()


@pytest.fixture
def wire(broker) -> Iterator[Wire]:
    w = Wire(broker.host, broker.port)
    yield w
    w.close()


def test_modbus_values_changes_death_and_rebirth(broker, wire, lt, uid):
    port = free_port()
    plc = Plc(lt, port)
    plc.start()
    gw = RunningGateway(
        lt,
        PLANT.format(site=uid, port=port),
        "gw",
        broker.url,
        modbus_options=lambda _n: ModbusOptions(backoff=Backoff(min_s=0.2, max_s=0.5)),
    )
    try:
        births = Births()
        b1 = wire.wait_topic(f"spBv1.0/{uid}/DBIRTH/gw/lathe-201")
        got = births.birth(b1)
        assert got["counters/good"][0] == 70000
        assert got["state"][0] == -3
        assert got["feed_pct"][0] == 40.0
        assert got["spindle/temperature"][0] == pytest.approx(65.2, abs=1e-4)
        assert got["hours_be"][0] == 1234.5
        assert got["hours_le"][0] == 1234.5
        assert got["energy"][0] == 1.1
        assert got["alarm"][0] is True
        assert got["door"][0] is True
        b2 = wire.wait_topic(f"spBv1.0/{uid}/DBIRTH/gw/lathe-202")
        got2 = births.birth(b2)
        assert got2["counters/good"][0] == 5
        assert got2["missing"][0] is None  # illegal address: null (bad), the device still lives

        # Report by exception: 0.3 degC is inside the 0.5 deadband, then a real change and a count.
        plc.set(1, IR, 0, [655])
        plc.set(1, HR, 0, [0x1171, 0x0001])
        d = wire.wait_topic(f"spBv1.0/{uid}/DDATA/gw/lathe-201", after=b2.index)
        assert births.data(d) == {"counters/good": (70001, births.data(d)["counters/good"][1])}
        plc.set(1, IR, 0, [671])
        d2 = wire.wait_topic(f"spBv1.0/{uid}/DDATA/gw/lathe-201", after=d.index)
        values = {k: v for k, (v, _ts) in births.data(d2).items()}
        assert values == {"spindle/temperature": pytest.approx(67.1, abs=1e-4)}
        assert births.data(d2)["spindle/temperature"][1] >= births.data(d)["counters/good"][1]
        plc.set(1, CO, 3, [False])
        d3 = wire.wait_topic(f"spBv1.0/{uid}/DDATA/gw/lathe-201", after=d2.index)
        assert {k: v for k, (v, _ts) in births.data(d3).items()} == {"alarm": False}

        # The PLC goes away: both devices die; it comes back: both are born again with current values.
        plc.stop()
        x1 = wire.wait_topic(f"spBv1.0/{uid}/DDEATH/gw/lathe-201", after=d3.index)
        wire.wait_topic(f"spBv1.0/{uid}/DDEATH/gw/lathe-202", after=d3.index)
        plc.start()
        r1 = wire.wait_topic(f"spBv1.0/{uid}/DBIRTH/gw/lathe-201", after=x1.index)
        wire.wait_topic(f"spBv1.0/{uid}/DBIRTH/gw/lathe-202", after=x1.index)
        assert births.birth(r1)["counters/good"][0] == 70000  # the restarted PLC's value
        assert not [m for m in wire.since(d3.index) if m.topic.endswith("/NDEATH/gw")]
        stats = gw.gateway.all_stats()
        assert stats["devices.deaths"] == 2 and stats["devices.births"] == 4
        assert stats["devices.suppressed_by_deadband"] >= 1
    finally:
        gw.stop()
        plc.stop()
    wire.wait_topic(f"spBv1.0/{uid}/NDEATH/gw")


def _pt(metric: str, table: str, address: int, type_: str = "uint16", unit: int | None = None) -> Point:
    src = {"connection": "c", "unit_id": unit, "table": table, "address": address, "type": type_}
    return Point("d", metric, "Double", ModbusSource.model_validate(src))


def test_block_plan_coalesces_adjacent_registers_within_limits():
    points = [
        _pt("a", "holding", 0, "uint32"),
        _pt("b", "holding", 2),
        _pt("c", "holding", 4, "float64"),
        _pt("d", "holding", 10),
        _pt("e", "holding", 1),  # overlaps a: shares its read
        _pt("f", "input", 3),
        _pt("g", "coil", 0, "bool"),
        _pt("h", "coil", 1, "bool"),
        _pt("i", "holding", 0, unit=7),
    ]
    blocks = [(b.unit_id, b.table, b.start, b.count) for b in plan_blocks(points, 1)]
    assert blocks == [
        (1, "coil", 0, 2),
        (1, "holding", 0, 3),
        (1, "holding", 4, 4),
        (1, "holding", 10, 1),
        (1, "input", 3, 1),
        (7, "holding", 0, 1),
    ]
    # A gap of up to max_gap registers is read through; the 125-register limit splits.
    gapped = [(b.start, b.count) for b in plan_blocks(points[:4], 1, max_gap=1)]
    assert gapped == [(0, 8), (10, 1)]
    many = [_pt(f"r{i}", "holding", i * 2, "uint32") for i in range(100)]
    assert [(b.start, b.count) for b in plan_blocks(many, 1)] == [(0, 124), (124, 76)]


def test_polling_groups_by_rate():
    points = [_pt("fast", "holding", 0), _pt("slow", "holding", 1), _pt("fast2", "holding", 2)]
    groups = plan_groups(points, 1, lambda p: 100 if p.metric.startswith("fast") else 5000)
    assert [(g.period_ms, [(b.start, b.count) for b in g.blocks]) for g in groups] == [
        (100, [(0, 1), (2, 1)]),
        (5000, [(1, 1)]),
    ]


def test_plant_file_poll_ms_forms_polling_groups():
    # A tag's `source.poll_ms` in the plant file puts it in a faster or slower group than the
    # connection's rate; tags without one poll at the connection's.
    fast = Point(
        "d",
        "fast",
        "Double",
        ModbusSource.model_validate({"connection": "c", "table": "holding", "address": 0, "poll_ms": 100}),
    )
    plain = _pt("plain", "holding", 1)
    conn = ModbusConnection(name="c", kind="modbus", host="127.0.0.1", poll_ms=1000)
    source = ModbusPoller("c", conn, [fast, plain], sink=None, options=ModbusOptions())  # type: ignore[arg-type]
    assert [(g.period_ms, [p.metric for b in g.blocks for p in b.points]) for g in source.groups] == [
        (100, ["fast"]),
        (1000, ["plain"]),
    ]


UNITS_PLANT = """
enterprise: acme
site: {site}
areas:
  - name: turning
    lines:
      - name: line3
        connections: [{{name: gw, kind: modbus, host: 127.0.0.1, port: {port}, poll_ms: 50, timeout_ms: 500}}]
        cells:
          - name: c1
            tags:
              - {{path: n, datatype: UInt16,
                 source: {{connection: gw, unit_id: 1, table: holding, address: 0}}}}
          - name: c2
            tags:
              - {{path: n, datatype: UInt16,
                 source: {{connection: gw, unit_id: 2, table: holding, address: 0}}}}
"""


def test_a_unit_behind_a_gateway_dies_alone(broker, wire, lt, uid):
    """Exception 0x0B (gateway target failed to respond) for unit 2: its cell dies, unit 1's lives on."""
    from pymodbus.constants import ExcCodes

    silent = {"on": False}

    async def unit2_action(*_args: object) -> ExcCodes | None:
        return ExcCodes.GATEWAY_NO_RESPONSE if silent["on"] else None

    port = free_port()

    def device(unit: int) -> SimDevice:
        regs = [SimData(0, count=4, values=unit * 10, datatype=DataType.REGISTERS)]
        return SimDevice(id=unit, simdata=regs, action=unit2_action if unit == 2 else None)

    async def start() -> ModbusTcpServer:
        server = ModbusTcpServer([device(1), device(2)], address=("127.0.0.1", port))
        await server.serve_forever(background=True)
        return server

    server = lt.run(start())
    gw = RunningGateway(
        lt,
        UNITS_PLANT.format(site=uid, port=port),
        "line3",
        broker.url,
        modbus_options=lambda _n: ModbusOptions(backoff=Backoff(min_s=0.1, max_s=0.2)),
    )
    topic = f"spBv1.0/{uid}/{{}}/line3/{{}}"
    try:
        births = Births()
        b2 = wire.wait_topic(topic.format("DBIRTH", "c2"))
        assert births.birth(b2)["n"][0] == 20
        b1 = wire.wait_topic(topic.format("DBIRTH", "c1"))
        assert births.birth(b1)["n"][0] == 10
        silent["on"] = True
        x = wire.wait_topic(topic.format("DDEATH", "c2"), after=max(b1.index, b2.index))
        lt.run(server.async_setValues(1, 3, 0, [11]))
        d = wire.wait_topic(topic.format("DDATA", "c1"), after=x.index)  # unit 1 still read
        assert births.data(d)["n"][0] == 11
        assert not [m for m in wire.since(b1.index) if m.topic == topic.format("DDEATH", "c1")]
        silent["on"] = False
        r = wire.wait_topic(topic.format("DBIRTH", "c2"), after=x.index)
        assert births.birth(r)["n"][0] == 20
    finally:
        gw.stop()
        lt.run(server.shutdown())
