"""Real servers read by real clients: asyncua and pymodbus find every tag where the plant model says."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import pytest
from asyncua import ua
from asyncua.client.client import Client
from pymodbus.client import AsyncModbusTcpClient

from scenarios.sim import GroundTruth, PlantProcess, SimulatedPlant
from scenarios.sim.modbus_server import ModbusPlc
from scenarios.sim.registers import decode
from uns_model import load_plant
from uns_model.plant import ModbusConnection, OpcUaConnection
from uns_model.tags import ModbusSource, OpcUaSource

EPOCH = 1_764_000_000_000
CNC = load_plant("scenarios/plants/cnc_shop.yaml")
BATCH = load_plant("scenarios/plants/batch_plant.yaml")

_VARIANT = {
    "Int16": ua.VariantType.Int16, "Int32": ua.VariantType.Int32, "UInt16": ua.VariantType.UInt16,
    "UInt32": ua.VariantType.UInt32, "Float": ua.VariantType.Float, "Double": ua.VariantType.Double,
    "Boolean": ua.VariantType.Boolean, "String": ua.VariantType.String,
}  # fmt: skip


@dataclass
class Read:
    value: Any
    vtype: ua.VariantType
    source_ms: float


async def read_opcua(sim: SimulatedPlant, url: str) -> dict[tuple[str, str], Read]:
    out = {}
    async with Client(url, timeout=5) as client:
        for ref in sim.process.resolver.tags():
            src = ref.tag.source
            if not isinstance(src, OpcUaSource):
                continue
            if sim.endpoints()[f"{ref.line_place.path}:{src.connection}"] != url:
                continue
            dv = await client.get_node(src.node_id).read_data_value()
            assert dv.Value is not None and dv.SourceTimestamp is not None
            stamp = dv.SourceTimestamp.timestamp() * 1000
            out[(ref.place.path, ref.path)] = Read(dv.Value.Value, dv.Value.VariantType, stamp)
    return out


async def read_modbus(sim: SimulatedPlant, key: str) -> dict[tuple[str, str], float]:
    plc = sim.plcs[key]
    assert isinstance(plc, ModbusPlc)
    conn = plc.connection
    out = {}
    client = AsyncModbusTcpClient("127.0.0.1", port=plc.port, timeout=3, retries=0)
    assert await client.connect()
    try:
        for ref in sim.process.resolver.tags():
            src = ref.tag.source
            if not isinstance(src, ModbusSource) or f"{ref.line_place.path}:{src.connection}" != key:
                continue
            unit = conn.unit_id if src.unit_id is None else src.unit_id
            if src.table == "holding":
                rr = await client.read_holding_registers(
                    src.address, count=src.register_count, device_id=unit
                )
            elif src.table == "input":
                rr = await client.read_input_registers(src.address, count=src.register_count, device_id=unit)
            elif src.table == "discrete":
                rr = await client.read_discrete_inputs(src.address, count=1, device_id=unit)
            else:
                rr = await client.read_coils(src.address, count=1, device_id=unit)
            assert not rr.isError(), (ref.path, rr)
            value = decode(src, rr.registers) if src.table in ("holding", "input") else float(rr.bits[0])
            out[(ref.place.path, ref.path)] = value
    finally:
        client.close()
    return out


def check_opcua(sim: SimulatedPlant, got: dict[tuple[str, str], Read]) -> None:
    values = sim.process.values()
    for (cell, path), dv in got.items():
        ref = sim.process.resolver.by_place(cell, path)
        assert ref is not None
        assert dv.vtype == _VARIANT[ref.tag.datatype], (cell, path)
        want = values[(cell, path)]
        if ref.tag.datatype == "Float":
            assert dv.value == pytest.approx(want, rel=1e-6), (cell, path)
        else:
            assert dv.value == want, (cell, path)


def check_modbus(sim: SimulatedPlant, got: dict[tuple[str, str], float]) -> None:
    values = sim.process.values()
    for (cell, path), value in got.items():
        ref = sim.process.resolver.by_place(cell, path)
        assert ref is not None and isinstance(ref.tag.source, ModbusSource)
        want = float(values[(cell, path)])
        # The register holds round((value - offset) / scale): within half a scale step, or float32 precision.
        assert value == pytest.approx(want, abs=ref.tag.source.scale / 2 + 1e-9, rel=1e-6), (cell, path)


def test_cnc_shop_served_over_opcua_and_modbus():
    async def scenario() -> None:
        sim = SimulatedPlant(CNC, seed=1, epoch_unix_ms=EPOCH, clock="sim")
        async with sim:
            opc = sim.endpoints()["acme/toolworks/machining/line1:plc"]
            gw = "acme/toolworks/machining/line2:gw"
            assert opc.startswith("opc.tcp://127.0.0.1:") and sim.endpoints()[gw].startswith("modbus://")
            await sim.advance(until_s=1800)
            got = await read_opcua(sim, opc)
            assert len(got) == 15  # every OPC UA tag of line 1
            check_opcua(sim, got)
            stamps = {dv.source_ms for dv in got.values()}
            assert max(stamps) == EPOCH + 1_800_000  # values changed at the last publish carry its sim time
            mb = await read_modbus(sim, gw)
            assert len(mb) == 13
            check_modbus(sim, mb)
            # PLC restarts are read back by raw clients in test_custom_plant and by the edge gateway in
            # test_edge_roundtrip; here: values after hours of production, wraps and disturbances.
            await sim.advance(until_s=3 * 3600)
            check_opcua(sim, await read_opcua(sim, opc))
            check_modbus(sim, await read_modbus(sim, gw))

    asyncio.run(scenario())


def test_batch_plant_strings_totalizers_and_quality_deviation():
    async def scenario() -> None:
        # The wall clock (default): at time scale 60 a sim hour is a minute in every timestamp.
        sim = SimulatedPlant(BATCH, seed=1, epoch_unix_ms=EPOCH, time_scale=60)
        async with sim:
            dcs = sim.endpoints()["acme/blending/processing/batch1:dcs"]
            scales = "acme/blending/processing/batch1:scales"
            await sim.advance(until_s=3650)  # inside the scripted excursion (3600 s + 120 s)
            got = await read_opcua(sim, dcs)
            check_opcua(sim, got)
            reactor = "acme/blending/processing/batch1/reactor-01"
            assert got[(reactor, "temperature")].value > 82
            assert got[(reactor, "temperature")].source_ms == EPOCH + round(3650 * 1000 / 60)
            lot = got[(reactor, "lot")].value
            assert lot.startswith("LOT-20251124-")
            assert got[(reactor, "order")].value.startswith("WH/MO/")
            mb = await read_modbus(sim, scales)
            check_modbus(sim, mb)
            sugar = mb[("acme/blending/processing/batch1/mixer-01", "ingredients/sugar_kg")]
            assert sugar == pytest.approx(sim.truth().consumed("RM-SUGAR"), rel=1e-6)
            await sim.advance(until_s=3800)
            (dev,) = sim.truth().quality_deviations
            assert dev.lot == lot and dev.start_unix_ms == EPOCH + 60_000
            assert dev.end_unix_ms == EPOCH + 62_000  # 120 sim s

    asyncio.run(scenario())


def test_cli_serves_and_writes_the_same_truth_as_the_process(tmp_path):
    truth_file, ep_file, plant_file = tmp_path / "truth.json", tmp_path / "ep.json", tmp_path / "plant.yaml"
    cmd = [
        sys.executable, "-m", "scenarios.sim", "--plant", "scenarios/plants/batch_plant.yaml",
        "--time-scale", "0", "--seed", "5", "--duration", "1h", "--epoch-ms", str(EPOCH), "--clock", "sim",
        "--truth", str(truth_file), "--endpoints-json", str(ep_file), "--write-plant", str(plant_file),
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "serving acme/blending/processing/batch1:dcs at opc.tcp://127.0.0.1:" in done.stdout
    endpoints = json.loads(ep_file.read_text())
    moved = load_plant(plant_file)
    dcs, scales = moved.areas[0].lines[0].connections
    assert isinstance(dcs, OpcUaConnection) and isinstance(scales, ModbusConnection)
    assert dcs.endpoint == endpoints["acme/blending/processing/batch1:dcs"]
    assert f"modbus://{scales.host}:{scales.port}" == endpoints["acme/blending/processing/batch1:scales"]
    truth = GroundTruth.model_validate_json(truth_file.read_text())
    proc = PlantProcess(BATCH, seed=5, epoch_unix_ms=EPOCH)
    proc.run_until(3600)
    assert truth == proc.snapshot()
