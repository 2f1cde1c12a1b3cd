"""Deterministic encoding of Arrow tables into lake files (Parquet, CSV, JSON Lines), split at 128 MB.

Same table in, same bytes out: this is what makes re-generating a day idempotent.
"""

from __future__ import annotations

import io
import math
import os
import tempfile
from collections.abc import Sequence
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from shopdw.lake.layout import MAX_FILE_BYTES, raw_path
from shopdw.lake.store import Lake, WriteOutcome

TS_FORMAT = "%Y-%m-%d %H:%M:%S"


def _text_columns(table: pa.Table) -> pa.Table:
    """Timestamps as 'YYYY-MM-DD HH:MM:SS' (the Olist convention) for text formats; dictionary columns
    as their plain values."""
    cols = []
    for col in table.columns:
        if pa.types.is_dictionary(col.type):
            col = col.cast(col.type.value_type)
        if pa.types.is_timestamp(col.type):
            col = pc.strftime(col, format=TS_FORMAT)
        cols.append(col)
    return pa.table(cols, names=table.column_names)


def encode(
    table: pa.Table,
    fmt: str,
    dictionary_columns: Sequence[str] | None = None,
    statistics_columns: Sequence[str] | None = None,
    compression: str = "zstd",
) -> bytes:
    """dictionary_columns: Parquet only; dictionary-encode just these columns (None = every column).
    Skipping high-cardinality columns such as ids halves the encoding time. A column that is already an
    Arrow dictionary array is always dictionary-encoded, with its own dictionary (no hashing of each
    value); the Arrow schema is then not stored in the file, so every reader sees the plain type the
    Parquet file declares.
    statistics_columns: Parquet only; min/max statistics for just these columns (None = every column):
    random ids gain nothing from them.
    compression: Parquet only; the lake's files are zstd (benchmarks/bench_generate.py --floor also
    measures 'none')."""
    if fmt == "parquet":
        # an Arrow sink, not a Python file object: the C++ writer then never needs the GIL to write, so
        # encoding on a thread runs alongside Python work on other threads
        buf = pa.BufferOutputStream()
        names = table.column_names
        given = [f.name for f in table.schema if pa.types.is_dictionary(f.type)]
        use_dictionary = (
            True if dictionary_columns is None else [c for c in names if c in dictionary_columns or c in given]
        )
        statistics = True if statistics_columns is None else [c for c in statistics_columns if c in names]
        has_dictionary = bool(given)
        # write_batch_size: values handed to the column encoders at a time (default 1024); bigger batches
        # cut per-batch overhead (about 7% of the encoding CPU) and only make data pages up to ~2 MB
        pq.write_table(table, buf, compression=compression, row_group_size=512 * 1024, use_dictionary=use_dictionary,
                       write_statistics=statistics, store_schema=not has_dictionary, write_batch_size=64 * 1024)  # fmt: skip
        return buf.getvalue().to_pybytes()
    if fmt == "csv":
        buf = io.BytesIO()
        pacsv.write_csv(_text_columns(table), buf, pacsv.WriteOptions(include_header=True, quoting_style="needed"))
        return buf.getvalue()
    if fmt == "json":
        import duckdb

        t = _text_columns(table)
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "part.jsonl")
            con = duckdb.connect()
            try:
                con.execute("set threads=1")  # keeps row order, so bytes are deterministic
                con.register("t", t)
                con.execute(f"copy (select * from t) to '{out}' (format json)")
            finally:
                con.close()
            with open(out, "rb") as fh:
                return fh.read()
    raise ValueError(f"format {fmt!r} is not one of parquet, csv, json")


def encode_split(
    table: pa.Table, fmt: str, max_bytes: int = MAX_FILE_BYTES, dictionary_columns: Sequence[str] | None = None
) -> list[bytes]:
    """Encode, splitting by rows into as few parts as keep each part at most max_bytes."""
    data = encode(table, fmt, dictionary_columns)
    if len(data) <= max_bytes or table.num_rows <= 1:
        return [data]
    parts = math.ceil(len(data) / max_bytes) + 1
    while True:
        size = math.ceil(table.num_rows / parts)
        chunks = [encode(table.slice(i, size), fmt, dictionary_columns) for i in range(0, table.num_rows, size)]
        if all(len(c) <= max_bytes for c in chunks) or size <= 1:
            return chunks
        parts *= 2


def write_batch(
    lake: Lake,
    entity: str,
    ingest_date: date,
    batch_id: str,
    table: pa.Table,
    fmt: str = "parquet",
    max_bytes: int = MAX_FILE_BYTES,
    dictionary_columns: Sequence[str] | None = None,
) -> list[tuple[str, WriteOutcome]]:
    """Write one entity's batch for a day; a batch over max_bytes becomes <batch_id>-pNNN files."""
    chunks = encode_split(table, fmt, max_bytes, dictionary_columns)
    if len(chunks) == 1:
        names = [batch_id]
    else:
        names = [f"{batch_id}-p{i:03d}" for i in range(1, len(chunks) + 1)]
    out = []
    for name, data in zip(names, chunks):
        path = raw_path(entity, ingest_date, name, fmt)
        out.append((path, lake.put(path, data)))
    return out
