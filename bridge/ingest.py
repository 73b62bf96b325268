"""Host batches to tag samples: plant tag index, handle -> tag lookup built at birth, columnar chunks."""

from __future__ import annotations

import logging
import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from sparkplug.host_columns import ColumnBatch
from sparkplug.host_registry import MetricInfo, UpdateBatch
from uns_model.plant import PlantModel
from uns_model.resolver import PlantResolver, TagRef
from uns_model.tags import TEXT_TYPES

log = logging.getLogger(__name__)

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
BIRTHS = frozenset({"NBIRTH", "DBIRTH"})

# Role codes, so that role tests are array lookups.
ROLE_CODES: dict[str | None, int] = {
    None: 0,
    "good_count": 1,
    "scrap_count": 2,
    "machine_state": 3,
    "consumption": 4,
    "process_value": 5,
    "alarm": 6,
    "runtime_hours": 7,
    "lot": 8,
    "order": 9,
}


@dataclass(frozen=True, slots=True)
class TagInfo:
    """One plant tag with its index in the bridge's numbering and its stable key."""

    idx: int
    ref: TagRef
    key: str  # "<cell path>/<tag path>": stable across plant edits, used by checkpoints and rule state

    @property
    def role(self) -> str | None:
        return self.ref.role

    @property
    def cell(self) -> str:
        return self.ref.place.path


class TagIndex:
    """The plant's tags numbered 0..n-1 (file order), and the Sparkplug handle -> tag lookup array.

    Handles come from the host's registry; the array is filled from each NBIRTH/DBIRTH (via the
    plant resolver) and grows geometrically. -1 means a metric the plant does not know.
    """

    def __init__(self, plant: PlantModel) -> None:
        self.plant = plant
        self.resolver = PlantResolver(plant)
        self.tags: list[TagInfo] = [
            TagInfo(i, ref, f"{ref.place.path}/{ref.path}") for i, ref in enumerate(self.resolver.tags())
        ]
        self.by_key = {t.key: t for t in self.tags}
        n = len(self.tags)
        self.n = n
        self.role: npt.NDArray[np.int8] = np.array([ROLE_CODES[t.role] for t in self.tags], np.int8)
        self.is_text: Bools = np.array([t.ref.tag.datatype in TEXT_TYPES for t in self.tags], np.bool_)
        self._cell_role = {(t.cell, t.role): t for t in self.tags if t.role is not None}
        self.handle_map: I32 = np.full(1024, -1, np.int32)
        self.mismatched: set[int] = set()

    def mask(self, *roles: str | None) -> Bools:
        codes = [ROLE_CODES[r] for r in roles]
        return np.isin(self.role, codes)

    def of_role(self, role: str) -> list[TagInfo]:
        code = ROLE_CODES[role]
        return [t for t in self.tags if self.role[t.idx] == code]

    def cell_tag(self, cell: str, role: str) -> TagInfo | None:
        """The tag of a role in a cell (roles such as order, lot, good_count are single per cell)."""
        return self._cell_role.get((cell, role))

    def learn_birth(self, metrics: Sequence[MetricInfo]) -> int:
        """Map the handles of a birth to plant tags; returns how many the plant knows."""
        known = 0
        for info in metrics:
            if info.handle >= self.handle_map.shape[0]:
                cap = self.handle_map.shape[0]
                while cap <= info.handle:
                    cap *= 2
                grown = np.full(cap, -1, np.int32)
                grown[: self.handle_map.shape[0]] = self.handle_map
                self.handle_map = grown
            ref = None
            if info.device_id is not None:
                ref = self.resolver.by_sparkplug(info.group_id, info.edge_node_id, info.device_id, info.name)
            if ref is None:
                self.handle_map[info.handle] = -1
                continue
            tag = self.by_key[f"{ref.place.path}/{ref.path}"]
            self.handle_map[info.handle] = tag.idx
            known += 1
            if info.datatype.name != ref.tag.datatype and info.handle not in self.mismatched:
                self.mismatched.add(info.handle)
                log.warning(
                    "tag %s: born as %s but the plant model says %s; values are read as they come",
                    tag.key,
                    info.datatype.name,
                    ref.tag.datatype,
                )
        return known

    def tags_of_handles(self, handles: Sequence[int] | I64) -> I32:
        h = np.asarray(handles, np.int64)
        out = np.full(h.shape[0], -1, np.int32)
        ok = h < self.handle_map.shape[0]
        out[ok] = self.handle_map[h[ok]]
        return out


class RawValues(Sequence[Any]):
    """Each sample's own value, read on demand: the mirror, the text tags and the logs read a few
    per chunk, so the columnar values are not turned into Python objects one by one."""

    def __init__(self, parts: list[tuple[int, list[Any] | ColumnBatch]], n: int, keep: I64 | None = None):
        self._starts = [start for start, _ in parts]
        self._sources = [src for _, src in parts]
        self._n = n if keep is None else int(keep.shape[0])
        self._keep = keep

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i: Any) -> Any:
        if not isinstance(i, int):
            raise TypeError("RawValues takes one int index")
        if i < 0:
            i += self._n
        if not 0 <= i < self._n:
            raise IndexError(i)
        if self._keep is not None:
            i = int(self._keep[i])
        k = bisect_right(self._starts, i) - 1
        src, j = self._sources[k], i - self._starts[k]
        return src[j] if isinstance(src, list) else src.value(j)

    def kept(self, keep: I64) -> RawValues:
        """The same values, only at the positions `keep` (positions in this sequence)."""
        parts = list(zip(self._starts, self._sources, strict=True))
        inner = keep if self._keep is None else self._keep[keep]
        return RawValues(parts, 0, inner)


@dataclass(slots=True)
class Chunk:
    """The values of many batches as columns: every sample of a plant tag, in arrival order.

    `value` is the number (NaN for text and unusable values); `raw` keeps each sample's own value
    (bool, int, str, None) for the JSON mirror and the text tags.
    """

    tag: I32
    ts: I64
    value: F64
    historical: Bools
    raw: Sequence[Any]
    unmapped: int
    text_in_number: int
    birth: Bools | None = None
    """True for the values of an NBIRTH or DBIRTH (None: none in this chunk); the first of a device's
    new session after a death is where its counters' session marks go."""

    def __len__(self) -> int:
        return int(self.tag.shape[0])


def _as_float(v: Any) -> float:
    if isinstance(v, bool | int | float):
        return float(v)
    return math.nan


Part = UpdateBatch | ColumnBatch
# handles, values, timestamps, historical, raw values, birth (None: no birth values)
_Columns = tuple[I64, F64, I64, Bools, list[Any] | ColumnBatch, Bools | None]


def _from_batches(batches: Sequence[UpdateBatch]) -> _Columns:
    """A run of the host's per-message batches to columns: a handful of numpy calls for the run."""
    handles: list[int] = []
    raw: list[Any] = []
    stamps: list[int] = []
    hist: list[bool] = []
    births: list[tuple[int, int]] = []
    for b in batches:
        if b.message_type in BIRTHS:
            births.append((len(handles), len(handles) + len(b.handles)))
        handles += b.handles
        raw += b.values
        stamps += b.timestamps_ms
        hist += b.historical
    birth: Bools | None = None
    if births:
        birth = np.zeros(len(handles), np.bool_)
        for a, z in births:
            birth[a:z] = True
    try:
        # Fast path: numbers, booleans and None (-> NaN) convert in one C loop.
        value = np.array(raw, np.float64)
        if value.ndim != 1:
            raise ValueError("not scalar")
    except (ValueError, TypeError):
        value = np.fromiter((_as_float(v) for v in raw), np.float64, count=len(raw))
    return (
        np.array(handles, np.int64),
        value,
        np.array(stamps, np.int64),
        np.array(hist, np.bool_),
        raw,
        birth,
    )


def _runs(parts: Sequence[Part]) -> list[_Columns]:
    out: list[_Columns] = []
    run: list[UpdateBatch] = []
    for p in parts:
        if isinstance(p, ColumnBatch):
            if run:
                out.append(_from_batches(run))
                run = []
            out.append((p.handle, p.fval.copy(), p.ts, p.historical, p, None))
        else:
            run.append(p)
    if run:
        out.append(_from_batches(run))
    return out


def build_chunk(index: TagIndex, parts: Sequence[Part]) -> Chunk:
    """Columns for a run of batches (per-message ones and the host's columnar runs), in order."""
    runs = _runs(parts)
    if len(runs) == 1:
        h, value, ts, hist, src, birth = runs[0]
        raw: Sequence[Any] = src if isinstance(src, list) else RawValues([(0, src)], len(src))
    else:
        starts = np.cumsum([0] + [r[0].shape[0] for r in runs]).tolist()
        h = np.concatenate([r[0] for r in runs]) if runs else np.empty(0, np.int64)
        value = np.concatenate([r[1] for r in runs]) if runs else np.empty(0, np.float64)
        ts = np.concatenate([r[2] for r in runs]) if runs else np.empty(0, np.int64)
        hist = np.concatenate([r[3] for r in runs]) if runs else np.empty(0, np.bool_)
        birth = None
        if any(r[5] is not None for r in runs):
            birth = np.concatenate(
                [r[5] if r[5] is not None else np.zeros(r[0].shape[0], np.bool_) for r in runs]
            )
        raw = RawValues([(a, r[4]) for a, r in zip(starts, runs, strict=False)], int(starts[-1]))
    tag = index.tags_of_handles(h)
    known = tag >= 0
    unmapped = int(known.shape[0] - np.count_nonzero(known))
    text = np.zeros(tag.shape[0], np.bool_)
    text[known] = index.is_text[tag[known]]
    # A numeric-looking string of a text tag must not become a number (order '12').
    value[text] = np.nan
    text_in_number = 0
    if unmapped:
        keep = np.flatnonzero(known)
        tag, ts, value, hist, text = tag[known], ts[known], value[known], hist[known], text[known]
        raw = _kept(raw, keep)
        if birth is not None:
            birth = birth[known]
    numeric_tag = ~text
    bad = numeric_tag & np.isnan(value)
    if bad.any():
        # A string in a numeric tag (or a null): NaN, counted; the engines skip NaN samples.
        text_in_number = sum(1 for i in np.flatnonzero(bad).tolist() if isinstance(raw[i], str))
    return Chunk(tag, ts, value, hist, raw, unmapped, text_in_number, birth)


def _kept(raw: Sequence[Any], keep: I64) -> Sequence[Any]:
    if isinstance(raw, RawValues):
        return raw.kept(keep)
    return [raw[i] for i in keep.tolist()]


def last_per_tag(tag: I32) -> tuple[I32, I64]:
    """(distinct tags, position of each one's last sample in arrival order)."""
    if tag.shape[0] == 0:
        return np.empty(0, np.int32), np.empty(0, np.int64)
    rev = tag[::-1]
    uniq, first_in_rev = np.unique(rev, return_index=True)
    return uniq.astype(np.int32), (tag.shape[0] - 1 - first_in_rev).astype(np.int64)
