"""A Modbus TCP connection polled by rate groups; each unit behind it is a feed that comes and goes."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException

from edge.config import DelaySequence, ModbusOptions
from edge.modbus_plan import Block, PollGroup, plan_groups
from edge.points import FeedSink, Point, Sample
from edge.values import now_ms
from uns_model.plant import ModbusConnection

log = logging.getLogger(__name__)

#: Exception codes by which a gateway says the unit behind it is not there (path unavailable, no answer).
UNIT_GONE = frozenset({0x0A, 0x0B})


class UnitFailed(Exception):
    """The unit did not answer (timeout, gateway exception): its devices die, the connection stays."""


class ModbusPoller:
    """Polls one Modbus TCP server: reconnect with backoff, one feed per unit id.

    A unit is up once a full read of all its blocks succeeded (so its DBIRTH carries every value);
    a timeout or a gateway exception takes the unit down; a lost connection takes every unit down.
    A plain exception response (illegal address ...) makes that block's metrics bad (null) only.
    """

    def __init__(
        self, name: str, conn: ModbusConnection, points: list[Point], sink: FeedSink, options: ModbusOptions
    ) -> None:
        self.name = name
        self.conn = conn
        self.sink = sink
        self.options = options
        self.groups: list[PollGroup] = plan_groups(
            points,
            conn.unit_id,
            lambda p: options.tag_poll_ms.get(f"{p.device_id}/{p.metric}", _source_poll_ms(p, conn.poll_ms)),
            max_registers=options.max_registers_per_read,
            max_bits=options.max_bits_per_read,
            max_gap=options.max_gap,
        )
        self.units = sorted({b.unit_id for g in self.groups for b in g.blocks})
        self.feeds: dict[str, set[str]] = {self.feed(u): set() for u in self.units}
        for g in self.groups:
            for b in g.blocks:
                self.feeds[self.feed(b.unit_id)].update(p.device_id for p in b.points)
        self.stats: Counter[str] = Counter()
        self._up: set[int] = set()
        self._retry_at: dict[int, float] = {}
        self._unit_delays = {
            u: DelaySequence(options.backoff.min_s, options.backoff.max_s) for u in self.units
        }
        self._warned: set[Block] = set()
        #: Set by the gateway before it cancels: Python 3.11's wait_for (inside pymodbus) can swallow a
        #: cancellation that races a response, so the loops also look at this.
        self.stopping = False

    def feed(self, unit: int) -> str:
        return f"{self.name}/unit{unit}"

    @property
    def where(self) -> str:
        return f"modbus {self.name} ({self.conn.host}:{self.conn.port})"

    async def run(self) -> None:
        """Forever: connect, poll until the connection fails, take every unit down, back off, again."""
        delays = self.options.backoff.delays()
        while not self.stopping:
            client = AsyncModbusTcpClient(
                self.conn.host,
                port=self.conn.port,
                timeout=self.conn.timeout_ms / 1000,
                retries=0,
                reconnect_delay=0,  # reconnects are ours, with our backoff and our DDEATH/DBIRTH
            )
            reason = "connect failed"
            try:
                if await client.connect():
                    self.stats["connects"] += 1
                    log.info("%s: connected", self.where)
                    delays.reset()
                    await self._poll(client)
            except (ConnectionError, ModbusException, OSError, TimeoutError) as exc:
                reason = str(exc) or type(exc).__name__
            finally:
                client.close()
            if self.stopping:
                return
            self.stats["connection_failures"] += 1
            self._all_down(reason)
            delay = delays.next()
            log.warning("%s: %s; retrying in %.1f s", self.where, reason, delay)
            await asyncio.sleep(delay)

    def _all_down(self, reason: str) -> None:
        for unit in sorted(self._up):
            self._unit_down(unit, reason)

    def _unit_down(self, unit: int, reason: str) -> None:
        if unit in self._up:
            self._up.discard(unit)
            self.stats["unit_failures"] += 1
            self.sink.feed_down(self.feed(unit), reason)
        loop = asyncio.get_running_loop()
        self._retry_at[unit] = loop.time() + self._unit_delays[unit].next()

    async def _poll(self, client: AsyncModbusTcpClient) -> None:
        loop = asyncio.get_running_loop()
        next_due = [loop.time()] * len(self.groups)
        self._retry_at = dict.fromkeys(self.units, loop.time())
        while not self.stopping:
            now = loop.time()
            for unit in self.units:
                if unit not in self._up and now >= self._retry_at[unit]:
                    await self._bring_up(client, unit)
            for i, group in enumerate(self.groups):
                if next_due[i] > now:
                    continue
                await self._scan(client, group)
                # A late scan is not caught up by bursts: the next one is a full period from now.
                next_due[i] = max(next_due[i] + group.period_ms / 1000, loop.time())
            waits = next_due + [self._retry_at[u] for u in self.units if u not in self._up]
            await asyncio.sleep(max(0.0, min(waits) - loop.time()))

    async def _bring_up(self, client: AsyncModbusTcpClient, unit: int) -> None:
        """A full read of every block of the unit, then feed_up with all values."""
        samples: list[Sample] = []
        try:
            for group in self.groups:
                for block in group.blocks:
                    if block.unit_id == unit:
                        samples += await self._read(client, block)
        except UnitFailed as exc:
            self._unit_down(unit, str(exc))
            return
        self._up.add(unit)
        self._unit_delays[unit].reset()
        self.stats["unit_ups"] += 1
        log.info("%s: unit %d answers", self.where, unit)
        self.sink.feed_up(self.feed(unit), samples)

    async def _scan(self, client: AsyncModbusTcpClient, group: PollGroup) -> None:
        by_unit: dict[int, list[Sample]] = {}
        failed: dict[int, str] = {}
        for block in group.blocks:
            unit = block.unit_id
            if unit not in self._up or unit in failed:
                continue
            try:
                by_unit.setdefault(unit, []).extend(await self._read(client, block))
            except UnitFailed as exc:
                failed[unit] = str(exc)
        self.stats["scans"] += 1
        for unit, reason in failed.items():
            by_unit.pop(unit, None)
            self._unit_down(unit, reason)
        if failed and not by_unit and not self._up:
            # Nobody behind this connection answers: start over with a fresh TCP connection.
            raise ConnectionError("no unit answers")
        for unit, samples in by_unit.items():
            if samples:
                self.sink.feed_samples(self.feed(unit), samples)

    async def _read(self, client: AsyncModbusTcpClient, block: Block) -> list[Sample]:
        if not client.connected:
            raise ConnectionError("connection lost")
        start, count, unit = block.start, block.count, block.unit_id
        self.stats["reads"] += 1
        try:
            if block.table == "holding":
                rr = await client.read_holding_registers(start, count=count, device_id=unit)
            elif block.table == "input":
                rr = await client.read_input_registers(start, count=count, device_id=unit)
            elif block.table == "coil":
                rr = await client.read_coils(start, count=count, device_id=unit)
            else:
                rr = await client.read_discrete_inputs(start, count=count, device_id=unit)
        except ConnectionException:
            raise
        except ModbusIOException as exc:
            if not client.connected:
                raise ConnectionError(f"connection lost: {exc}") from None
            raise UnitFailed(f"unit {block.unit_id}: no answer") from None
        ts = now_ms()
        if rr.isError():
            code = getattr(rr, "exception_code", None)
            if code in UNIT_GONE:
                raise UnitFailed(f"unit {block.unit_id}: gateway exception {code}")
            self.stats["exception_responses"] += 1
            if block not in self._warned:
                self._warned.add(block)
                log.warning(
                    "%s: unit %d %s %d..%d answers exception %s: %s go null (bad)",
                    self.where,
                    block.unit_id,
                    block.table,
                    block.start,
                    block.start + block.count - 1,
                    code,
                    ", ".join(f"{p.device_id}/{p.metric}" for p in block.points),
                )
            return [Sample(p, None, ts) for p in block.points]
        self._warned.discard(block)
        words = rr.bits if block.is_bits else rr.registers
        try:
            return [Sample(p, v, ts) for p, v in block.decode(words)]
        except ValueError as exc:
            self.stats["bad_responses"] += 1
            log.warning("%s: unit %d: unreadable answer: %s", self.where, block.unit_id, exc)
            return [Sample(p, None, ts) for p in block.points]


def _source_poll_ms(point: Point, default_ms: int) -> int:
    """The plant file's per-tag rate (`source.poll_ms`), else the connection's."""
    rate = getattr(point.source, "poll_ms", None)
    return int(rate) if rate else default_ms
