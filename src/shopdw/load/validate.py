"""Check one lake file against its entity's contract, vectorised in an in-memory DuckDB.

File-level problems (unreadable, empty, missing column, incompatible type) reject the whole
file; row-level problems (null required value, a value that does not cast, a value outside
its domain, an exact duplicate of an earlier row, an orphan foreign key) quarantine just
that row with a reason naming the column and the value. Extra columns are schema drift:
reported, not loaded. Parquet keeps its types; CSV and JSON Lines are read as text and cast
per column with TRY_CAST, so one unparseable value quarantines one row.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from shopdw.contracts import CONTRACTS, Column, Contract

RN = "__shopdw_rn"
REASON = "__shopdw_reason"
ROW = "__shopdw_row"
QUARANTINE_ROWS_SCHEMA = pa.schema([("row_number", pa.int64()), ("reason", pa.string()), ("row", pa.string())])


class FileRejected(Exception):
    """The whole file breaks its contract; str() is the reason recorded in the ledger."""


@dataclass
class Checked:
    rows_in_file: int
    good: pa.Table  # the contract's columns and types, in file order
    bad: pa.Table  # QUARANTINE_ROWS_SCHEMA
    drift: str | None = None


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


def read_table(data: bytes, fmt: str, contract: Contract, con) -> pa.Table:
    """Decode a lake file; FileRejected says why it cannot be read."""
    if len(data) == 0:
        raise FileRejected("empty file (0 bytes): nothing to read; write the batch again under a new batch id")
    if fmt in ("csv", "json") and not data.endswith(b"\n"):
        raise FileRejected(
            f"truncated {fmt} file: it does not end with a newline, so its last row is incomplete; "
            "write the whole file again under a new batch id"
        )
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
        msg = " ".join(str(e).split())[:300]
        raise FileRejected(
            f"unreadable {fmt} file (corrupt or truncated?): {msg}; write a correct file under a new batch id"
        ) from None
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


class Validator:
    """Holds an in-memory DuckDB and the parent keys foreign keys are resolved against.

    Parent keys are those already in the warehouse (seed them with `add_keys`) plus the rows
    loaded earlier in the same run (call `add_keys` after each file commits).
    """

    def __init__(self, check_foreign_keys: bool = True):
        import duckdb

        self.con = duckdb.connect()
        self.con.execute("set enable_progress_bar = false")
        self.check_fk = check_foreign_keys
        self.parents: set[tuple[str, str]] = {
            (fk.parent, fk.parent_column) for c in CONTRACTS.values() for fk in c.foreign_keys
        }
        self._compacted: dict[tuple[str, str], int] = {}
        for parent, column in sorted(self.parents):
            self.con.execute(f"create table {self._pk(parent, column)} (k varchar)")
            self._compacted[(parent, column)] = 0

    @staticmethod
    def _pk(parent: str, column: str) -> str:
        return q(f"pk__{parent}__{column}")

    def add_keys(self, entity: str, table: pa.Table) -> None:
        """Record the keys of rows now in raw.<entity> (from the warehouse, or a just-committed file)."""
        for parent, column in self.parents:
            if parent == entity and column in table.column_names and table.num_rows:
                self.con.register("__shopdw_keys", table.select([column]))
                try:
                    self.con.execute(  # duplicates are harmless: keys are only probed with IN
                        f"insert into {self._pk(parent, column)} "
                        f"select {q(column)} from __shopdw_keys where {q(column)} is not null"
                    )
                finally:
                    self.con.unregister("__shopdw_keys")
                self._compact(parent, column)

    def _compact(self, parent: str, column: str) -> None:
        """Keep a key set about distinct (every order version re-adds its key): rewrite it whenever it has
        doubled since the last rewrite, so the work stays linear in the keys added."""
        pk = self._pk(parent, column)
        n = self.con.sql(f"select count(*) from {pk}").fetchall()[0][0]
        if n > 2 * max(self._compacted[(parent, column)], 50_000):
            self.con.execute(f"create or replace table {pk} as select distinct k from {pk}")
            self._compacted[(parent, column)] = self.con.sql(f"select count(*) from {pk}").fetchall()[0][0]

    def close(self) -> None:
        self.con.close()

    def check(self, entity: str, fmt: str, data: bytes, ingest_date: date) -> Checked:
        contract = CONTRACTS[entity]
        src = read_table(data, fmt, contract, self.con)
        present = set(src.column_names)
        missing = [c for c in contract.column_names if c not in present]
        if missing:
            raise FileRejected(
                f"missing required column(s) {', '.join(missing)} (contract {entity} v{contract.version}); "
                "the producer must write every contract column"
            )
        if fmt == "parquet":
            bad_types = [
                f"{c.name} is {src.schema.field(c.name).type}, contract says {c.type}"
                for c in contract.columns
                if not compatible(src.schema.field(c.name).type, c.type)
            ]
            if bad_types:
                raise FileRejected(f"incompatible column type(s): {'; '.join(bad_types)}")
        extra = [c for c in src.column_names if c not in contract.column_names]
        drift = (
            "extra column(s) not in the contract, not loaded: "
            + ", ".join(f"{c} ({src.schema.field(c).type})" for c in extra)
            if extra
            else None
        )
        n = src.num_rows
        src = src.append_column(RN, pa.array(np.arange(1, n + 1, dtype=np.int64)))
        self.con.register("__shopdw_src", src)
        try:
            out = self._validate_sql(contract, src.schema, fmt != "parquet", ingest_date)
        finally:
            self.con.unregister("__shopdw_src")
            self.con.execute("drop table if exists __shopdw_dups")
        ok = pc.equal(out[REASON], "")
        all_ok = pc.all(ok).as_py() is not False
        good = out.select(contract.column_names) if all_ok else out.filter(ok).select(contract.column_names)
        schema = _nullable(contract)
        if good.schema != schema:
            good = pa.Table.from_arrays([col.cast(f.type) for col, f in zip(good.columns, schema)], schema=schema)
        bad_t = out.slice(0, 0) if all_ok else out.filter(pc.invert(ok))
        bad = pa.table(
            [bad_t[RN].cast(pa.int64()), bad_t[REASON].cast(pa.string()), bad_t[ROW].cast(pa.string())],
            schema=QUARANTINE_ROWS_SCHEMA,
        )
        return Checked(rows_in_file=n, good=good, bad=bad, drift=drift)

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

    def _validate_sql(self, contract: Contract, schema: pa.Schema, text: bool, ingest_date: date) -> pa.Table:
        con = self.con
        reasons: list[str] = []
        selects: list[str] = [f"s.{RN} as {RN}"]
        required = set(contract.required_not_null)

        def val(expr: str) -> str:
            return f"'''' || left(cast({expr} as varchar), 200) || ''''"

        for col in contract.columns:
            ftype = schema.field(col.name).type
            raw = f"s.{q(col.name)}"
            typed = self._typed(col, ftype, text)
            selects.append(f"{typed} as {q(col.name)}")
            name = col.name
            if name in required:
                reasons.append(f"case when {raw} is null then {lit('null in required column ' + name)} end")
            if typed != raw:
                reasons.append(
                    f"case when {raw} is not null and {typed} is null then "
                    f"{lit(name + ': value ')} || {val(raw)} || {lit(' does not cast to ' + duck_type(col.type))} end"
                )
            if col.allowed:
                allowed = ", ".join(lit(a) for a in col.allowed)
                reasons.append(
                    f"case when {typed} not in ({allowed}) then "
                    f"{lit(name + ': value ')} || {val(typed)} || ' is not an allowed value' end"
                )
            if col.pattern:
                reasons.append(
                    f"case when not regexp_full_match({typed}, {lit(col.pattern)}) then "
                    f"{lit(name + ': value ')} || {val(typed)} || {lit(' does not match pattern ' + col.pattern)} end"
                )
            if col.min is not None:
                reasons.append(
                    f"case when {typed} < {col.min!r} then "
                    f"{lit(name + ': value ')} || {val(typed)} || {lit(f' below minimum {col.min:g}')} end"
                )
            if col.max is not None:
                reasons.append(
                    f"case when {typed} > {col.max!r} then "
                    f"{lit(name + ': value ')} || {val(typed)} || {lit(f' above maximum {col.max:g}')} end"
                )
            if col.not_after_ingest:
                limit = f"timestamp '{ingest_date.isoformat()} 00:00:00' + interval 1 day"
                reasons.append(
                    f"case when {typed} > {limit} then {lit(name + ': timestamp ')} || {val(typed)} || "
                    f"{lit(f' is later than ingest date {ingest_date.isoformat()} + 1 day')} end"
                )
        # Exact duplicates: a cheap hash count first; the exact window only over colliding rows.
        # Reference data without a business key (geolocation: many rows per zip prefix, and the
        # real Olist file repeats 261,831 of them) keeps repeated rows: staging aggregates them.
        cols = ", ".join(f"s.{q(c)}" for c in contract.column_names)
        n_dup_hashes = (
            0
            if not contract.key
            else con.sql(
                f"select count(*) from (select hash({cols}) h from __shopdw_src s group by h having count(*) > 1)"
            ).fetchall()[0][0]
        )
        if n_dup_hashes:
            con.execute(
                f"create temp table __shopdw_dups as select {RN} from ("
                f"  select s.{RN}, row_number() over (partition by {cols} order by s.{RN}) as n"
                f"  from __shopdw_src s where hash({cols}) in ("
                f"    select hash({cols}) from __shopdw_src s group by 1 having count(*) > 1)"
                f") where n > 1"
            )
            reasons.append(
                f"case when s.{RN} in (select {RN} from __shopdw_dups) "
                "then 'duplicate row: exact copy of an earlier row' end"
            )
        if self.check_fk:
            for fk in contract.foreign_keys:
                raw = f"s.{q(fk.column)}"
                typed = self._typed(contract.column(fk.column), schema.field(fk.column).type, text)
                reasons.append(
                    f"case when {typed} is not null and {typed} not in (select k from {self._pk(fk.parent, fk.parent_column)}) then "
                    f"{lit(fk.column + ': orphan foreign key, value ')} || {val(raw)} || "
                    f"{lit(f' not found in {fk.parent}.{fk.parent_column}')} end"
                )
        struct = ", ".join(f"{q(c)} := s.{q(c)}" for c in schema.names if c != RN)
        names = ", ".join(sel.rsplit(" as ", 1)[1] for sel in selects)
        sql = (
            f"select {names}, {REASON}, case when {REASON} <> '' then to_json(__shopdw_raw) end as {ROW} from ("
            f"select {', '.join(selects)}, concat_ws('; ', {', '.join(reasons) or 'null'}) as {REASON}, "
            f"struct_pack({struct}) as __shopdw_raw from __shopdw_src s)"
        )
        out = con.sql(sql).to_arrow_table()
        rn = out[RN]
        if len(rn) > 1 and not pc.all(pc.greater(rn.slice(1), rn.slice(0, len(rn) - 1))).as_py():
            out = out.sort_by(RN)  # keep file order (parallel scans may interleave)
        return out


def _nullable(contract: Contract) -> pa.Schema:
    return pa.schema([pa.field(c.name, c.type) for c in contract.columns])
