"""A simulated Modbus TCP PLC (pymodbus server): one device per unit id, registers laid out as the
plant model's ModbusSources say, values encoded with the inverse of the model's scaling."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from pymodbus.constants import ExcCodes
from pymodbus.exceptions import NoSuchIdException
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from scenarios.sim.cells import Value
from scenarios.sim.registers import encode
from uns_model.plant import ModbusConnection
from uns_model.resolver import TagRef
from uns_model.tags import ModbusSource

log = logging.getLogger(__name__)

_TABLES = ("coil", "discrete", "holding", "input")
#: Function codes per table, as pymodbus's runtime maps them.
_FC_TABLE: dict[int, str] = {1: "coil", 5: "coil", 15: "coil", 2: "discrete", 4: "input"}
_FC_TABLE.update({fc: "holding" for fc in (3, 6, 16, 22, 23)})


@dataclass(slots=True)
class _Unit:
    """The register image of one unit id: what the next read returns."""

    words: dict[str, list[int]] = field(default_factory=dict)
    bits: dict[str, list[bool]] = field(default_factory=dict)


class ModbusPlc:
    """Serves every ModbusSource tag of one connection of one line; `update()` sets the values."""

    def __init__(
        self, line: str, connection: ModbusConnection, refs: list[TagRef], host: str, port: int
    ) -> None:
        self.line = line
        self.connection = connection
        self.host = host
        self.port = port
        self.refs: list[tuple[TagRef, ModbusSource, int]] = []
        self.units: dict[int, _Unit] = {}
        sizes: dict[tuple[int, str], int] = {}
        for ref in refs:
            src = ref.tag.source
            assert isinstance(src, ModbusSource)
            unit = connection.unit_id if src.unit_id is None else src.unit_id
            self.refs.append((ref, src, unit))
            key = (unit, src.table)
            sizes[key] = max(sizes.get(key, 1), src.address + src.register_count)
        for (unit, table), size in sizes.items():
            image = self.units.setdefault(unit, _Unit())
            if table in ("coil", "discrete"):
                image.bits[table] = [False] * (-(-size // 16) * 16)
            else:
                image.words[table] = [0] * size
        self._server: ModbusTcpServer | None = None

    @property
    def url(self) -> str:
        return f"modbus://{self.host}:{self.port}"

    @property
    def online(self) -> bool:
        return self._server is not None

    def update(self, values: dict[tuple[str, str], Value]) -> None:
        """Encode each tag's engineering value into its registers (or coil)."""
        for ref, src, unit in self.refs:
            value = values.get((ref.place.path, ref.path))
            if value is None or isinstance(value, str):
                continue
            image = self.units[unit]
            if src.table in ("coil", "discrete"):
                image.bits[src.table][src.address] = bool(value)
            else:
                regs = encode(src, value)
                image.words[src.table][src.address : src.address + len(regs)] = regs

    def _device(self, unit: int) -> SimDevice:
        image = self.units[unit]
        blocks: list[list[SimData]] = []
        for table in _TABLES:
            if table in ("coil", "discrete"):
                n = len(image.bits.get(table, [])) or 16
                blocks.append([SimData(0, count=n, values=False, datatype=DataType.BITS, readonly=True)])
            else:
                n = len(image.words.get(table, [])) or 1
                blocks.append([SimData(0, count=n, values=0, datatype=DataType.REGISTERS, readonly=True)])
        simdata = (blocks[0], blocks[1], blocks[2], blocks[3])
        return SimDevice(id=unit, simdata=simdata, action=partial(self._serve, unit))

    async def _serve(
        self,
        unit: int,
        func_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        """Before each request: copy the current image into the device memory pymodbus answers from."""
        if set_values:
            return ExcCodes.ILLEGAL_FUNCTION  # the simulated process owns its values
        table = _FC_TABLE.get(func_code)
        image = self.units[unit]
        if table in ("coil", "discrete"):
            bits = image.bits.get(table, [])
            for i in range(len(bits) // 16):
                word = 0
                for b in range(16):
                    if bits[i * 16 + b]:
                        word |= 1 << b
                registers[i] = word
        elif table is not None:
            words = image.words.get(table, [])
            registers[: len(words)] = words
        return None

    async def start(self) -> None:
        """Listen (on a free port when port is 0; the port is kept for restarts)."""
        if self._server is not None:
            return
        devices = [self._device(unit) for unit in sorted(self.units)]
        server = ModbusTcpServer(devices, address=(self.host, self.port))
        server.context = _KnownUnits(server.context)  # type: ignore[assignment]
        await server.serve_forever(background=True)
        transport = server.transport
        sockets = getattr(transport, "sockets", None)
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        self._server = server
        log.info(
            "modbus PLC %s:%s serving units %s at %s",
            self.line,
            self.connection.name,
            sorted(self.units),
            self.url,
        )

    async def stop(self) -> None:
        """Stop answering: close the listener and every client connection."""
        server, self._server = self._server, None
        if server is not None:
            await server.shutdown()  # type: ignore[no-untyped-call]
            await asyncio.sleep(0)

    async def wait_closed(self) -> None:
        """Nothing outlives stop() here (kept for symmetry with OpcUaPlc)."""


class _KnownUnits:
    """pymodbus's device store fails an unknown unit id with a KeyError (and a traceback in the log);
    a Modbus gateway answers it with exception 0x0B, which pymodbus sends on NoSuchIdException."""

    def __init__(self, core: Any) -> None:
        self.core = core

    def device_ids(self) -> list[int]:
        return list(self.core.device_ids())

    def _check(self, device_id: int) -> None:
        if device_id not in self.core.devices:
            raise NoSuchIdException(f"unit {device_id} is not on this simulated PLC")

    async def async_getValues(self, device_id: int, func_code: int, address: int, count: int = 1) -> Any:
        self._check(device_id)
        return await self.core.async_getValues(device_id, func_code, address, count)

    async def async_setValues(self, device_id: int, func_code: int, address: int, values: Any) -> Any:
        self._check(device_id)
        return await self.core.async_setValues(device_id, func_code, address, values)
