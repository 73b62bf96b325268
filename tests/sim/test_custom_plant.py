"""A plant model with the less common source forms: namespace URIs, numeric node ids, little-endian
registers, offsets, float64 and coils; and a PLC restart that takes a Modbus server away."""

from __future__ import annotations

import asyncio

import pytest
from asyncua.client.client import Client
from pymodbus.client import AsyncModbusTcpClient

from scenarios.sim import Breakdown, CncParams, OrderSpec, PlcRestart, Scenario, SimulatedPlant
from scenarios.sim.modbus_server import ModbusPlc
from scenarios.sim.registers import decode, encode
from uns_model import parse_plant
from uns_model.tags import ModbusSource

EPOCH = 1_764_000_000_000
PLANT = parse_plant(
    """
plant_model: 1
enterprise: acme
site: lab
areas:
  - name: a1
    lines:
      - name: l1
        connections:
          - {name: ua, kind: opcua, endpoint: "opc.tcp://127.0.0.1:4840", namespace_uri: "urn:acme:lab"}
          - {name: mb, kind: modbus, host: 127.0.0.1, port: 502, unit_id: 3}
        cells:
          - name: c1
            workcenter: WC-1
            equipment: [{name: e1, serial: S-1}]
            tags:
              - {path: good, role: good_count, datatype: UInt32,
                 source: {connection: ua, node_id: "ns=3;i=1001"}}
              - {path: state, role: machine_state, datatype: Int32,
                 source: {connection: ua, node_id: "nsu=urn:other;s=Cell1.State"}}
              - {path: scrap, role: scrap_count, datatype: Int32,
                 source: {connection: mb, table: holding, address: 7, type: int32, byte_order: little,
                          word_order: little}}
              - {path: spindle_temp, datatype: Double,
                 source: {connection: mb, table: input, address: 20, type: float64, byte_order: little}}
              - {path: level, datatype: Float,
                 source: {connection: mb, table: input, address: 30, type: int16, scale: 0.5, offset: -40}}
              - {path: alarm, role: alarm, equipment: e1, datatype: Boolean,
                 source: {connection: mb, table: coil, address: 21, type: bool}}
""",
    "lab.yaml",
)
SCENARIO = Scenario(
    orders={"c1": [OrderSpec(ref="WH/MO/00001", qty=1000)]},
    cnc=CncParams(setup_s=0, scrap_rate=0.3),
    initial={"c1:scrap": 70_000},
    disturbances=[
        Breakdown(cell="c1", at_s=100, duration_s=200, alarm="alarm"),
        PlcRestart(cell="c1", at_s=600, outage_s=60),
    ],
)


@pytest.mark.parametrize(
    ("kind", "value"),
    [("int16", -1234), ("uint16", 65535), ("int32", -70000), ("uint32", 4_000_000_000), ("float32", 1.5)],
)
@pytest.mark.parametrize("byte_order", ["big", "little"])
@pytest.mark.parametrize("word_order", ["big", "little"])
def test_register_encoding_inverts_the_model_scaling(kind, value, byte_order, word_order):
    src = ModbusSource.model_validate(
        {"connection": "x", "table": "holding", "address": 0, "type": kind, "byte_order": byte_order,
         "word_order": word_order, "scale": 0.1, "offset": 5.0}
    )  # fmt: skip
    engineering = value * 0.1 + 5.0
    regs = encode(src, engineering)
    assert len(regs) == src.register_count and all(0 <= r <= 0xFFFF for r in regs)
    assert decode(src, regs) == pytest.approx(engineering, rel=1e-6)


async def read_modbus(plc: ModbusPlc) -> dict[str, float]:
    client = AsyncModbusTcpClient("127.0.0.1", port=plc.port, timeout=2, retries=0)
    if not await client.connect():
        raise ConnectionError("modbus server not answering")
    try:
        out = {}
        for ref, src, unit in plc.refs:
            if src.table == "coil":
                rr = await client.read_coils(src.address, count=1, device_id=unit)
                out[ref.path] = float(rr.bits[0])
                continue
            read = client.read_holding_registers if src.table == "holding" else client.read_input_registers
            rr = await read(src.address, count=src.register_count, device_id=unit)
            assert not rr.isError(), rr
            out[ref.path] = decode(src, rr.registers)
        return out
    finally:
        client.close()


def test_namespaces_numeric_ids_little_endian_coils_and_a_modbus_restart():
    async def scenario() -> None:
        sim = SimulatedPlant(PLANT, scenario=SCENARIO, seed=0, epoch_unix_ms=EPOCH, clock="sim")
        async with sim:
            opc = sim.endpoints()["acme/lab/a1/l1:ua"]
            mb = sim.plcs["acme/lab/a1/l1:mb"]
            assert isinstance(mb, ModbusPlc)
            assert {unit for _, _, unit in mb.refs} == {3}
            await sim.advance(until_s=150)  # in the breakdown: the alarm coil is set
            async with Client(opc, timeout=5) as client:
                ns = await client.get_namespace_index("urn:acme:lab")
                other = await client.get_namespace_index("urn:other")
                good = await client.get_node(f"ns={ns};i=1001").read_value()
                state = await client.get_node(f"ns={other};s=Cell1.State").read_value()
            assert good == sim.process.value("c1", "good") and isinstance(good, int)
            assert state == 180000  # the built-in UMH table: equipment failure
            got = await read_modbus(mb)
            assert got["alarm"] == 1.0
            assert sim.truth().good() > 0
            assert got["scrap"] == 70_000 + sim.truth().scrap()
            assert got["spindle_temp"] == pytest.approx(float(sim.process.value("c1", "spindle_temp")))
            assert (
                got["level"] == 0.0
            )  # a tag the sim does not drive: raw (0 + 40) / 0.5 = 80 in the register

            mbc = AsyncModbusTcpClient("127.0.0.1", port=mb.port, timeout=2, retries=0)
            await mbc.connect()
            assert mbc.connected
            unknown = await mbc.read_holding_registers(7, count=2, device_id=9)
            assert unknown.isError() and unknown.exception_code == 0x0B  # gateway: no such unit
            refused = await mbc.write_register(7, 5, device_id=3)
            assert refused.isError()  # the process owns the values
            mbc.close()

            await sim.advance(until_s=599)
            scrap_before = sim.truth().scrap()
            await sim.advance(until_s=610)  # PLC restart: both of the cell's servers are away
            with pytest.raises(ConnectionError):
                await read_modbus(mb)
            with pytest.raises((OSError, asyncio.TimeoutError)):
                async with Client(opc, timeout=2):
                    pass
            await sim.advance(until_s=1200)
            got = await read_modbus(mb)  # back on the same port
            assert got["alarm"] == 0.0
            restart = sim.truth().plc_restarts[0]
            assert restart.connections == ["acme/lab/a1/l1:mb", "acme/lab/a1/l1:ua"]
            assert sim.truth().scrap() > scrap_before
            assert got["scrap"] == sim.truth().scrap() - scrap_before

    asyncio.run(scenario())
