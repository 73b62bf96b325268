"""Modbus read plan: points grouped by poll rate, coalesced into block reads per unit and table."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from edge.modbus_codec import decode_registers, engineering_value, register_count
from edge.points import Point
from uns_model.tags import ModbusSource

BIT_TABLES = frozenset({"coil", "discrete"})


def modbus_source(point: Point) -> ModbusSource:
    src = point.source
    if not isinstance(src, ModbusSource):
        raise TypeError(f"{point.device_id}/{point.metric} is not a Modbus point")
    return src


@dataclass(frozen=True, slots=True)
class Block:
    """One read request: `count` registers (or bits) of a table of a unit from `start`, and its points."""

    unit_id: int
    table: str
    start: int
    count: int
    points: tuple[Point, ...]

    @property
    def is_bits(self) -> bool:
        return self.table in BIT_TABLES

    def decode(self, words: Sequence[int] | Sequence[bool]) -> list[tuple[Point, int | float | bool]]:
        """Engineering value of each point from the words the read returned (ValueError if short)."""
        if len(words) < self.count:
            raise ValueError(f"read of {self.count} returned {len(words)}")
        out: list[tuple[Point, int | float | bool]] = []
        for p in self.points:
            src = modbus_source(p)
            at = src.address - self.start
            raw: int | float | bool
            if self.is_bits:
                raw = bool(words[at])
            else:
                regs = [int(w) for w in words[at : at + register_count(src.type)]]
                raw = decode_registers(regs, src.type, byte_order=src.byte_order, word_order=src.word_order)
            out.append((p, engineering_value(raw, src.scale, src.offset)))
        return out


@dataclass(frozen=True, slots=True)
class PollGroup:
    """Points read together at one rate."""

    period_ms: int
    blocks: tuple[Block, ...]


def plan_blocks(
    points: Iterable[Point],
    default_unit: int,
    *,
    max_registers: int = 125,
    max_bits: int = 2000,
    max_gap: int = 0,
) -> list[Block]:
    """Coalesce points of the same unit and table into as few reads as the limits allow.

    Points are joined when the next one starts at most `max_gap` words after the block's end and the
    block stays within the per-read limit; overlapping points (two tags on one register) share a read.
    """
    by_table: dict[tuple[int, str], list[Point]] = defaultdict(list)
    for p in points:
        src = modbus_source(p)
        unit = default_unit if src.unit_id is None else src.unit_id
        by_table[(unit, src.table)].append(p)
    blocks: list[Block] = []
    for (unit, table), pts in sorted(by_table.items()):
        limit = max_bits if table in BIT_TABLES else max_registers
        pts.sort(key=lambda p: modbus_source(p).address)
        start = end = -1
        members: list[Point] = []
        for p in pts:
            src = modbus_source(p)
            a, b = src.address, src.address + register_count(src.type)
            if members and a <= end + max_gap and max(end, b) - start <= limit:
                end = max(end, b)
                members.append(p)
                continue
            if members:
                blocks.append(Block(unit, table, start, end - start, tuple(members)))
            start, end, members = a, b, [p]
        if members:
            blocks.append(Block(unit, table, start, end - start, tuple(members)))
    return blocks


def plan_groups(
    points: Iterable[Point],
    default_unit: int,
    period_of: Callable[[Point], int],
    *,
    max_registers: int = 125,
    max_bits: int = 2000,
    max_gap: int = 0,
) -> list[PollGroup]:
    """Polling groups by rate (fastest first), each with its coalesced block reads."""
    by_rate: dict[int, list[Point]] = defaultdict(list)
    for p in points:
        by_rate[period_of(p)].append(p)
    return [
        PollGroup(
            rate,
            tuple(
                plan_blocks(
                    pts, default_unit, max_registers=max_registers, max_bits=max_bits, max_gap=max_gap
                )
            ),
        )
        for rate, pts in sorted(by_rate.items())
    ]
