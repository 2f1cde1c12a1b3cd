"""The one interface every warehouse target implements, and the pieces they share.

A target is a connection plus its capabilities as data: how Arrow types map to its column
types, how Arrow batches get in (DuckDB scans Arrow, PostgreSQL takes COPY, Redshift COPYs
Parquet from S3), and how one run at a time is enforced (a file lock, an advisory lock, a
table lock). Driver errors are mapped to the two error families in one place
(shopdw.warehouse.errors), so callers only ever see TransientError or a terminal error.
"""

from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import pyarrow as pa

from shopdw.errors import ConfigError

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

# Re-entrant run locks, process-wide: `shopdw run` holds the lock around the whole run and
# `load` takes it again inside. key -> [depth, release]
_HELD: dict[str, list[Any]] = {}
_HELD_GUARD = threading.Lock()


def check_ident(name: str) -> str:
    """An identifier that may reach SQL: letters, digits and '_' only (and then quoted anyway)."""
    if not isinstance(name, str) or not _IDENT.match(name):
        raise ConfigError(f"identifier {name!r} is not allowed in SQL: use letters, digits and '_' (at most 63)")
    return name


@dataclass
class FileRows:
    """A validated lake file's good rows, not decoded yet (shopdw.load.validate.Prepared.rows()).

    A target that can scan files (`Warehouse.inserts_file_rows`) inserts them straight from
    the file: `select <selects> from <parquet_path or arrow> s`, keeping only rows whose
    `keep` flag is true (matched by position, so file order is kept).
    """

    columns: list[str]  # the contract's columns, in table order
    selects: list[str]  # one typed SQL expression per column, over alias s
    parquet_path: str | None  # a Parquet file to scan, or
    arrow: pa.Table | None  # an Arrow table to scan
    keep: pa.Array | None  # bool per file row; None keeps every row
    num_rows: int  # rows kept


class Warehouse:
    """A connection to one warehouse. Use as a context manager; see the module docstring."""

    dialect: str = ""
    #: whether append_raw takes FileRows (DuckDB scans the file itself) besides Arrow tables
    inserts_file_rows: bool = False
    #: Arrow type -> column type; overridden per target
    max_varchar: int | None = None

    # ---- the interface others build on -------------------------------------------------
    def execute(self, sql: str, params: Any = None) -> None:
        raise NotImplementedError

    def query(self, sql: str, params: Any = None) -> list[tuple]:
        raise NotImplementedError

    def query_arrow(self, sql: str) -> pa.Table:
        raise NotImplementedError

    @contextmanager
    def transaction(self) -> Iterator[None]:
        raise NotImplementedError
        yield  # pragma: no cover

    def close(self) -> None:
        raise NotImplementedError

    def quote_ident(self, name: str) -> str:
        return '"' + check_ident(name) + '"'

    def qualified(self, schema: str, table: str) -> str:
        return f"{self.quote_ident(schema)}.{self.quote_ident(table)}"

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ---- the one-run-at-a-time lock ------------------------------------------------------
    def lock_key(self) -> str:
        """Identifies the warehouse for the process-wide re-entrant lock registry."""
        raise NotImplementedError

    def _acquire_run_lock(self, timeout: float) -> Callable[[], None]:
        """Take the cross-process lock (waiting up to timeout seconds); return its release."""
        raise NotImplementedError

    @contextmanager
    def run_lock(self, timeout: float = 600.0) -> Iterator[None]:
        """Hold the warehouse's one-run-at-a-time lock. Re-entrant within a process.

        Waits up to `timeout` seconds for another run to finish, then raises TransientError
        naming the lock. The lock outlives this connection object (it has its own handle), so
        the DuckDB file may be closed while the run goes on (dbt opens it next).
        """
        key = self.lock_key()
        with _HELD_GUARD:
            held = _HELD.get(key)
            if held:
                held[0] += 1
        if not held:
            release = self._acquire_run_lock(timeout)
            with _HELD_GUARD:
                _HELD[key] = [1, release]
        try:
            yield
        finally:
            with _HELD_GUARD:
                entry = _HELD[key]
                entry[0] -= 1
                done = entry[0] == 0
                if done:
                    del _HELD[key]
            if done:
                entry[1]()

    # ---- loading (used by shopdw.load) -----------------------------------------------------
    def column_type(self, field: pa.Field) -> str:
        raise NotImplementedError

    def create_table_sql(self, schema: str, table: str, arrow_schema: pa.Schema) -> str:
        cols = ", ".join(f"{self.quote_ident(f.name)} {self.column_type(f)}" for f in arrow_schema)
        return f"create table if not exists {self.qualified(schema, table)} ({cols})"

    def ensure_tables(self, tables: dict[tuple[str, str], pa.Schema]) -> None:
        """Create schemas and tables that do not exist yet (never alters existing ones)."""
        for schema in sorted({s for s, _ in tables}):
            self.execute(f"create schema if not exists {self.quote_ident(schema)}")
        for (schema, table), arrow_schema in tables.items():
            self.execute(self.create_table_sql(schema, table, arrow_schema))

    def append_arrow(self, schema: str, table: str, data: pa.Table) -> None:
        """Append rows (columns named and ordered as the table) inside the current transaction."""
        raise NotImplementedError

    def append_raw(self, entity: str, data: pa.Table, lineage: dict[str, Any]) -> None:
        """Append a file's validated rows to raw.<entity>, with its lineage values on every row."""
        self.append_arrow("raw", entity, with_lineage(data, lineage))

    def commit_file(self, writes: list[tuple[str, str, pa.Table]], lineage: dict[str, Any] | None = None) -> None:
        """Commit one lake file: its raw rows (+ lineage), quarantined rows and ledger row, all or nothing."""
        self.commit_batch([(writes, lineage)])

    def commit_batch(self, files: list[tuple[list[tuple[str, str, Any]], dict[str, Any] | None]]) -> None:
        """Commit several lake files in one transaction: each one's raw rows (+ its lineage), quarantined
        rows and ledger row; all of them or nothing. The meta rows (quarantine, ledger) of all the files
        go in with one append per table."""
        with self.transaction():
            meta: dict[tuple[str, str], list[pa.Table]] = {}
            for writes, lineage in files:
                for schema, table, data in writes:
                    if not data.num_rows:
                        continue
                    if schema == "raw" and lineage is not None:
                        self.append_raw(table, data, lineage)
                    else:
                        meta.setdefault((schema, table), []).append(data)
            self.append_meta(meta)

    def append_meta(self, meta: dict[tuple[str, str], list[pa.Table]]) -> None:
        """Append Arrow tables, one append per (schema, table) (inside the current transaction)."""
        for (schema, table), parts in meta.items():
            self.append_arrow(schema, table, parts[0] if len(parts) == 1 else pa.concat_tables(parts))

    def begin_load(self) -> None:
        """Called once before the first file of a load run; default nothing."""

    def finish_load(self) -> None:
        """Called once after every file of a load run (Redshift COPYs here); default nothing."""

    def reconnect(self) -> None:
        """Drop and reopen the connection after a transient failure."""
        raise NotImplementedError


def with_lineage(data: pa.Table, lineage: dict[str, Any]) -> pa.Table:
    """The rows plus one constant column per lineage value (_source_file, _batch_id, ...)."""
    from shopdw.contracts import LINEAGE_COLUMNS

    types = dict(LINEAGE_COLUMNS)
    cols = list(data.columns) + [pa.repeat(pa.scalar(v, types[n]), data.num_rows) for n, v in lineage.items()]
    return pa.table(cols, names=data.column_names + list(lineage))


def redact(text: str, *secrets: Any) -> str:
    """Remove secret values (and the password part of URLs) from a message."""
    for s in secrets:
        if s:
            value = s.reveal() if hasattr(s, "reveal") else str(s)
            if value:
                text = text.replace(value, "***")
    return re.sub(r"(://[^:/@\s]+:)[^@\s]+@", r"\1***@", text)
