"""Vectorized building blocks of the simulator: counter-based hashing, 32-hex ids, Arrow columns.

Every per-entity attribute is a hash of (seed, salt, index...), so any subset of products,
sellers or persons can be computed alone, in any order, with identical results.
"""

from __future__ import annotations

import zlib
from datetime import date

import numpy as np
import pyarrow as pa

from shopdw.contracts import MONEY, TS

U64 = np.uint64
_M1 = U64(0xBF58476D1CE4E5B9)
_M2 = U64(0x94D049BB133111EB)
_GOLD = U64(0x9E3779B97F4A7C15)
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
DAY_US = 86_400_000_000
NAT = np.iinfo(np.int64).max  # "no such event" in int64 microsecond arrays


def salt(name: str) -> int:
    return zlib.crc32(name.encode())


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finalizer on a uint64 array (wrapping arithmetic); x is overwritten."""
    x += _GOLD
    x ^= x >> U64(30)
    x *= _M1
    x ^= x >> U64(27)
    x *= _M2
    x ^= x >> U64(31)
    return x


def hash64(seed: int, name: str, *parts) -> np.ndarray:
    """A uint64 per element of the broadcast parts, a pure function of (seed, name, parts)."""
    with np.errstate(over="ignore"):
        arrays = [np.asarray(p).astype(np.int64, copy=False).view(U64) for p in parts]
        shape = np.broadcast_shapes(*[a.shape for a in arrays]) if arrays else ()
        x = _mix(np.full(shape, U64((seed & 0xFFFFFFFFFFFFFFFF) ^ (salt(name) << 20)), dtype=U64))
        for a in arrays:
            x ^= a
            _mix(x)
        return x


def uniform(seed: int, name: str, *parts) -> np.ndarray:
    """Uniform floats in [0, 1) from hash64."""
    return (hash64(seed, name, *parts) >> U64(11)).astype(np.float64) * (1.0 / (1 << 53))


def normal(seed: int, name: str, *parts) -> np.ndarray:
    """Standard normal floats from two hashed uniforms (Box-Muller)."""
    u1 = uniform(seed, name + ":1", *parts)
    u2 = uniform(seed, name + ":2", *parts)
    return np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2 * np.pi * u2)


_HEX = b"0123456789abcdef"
_LUT = np.array([_HEX[b >> 4] | (_HEX[b & 15] << 8) for b in range(256)], dtype=np.uint16)
# two bytes (read as one native uint16) -> their four hex chars (one native uint32)
_LUT2 = (_LUT[np.arange(65536) & 255].astype(np.uint32) | (_LUT[np.arange(65536) >> 8].astype(np.uint32) << 16)).view(
    "<u4" if np.little_endian else ">u4"
)
ID_LEN = 32


def hex_chars(seed: int, name: str, *parts) -> np.ndarray:
    """32 lowercase hex chars per element (128 bits: two chained hashes) as an (n, 32) uint8 array.

    Ids kept in this form can be gathered with np.take(..., axis=0) far faster than hashed again,
    and become an Arrow string column without a copy (id_array)."""
    h1 = hash64(seed, name, *parts).ravel()
    n = h1.size
    raw = np.empty((n, 2), dtype=">u8")
    raw[:, 0] = h1
    with np.errstate(over="ignore"):
        h1 ^= U64(0xD6E8FEB86659FD93)
        raw[:, 1] = _mix(h1)
    return _LUT2[raw.view(np.uint16)].view(np.uint8).reshape(n, ID_LEN)


def id_array(chars: np.ndarray, valid: np.ndarray | None = None) -> pa.StringArray:
    """Arrow strings from hex_chars rows; with valid, one row per True and a null per False."""
    chars = np.ascontiguousarray(chars, dtype=np.uint8)
    if valid is None:
        n = len(chars)
        offsets = np.arange(0, ID_LEN * (n + 1), ID_LEN, dtype=np.int32)
        return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(chars))
    valid = np.asarray(valid, dtype=bool)
    n = len(valid)
    if int(valid.sum()) != len(chars):  # pragma: no cover - a bug, not bad input
        raise AssertionError(f"{len(chars)} ids for {int(valid.sum())} valid slots")
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(valid, out=offsets[1:])
    offsets *= ID_LEN
    bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(chars), bitmap, n - len(chars))


def hex_ids(seed: int, name: str, *parts) -> pa.StringArray:
    """32 lowercase hex chars per element (128 bits: two chained hashes), as an Arrow string array."""
    return id_array(hex_chars(seed, name, *parts))


def take_ids(chars: np.ndarray, idx: np.ndarray, valid: np.ndarray | None = None) -> pa.StringArray:
    """Arrow strings of rows idx of an (n, 32) hex_chars array; with valid, only idx[valid] is used
    and the other rows are null."""
    idx = np.asarray(idx)
    if valid is not None:
        idx = idx[valid]
    return id_array(np.take(chars, idx, axis=0), valid)


def day_start_us(day: int | np.ndarray) -> np.ndarray | int:
    """Microseconds since 1970 at 00:00 of a day given as a proleptic ordinal."""
    return (np.asarray(day, dtype=np.int64) - EPOCH_ORDINAL) * DAY_US


def whole_seconds(us: np.ndarray) -> np.ndarray:
    """Microsecond times cut to whole seconds (as the shop's database stores them); NAT stays NAT."""
    us = np.asarray(us, dtype=np.int64)
    return np.where(us == NAT, NAT, us - us % 1_000_000)


def ts_array(us: np.ndarray, null: np.ndarray | None = None, whole: bool = False) -> pa.Array:
    """Timestamps (NAT or null: null) in whole seconds; whole=True: us is whole seconds already."""
    us = np.asarray(us, dtype=np.int64)
    if null is None:
        null = us == NAT
    if not whole:
        us = us - us % 1_000_000  # whole seconds, as the shop's database stores them
    if null.any():
        return pa.array(np.where(null, 0, us), type=TS, mask=null)
    return pa.array(us, type=TS)


def money_array(cents: np.ndarray) -> pa.Array:
    """int64 cents -> decimal128(12, 2) without Python objects (16-byte little-endian unscaled ints)."""
    cents = np.asarray(cents, dtype=np.int64)
    raw = np.empty((cents.size, 2), dtype="<i8")
    raw[:, 0] = cents
    raw[:, 1] = np.where(cents < 0, -1, 0)
    return pa.Array.from_buffers(MONEY, cents.size, [None, pa.py_buffer(np.ascontiguousarray(raw))])


def int32_array(values: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    values = np.asarray(values, dtype=np.int32)
    if null is not None and null.any():
        return pa.array(values, type=pa.int32(), mask=null)
    return pa.array(values, type=pa.int32())


def inverse_cdf(cdf: np.ndarray, u: np.ndarray) -> np.ndarray:
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1)
