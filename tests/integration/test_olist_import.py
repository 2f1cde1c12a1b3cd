"""`import-olist` on the full real Olist dataset: counts, money and the orders' final versions match the CSVs.

The CSVs are read here independently of the importer (Python's csv module), the lake is read
back with pyarrow, and one import (plus a second, no-op one) is shared by every assertion.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shopdw.contracts import CONTRACTS
from shopdw.lake.layout import parse_raw_path
from shopdw.lake.store import LocalLake
from shopdw.sources.olist import SOURCES, import_olist

ENTITIES = list(SOURCES)
TS = "%Y-%m-%d %H:%M:%S"


def duck_type(t: pa.DataType) -> str:
    if pa.types.is_decimal(t):
        return f"decimal({t.precision}, {t.scale})"
    return {pa.int32(): "integer", pa.float64(): "double", pa.string(): "varchar"}.get(t) or "timestamp"


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def olist_csv(olist_dir):
    return {e: read_csv_rows(olist_dir / SOURCES[e][0]) for e in ENTITIES}


@pytest.fixture(scope="module")
def imported(olist_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("olist_lake")
    lake = LocalLake(root)
    first = import_olist(lake, olist_dir, progress=False)
    listing = lake.list("raw/")
    second = import_olist(lake, olist_dir, progress=False)
    return {"lake": lake, "first": first, "second": second, "listing": listing}


@pytest.fixture(scope="module")
def lake_tables(imported):
    """entity -> the lake's rows of all its files, with _ingest_date and _batch_id from the path."""
    files: dict[str, list[pa.Table]] = defaultdict(list)
    for f in imported["listing"]:
        rp = parse_raw_path(f.path)
        t = pq.read_table(imported["lake"].url(f.path))
        assert t.schema == CONTRACTS[rp.entity].arrow_schema(), f.path
        n = t.num_rows
        t = t.append_column("_ingest_date", pa.array([rp.ingest_date] * n, pa.date32()))
        t = t.append_column("_batch_id", pa.array([rp.batch_id] * n, pa.string()))
        files[rp.entity].append(t)
    return {e: pa.concat_tables(ts) for e, ts in files.items()}


def _s(v) -> str | None:
    """A lake value in the CSV's text form."""
    if v is None:
        return None
    if isinstance(v, datetime):
        return v.strftime(TS)
    if isinstance(v, float):
        return repr(v)
    return str(v)


def _c(v: str, float_col: bool = False) -> str | None:
    if v == "":
        return None
    return repr(float(v)) if float_col else v


def test_every_entity_arrives_with_its_row_count_and_distinct_keys(olist_csv, lake_tables):
    for entity in ENTITIES:
        src = olist_csv[entity]
        lake = lake_tables[entity]
        key = list(CONTRACTS[entity].key) or ["geolocation_zip_code_prefix"]
        src_keys = {tuple(r[k] for k in key) for r in src}
        lake_keys = {tuple(_s(v) for v in k) for k in zip(*(lake.column(c).to_pylist() for c in key), strict=True)}
        assert len(lake_keys) == len(src_keys), entity
        assert lake_keys == src_keys, entity
        if entity != "orders":
            assert lake.num_rows == len(src), entity


def test_money_totals_are_exact_to_the_cent(olist_csv, lake_tables):
    for entity, col in (
        ("order_items", "price"),
        ("order_items", "freight_value"),
        ("order_payments", "payment_value"),
    ):
        src_total = sum(Decimal(r[col]) for r in olist_csv[entity])
        lake_total = sum(lake_tables[entity].column(col).to_pylist(), Decimal(0))
        assert lake_total == src_total, (entity, col)
        assert src_total > 0


def test_every_non_order_row_equals_its_csv_row(olist_dir, lake_tables):
    """Multisets of whole rows, the CSV parsed by DuckDB's reader: nothing lost, altered or duplicated."""
    con = duckdb.connect()
    con.execute("set enable_progress_bar = false")
    for entity in ENTITIES:
        if entity == "orders":
            continue
        name, header = SOURCES[entity]
        contract = CONTRACTS[entity]
        typed = ", ".join(f"cast({c} as {duck_type(contract.column(c).type)}) as {c}" for c in header)
        con.register("lake_rows", lake_tables[entity].select(list(header)))
        con.execute(
            f"""create or replace temp table csv_rows as select {typed}
            from read_csv('{olist_dir / name}', all_varchar = true, header = true, quote = '"', escape = '"')"""
        )
        n_csv = con.sql("select count(*) from csv_rows").fetchall()[0][0]
        only_csv = con.sql("select count(*) from (from csv_rows except all from lake_rows)").fetchall()[0][0]
        only_lake = con.sql("select count(*) from (from lake_rows except all from csv_rows)").fetchall()[0][0]
        assert (n_csv, only_csv, only_lake) == (lake_tables[entity].num_rows, 0, 0), entity
        con.unregister("lake_rows")
    con.close()


def test_latest_order_version_equals_the_csv_row(olist_csv, lake_tables):
    orders = lake_tables["orders"]
    header = SOURCES["orders"][1]
    latest: dict[str, tuple] = {}
    rows = zip(*(orders.column(c).to_pylist() for c in (*header, "updated_at", "_ingest_date")), strict=True)
    for row in rows:
        rank = (row[-2], row[-1])
        if row[0] not in latest or rank > latest[row[0]][0]:
            latest[row[0]] = (rank, row)
    assert len(latest) == len(olist_csv["orders"])
    for r in olist_csv["orders"]:
        rank, row = latest[r["order_id"]]
        assert tuple(_s(v) for v in row[: len(header)]) == tuple(_c(r[c]) for c in header), r["order_id"]
        stamps = [datetime.strptime(r[c], TS) for c in header[3:7] if r[c]]
        assert rank[0] == max(stamps), r["order_id"]


def test_order_versions_follow_the_lifecycle(lake_tables):
    orders = lake_tables["orders"].sort_by([("order_id", "ascending"), ("updated_at", "ascending")])
    cols = ["order_id", "order_status", "order_purchase_timestamp", "updated_at", "_ingest_date", "_batch_id"]
    seen: dict[str, tuple] = {}
    statuses = Counter()
    for oid, status, purchase, updated, day, batch in zip(*(orders.column(c).to_pylist() for c in cols), strict=True):
        assert day >= purchase.date(), oid  # never before the purchase day
        assert day == updated.date(), oid  # on the change's day
        assert batch == f"olist-{day:%Y%m%d}"
        if oid in seen:
            prev_updated, prev_day = seen[oid]
            assert updated > prev_updated and day >= prev_day, oid  # one version per updated_at, in order
        else:
            assert updated == purchase or status != "created", oid
        seen[oid] = (updated, day)
        statuses[status] += 1
    # intermediate statuses really appear: most orders move created -> approved -> shipped -> delivered
    assert statuses["created"] > 90_000 and statuses["approved"] > 90_000 and statuses["shipped"] > 90_000


def test_no_timestamp_after_its_ingest_date(lake_tables):
    con = duckdb.connect()
    for entity, table in lake_tables.items():
        con.register("t", table)
        for col in (c.name for c in CONTRACTS[entity].columns if c.not_after_ingest):
            # stricter than the contract (ingest_date + 1 day): every event lands on its own day or later
            late = con.sql(f"select count(*) from t where {col} >= _ingest_date + interval 1 day").fetchall()[0][0]
            assert late == 0, (entity, col)
        con.unregister("t")
    con.close()


def test_facts_and_dimensions_arrive_on_their_event_days(olist_csv, lake_tables):
    purchase = {r["order_id"]: datetime.strptime(r["order_purchase_timestamp"], TS) for r in olist_csv["orders"]}
    for entity in ("order_items", "order_payments"):
        t = lake_tables[entity]
        for oid, day in zip(t.column("order_id").to_pylist(), t.column("_ingest_date").to_pylist(), strict=True):
            assert day == purchase[oid].date(), (entity, oid)
    t = lake_tables["order_reviews"]
    for oid, created, day in zip(
        *(t.column(c).to_pylist() for c in ("order_id", "review_creation_date", "_ingest_date")), strict=True
    ):
        if created is not None:
            assert day == max(created.date(), purchase[oid].date())
        assert day >= purchase[oid].date()
    first_order = {}
    for r in olist_csv["orders"]:
        ts = purchase[r["order_id"]]
        first_order[r["customer_id"]] = min(ts, first_order.get(r["customer_id"], ts))
    t = lake_tables["customers"]
    for cid, updated, day in zip(
        *(t.column(c).to_pylist() for c in ("customer_id", "updated_at", "_ingest_date")), strict=True
    ):
        assert updated == first_order[cid] and day == updated.date()
    first_sold: dict[str, datetime] = {}
    for r in olist_csv["order_items"]:
        ts = purchase[r["order_id"]]
        first_sold[r["product_id"]] = min(ts, first_sold.get(r["product_id"], ts))
    t = lake_tables["products"]
    assert t.column("list_price").null_count == t.num_rows
    for pid, updated in zip(t.column("product_id").to_pylist(), t.column("updated_at").to_pylist(), strict=True):
        assert updated == first_sold[pid]


def test_reference_batch_on_the_first_purchase_day(olist_csv, lake_tables):
    first = min(datetime.strptime(r["order_purchase_timestamp"], TS) for r in olist_csv["orders"]).date()
    for entity in ("geolocation", "product_category_translation"):
        t = lake_tables[entity]
        assert set(t.column("_batch_id").to_pylist()) == {"olist-reference"}
        assert set(t.column("_ingest_date").to_pylist()) == {first}
    assert min(lake_tables["orders"].column("_ingest_date").to_pylist()) == first == date(2016, 9, 4)


def test_importing_again_writes_nothing_new(imported):
    first, second = imported["first"], imported["second"]
    assert first.written == len(imported["listing"]) > 700
    assert first.unchanged == 0
    assert second.written == 0
    assert second.unchanged == first.written
    assert imported["lake"].list("raw/") == imported["listing"]
    assert second.lake_rows == first.lake_rows and second.source_rows == first.source_rows


# ---------------------------------------------------------------------------------------------
# An S3 lake (moto's S3 API server) gets the same files as a local one, on a small real sample.


@pytest.fixture(scope="module")
def olist_sample(olist_csv, olist_dir, tmp_path_factory):
    """15 real orders and every row they reference, as CSVs in a temp dir (never in the repo)."""
    out = tmp_path_factory.mktemp("olist_sample")
    orders = olist_csv["orders"][:15]
    ids = {r["order_id"] for r in orders}
    customers = {r["customer_id"] for r in orders}
    items = [r for r in olist_csv["order_items"] if r["order_id"] in ids]
    rows = {
        "orders": orders,
        "customers": [r for r in olist_csv["customers"] if r["customer_id"] in customers],
        "order_items": items,
        "order_payments": [r for r in olist_csv["order_payments"] if r["order_id"] in ids],
        "order_reviews": [r for r in olist_csv["order_reviews"] if r["order_id"] in ids],
        "products": [r for r in olist_csv["products"] if r["product_id"] in {i["product_id"] for i in items}],
        "sellers": [r for r in olist_csv["sellers"] if r["seller_id"] in {i["seller_id"] for i in items}],
        "geolocation": olist_csv["geolocation"][:200],
    }
    for entity, data in rows.items():
        name, header = SOURCES[entity]
        with open(out / name, "w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=header, lineterminator="\r\n")
            w.writeheader()
            w.writerows(data)
    name = SOURCES["product_category_translation"][0]
    (out / name).write_bytes((olist_dir / name).read_bytes())  # BOM, CRLF, no final newline
    return out


def test_s3_lake_gets_the_same_files(olist_sample, s3_endpoint, s3_bucket, tmp_path):
    from shopdw.lake.store import open_lake

    s3 = open_lake(f"s3://{s3_bucket}/lake", endpoint_url=s3_endpoint)
    local = LocalLake(tmp_path / "lake")
    on_s3 = import_olist(s3, olist_sample, progress=False, workers=2)
    import_olist(local, olist_sample, progress=False)
    assert on_s3.written > 15 and on_s3.source_rows["orders"] == 15
    s3_files, local_files = s3.list("raw/"), local.list("raw/")
    assert [f.path for f in s3_files] == [f.path for f in local_files]
    for f in s3_files:
        assert s3.get(f.path) == local.get(f.path), f.path
    again = import_olist(s3, olist_sample, progress=False)
    assert again.written == 0 and again.unchanged == on_s3.written
