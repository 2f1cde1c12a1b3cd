"""Check one lake file against its entity's contract, vectorised in an in-memory DuckDB.

File-level problems (unreadable, empty, missing column, incompatible type) reject the whole
file; row-level problems (null required value, a value that does not cast, a value outside
its domain, an exact duplicate of an earlier row, an orphan foreign key) quarantine just
that row with a reason naming the column and the value. Extra columns are schema drift:
reported, not loaded. Parquet keeps its types; CSV and JSON Lines are read as text and cast
per column with TRY_CAST, so one unparseable value quarantines one row.

How (this is the loader's hot path): the file's bytes (already read and hashed by the runner)
are written once to a private temporary file, and DuckDB scans that Parquet file directly (CSV
and JSON are decoded to text Arrow columns and registered instead). One pass decodes every
contract column and keeps just three narrow columns per row (row number, a hash of the row, a
"some check failed" flag, with the foreign keys probed by a join); only when that flags rows
does a second pass build the reasons and the rows' JSON for the quarantine. The good rows are
never materialised here: `Prepared.rows()` tells the DuckDB warehouse how to insert them
straight from the same file (a positional join with a keep-mask skips the bad rows and keeps
file order), and `Prepared`/`Validator.good_arrow` decodes them to Arrow for the other targets.
Small files cost mostly DuckDB's fixed cost per statement, so `Validator.prepare_many` screens
several Parquet files of one entity in one scan and checks alone only those the screen flags.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from shopdw.contracts import CONTRACTS, Column, Contract
from shopdw.warehouse.base import FileRows

RN = "__shopdw_rn"
REASON = "__shopdw_reason"
ROW = "__shopdw_row"
QUARANTINE_ROWS_SCHEMA = pa.schema([("row_number", pa.int64()), ("reason", pa.string()), ("row", pa.string())])
DUPLICATE_REASON = "duplicate row: exact copy of an earlier row"


class FileRejected(Exception):
    """The whole file breaks its contract; str() is the reason recorded in the ledger."""


@dataclass
class Checked:
    rows_in_file: int
    good: pa.Table  # the contract's columns and types, in file order
    bad: pa.Table  # QUARANTINE_ROWS_SCHEMA
    drift: str | None = None


@dataclass
class Prepared:
    """One validated file: its row counts, quarantined rows and drift, and where its good rows are.

    Holds a temporary copy of the file (Parquet) or its registered text columns (CSV/JSON)
    until `Validator.release`, so the warehouse can insert the good rows from it.
    """

    entity: str
    fmt: str
    tag: str
    rows_in_file: int = 0
    bad: pa.Table = field(default_factory=lambda: QUARANTINE_ROWS_SCHEMA.empty_table())
    drift: str | None = None
    schema: pa.Schema | None = None  # the file's columns (contract columns and drift)
    text: bool = False
    parquet_path: str | None = None  # the private copy DuckDB scans, or
    arrow: pa.Table | None = None  # the decoded file (+ RN column), registered as `relation`
    relation: str = ""
    rn: str = ""  # SQL: the 1-based row number over alias s
    keep: pa.Array | None = None  # bool per row, False for quarantined rows; None = keep all
    selects: list[str] = field(default_factory=list)  # typed contract columns over alias s
    keys: dict[str, tuple] = field(default_factory=dict)  # parent-key column -> (hashes, distinct good values)

    @property
    def rows_good(self) -> int:
        return self.rows_in_file - self.bad.num_rows

    def rows(self) -> FileRows:
        """The good rows, for a DuckDB warehouse to insert straight from the file (valid until release)."""
        return FileRows(
            columns=CONTRACTS[self.entity].column_names,
            selects=list(self.selects),
            parquet_path=self.parquet_path,
            arrow=self.arrow,
            keep=self.keep,
            num_rows=self.rows_good,
        )


def q(name: str) -> str:
    """Quote any identifier for DuckDB (file column names are untrusted)."""
    return '"' + name.replace('"', '""') + '"'


def lit(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def duck_type(t: pa.DataType) -> str:
    if pa.types.is_decimal(t):
        return f"DECIMAL({t.precision},{t.scale})"
    if pa.types.is_timestamp(t):
        return "TIMESTAMP"
    if pa.types.is_int32(t):
        return "INTEGER"
    if pa.types.is_int64(t):
        return "BIGINT"
    if pa.types.is_float64(t):
        return "DOUBLE"
    if pa.types.is_date32(t):
        return "DATE"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "VARCHAR"
    raise TypeError(f"no DuckDB type for {t}")


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def compatible(file_type: pa.DataType, want: pa.DataType) -> bool:
    """Whether a typed (Parquet) column can hold the contract's type; values are still cast row by row."""
    if pa.types.is_null(file_type) or file_type == want:
        return True
    if pa.types.is_dictionary(file_type):
        file_type = file_type.value_type
    num = pa.types.is_integer(file_type) or pa.types.is_floating(file_type) or pa.types.is_decimal(file_type)
    if _is_text(want):
        return _is_text(file_type)
    if pa.types.is_integer(want):
        return pa.types.is_integer(file_type)
    if pa.types.is_floating(want) or pa.types.is_decimal(want):
        return num
    if pa.types.is_timestamp(want) or pa.types.is_date(want):
        return pa.types.is_timestamp(file_type) or pa.types.is_date(file_type)
    return False


def _unreadable(fmt: str, e: BaseException, *paths: str) -> FileRejected:
    msg = " ".join(str(e).split())
    for p in paths:
        msg = msg.replace(p, "<file>")
    return FileRejected(
        f"unreadable {fmt} file (corrupt or truncated?): {msg[:300]}; write a correct file under a new batch id"
    )


def _check_complete(data: bytes, fmt: str) -> None:
    if len(data) == 0:
        raise FileRejected("empty file (0 bytes): nothing to read; write the batch again under a new batch id")
    if fmt in ("csv", "json") and not data.endswith(b"\n"):
        raise FileRejected(
            f"truncated {fmt} file: it does not end with a newline, so its last row is incomplete; "
            "write the whole file again under a new batch id"
        )


def read_table(data: bytes, fmt: str, contract: Contract, con) -> pa.Table:
    """Decode a lake file to Arrow (CSV and JSON as text columns); FileRejected says why it cannot be read."""
    _check_complete(data, fmt)
    try:
        if fmt == "parquet":
            table = pq.read_table(pa.BufferReader(data))
        elif fmt == "csv":
            table = pacsv.read_csv(
                pa.BufferReader(data),
                convert_options=pacsv.ConvertOptions(
                    column_types={c: pa.string() for c in contract.column_names},
                    strings_can_be_null=True,
                    null_values=[""],
                    quoted_strings_can_be_null=False,
                ),
            )
        elif fmt == "json":
            table = _read_jsonl(data, con)
        else:
            raise FileRejected(f"unknown format {fmt!r}")
    except FileRejected:
        raise
    except Exception as e:  # pyarrow / duckdb decode errors
        raise _unreadable(fmt, e) from None
    if fmt != "parquet":  # text formats: every column as text, cast below
        table = pa.table(
            [c if _is_text(c.type) else pc.cast(c, pa.string()) for c in table.columns], names=table.column_names
        )
    return table


def _read_jsonl(data: bytes, con) -> pa.Table:
    fd, path = tempfile.mkstemp(suffix=".jsonl", prefix="shopdw-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        scan = f"read_json({lit(path)}, format='newline_delimited', sample_size=-1)"
        cols = ", ".join(f"cast({q(c)} as varchar) as {q(c)}" for c in con.sql(f"select * from {scan}").columns)
        return con.sql(f"select {cols} from {scan}").to_arrow_table()
    except Exception as e:
        raise type(e)(str(e).replace(path, "<file>")) from None
    finally:
        os.unlink(path)


SCRATCH_PREFIX = "shopdw-load-"


def _scratch_dir() -> str:
    """Where the private copies of files go: RAM-backed /dev/shm when there is one, else the temp dir."""
    shm = "/dev/shm"  # noqa: S108 - a private mkdtemp below it, removed on close
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else tempfile.gettempdir()


SCRATCH_LOCK = ".lock"  # each loader holds an exclusive flock on it while its folder is in use


def _remove_stale_scratch(parent: str) -> None:
    """Remove scratch folders of loaders that died without cleaning up (killed), so a crash does not
    leave file copies in RAM: a folder whose lock file can be locked has no live owner (the lock goes
    with the process, whatever its PID namespace). A folder without a lock file yet is only removed
    once it is an hour old (its loader may be creating it right now)."""
    import shutil

    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        if not name.startswith(SCRATCH_PREFIX):
            continue
        folder = os.path.join(parent, name)
        try:
            fd = os.open(os.path.join(folder, SCRATCH_LOCK), os.O_RDWR)
        except FileNotFoundError:
            try:
                if time.time() - os.stat(folder).st_mtime > 3600:
                    shutil.rmtree(folder, ignore_errors=True)
            except OSError:
                pass
            continue
        except OSError:  # not ours to open
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # held: its loader is alive
            os.close(fd)
            continue
        shutil.rmtree(folder, ignore_errors=True)
        os.close(fd)


class KeySet:
    """An exact set of text keys that probes a whole array at once (Python never touches the keys one by
    one: a Python set of str cost about 1.3 s of CPU per 2M loaded rows).

    Keys are kept by their length in bytes (keys of different lengths are never equal). For each length,
    an open-addressing hash table (linear probing, at most half full) indexed by the keys' 64-bit DuckDB
    hashes, whose slots point into the keys' bytes, kept as one fixed-width numpy array. A probe runs
    vectorized over the whole array, one step of the probe sequence at a time, and confirms every hash
    match by comparing the bytes, so a hash collision never passes an orphan. (The sorted arrays of hashes
    it replaces cost about 4.5 s of CPU per 1M-order load, on the loader's critical path.)"""

    def __init__(self) -> None:
        self.widths: dict[int, _Table] = {}
        self.n = 0

    def __len__(self) -> int:
        return self.n

    def contains(self, h: np.ndarray, v: pa.Array) -> np.ndarray:
        """Which of the values `v` (text, no nulls, with their hashes `h`) are in the set."""
        found = np.zeros(len(h), dtype=bool)
        h = np.asarray(h, dtype=np.uint64)
        for width, rows, keys in _by_width(v):
            table = self.widths.get(width)
            if table is None:
                continue
            if rows is None:
                found = table.contains(h, keys)
            else:
                found[rows] = table.contains(h[rows], keys)
        return found

    def add(self, h: np.ndarray, v: pa.Array) -> None:
        """Add distinct values (text, no nulls) with their hashes; those already in the set are skipped."""
        h = np.asarray(h, dtype=np.uint64)
        for width, rows, keys in _by_width(v):
            table = self.widths.setdefault(width, _Table(width))
            self.n += table.add(h if rows is None else h[rows], keys)


_MIX = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: a slot from the top bits of hash * this


class _Table:
    """Keys of one length: an open-addressing table of (hash, index into `keys`), linear probing."""

    def __init__(self, width: int) -> None:
        self.keys = np.empty((0, -(-width // 8)), dtype=np.uint64)  # the first `n` rows are the keys (zero-padded)
        self.hashes = np.empty(0, dtype=np.uint64)  # and their hashes
        self.n = 0
        self._resize(1 << 10)

    def _resize(self, size: int) -> None:
        self.bits = size.bit_length() - 1
        self.slot_h = np.zeros(size, dtype=np.uint64)
        self.slot_i = np.full(size, -1, dtype=np.int64)  # -1: empty
        if self.n:
            self._place(np.arange(self.n, dtype=np.int64), self.hashes[: self.n])

    def _start(self, h: np.ndarray) -> np.ndarray:
        return ((h * _MIX) >> np.uint64(64 - self.bits)).astype(np.int64)

    def _lookup(self, h: np.ndarray, keys: np.ndarray) -> np.ndarray:
        """For each probe, the index of its key in `keys`, or -1."""
        out = np.full(len(h), -1, dtype=np.int64)
        mask = len(self.slot_i) - 1
        pending = np.arange(len(h))
        slot = self._start(h)
        while len(pending):
            s = slot[pending]
            at = self.slot_i[s]
            used = at >= 0
            hit = used & (self.slot_h[s] == h[pending])
            if hit.any():
                who, where = pending[hit], at[hit]
                same = _equal(np.take(keys, who, axis=0), np.take(self.keys, where, axis=0))
                out[who[same]] = where[same]
                hit[hit] = same
            go_on = used & ~hit  # a used slot that is not this key: the next slot (a free one ends the search)
            pending = pending[go_on]
            slot[pending] = (s[go_on] + 1) & mask
        return out

    def _place(self, idx: np.ndarray, h: np.ndarray) -> None:
        """Put keys `idx` (hashes `h`, none in the table yet) into free slots."""
        mask = len(self.slot_i) - 1
        pending = np.arange(len(idx))
        slot = self._start(h)
        while len(pending):
            s = slot[pending]
            free = self.slot_i[s] < 0
            cand, cs = pending[free], s[free]
            self.slot_i[cs] = idx[cand]  # several may aim at one slot: the last write wins it
            won = self.slot_i[cs] == idx[cand]
            self.slot_h[cs[won]] = h[cand[won]]
            placed = np.zeros(len(pending), dtype=bool)
            placed[np.flatnonzero(free)[won]] = True
            pending = pending[~placed]
            slot[pending] = (slot[pending] + 1) & mask

    def contains(self, h: np.ndarray, keys: np.ndarray) -> np.ndarray:
        return self._lookup(h, keys) >= 0 if self.n and len(h) else np.zeros(len(h), dtype=bool)

    def add(self, h: np.ndarray, keys: np.ndarray) -> int:
        """Add the keys not in the table yet; return how many were added."""
        new = np.flatnonzero(~self.contains(h, keys))
        if not len(new):
            return 0
        need = self.n + len(new)
        if need > len(self.keys):
            size = max(need, 2 * len(self.keys))
            grown = np.empty((size, self.keys.shape[1]), dtype=np.uint64)
            grown[: self.n] = self.keys[: self.n]
            self.keys = grown
            hashes = np.empty(size, dtype=np.uint64)
            hashes[: self.n] = self.hashes[: self.n]
            self.hashes = hashes
        self.keys[self.n : need] = np.take(keys, new, axis=0)
        self.hashes[self.n : need] = h[new]
        idx = np.arange(self.n, need, dtype=np.int64)
        if 2 * need > len(self.slot_i):  # at most half full
            self.n = need
            self._resize(1 << (2 * need).bit_length())
        else:
            self._place(idx, h[new])
            self.n = need
        return len(new)


def _equal(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row by row: are the keys (as uint64 words) the same?"""
    same = a[:, 0] == b[:, 0] if a.shape[1] else np.ones(len(a), dtype=bool)
    for j in range(1, a.shape[1]):
        same &= a[:, j] == b[:, j]
    return same


def _words(b: np.ndarray) -> np.ndarray:
    """(n, length) bytes as (n, ceil(length / 8)) uint64 words, zero-padded (a view when nothing to pad)."""
    n, width = b.shape
    if width % 8 == 0 and b.strides == (width, 1) and b.ctypes.data % 8 == 0:
        return b.view(np.uint64)
    padded = np.zeros((n, -(-width // 8) * 8), dtype=np.uint8)
    padded[:, :width] = b
    return padded.view(np.uint64)


def _by_width(v: pa.Array) -> list[tuple[int, np.ndarray | None, np.ndarray]]:
    """Text values (no nulls) grouped by length in bytes: (length, their positions in v or None for all,
    their bytes as (n, ceil(length / 8)) zero-padded uint64 words: a view of v's buffer when every value
    has the same length, a multiple of 8)."""
    if isinstance(v, pa.ChunkedArray):
        v = v.combine_chunks()
    if not len(v):
        return []
    if v.null_count:
        raise ValueError("KeySet keys must not be null")
    large = pa.types.is_large_string(v.type) or pa.types.is_large_binary(v.type)
    bufs = v.buffers()
    offsets = np.frombuffer(bufs[1], dtype=np.int64 if large else np.int32)[v.offset : v.offset + len(v) + 1]
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.empty(0, np.uint8)
    lengths = np.diff(offsets)
    first = int(lengths[0])
    if bool((lengths == first).all()):
        start = int(offsets[0])
        return [(first, None, _words(data[start : start + len(v) * first].reshape(len(v), first)))]
    out = []
    for width in np.unique(lengths).tolist():
        rows = np.flatnonzero(lengths == width)
        out.append((width, rows, _words(data[offsets[rows][:, None] + np.arange(width)])))
    return out


def _data_errors():
    """DuckDB errors that mean "this file's bytes cannot be decoded" (the rest are bugs or the machine)."""
    import duckdb

    not_data = (duckdb.BinderException, duckdb.ParserException, duckdb.CatalogException, duckdb.InternalException,
                duckdb.FatalException, duckdb.InterruptException, duckdb.OutOfMemoryException)  # fmt: skip
    return duckdb.Error, not_data


class Validator:
    """Holds an in-memory DuckDB and the parent keys foreign keys are resolved against.

    Parent keys are those already in the warehouse (seed them with `add_keys`) plus the rows
    of files validated earlier in the same run (`add_file_keys` after each file).
    Use `check` for a self-contained result, or `prepare` / `good_arrow` / `release` to load
    a file's good rows without decoding them here.
    """

    def __init__(self, check_foreign_keys: bool = True, scratch_dir: str | None = None):
        import duckdb

        self.con = duckdb.connect()
        self.con.execute("set enable_progress_bar = false")
        self.check_fk = check_foreign_keys
        self.parents: set[tuple[str, str]] = {
            (fk.parent, fk.parent_column) for c in CONTRACTS.values() for fk in c.foreign_keys
        }
        # parent keys as KeySets: a file probes its distinct keys against them, so the cost follows
        # the file, not the (ever growing) parent table
        self.keys: dict[tuple[str, str], KeySet] = {pc_: KeySet() for pc_ in sorted(self.parents)}
        parent = scratch_dir or _scratch_dir()
        _remove_stale_scratch(parent)
        self._scratch = tempfile.TemporaryDirectory(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-", dir=parent)
        self._scratch_lock = os.open(os.path.join(self._scratch.name, SCRATCH_LOCK), os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._scratch_lock, fcntl.LOCK_EX)
        self._seq = 0
        self._open: dict[str, Prepared] = {}

    # ---- parent keys -----------------------------------------------------------------------
    def add_keys(self, entity: str, table: pa.Table) -> None:
        """Record the keys of rows now in raw.<entity> (from the warehouse, or a just-committed file)."""
        for parent, column in self.parents:
            if parent == entity and column in table.column_names and table.num_rows:
                name = "__shopdw_add_keys"
                self.con.register(name, pa.table({"k": table[column]}))
                try:
                    self.keys[(parent, column)].add(*self._distinct(name, "k"))
                finally:
                    self.con.unregister(name)

    def add_file_keys(self, p: Prepared) -> None:
        """Record the keys of a prepared file's good rows (it is about to commit with them)."""
        for column, (h, values) in p.keys.items():
            self.keys[(p.entity, column)].add(h, values)

    def close(self) -> None:
        for p in list(self._open.values()):
            self.release(p)
        self.con.close()
        self._scratch.cleanup()
        os.close(self._scratch_lock)  # after the folder is gone: no other loader removes it under us

    # ---- one file ----------------------------------------------------------------------------
    def check(self, entity: str, fmt: str, data: bytes, ingest_date: date) -> Checked:
        """Validate a file and return its good rows as Arrow (the contract's schema) and its bad rows."""
        p = self.prepare(entity, fmt, data, ingest_date)
        try:
            return Checked(rows_in_file=p.rows_in_file, good=self.good_arrow(p), bad=p.bad, drift=p.drift)
        finally:
            self.release(p)

    def prepare(self, entity: str, fmt: str, data: bytes, ingest_date: date) -> Prepared:
        """Validate a file; raise FileRejected, or return it Prepared (call `release` when it is loaded)."""
        contract = CONTRACTS[entity]
        p = self._opened(entity, fmt, data)
        try:
            self._check_rows(p, contract, ingest_date)
        except BaseException:
            self.release(p)
            raise
        return p

    def prepare_many(self, entity: str, files: list[tuple[str, bytes, date]]) -> list[Prepared | FileRejected]:
        """`prepare` for several files (format, bytes, ingest date) of one entity, with the same results,
        file by file: a file's Prepared, or the FileRejected that says why it is rejected.

        A small file's cost is mostly DuckDB's fixed cost per statement (about 10 ms for the scan and the
        counts of a 400-row file). So Parquet files with the same columns are screened together: one scan
        decodes every contract column of all of them and finds, per file, its rows, the rows failing a
        column check, the repeated rows and the foreign-key values with no parent. A file with none of these
        is done there; the others (and a group whose scan fails: one file may be corrupt) go through
        `prepare`'s own row checks, one by one, which give their reasons. Parent keys: a file's foreign keys
        are probed against the keys known before the group, so no contract may have a foreign key to its
        own entity (the runner checks that: `runner._groupable`)."""
        contract = CONTRACTS[entity]
        out: list[Prepared | FileRejected | None] = [None] * len(files)
        screen: dict[tuple, list[tuple[int, Prepared, date]]] = {}
        try:
            for i, (fmt, data, ingest_date) in enumerate(files):
                try:
                    p = self._opened(entity, fmt, data)
                except FileRejected as e:
                    out[i] = e
                    continue
                out[i] = p
                if len(files) > 1 and p.parquet_path is not None:  # (no column clashes with file_index)
                    screen.setdefault(tuple(p.schema), []).append((i, p, ingest_date))
                else:
                    self._check_rows_of(out, i, p, contract, ingest_date)
            for group in screen.values():
                flagged = self._screen(contract, group) if len(group) > 1 else group
                for i, p, ingest_date in flagged:
                    self._check_rows_of(out, i, p, contract, ingest_date)
        except BaseException:
            for p in out:
                if isinstance(p, Prepared):
                    self.release(p)
            raise
        return out  # type: ignore[return-value]

    def _check_rows_of(self, out: list, i: int, p: Prepared, contract: Contract, ingest_date: date) -> None:
        try:
            self._check_rows(p, contract, ingest_date)
        except FileRejected as e:
            self.release(p)
            out[i] = e

    def _opened(self, entity: str, fmt: str, data: bytes) -> Prepared:
        """A file opened for its row checks (readable, every contract column there with a usable type)."""
        contract = CONTRACTS[entity]
        self._seq += 1
        p = Prepared(entity=entity, fmt=fmt, tag=str(self._seq), text=fmt != "parquet")
        self._open[p.tag] = p
        try:
            self._open_source(p, contract, data)
            self._check_columns(p, contract)
            p.selects = [
                f"{self._typed(c, p.schema.field(c.name).type, p.text)} as {q(c.name)}" for c in contract.columns
            ]
        except BaseException:
            self.release(p)
            raise
        return p

    def release(self, p: Prepared) -> None:
        """Forget a prepared file and remove its temporary copy."""
        if self._open.pop(p.tag, None) is None:
            return
        if p.arrow is not None:
            try:
                self.con.unregister(p.relation)
            except Exception:  # noqa: S110 - never registered (decode failed)
                pass
        if p.parquet_path:
            try:
                os.unlink(p.parquet_path)
            except FileNotFoundError:
                pass

    def good_arrow(self, p: Prepared) -> pa.Table:
        """The good rows as Arrow, in file order, with the contract's (nullable) schema."""
        contract = CONTRACTS[p.entity]
        schema = _nullable(contract)
        names = contract.column_names
        if all(p.schema.field(c.name).type == c.type for c in contract.columns):  # no cast: zero copy
            if p.parquet_path:
                t = pq.read_table(p.parquet_path, columns=names)
            else:
                t = p.arrow
            t = t.select(names)
            if p.keep is not None:
                t = t.filter(p.keep)
            return pa.Table.from_arrays(t.columns, schema=schema)
        with self._source(p, keep=True) as (src, where):
            out = self.con.sql(
                f"select {p.rn} as {RN}, {', '.join(p.selects)} from {src} where {where}"
            ).to_arrow_table()
        rn = out[RN]
        if len(rn) > 1 and not pc.all(pc.greater(rn.slice(1), rn.slice(0, len(rn) - 1))).as_py():
            out = out.sort_by(RN)  # keep file order
        good = out.select(names)
        if good.schema != schema:
            good = pa.Table.from_arrays([col.cast(f.type) for col, f in zip(good.columns, schema)], schema=schema)
        return good

    # ---- steps -------------------------------------------------------------------------------
    def _open_source(self, p: Prepared, contract: Contract, data: bytes) -> None:
        _check_complete(data, p.fmt)
        if p.fmt == "parquet":
            try:
                schema = pq.read_schema(pa.BufferReader(data))
            except Exception as e:
                raise _unreadable("parquet", e) from None
            lower = [n.lower() for n in schema.names]
            if len(set(lower)) == len(lower) and not {"file_row_number", "filename", "file_index"} & set(lower):
                path = os.path.join(self._scratch.name, f"f{p.tag}.parquet")
                with open(path, "wb") as fh:
                    fh.write(data)
                p.parquet_path, p.schema = path, schema
                p.relation = f"read_parquet({lit(path)}, file_row_number = true)"
                p.rn = "(s.file_row_number + 1)"
                return
        # CSV, JSON, and Parquet with column names DuckDB would not keep apart (or that clash with the
        # file_row_number / filename / file_index columns its scans add): decode to Arrow here
        table = read_table(data, p.fmt, contract, self.con)
        p.schema = table.schema
        p.arrow = table.append_column(RN, pa.array(np.arange(1, table.num_rows + 1, dtype=np.int64)))
        p.relation = f"__shopdw_src_{p.tag}"
        p.rn = f"s.{RN}"
        self.con.register(p.relation, p.arrow)

    def _check_columns(self, p: Prepared, contract: Contract) -> None:
        present = set(p.schema.names)
        missing = [c for c in contract.column_names if c not in present]
        if missing:
            raise FileRejected(
                f"missing required column(s) {', '.join(missing)} (contract {p.entity} v{contract.version}); "
                "the producer must write every contract column"
            )
        if p.fmt == "parquet":
            bad_types = [
                f"{c.name} is {p.schema.field(c.name).type}, contract says {c.type}"
                for c in contract.columns
                if not compatible(p.schema.field(c.name).type, c.type)
            ]
            if bad_types:
                raise FileRejected(f"incompatible column type(s): {'; '.join(bad_types)}")
        extra = [c for c in p.schema.names if c not in contract.column_names]
        if extra:
            p.drift = "extra column(s) not in the contract, not loaded: " + ", ".join(
                f"{c} ({p.schema.field(c).type})" for c in extra
            )

    def _check_rows(self, p: Prepared, contract: Contract, ingest_date: date) -> None:
        """One pass decodes every contract column (so a corrupt page rejects the file here, before anything
        is written) into a narrow in-memory table: row number, row hash, failed-a-column-check, and the
        foreign-key and parent-key values. Orphans, duplicates and keys come from that table; only
        flagged rows get a second pass over the file for their reasons. Decode errors reject the file."""
        errors, not_data = _data_errors()
        registered: list[str] = []
        try:
            self._flag_rows(p, contract, ingest_date, registered)
        except not_data:
            raise
        except errors as e:
            raise _unreadable(p.fmt, e, *(x for x in (p.parquet_path,) if x)) from None
        finally:
            for name in registered:
                self.con.unregister(name)

    def _flag_rows(self, p: Prepared, contract: Contract, ingest_date: date, registered: list[str]) -> None:
        con = self.con
        col_checks = self._checks(contract, p.schema, p.text, ingest_date)
        fks = contract.foreign_keys if self.check_fk else ()
        key_cols = sorted(c for parent, c in self.parents if parent == p.entity)

        def typed(name: str) -> str:
            return self._typed(contract.column(name), p.schema.field(name).type, p.text)

        cols = ", ".join(f"s.{q(c)}" for c in contract.column_names)
        failed = " or ".join(f"({cond})" for cond, _ in col_checks) or "false"
        extra = "".join(f", {typed(fk.column)} as f{i}" for i, fk in enumerate(fks))
        extra += "".join(f", {typed(c)} as k{j}" for j, c in enumerate(key_cols))
        con.execute(
            f"create or replace temp table __shopdw_v as select {p.rn} as rn, hash({cols}) as h, "
            f"coalesce({failed}, false) as bad{extra} from {p.relation} s"
        )
        # One query brings the file's counts and the distinct values of its foreign keys and parent keys
        # (per-statement overhead is a good part of a small file's cost).
        # Exact duplicates: rows whose hashes collide, then the exact window over just those rows.
        # Reference data without a business key (geolocation: many rows per zip prefix, and the
        # real Olist file repeats 261,831 of them) keeps repeated rows: staging aggregates them.
        collide = "select h from __shopdw_v group by h having count(*) > 1"
        parts = [
            "select 0 as t, null::varchar as v, count(*) as n, count(*) filter (where bad) as nb, "
            f"{f'(select count(*) from ({collide}))' if contract.key else '0'} as nc from __shopdw_v"
        ]
        distinct_cols = [f"f{i}" for i in range(len(fks))] + [f"k{j}" for j in range(len(key_cols))]
        for t, column in enumerate(distinct_cols, start=1):
            parts.append(f"select {t}, v, null, null, null from (select distinct cast({column} as varchar) as v "
                         f"from __shopdw_v where {column} is not null)")  # fmt: skip
        got = con.sql(f"select t, v, hash(v) as h, n, nb, nc from ({' union all '.join(parts)})").to_arrow_table()
        tags = got["t"].to_numpy()
        head = got.filter(pa.array(tags == 0))
        n, n_bad, n_collide = (head[c][0].as_py() for c in ("n", "nb", "nc"))
        hashes = got["h"].to_numpy()

        def distinct(t: int) -> tuple[np.ndarray, pa.Array]:
            mask = tags == t
            return hashes[mask], _text(got["v"].filter(pa.array(mask)))

        # Foreign keys: the file's distinct values against the parent's keys; orphans, if any, become a
        # small table that the flags and the reasons probe.
        fk_checks: list[tuple[str, str]] = []
        orphan_flags = []
        for i, fk in enumerate(fks):
            h, values = distinct(1 + i)
            known = self.keys[(fk.parent, fk.parent_column)].contains(h, values)
            missing = sorted(values.filter(pa.array(~known)).to_pylist())
            if not missing:
                continue
            name = f"__shopdw_orphans_{p.tag}_{i}"
            con.register(name, pa.table({"k": pa.array(missing, pa.string())}))
            registered.append(name)
            orphan_flags.append(f"f{i} in (select k from {name})")
            fk_checks.append((f"{typed(fk.column)} in (select k from {name})",
                              f"{lit(fk.column + ': orphan foreign key, value ')} || {val(f's.{q(fk.column)}')} || "
                              f"{lit(f' not found in {fk.parent}.{fk.parent_column}')}"))  # fmt: skip
        flagged = " or ".join(["bad", *orphan_flags])
        n_flagged = n_bad + len(orphan_flags)  # an orphan value comes from at least one row
        p.rows_in_file = n
        dups = "__shopdw_dups"
        if n_flagged or n_collide:
            con.execute(f"create or replace temp table {dups} (rn bigint)")
        if n_collide:
            con.execute(
                f"insert into {dups} select r from ("
                f"  select {p.rn} as r, row_number() over (partition by {cols} order by {p.rn}) as n"
                f"  from {p.relation} s where hash({cols}) in ({collide})"
                f") where n > 1"
            )
        if n_flagged or n_collide:
            reasons = [f"case when {cond} then {msg} end" for cond, msg in col_checks]
            reasons.append(f"case when {p.rn} in (select rn from {dups}) then {lit(DUPLICATE_REASON)} end")
            reasons += [f"case when {cond} then {msg} end" for cond, msg in fk_checks]
            struct = ", ".join(f"{q(c)} := s.{q(c)}" for c in p.schema.names)
            bad = con.sql(
                f"select row_number, reason, to_json(r) as row from ("
                f"  select {p.rn} as row_number, concat_ws('; ', {', '.join(reasons)}) as reason,"
                f"  struct_pack({struct}) as r from {p.relation} s"
                f"  where {p.rn} in (select rn from __shopdw_v where {flagged} union select rn from {dups})"
                f") where reason <> '' order by row_number"
            ).to_arrow_table()
            p.bad = pa.table(
                [bad["row_number"].cast(pa.int64()), bad["reason"].cast(pa.string()), bad["row"].cast(pa.string())],
                schema=QUARANTINE_ROWS_SCHEMA,
            )
        if p.bad.num_rows:
            keep = np.ones(n, dtype=bool)
            keep[p.bad["row_number"].to_numpy() - 1] = False
            p.keep = pa.array(keep)
        for j, c in enumerate(key_cols):  # the parent keys this file brings (its good rows only)
            if p.keep is None:
                p.keys[c] = distinct(1 + len(fks) + j)
                continue
            name = f"__shopdw_badrows_{p.tag}"
            if name not in registered:
                con.register(name, p.bad.select(["row_number"]))
                registered.append(name)
            p.keys[c] = self._distinct("__shopdw_v", f"k{j}", f"rn not in (select row_number from {name})")

    def _screen(self, contract: Contract, group: list[tuple[int, Prepared, date]]) -> list[tuple[int, Prepared, date]]:
        """Screen Parquet files with the same columns in one scan; return those that need `_check_rows`.

        A file comes back when a row fails a column check, a row repeats (same hash: exact duplicates or a
        collision, as `_flag_rows` counts them) or a foreign-key value has no parent; for the others this
        sets what `_check_rows` would have (their row count and parent keys; nothing quarantined). If the
        scan fails (a file cannot be decoded), every file comes back."""
        con = self.con
        errors, not_data = _data_errors()
        schema = group[0][1].schema
        limit = "[" + ", ".join(ingest_limit(d) for _, _, d in group) + "][cast(s.file_index as bigint) + 1]"
        col_checks = self._checks(contract, schema, False, None, limit=limit)
        fks = contract.foreign_keys if self.check_fk else ()
        key_cols = sorted(c for parent, c in self.parents if parent == contract.entity)

        def typed(name: str) -> str:
            return self._typed(contract.column(name), schema.field(name).type, False)

        cols = ", ".join(f"s.{q(c)}" for c in contract.column_names)
        failed = " or ".join(f"({cond})" for cond, _ in col_checks) or "false"
        extra = "".join(f", {typed(fk.column)} as f{i}" for i, fk in enumerate(fks))
        extra += "".join(f", {typed(c)} as k{j}" for j, c in enumerate(key_cols))
        paths = ", ".join(lit(p.parquet_path) for _, p, _ in group)
        g = "__shopdw_g"
        # t 0: rows per file; 1: files with a failed check or a repeated row; 2+i: foreign key i's distinct
        # values (all files); 2+len(fks)+j: parent key j's distinct values per file
        parts = [f"select 0 as t, fi, count(*) as n, null::varchar as v from {g} group by fi"]
        repeated = f" union select fi from {g} group by fi, h having count(*) > 1" if contract.key else ""
        parts.append(f"select 1, fi, null, null from (select fi from {g} where bad{repeated})")
        for i in range(len(fks)):
            parts.append(f"select {2 + i}, null, null, v from "
                         f"(select distinct cast(f{i} as varchar) as v from {g} where f{i} is not null)")  # fmt: skip
        for j in range(len(key_cols)):
            parts.append(f"select {2 + len(fks) + j}, fi, null, v from "
                         f"(select distinct fi, cast(k{j} as varchar) as v from {g} where k{j} is not null)")  # fmt: skip
        try:
            con.execute(
                f"create or replace temp table {g} as select cast(s.file_index as bigint) as fi, hash({cols}) as h, "
                f"coalesce({failed}, false) as bad{extra} from read_parquet([{paths}]) s"
            )
            got = con.sql(f"select t, fi, n, v, hash(v) as h from ({' union all '.join(parts)})").to_arrow_table()
        except not_data:
            raise
        except errors:
            con.execute(f"drop table if exists {g}")
            return group
        tags = got["t"].to_numpy()
        fi = got["fi"].to_numpy(zero_copy_only=False)
        hashes = got["h"].to_numpy(zero_copy_only=False)
        flagged = set(fi[tags == 1].astype(np.int64).tolist())
        try:
            for i, fk in enumerate(fks):
                mask = tags == 2 + i
                values = _text(got["v"].filter(pa.array(mask)))
                known = self.keys[(fk.parent, fk.parent_column)].contains(hashes[mask].astype(np.uint64), values)
                if known.all():
                    continue
                name = "__shopdw_orphans"
                con.register(name, pa.table({"k": values.filter(pa.array(~known))}))
                try:
                    rows = con.sql(f"select distinct fi from {g} where f{i} in (select k from {name})").fetchall()
                finally:
                    con.unregister(name)
                flagged.update(r[0] for r in rows)
        finally:
            con.execute(f"drop table if exists {g}")
        counts = dict(zip(fi[tags == 0].astype(np.int64).tolist(), got["n"].filter(pa.array(tags == 0)).to_pylist()))
        for j, c in enumerate(key_cols):
            mask = tags == 2 + len(fks) + j
            kfi, kh = fi[mask].astype(np.int64), hashes[mask].astype(np.uint64)
            kv = _text(got["v"].filter(pa.array(mask)))
            order = np.argsort(kfi, kind="stable")
            bounds = np.searchsorted(kfi[order], np.arange(len(group) + 1))
            for k, (_, p, _) in enumerate(group):
                if k not in flagged:
                    sel = order[bounds[k] : bounds[k + 1]]
                    p.keys[c] = (kh[sel], kv.take(pa.array(sel)))
        for k, (_, p, _) in enumerate(group):
            if k not in flagged:
                p.rows_in_file = counts.get(k, 0)
        return [x for k, x in enumerate(group) if k in flagged]

    def _distinct(self, table: str, column: str, where: str = "true") -> tuple[np.ndarray, pa.Array]:
        """The distinct non-null values of a column as text, with their hashes (for a KeySet)."""
        t = self.con.sql(
            f"select v, hash(v) as h from (select distinct cast({column} as varchar) as v from {table} "
            f"where {where} and {column} is not null)"
        ).to_arrow_table()
        return t.column(1).to_numpy(), _text(t.column(0))

    @contextmanager
    def _source(self, p: Prepared, keep: bool) -> Iterator[tuple[str, str]]:
        """(from_sql, where_sql): the file's rows over alias s; with keep, the keep-mask is joined by
        position (order-preserving, unlike a join on the row number) so quarantined rows drop out."""
        if not keep or p.keep is None:
            yield f"{p.relation} s", "true"
            return
        name = f"__shopdw_keep_{p.tag}"
        self.con.register(name, pa.table({"ok": p.keep}))
        try:
            yield f"{p.relation} s positional join {name} m", "m.ok"
        finally:
            self.con.unregister(name)

    # ---- the SQL ---------------------------------------------------------------------------
    def _typed(self, col: Column, ftype: pa.DataType, text: bool) -> str:
        s = f"s.{q(col.name)}"
        if ftype == col.type:
            return s
        if _is_text(col.type):
            return s if _is_text(ftype) else f"cast({s} as varchar)"
        target = duck_type(col.type)
        if pa.types.is_null(ftype):
            return f"cast({s} as {target})"
        if text and pa.types.is_integer(col.type):  # TRY_CAST('1.5' AS INTEGER) would round
            return f"case when regexp_full_match(trim({s}), '[+-]?[0-9]+') then try_cast(trim({s}) as {target}) end"
        if text:
            return f"try_cast(trim({s}) as {target})"
        return f"try_cast({s} as {target})"

    def _checks(
        self, contract: Contract, schema: pa.Schema, text: bool, ingest_date: date | None, limit: str | None = None
    ) -> list[tuple[str, str]]:
        """(condition, reason) per column check: a row fails the check where its condition is true.
        `limit` (SQL) replaces the ingest date's limit for timestamps in the conditions (not the reasons)."""
        out: list[tuple[str, str]] = []
        required = set(contract.required_not_null)
        for col in contract.columns:
            ftype = schema.field(col.name).type
            raw = f"s.{q(col.name)}"
            typed = self._typed(col, ftype, text)
            name = col.name
            if name in required:
                out.append((f"{raw} is null", lit("null in required column " + name)))
            if typed != raw:
                out.append((f"{raw} is not null and {typed} is null",
                            f"{lit(name + ': value ')} || {val(raw)} || {lit(' does not cast to ' + duck_type(col.type))}"))  # fmt: skip
            if col.allowed:
                allowed = ", ".join(lit(a) for a in col.allowed)
                out.append((f"{typed} not in ({allowed})",
                            f"{lit(name + ': value ')} || {val(typed)} || ' is not an allowed value'"))  # fmt: skip
            if col.pattern:
                out.append((f"not regexp_full_match({typed}, {lit(col.pattern)})",
                            f"{lit(name + ': value ')} || {val(typed)} || {lit(' does not match pattern ' + col.pattern)}"))  # fmt: skip
            if col.min is not None:
                out.append((f"{typed} < {col.min!r}",
                            f"{lit(name + ': value ')} || {val(typed)} || {lit(f' below minimum {col.min:g}')}"))  # fmt: skip
            if col.max is not None:
                out.append((f"{typed} > {col.max!r}",
                            f"{lit(name + ': value ')} || {val(typed)} || {lit(f' above maximum {col.max:g}')}"))  # fmt: skip
            if col.not_after_ingest:
                day = ingest_date.isoformat() if ingest_date else "?"
                out.append((f"{typed} > {limit or ingest_limit(ingest_date)}",
                            f"{lit(name + ': timestamp ')} || {val(typed)} || "
                            f"{lit(f' is later than ingest date {day} + 1 day')}"))  # fmt: skip
        return out


def _text(v: pa.Array | pa.ChunkedArray) -> pa.Array:
    v = v.combine_chunks() if isinstance(v, pa.ChunkedArray) else v
    return v if v.type == pa.string() else v.cast(pa.string())


def ingest_limit(ingest_date: date) -> str:
    """SQL: the latest timestamp a row of a file ingested that day may hold (the day after, at midnight), as
    a literal (a list of `timestamp ... + interval` expressions was rebuilt for every row, not folded)."""
    return f"timestamp '{(ingest_date + timedelta(days=1)).isoformat()} 00:00:00'"


def val(expr: str) -> str:
    """SQL: a value quoted for a reason text (at most 200 characters)."""
    return f"'''' || left(cast({expr} as varchar), 200) || ''''"


def _nullable(contract: Contract) -> pa.Schema:
    return pa.schema([pa.field(c.name, c.type) for c in contract.columns])
