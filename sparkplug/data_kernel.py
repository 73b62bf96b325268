"""A compiled reader of plain DATA payloads straight into columns: the host's fast path when numba is there.

It reads the protobuf wire format of a Sparkplug Payload itself and writes each metric's handle,
timestamp and value into preallocated numpy columns, so a 10-metric DDATA costs one call instead of
a Python loop over ten protobuf objects. It takes only what it can read without doubt: alias-only
metrics of the scalar datatypes, each value in its datatype's usual field. Anything else (a name
without a known alias, a null, a string, a value in another field, a field twice, a malformed
byte) makes it answer BAIL before anything is committed, and the host reads the message the usual
way, which decides and explains. So the kernel can only be faster than the general path, never
different from it; tests/sparkplug/test_data_kernel.py holds it to that against upb.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

BAIL = -1
# Rows of the int64 output block.
ROW_HANDLE, ROW_TS, ROW_INT, ROW_FLAGS = 0, 1, 2, 3
OUT_ROWS = 4
FLAG_HISTORICAL = 1
DT_SHIFT = 8  # flags >> DT_SHIFT is the metric's Sparkplug datatype number
# meta: payload timestamp, has timestamp, seq, has seq.
META_LEN = 4

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

# Datatypes the kernel reads (Int8..UInt64, Float, Double, Boolean, DateTime); the rest bail.
KERNEL_TYPES = frozenset({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13})


def _varint(raw: Any, pos: int, limit: int) -> tuple[int, int]:
    """A base-128 varint at raw[pos:limit]: (value as its 64-bit pattern, next pos), or (0, -1) when it
    runs past `limit` or past ten bytes. Compiled with the kernel and inlined into it."""
    value = 0
    shift = 0
    while True:
        if pos >= limit or shift > 63:
            return 0, -1
        b = raw[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, pos


_varint_py = _varint


def _py_decode(raw: Any, table: I64, out_i: I64, out_f: F64, start: int, received: int, meta: I64) -> int:
    """The kernel's logic; numba compiles this very function (nopython). Returns metrics written or BAIL."""
    n_raw = len(raw)
    n_tab = table.shape[1]
    pos = 0
    count = 0
    seen_top = 0
    pts = 0
    has_pts = 0
    seq = 0
    has_seq = 0
    bits64 = np.zeros(1, np.int64)  # scratch for reading IEEE bits as a float
    bits32 = np.zeros(1, np.int32)
    while pos < n_raw:
        # -- a tag (varint: field number << 3 | wire type)
        key, pos = _varint(raw, pos, n_raw)
        if pos < 0:
            return BAIL
        fnum = key >> 3
        wt = key & 7
        if fnum < 1 or fnum >= 1 << 29:
            return BAIL  # field number 0, or a tag beyond 32 bits: upb rejects the message
        if fnum == 2:
            if wt != 2:
                return BAIL
            # -- a Metric submessage: its length, then its fields up to `end`
            ln, pos = _varint(raw, pos, n_raw)
            if pos < 0:
                return BAIL
            # Compared as a remainder: a 10-byte length can be negative or overflow pos + ln.
            if ln < 0 or ln > n_raw - pos:
                return BAIL
            end = pos + ln
            if start + count >= out_f.shape[0]:
                return BAIL
            alias = 0
            has_alias = 0
            mts = 0
            hist = 0
            vfield = 0
            vbits = 0
            seen = 0
            while pos < end:
                key, pos = _varint(raw, pos, end)
                if pos < 0:
                    return BAIL
                f = key >> 3
                w = key & 7
                if f < 1 or f > 63:
                    return BAIL
                bit = 1 << f
                if seen & bit:
                    return BAIL  # a field twice: protobuf's "last wins" is the general path's call
                seen |= bit
                if w == 0:
                    v, pos = _varint(raw, pos, end)
                    if pos < 0:
                        return BAIL
                    if f == 2:
                        alias = v
                        has_alias = 1
                    elif f == 3:
                        mts = v
                    elif f == 5:
                        hist = 1 if v != 0 else 0
                    elif f == 7:
                        if v != 0:
                            return BAIL  # is_null: the general path says None
                    elif f == 10 or f == 11 or f == 14:
                        if vfield != 0:
                            return BAIL
                        vfield = f
                        vbits = v
                    elif f == 1 or f == 8 or f == 9 or f == 12 or f == 13 or (15 <= f <= 18):
                        return BAIL  # a known field in the wrong wire type
                elif w == 1:
                    if pos + 8 > end:
                        return BAIL
                    if f == 13:
                        if vfield != 0:
                            return BAIL
                        vfield = 13
                        vbits = 0
                        for k in range(8):
                            vbits |= raw[pos + k] << (8 * k)
                    elif f <= 18:
                        return BAIL
                    pos += 8
                elif w == 5:
                    if pos + 4 > end:
                        return BAIL
                    if f == 12:
                        if vfield != 0:
                            return BAIL
                        vfield = 12
                        vbits = 0
                        for k in range(4):
                            vbits |= raw[pos + k] << (8 * k)
                    elif f <= 18:
                        return BAIL
                    pos += 4
                elif w == 2:
                    ln, pos = _varint(raw, pos, end)
                    if pos < 0:
                        return BAIL
                    if ln < 0 or ln > end - pos:
                        return BAIL
                    # Only name (1) is skipped: upb does not check a proto2 string. Metadata (8) and
                    # properties (9) bail, as upb parses them and may reject the whole message; so
                    # does every value member (10-19: extension_value, last in its oneof, would
                    # clear a scalar read before it) and anything else of a known field.
                    if 2 <= f <= 19:
                        return BAIL
                    pos += ln
                else:
                    return BAIL  # groups (3, 4) and wire types 6, 7
            if pos != end or not has_alias:
                return BAIL
            # -- the alias -> (handle, datatype) of the birth, by binary search on the sorted table
            a = np.int64(alias)
            lo = 0
            hi = n_tab
            while lo < hi:
                mid = (lo + hi) >> 1
                if table[0, mid] < a:
                    lo = mid + 1
                else:
                    hi = mid
            if lo >= n_tab or table[0, lo] != a:
                return BAIL
            dt = table[2, lo]
            i = start + count
            ival = np.int64(0)
            fval = 0.0
            if dt >= 1 and dt <= 3:
                if vfield != 10:
                    return BAIL
                bits = 8 << (dt - 1)
                mask = (1 << bits) - 1
                sign = 1 << (bits - 1)
                ival = np.int64(((vbits & mask) ^ sign) - sign)
                fval = float(ival)
            elif dt == 4:
                if vfield != 11:
                    return BAIL
                ival = np.int64(vbits)
                fval = float(ival)
            elif dt >= 5 and dt <= 7:
                if vfield != 10:
                    return BAIL
                if vbits < 0 or vbits > (1 << (8 << (dt - 5))) - 1:
                    return BAIL
                ival = np.int64(vbits)
                fval = float(ival)
            elif dt == 8 or dt == 13:
                if vfield != 11:
                    return BAIL
                ival = np.int64(vbits)
                fval = float(np.uint64(vbits))
            elif dt == 9:
                if vfield != 12:
                    return BAIL
                bits32[0] = np.int32(vbits if vbits < 0x80000000 else vbits - 0x100000000)
                fval = float(bits32.view(np.float32)[0])
            elif dt == 10:
                if vfield != 13:
                    return BAIL
                bits64[0] = vbits
                fval = bits64.view(np.float64)[0]
            elif dt == 11:
                if vfield != 14:
                    return BAIL
                ival = np.int64(1 if vbits != 0 else 0)
                fval = float(ival)
            else:
                return BAIL
            out_i[ROW_HANDLE, i] = table[1, lo]
            out_i[ROW_TS, i] = np.int64(mts)
            out_i[ROW_INT, i] = ival
            out_i[ROW_FLAGS, i] = hist | (dt << DT_SHIFT)
            out_f[i] = fval
            count += 1
        else:
            top_bit = 1 << fnum if fnum < 63 else 0
            if fnum <= 5 and seen_top & top_bit:
                return BAIL
            seen_top |= top_bit
            if wt == 0:
                v, pos = _varint(raw, pos, n_raw)
                if pos < 0:
                    return BAIL
                if fnum == 1:
                    pts = v
                    has_pts = 1
                elif fnum == 3:
                    seq = v
                    has_seq = 1
                elif fnum == 4 or fnum == 5:
                    return BAIL
            elif wt == 2:
                ln, pos = _varint(raw, pos, n_raw)
                if pos < 0:
                    return BAIL
                if fnum == 1 or fnum == 3 or ln < 0 or ln > n_raw - pos:
                    return BAIL
                pos += ln  # uuid (4), body (5), unknown fields
            elif wt == 1:
                if fnum <= 5 or pos + 8 > n_raw:
                    return BAIL
                pos += 8
            elif wt == 5:
                if fnum <= 5 or pos + 4 > n_raw:
                    return BAIL
                pos += 4
            else:
                return BAIL
    if pos != n_raw:
        return BAIL
    # A metric without a timestamp (or with 0) takes the payload's, or the arrival time.
    fill = np.int64(pts) if has_pts and pts != 0 else np.int64(received)
    for i in range(start, start + count):
        if out_i[ROW_TS, i] == 0:
            out_i[ROW_TS, i] = fill
    meta[0] = np.int64(pts)
    meta[1] = has_pts
    meta[2] = np.int64(seq)
    meta[3] = has_seq
    return count


Kernel = Callable[[Any, I64, I64, F64, int, int, I64], int]


def _compile() -> Kernel | None:
    if os.environ.get("UNS_NO_JIT"):
        log.info("UNS_NO_JIT is set: the host reads DATA with the Python path only")
        return None
    try:
        import numba
    except ImportError:
        log.info("numba is not installed: the host reads DATA in Python (pip install 'uns-bridge[fast]')")
        return None
    try:
        # boundscheck: a reader bug must raise IndexError (the host then takes the Python path), never
        # read or write outside an array; it costs ~6 % of a call.
        jit = numba.njit(cache=True, nogil=True, boundscheck=True)
        # The kernel calls _varint by its module name: numba compiles the callee it finds there.
        globals()["_varint"] = jit(_varint_py)
        compiled: Kernel = jit(_py_decode)
        # Compile now, with the argument types of every later call, not on the first DATA message
        # (which would wait ~2 s on paho's thread the first time on a machine, ~0.3 s from the cache).
        out_i = np.zeros((OUT_ROWS, 1), np.int64)
        compiled(b"", np.zeros((3, 0), np.int64), out_i, np.zeros(1), 0, 0, np.zeros(META_LEN, np.int64))
    except Exception:
        log.exception("the compiled DATA reader failed to build; the host reads DATA in Python")
        return None
    return compiled


_KERNEL: Kernel | None = None
_LOADED = False
_LOCK = threading.Lock()


def kernel() -> Kernel | None:
    """The compiled kernel, or None (no numba, or UNS_NO_JIT set). Built once per process; numba keeps
    the machine code in __pycache__ (or NUMBA_CACHE_DIR), so later processes load it."""
    global _KERNEL, _LOADED
    with _LOCK:
        if not _LOADED:
            _KERNEL = _compile()
            _LOADED = True
    return _KERNEL


def describe() -> str:
    """One line for the start-up log: which DATA reader the host uses."""
    if kernel() is None:
        return "Python DATA reader (numba not installed, or UNS_NO_JIT set)"
    import numba

    return f"compiled DATA reader (numba {numba.__version__})"


def alias_table(slots: dict[int, tuple[int, int]]) -> I64:
    """The kernel's lookup table from a birth's {alias: (handle, datatype)}: int64 rows alias (as its
    64-bit pattern, sorted), handle, datatype."""
    table = np.empty((3, len(slots)), np.int64)
    if slots:
        aliases = np.array(list(slots), np.uint64).view(np.int64)
        order = np.argsort(aliases, kind="stable")
        pairs = np.array(list(slots.values()), np.int64).reshape(-1, 2)
        table[0] = aliases[order]
        table[1] = pairs[order, 0]
        table[2] = pairs[order, 1]
    return table


_UNSIGNED_64 = frozenset({8, 13})  # UInt64, DateTime: the int row holds the 64-bit pattern
_FLOATS = frozenset({9, 10})


def py_value(datatype: int, ival: int, fval: float) -> Any:
    """A column entry back to the Python value the general path gives (bool, int or float)."""
    if datatype in _FLOATS:
        return fval
    if datatype == 11:
        return ival != 0
    if datatype in _UNSIGNED_64 and ival < 0:
        return ival + (1 << 64)
    return ival
