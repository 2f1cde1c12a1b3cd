"""Import the real Olist CSVs into the lake as daily batches by event date (`shopdw import-olist DIR`).

The nine Kaggle files (UTF-8, optional BOM, CRLF or LF, quoted multi-line review comments,
Olist's misspelled `*_lenght` columns) are read with explicit column types (ids and zip
prefixes as strings, zips left-padded to 5 digits), checked against their exact headers,
and written with the entities' contract schemas through `write_batch`, one batch per day,
batch id `olist-YYYYMMDD`. Dating rules:

* orders: one version per recorded status change, on that change's day: created (purchase),
  approved (order_approved_at), shipped (order_delivered_carrier_date), delivered
  (order_delivered_customer_date). A version carries the status of its stage and only the
  lifecycle timestamps of stages up to it; its updated_at is the running maximum of those
  timestamps, with a change dated before the purchase moved to the purchase, so versions
  never precede the purchase day and their updated_at never decreases. Stages sharing an
  updated_at collapse into the later one. The last version is the CSV row exactly (its
  final status, e.g. canceled or invoiced, and every timestamp), updated_at = the latest
  lifecycle timestamp it carries.
* order_items, order_payments: on their order's purchase day.
* order_reviews: on review_creation_date's day, but never before the order's purchase day
  (64 Olist reviews were created days before their order was placed; they arrive with the
  order so the order they reference is already in the lake). The 17 reviews with no
  creation date (lost in the source, see shared/data/olist/SOURCE.md) arrive on their
  order's last status day.
* customers, sellers, products: on the purchase day of the first order that references
  them (via orders for customers, via order_items for sellers and products), with
  updated_at = that order's purchase timestamp; products.list_price is null (Olist has no
  list prices). A row no order references arrives on the first day with updated_at = the
  first purchase timestamp (the real data has none).
* geolocation, product_category_translation: one reference batch, batch id
  `olist-reference`, on the earliest purchase day.

Row counts and money are preserved exactly (prices are parsed straight into decimal128).
Everything is columnar (pyarrow CSV reader, DuckDB over Arrow); the only Python loop is
over days. The same files give the same bytes, so importing twice writes nothing new.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from shopdw.contracts import CONTRACTS, LOAD_ORDER
from shopdw.errors import DataError
from shopdw.lake.formats import write_batch
from shopdw.lake.store import Lake

# entity -> (file name, exact header). Column types come from the entity's contract.
SOURCES: dict[str, tuple[str, tuple[str, ...]]] = {
    "customers": (
        "olist_customers_dataset.csv",
        ("customer_id", "customer_unique_id", "customer_zip_code_prefix", "customer_city", "customer_state"),
    ),
    "orders": (
        "olist_orders_dataset.csv",
        (
            "order_id", "customer_id", "order_status", "order_purchase_timestamp", "order_approved_at",
            "order_delivered_carrier_date", "order_delivered_customer_date", "order_estimated_delivery_date",
        ),
    ),
    "order_items": (
        "olist_order_items_dataset.csv",
        ("order_id", "order_item_id", "product_id", "seller_id", "shipping_limit_date", "price", "freight_value"),
    ),
    "order_payments": (
        "olist_order_payments_dataset.csv",
        ("order_id", "payment_sequential", "payment_type", "payment_installments", "payment_value"),
    ),
    "order_reviews": (
        "olist_order_reviews_dataset.csv",
        (
            "review_id", "order_id", "review_score", "review_comment_title", "review_comment_message",
            "review_creation_date", "review_answer_timestamp",
        ),
    ),
    "products": (
        "olist_products_dataset.csv",
        (
            "product_id", "product_category_name", "product_name_lenght", "product_description_lenght",
            "product_photos_qty", "product_weight_g", "product_length_cm", "product_height_cm", "product_width_cm",
        ),
    ),
    "sellers": (
        "olist_sellers_dataset.csv",
        ("seller_id", "seller_zip_code_prefix", "seller_city", "seller_state"),
    ),
    "geolocation": (
        "olist_geolocation_dataset.csv",
        (
            "geolocation_zip_code_prefix", "geolocation_lat", "geolocation_lng", "geolocation_city",
            "geolocation_state",
        ),
    ),
    "product_category_translation": (
        "product_category_name_translation.csv",
        ("product_category_name", "product_category_name_english"),
    ),
}  # fmt: skip

ZIP_COLUMNS = {
    "customers": "customer_zip_code_prefix",
    "sellers": "seller_zip_code_prefix",
    "geolocation": "geolocation_zip_code_prefix",
}
REFERENCE_BATCH = "olist-reference"
DAY = "_day"  # working column: the ingest date of each row


def batch_id_for(day: date) -> str:
    return f"olist-{day:%Y%m%d}"


# ---------------------------------------------------------------------------------------------
# Reading


def _read_header(path: Path) -> list[str]:
    with open(path, "rb") as fh:
        head = fh.read(64 * 1024)
    if not head.strip():
        raise DataError(f"{path}: the file is empty; expected a CSV header line and rows (re-copy it from the dataset)")
    line = head.split(b"\n", 1)[0]
    try:
        text = line.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(f"{path}: the header line is not UTF-8 text; is this an Olist CSV?") from None
    return next(csv.reader(io.StringIO(text.rstrip("\r"))), [])


def _check_header(path: Path, expected: tuple[str, ...]) -> None:
    header = _read_header(path)
    if header == list(expected):
        return
    missing = [c for c in expected if c not in header]
    unexpected = [c for c in header if c not in expected]
    parts = []
    if missing:
        parts.append(f"missing column(s) {', '.join(missing)}")
    if unexpected:
        parts.append(f"unexpected column(s) {', '.join(repr(c) for c in unexpected)}")
    dupes = [c for c, n in Counter(header).items() if n > 1]
    if dupes:
        parts.append(f"repeated column(s) {', '.join(dupes)}")
    if not parts:
        parts.append("columns in a different order")
    raise DataError(
        f"{path}: wrong header: {'; '.join(parts)}. Expected exactly: {','.join(expected)} "
        "(Olist's own names, misspellings included)"
    )


def _first_bad(arr: pa.Array, typ: pa.DataType) -> int | None:
    """Index of the first value of arr that does not cast to typ (bisecting casts), or None."""

    def ok(lo: int, hi: int) -> bool:
        try:
            pc.cast(arr.slice(lo, hi - lo), typ)
            return True
        except pa.ArrowInvalid:
            return False

    lo, hi = 0, len(arr)
    if ok(lo, hi):
        return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if not ok(lo, mid):
            hi = mid
        else:
            lo = mid
    return lo


def _where(entity: str, index: int) -> str:
    row = index + 1
    # Only the reviews have multi-line values: elsewhere a data row is one line after the header.
    return f"data row {row}" if entity == "order_reviews" else f"data row {row} (line {row + 1})"


def _locate_bad_value(path: Path, entity: str, column: str, typ: pa.DataType, read_opts, parse_opts) -> str | None:
    """On a conversion error, say which row and value of the column failed to convert."""
    try:
        raw = pacsv.read_csv(
            path,
            read_options=read_opts,
            parse_options=parse_opts,
            convert_options=pacsv.ConvertOptions(
                include_columns=[column], column_types={column: pa.binary()}, strings_can_be_null=True, null_values=[""]
            ),
        ).column(column)
        arr = raw.combine_chunks()
        i = _first_bad(arr, pa.string())
        if i is not None:
            return f"{_where(entity, i)}: {column} = {arr[i].as_py()!r} is not UTF-8 text; re-save the file as UTF-8"
        text = arr.cast(pa.string())
        i = _first_bad(text, typ)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if i is None:
        return None
    return f"{_where(entity, i)}: {column} = {text[i].as_py()!r} is not a valid {typ}"


def read_source(directory: Path, entity: str) -> pa.Table:
    """One Olist CSV as an Arrow table with its contract's types; DataError names the file and the problem."""
    name, expected = SOURCES[entity]
    path = Path(directory) / name
    if not path.is_file():
        raise DataError(
            f"{name} is missing from {directory}: import-olist needs the nine Olist CSVs "
            f"({', '.join(n for n, _ in SOURCES.values())}) in one directory"
        )
    _check_header(path, expected)
    contract = CONTRACTS[entity]
    types = {c: contract.column(c).type for c in expected}
    read_opts = pacsv.ReadOptions(column_names=list(expected), skip_rows=1, block_size=8 << 20)
    # Only the reviews have quoted line breaks; the parallel fast path stays on for the rest.
    parse_opts = pacsv.ParseOptions(newlines_in_values=entity == "order_reviews")
    convert_opts = pacsv.ConvertOptions(
        column_types=types, strings_can_be_null=True, quoted_strings_can_be_null=True, null_values=[""]
    )
    try:
        table = pacsv.read_csv(path, read_options=read_opts, parse_options=parse_opts, convert_options=convert_opts)
    except pa.ArrowInvalid as e:
        msg = str(e)
        detail = None
        m = re.search(r"CSV column #(\d+)", msg)
        if m and int(m.group(1)) < len(expected):
            col = expected[int(m.group(1))]
            detail = _locate_bad_value(path, entity, col, types[col], read_opts, parse_opts)
            msg = msg.replace(m.group(0), f"column {col}")
        raise DataError(f"{path}: {detail or msg}; fix the value or re-copy the file from the dataset") from None
    if entity in ZIP_COLUMNS:
        col = ZIP_COLUMNS[entity]
        i = table.schema.get_field_index(col)
        table = table.set_column(i, col, pc.utf8_lpad(table.column(col), 5, "0"))
    _check_required(path, entity, table)
    _check_unique(path, entity, table)
    return table


def _check_required(path: Path, entity: str, table: pa.Table) -> None:
    contract = CONTRACTS[entity]
    required = dict.fromkeys([*contract.required_not_null, *(c.name for c in contract.columns if not c.nullable)])
    for col in required:
        if col in table.column_names and table.column(col).null_count:
            row = pc.index(pc.is_null(table.column(col)), True).as_py()
            raise DataError(f"{path}: {_where(entity, row)}: {col} is empty; every {entity} row needs one")


def _check_unique(path: Path, entity: str, table: pa.Table) -> None:
    key = list(CONTRACTS[entity].key)
    if not key or table.num_rows == 0:
        return
    counts = table.select(key).group_by(key).aggregate([([], "count_all")])
    dupes = counts.filter(pc.greater(counts.column("count_all"), 1))
    if dupes.num_rows:
        first = dupes.slice(0, 1).to_pylist()[0]
        n = first.pop("count_all")
        raise DataError(
            f"{path}: {', '.join(f'{k}={v!r}' for k, v in first.items())} appears {n} times "
            f"({dupes.num_rows} duplicated key(s) in all); {entity} is keyed by ({', '.join(key)})"
        )


# ---------------------------------------------------------------------------------------------
# Dating


_ORDER_VERSIONS_SQL = """
with stages as (
    select *, 0 as stage, 'created' as stage_status, order_purchase_timestamp as change_ts from src_orders
    union all
    select *, 1, 'approved', order_approved_at from src_orders where order_approved_at is not null
    union all
    select *, 2, 'shipped', order_delivered_carrier_date from src_orders where order_delivered_carrier_date is not null
    union all
    select *, 3, 'delivered', order_delivered_customer_date from src_orders
    where order_delivered_customer_date is not null
),
running as (
    select
        *,
        max(greatest(change_ts, order_purchase_timestamp)) over (
            partition by order_id order by stage rows between unbounded preceding and current row
        ) as run_ts,
        max(stage) over (partition by order_id) as last_stage
    from stages
),
versions as (
    select *, lead(run_ts) over (partition by order_id order by stage) as next_ts
    from running
)
select
    order_id,
    customer_id,
    case when stage = last_stage then order_status else stage_status end as order_status,
    order_purchase_timestamp,
    case when stage >= 1 then order_approved_at end as order_approved_at,
    case when stage >= 2 then order_delivered_carrier_date end as order_delivered_carrier_date,
    case when stage >= 3 then order_delivered_customer_date end as order_delivered_customer_date,
    order_estimated_delivery_date,
    run_ts as updated_at,
    cast(run_ts as date) as _day
from versions
where next_ts is null or next_ts > run_ts  -- stages sharing an updated_at collapse into the later one
order by _day, order_id, updated_at
"""


def _orphans(con, entity: str, table: str, path: str) -> None:
    rows = con.sql(
        f"select _row, order_id, count(*) over () from {table} where _order_day is null order by _row limit 1"  # noqa: S608 (fixed names)
    ).fetchall()
    if rows:
        row, n = rows[0], rows[0][2]
        raise DataError(
            f"{path}: {_where(entity, row[0] - 1)}: order_id {row[1]!r} is not in olist_orders_dataset.csv "
            f"({n} row(s) reference unknown orders); the importer dates rows by their order"
        )


def date_batches(src: dict[str, pa.Table], directory: Path) -> dict[str, pa.Table]:
    """Every entity's rows in its contract's columns plus `_day` (the ingest date), sorted by day then key."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("set enable_progress_bar = false")  # our own bar is on screen
        for entity, table in src.items():
            if entity in ("geolocation", "product_category_translation"):
                continue
            t = table.append_column("_row", pa.array(np.arange(1, table.num_rows + 1, dtype=np.int64)))
            con.register(f"src_{entity}", t)
        first_ts = con.sql("select min(order_purchase_timestamp) from src_orders").fetchall()[0][0]
        if first_ts is None:
            raise DataError(f"{directory / SOURCES['orders'][0]}: no orders; nothing to date the batches by")

        out: dict[str, pa.Table] = {}
        out["orders"] = con.sql(_ORDER_VERSIONS_SQL).to_arrow_table()
        con.execute(
            """create temp table order_days as
            select order_id, order_purchase_timestamp as purchase_ts,
                   cast(order_purchase_timestamp as date) as purchase_day,
                   cast(greatest(order_purchase_timestamp, coalesce(order_approved_at, order_purchase_timestamp),
                                 coalesce(order_delivered_carrier_date, order_purchase_timestamp),
                                 coalesce(order_delivered_customer_date, order_purchase_timestamp)) as date) as last_day
            from src_orders"""
        )
        for entity, key in (("order_items", "order_item_id"), ("order_payments", "payment_sequential")):
            con.execute(
                f"""create temp table dated_{entity} as
                select s.*, d.purchase_day as _order_day, d.purchase_ts as _purchase_ts
                from src_{entity} s left join order_days d using (order_id)"""  # noqa: S608 (fixed names)
            )
            _orphans(con, entity, f"dated_{entity}", str(directory / SOURCES[entity][0]))
            cols = ", ".join(CONTRACTS[entity].column_names)
            out[entity] = con.sql(
                f"select {cols}, _order_day as _day from dated_{entity} order by _day, order_id, {key}"  # noqa: S608
            ).to_arrow_table()

        con.execute(
            """create temp table dated_order_reviews as
            select s.*, d.purchase_day as _order_day, d.last_day as _last_day
            from src_order_reviews s left join order_days d using (order_id)"""
        )
        _orphans(con, "order_reviews", "dated_order_reviews", str(directory / SOURCES["order_reviews"][0]))
        cols = ", ".join(CONTRACTS["order_reviews"].column_names)
        out["order_reviews"] = con.sql(
            f"""select {cols},
                case when review_creation_date is null then _last_day
                     else greatest(cast(review_creation_date as date), _order_day) end as _day
            from dated_order_reviews order by _day, review_id, order_id"""  # noqa: S608
        ).to_arrow_table()

        con.execute(
            """create temp table first_item_ts as
            select i.product_id, i.seller_id, d.purchase_ts
            from src_order_items i join order_days d using (order_id)"""
        )
        firsts = {
            "customers": "select customer_id, min(order_purchase_timestamp) as first_ts from src_orders group by 1",
            "sellers": "select seller_id, min(purchase_ts) as first_ts from first_item_ts group by 1",
            "products": "select product_id, min(purchase_ts) as first_ts from first_item_ts group by 1",
        }
        for entity, first_sql in firsts.items():
            key = CONTRACTS[entity].key[0]
            cols = ", ".join(
                "coalesce(f.first_ts, $first) as updated_at"
                if c == "updated_at"
                else ("cast(null as decimal(12, 2)) as list_price" if c == "list_price" else f"s.{c}")
                for c in CONTRACTS[entity].column_names
            )
            out[entity] = con.sql(
                f"""select {cols}, cast(coalesce(f.first_ts, $first) as date) as _day
                from src_{entity} s left join ({first_sql}) f using ({key})
                order by _day, s.{key}""",  # noqa: S608 (fixed names)
                params={"first": first_ts},
            ).to_arrow_table()
        return {entity: _conform(entity, t) for entity, t in out.items()}
    finally:
        con.close()


def _conform(entity: str, table: pa.Table) -> pa.Table:
    """Exactly the contract's Arrow schema, plus the `_day` column."""
    schema = CONTRACTS[entity].arrow_schema()
    cols = [table.column(f.name).cast(f.type) for f in schema]
    day = table.column(DAY).cast(pa.date32())
    return pa.Table.from_arrays([*cols, day], schema=schema.append(pa.field(DAY, pa.date32(), nullable=False)))


def split_days(table: pa.Table) -> list[tuple[date, pa.Table]]:
    """A table sorted by `_day` as (day, rows of that day without `_day`), in day order."""
    if table.num_rows == 0:
        return []
    days = table.column(DAY).to_numpy().astype("datetime64[D]")
    starts = np.concatenate([[0], np.flatnonzero(days[1:] != days[:-1]) + 1, [len(days)]])
    body = table.drop_columns([DAY])
    return [(days[a].astype(object), body.slice(int(a), int(b - a))) for a, b in zip(starts[:-1], starts[1:])]


# ---------------------------------------------------------------------------------------------
# Import


@dataclass
class ImportResult:
    directory: str
    lake: str
    fmt: str
    source_rows: dict[str, int] = field(default_factory=dict)  # CSV data rows per entity
    lake_rows: dict[str, int] = field(default_factory=dict)  # rows written to the lake (orders: versions)
    files_written: dict[str, int] = field(default_factory=dict)
    files_unchanged: dict[str, int] = field(default_factory=dict)
    first_day: date | None = None
    last_day: date | None = None
    days: int = 0
    seconds: float = 0.0

    @property
    def written(self) -> int:
        return sum(self.files_written.values())

    @property
    def unchanged(self) -> int:
        return sum(self.files_unchanged.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "directory": self.directory,
            "lake": self.lake,
            "format": self.fmt,
            "first_day": self.first_day.isoformat() if self.first_day else None,
            "last_day": self.last_day.isoformat() if self.last_day else None,
            "days": self.days,
            "files_written": self.written,
            "files_unchanged": self.unchanged,
            "seconds": round(self.seconds, 2),
            "entities": {
                e: {
                    "source_rows": self.source_rows.get(e, 0),
                    "lake_rows": self.lake_rows.get(e, 0),
                    "files_written": self.files_written.get(e, 0),
                    "files_unchanged": self.files_unchanged.get(e, 0),
                }
                for e in LOAD_ORDER
                if e in self.source_rows
            },
        }

    def render(self) -> None:
        from rich.console import Console
        from rich.table import Table

        t = Table(title=f"Olist {self.directory} -> {self.lake}")
        for h in ("entity", "CSV rows", "lake rows", "files written", "unchanged"):
            t.add_column(h, justify="left" if h == "entity" else "right")
        for e, d in self.to_dict()["entities"].items():
            t.add_row(e, f"{d['source_rows']:,}", f"{d['lake_rows']:,}", f"{d['files_written']:,}",
                      f"{d['files_unchanged']:,}")  # fmt: skip
        console = Console()
        console.print(t)
        console.print(
            f"{self.days} daily batches {self.first_day} .. {self.last_day} ({self.fmt}): "
            f"{self.written} file(s) written, {self.unchanged} unchanged, in {self.seconds:.1f} s",
            highlight=False,
        )


def import_olist(
    lake: Lake, directory: str | Path, fmt: str = "parquet", progress: bool = True, workers: int = 4
) -> ImportResult:
    """Read the nine Olist CSVs in `directory` and write them into `lake` as daily batches (see the module doc).

    Raises DataError naming the file (and row, column or value) when a CSV is missing or malformed;
    nothing is written then. `workers` threads write the files.
    """
    t0 = time.perf_counter()
    directory = Path(directory)
    if not directory.is_dir():
        raise DataError(f"{directory}: no such directory; give the folder that holds the nine Olist CSVs")
    missing = [n for n, _ in SOURCES.values() if not (directory / n).is_file()]
    if missing:
        raise DataError(
            f"{directory} lacks {', '.join(missing)}: import-olist needs all nine Olist CSVs in one directory"
        )
    result = ImportResult(directory=str(directory), lake=lake.uri, fmt=fmt)

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        disable=not progress, transient=False,
    ) as bar:  # fmt: skip
        reading = bar.add_task("reading Olist CSVs", total=len(SOURCES))
        src: dict[str, pa.Table] = {}
        for entity in SOURCES:
            src[entity] = read_source(directory, entity)
            result.source_rows[entity] = src[entity].num_rows
            bar.advance(reading)

        dating = bar.add_task("dating orders, versions and first appearances", total=1)
        dated = date_batches(src, directory)
        bar.advance(dating)
        first_day = min(t.column(DAY)[0].as_py() for t in dated.values() if t.num_rows)
        jobs: list[tuple[date, str, str, pa.Table]] = [
            (first_day, e, REFERENCE_BATCH, _conform_reference(e, src[e]))
            for e in ("product_category_translation", "geolocation")
        ]
        day_jobs = [(d, e, batch_id_for(d), t) for e, table in dated.items() for d, t in split_days(table)]
        order = {e: i for i, e in enumerate(LOAD_ORDER)}
        day_jobs.sort(key=lambda j: (j[0], order[j[1]]))  # whole days in order, parents before children
        jobs += day_jobs

        writing = bar.add_task("writing daily batches", total=len(jobs))
        # Encoding and the lake's fsync/PUT release the GIL: a few threads hide the I/O latency.
        # Each file is independent and its bytes do not depend on the order, so output stays deterministic.
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [(job, pool.submit(write_batch, lake, job[1], job[0], job[2], job[3], fmt)) for job in jobs]
            try:
                for (_day, entity, _batch, table), future in futures:
                    for _path, outcome in future.result():
                        counter = result.files_written if outcome == "written" else result.files_unchanged
                        counter[entity] = counter.get(entity, 0) + 1
                    result.lake_rows[entity] = result.lake_rows.get(entity, 0) + table.num_rows
                    bar.advance(writing)
            except BaseException:
                for _job, future in futures:
                    future.cancel()
                raise

    all_days = sorted({j[0] for j in day_jobs})
    result.first_day, result.last_day, result.days = all_days[0], all_days[-1], len(all_days)
    result.seconds = time.perf_counter() - t0
    return result


def _conform_reference(entity: str, table: pa.Table) -> pa.Table:
    schema = CONTRACTS[entity].arrow_schema()
    return pa.Table.from_arrays([table.column(f.name).cast(f.type) for f in schema], schema=schema)
