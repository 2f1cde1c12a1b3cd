"""DuckDB target (the default): a file under ./warehouse/, Arrow batches scanned straight in.

Placeholders in execute/query params are DuckDB's (`?` or `$1`). The run lock is an OS
file lock on `<file>.lock` beside the database (DuckDB's own file lock is the backstop), so
`shopdw run` can hold it while the database file itself is closed and reopened by dbt.
"""

from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Iterator

import pyarrow as pa

from shopdw.config import check_memory_limit
from shopdw.errors import TransientError
from shopdw.warehouse.base import FileRows, Warehouse
from shopdw.warehouse.errors import classify, with_retries

_TYPES = {"string": "varchar", "large_string": "varchar", "int32": "integer", "int64": "bigint",
          "double": "double", "date32[day]": "date", "timestamp[us]": "timestamp", "bool": "boolean"}  # fmt: skip


def arrow_to_duckdb_type(t: pa.DataType) -> str:
    if pa.types.is_decimal(t):
        return f"decimal({t.precision},{t.scale})"
    if pa.types.is_timestamp(t):
        return "timestamp"
    try:
        return _TYPES[str(t)]
    except KeyError:
        raise TypeError(f"no DuckDB column type for Arrow type {t}") from None


def _literal(value: Any) -> str:
    """A typed DuckDB literal for a lineage value (str, date, datetime or None)."""
    if value is None:
        return "null"
    if isinstance(value, datetime):
        return f"timestamp '{value.isoformat(sep=' ')}'"
    if isinstance(value, date):
        return f"date '{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"


# ---- deferred vacuum -------------------------------------------------------------------------
# A DuckDB checkpoint also "vacuums": it merges adjacent row groups whose live rows (after deletes)
# fit in fewer row groups, rewriting them. An incremental dbt build deletes and re-inserts the rows
# it re-derives (delete+insert), mostly in the tables' newest row groups, so every build's
# checkpoint rewrote some of them: at 1M orders 1.25 of the 1.36 s the checkpoint ending a one-day
# build took under the 1 GB limit (0.11 s without merges). Skipped by one connection, the merge is
# done by the next checkpoint of any connection (it is decided from the tables' row counts, not
# from what changed). So shopdw's connections (its own and dbt's) defer it: they open with
# max_vacuum_tasks = 0, and a connection that wrote something lets its closing checkpoint merge
# only once a table holds enough deleted rows: VACUUM_DEAD_SHARE of its rows and at least a row
# group's worth (VACUUM_MIN_DEAD_ROWS), like PostgreSQL's autovacuum (a share, 20% by default,
# plus a fixed number of rows). A quarter, because DuckDB merges only where that reduces the
# number of row groups (at most four into three): rows deleted evenly over a table leave nothing
# to merge below a quarter, and a lower share could then stay reached, with merges on at every
# write. Small tables that churn (a dimension's versions re-derived for a tenth of its keys every
# day) wait for a row group's worth. Between merges a scan reads up to a third more rows than it
# keeps. At 1M orders ~1% of the facts and the per-customer tables is deleted a day, so the share
# alone would merge about every four weeks; merges also come at least weekly (merge_overdue), which
# merges the small row groups each loaded file appends to a raw table too.
VACUUM_DEAD_SHARE = 0.25
VACUUM_MIN_DEAD_ROWS = 122_880  # DuckDB's row group
MERGE_AT_LEAST_EVERY_S = 7 * 86_400  # and at least weekly (merge_overdue)
DEFERRED_VACUUM = {"max_vacuum_tasks": 0}  # database-wide: set by each shopdw connection, and dbt's


def deleted_rows(con: Any) -> list[tuple[str, int, int]]:
    """Per table with rows: (schema.table, rows its row groups hold, deleted ones included
    (duckdb_tables().estimated_size), live rows (count(*)))."""
    tables = con.execute(
        "select database_name, schema_name, table_name, estimated_size from duckdb_tables() "
        "where not temporary and estimated_size > 0 and database_name = current_database()"
    ).fetchall()
    if not tables:
        return []

    def q(name: str) -> str:
        return '"' + str(name).replace('"', '""') + '"'

    counts = " union all ".join(
        f"select {i} as i, count(*) as n from {q(db)}.{q(schema)}.{q(table)}"  # noqa: S608 - quoted names
        for i, (db, schema, table, _) in enumerate(tables)
    )
    live = dict(con.execute(counts).fetchall())
    return [(f"{schema}.{table}", int(held), int(live.get(i, 0))) for i, (_, schema, table, held) in enumerate(tables)]


def vacuum_due(con: Any) -> bool:
    """A table holds at least VACUUM_DEAD_SHARE of its rows, and VACUUM_MIN_DEAD_ROWS, deleted."""
    return any(
        held - live >= max(VACUUM_DEAD_SHARE * held, VACUUM_MIN_DEAD_ROWS) for _, held, live in deleted_rows(con)
    )


def _merge_clock(con: Any) -> Path | None:
    """`<database file>.merged`: its modification time is when a shopdw connection last let a
    checkpoint merge (None for an in-memory database)."""
    rows = con.execute("select file from pragma_database_list where name = current_database()").fetchall()
    return Path(rows[0][0] + ".merged") if rows and rows[0][0] else None


def merge_overdue(con: Any, now: float | None = None) -> bool:
    """No merge for MERGE_AT_LEAST_EVERY_S: the small row groups each loaded file appends to a raw
    table (which has no deletes of its own) are merged at least that often. The clock starts with
    the first write of a database that has none."""
    clock = _merge_clock(con)
    if clock is None:
        return False
    try:
        return (time.time() if now is None else now) - clock.stat().st_mtime >= MERGE_AT_LEAST_EVERY_S
    except FileNotFoundError:
        clock.touch()
        return False


def settle_vacuum(con: Any) -> bool:
    """Before a connection of shopdw closes (and checkpoints): let that checkpoint merge row
    groups when something was written and vacuum_due or merge_overdue. Returns whether it will."""
    wal = con.execute("select wal_size from pragma_database_size() where database_name = current_database()").fetchall()
    if not wal or str(wal[0][0]).startswith("0 "):
        return False  # nothing to checkpoint
    if not (vacuum_due(con) or merge_overdue(con)):
        return False
    con.execute("reset max_vacuum_tasks")  # DuckDB's default: merge wherever it reduces row groups
    clock = _merge_clock(con)
    if clock is not None:
        clock.touch()
    return True


class DuckDBWarehouse(Warehouse):
    dialect = "duckdb"
    inserts_file_rows = True

    def __init__(self, path: str, connect_attempts: int = 6, memory_limit: str = ""):
        self.path = path
        self.memory_limit = check_memory_limit(memory_limit)
        self._depth = 0
        self._con = None
        self._attempts = connect_attempts

    @property
    def con(self):
        """The connection, opened on first use (so taking the run lock never needs the file)."""
        if self._con is None:
            self._connect()
        return self._con

    def _connect(self) -> None:
        import duckdb

        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)

        def attempt():
            try:
                return duckdb.connect(self.path)
            except Exception as e:  # duckdb.IOException on a lock held by another process
                raise classify(e, f"opening DuckDB file {self.path}") from None

        self._con = with_retries(attempt, attempts=self._attempts)
        # no DuckDB progress bars on stdout: shopdw draws its own (and --json output stays clean)
        self._con.execute("set enable_progress_bar = false")
        for key, value in DEFERRED_VACUUM.items():
            self._con.execute(f"set {key} = {value}")
        if self.memory_limit:  # validated by check_memory_limit: digits, a unit or %
            self._con.execute(f"set memory_limit = '{self.memory_limit}'")

    def _run(self, fn: Callable[[], Any], sql: str) -> Any:
        try:
            return fn()
        except Exception as e:
            err = classify(e, f"DuckDB ({self.path})")
            if err is e:
                raise
            raise err from e

    def execute(self, sql: str, params: Any = None) -> None:
        self._run(lambda: self.con.execute(sql, params) if params is not None else self.con.execute(sql), sql)

    def query(self, sql: str, params: Any = None) -> list[tuple]:
        return self._run(
            lambda: (self.con.execute(sql, params) if params is not None else self.con.execute(sql)).fetchall(), sql
        )

    def query_arrow(self, sql: str) -> pa.Table:
        return self._run(lambda: self.con.sql(sql).to_arrow_table(), sql)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._depth:  # nested: part of the outer transaction
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self.execute("begin transaction")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            try:
                self.con.execute("rollback")
            except Exception:  # noqa: S110 - the original error matters more
                pass
            raise
        self._depth = 0
        self.execute("commit")

    def close(self) -> None:
        if self._con is not None:
            try:
                if self.path != ":memory:":
                    settle_vacuum(self._con)
            except Exception:  # noqa: S110 - a failed check leaves the merge to a later close
                pass
            self._con.close()
            self._con = None

    def reconnect(self) -> None:
        self.close()
        self._depth = 0

    # ---- lock -------------------------------------------------------------------------------
    def lock_key(self) -> str:
        return "duckdb:" + (self.path if self.path == ":memory:" else os.path.realpath(self.path))

    def _acquire_run_lock(self, timeout: float) -> Callable[[], None]:
        if self.path == ":memory:":
            return lambda: None
        lock_path = os.path.realpath(self.path) + ".lock"
        Path(lock_path).parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise TransientError(
                        f"another shopdw run holds the lock on {self.path} (lock file {lock_path}); "
                        f"waited {timeout:g}s. Wait for it to finish, then run again"
                    ) from None
                time.sleep(0.1)

        def release() -> None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

        return release

    # ---- loading ------------------------------------------------------------------------------
    def column_type(self, field: pa.Field) -> str:
        return arrow_to_duckdb_type(field.type)

    def append_raw(self, entity: str, data: pa.Table | FileRows, lineage: dict[str, Any]) -> None:
        """Lineage values as SQL literals: DuckDB keeps them as constant vectors (about 3x faster here
        than Arrow columns or bound parameters, which defeat that)."""
        if isinstance(data, FileRows):
            self._insert_file_rows(entity, data, lineage)
            return
        cols = [self.quote_ident(n) for n in data.column_names]
        names = ", ".join(cols + [self.quote_ident(n) for n in lineage])
        consts = ", ".join(_literal(v) for v in lineage.values())
        self.con.register("__shopdw_append", data)
        try:
            self.execute(
                f"insert into {self.qualified('raw', entity)} ({names}) "
                f"select {', '.join(cols)}, {consts} from __shopdw_append"
            )
        finally:
            self.con.unregister("__shopdw_append")

    def append_arrow(self, schema: str, table: str, data: pa.Table) -> None:
        cols = ", ".join(self.quote_ident(n) for n in data.column_names)
        self.con.register("__shopdw_append", data)
        try:
            self.execute(f"insert into {self.qualified(schema, table)} ({cols}) select {cols} from __shopdw_append")
        finally:
            self.con.unregister("__shopdw_append")

    def commit_batch(self, files: list[tuple[list[tuple[str, str, Any]], dict[str, Any] | None]]) -> None:
        """One transaction. Consecutive Parquet files of one entity with nothing quarantined and the same
        column types are inserted by one statement over all of them (DuckDB reads the files in
        parallel and keeps their order; each row's lineage follows its file); the rest file by file."""
        with self.transaction():
            run: list[tuple[str, FileRows, dict[str, Any]]] = []
            meta: dict[tuple[str, str], list[pa.Table]] = {}
            for writes, lineage in files:
                for schema, table, data in writes:
                    if not data.num_rows:
                        continue
                    if schema == "raw" and lineage is not None:
                        if isinstance(data, FileRows) and data.parquet_path is not None and data.keep is None:
                            if run and (run[0][0] != table or run[0][1].selects != data.selects):
                                self._insert_parquet_run(run)
                                run = []
                            run.append((table, data, lineage))
                            continue
                        self._insert_parquet_run(run)
                        run = []
                        self.append_raw(table, data, lineage)
                    else:
                        meta.setdefault((schema, table), []).append(data)
            self._insert_parquet_run(run)
            self.append_meta(meta)

    def _insert_parquet_run(self, run: list[tuple[str, FileRows, dict[str, Any]]]) -> None:
        if not run:
            return
        if len(run) == 1:
            entity, rows, lineage = run[0]
            self._insert_file_rows(entity, rows, lineage)
            return
        entity, first, lineage0 = run[0]
        names = ", ".join([self.quote_ident(n) for n in first.columns] + [self.quote_ident(n) for n in lineage0])
        lineage_sql = []
        for name in lineage0:
            values = [lineage[name] for _, _, lineage in run]
            if all(v == values[0] for v in values):
                lineage_sql.append(_literal(values[0]))
            else:  # each file's value, picked by the file's position in the list (a CASE over the file
                # names cost about half again as much as the scan for 200 small files)
                lineage_sql.append(f"[{', '.join(_literal(v) for v in values)}][cast(s.file_index as bigint) + 1]")
        paths = ", ".join(_literal(rows.parquet_path) for _, rows, _ in run)
        self.execute(
            f"insert into {self.qualified('raw', entity)} ({names}) select {', '.join(first.selects)}, "
            f"{', '.join(lineage_sql)} from read_parquet([{paths}], union_by_name = true) s"
        )

    def _insert_file_rows(self, entity: str, rows: FileRows, lineage: dict[str, Any]) -> None:
        """INSERT ... SELECT straight from the validated file: DuckDB decodes the Parquet itself (about
        twice as fast as through Arrow); a positional join with the keep-mask drops quarantined rows."""
        names = ", ".join([self.quote_ident(n) for n in rows.columns] + [self.quote_ident(n) for n in lineage])
        consts = ", ".join(_literal(v) for v in lineage.values())
        registered = []
        try:
            if rows.parquet_path is not None:
                src = f"read_parquet({_literal(rows.parquet_path)}) s"
            else:
                self.con.register("__shopdw_file", rows.arrow)
                registered.append("__shopdw_file")
                src = "__shopdw_file s"
            where = ""
            if rows.keep is not None:
                self.con.register("__shopdw_keep", pa.table({"ok": rows.keep}))
                registered.append("__shopdw_keep")
                src += " positional join __shopdw_keep m"
                where = " where m.ok"
            self.execute(
                f"insert into {self.qualified('raw', entity)} ({names}) "
                f"select {', '.join(rows.selects)}, {consts} from {src}{where}"
            )
        finally:
            for name in registered:
                self.con.unregister(name)
