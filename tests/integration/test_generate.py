"""`generate` against real lakes (a local folder, moto's S3 API server) and real DuckDB: determinism,
contracts, relations and the defect ground truth, checked independently of the loader."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from shopdw.contracts import BR_STATES, CONTRACTS, LOAD_ORDER, MONEY
from shopdw.lake.layout import parse_raw_path
from shopdw.lake.store import Lake, S3Lake, open_lake
from shopdw.sources.simulator import REFERENCE_DATE, SimulatorConfig, generate

START = date(2025, 11, 24)  # spans Black Friday 2025-11-28


def _gen(lake: Lake, start: date = START, days: int = 4, **kw):
    kw.setdefault("orders_per_day", 30)
    kw.setdefault("seed", 5)
    return generate(lake, SimulatorConfig(start=start, days=days, **kw), progress=False)


def _hashes(lake: Lake) -> dict[str, str]:
    return {f.path: hashlib.sha256(lake.get(f.path)).hexdigest() for f in lake.list("")}


# ---------------------------------------------------------------- reading files independently


def _read_text_rows(data: bytes, fmt: str, entity: str) -> list[dict[str, str | None]]:
    """Every row of a CSV/JSONL file with its values as text (None = null), in file order."""
    names = CONTRACTS[entity].column_names
    if fmt == "csv":
        opts = pacsv.ConvertOptions(column_types={n: pa.string() for n in names}, strings_can_be_null=True,
                                    quoted_strings_can_be_null=False)  # fmt: skip
        t = pacsv.read_csv(io.BytesIO(data), convert_options=opts)
        assert t.column_names == names
        return t.to_pylist()
    rows = []
    for line in data.decode().splitlines():
        obj = json.loads(line, parse_float=str, parse_int=str)
        assert list(obj) == names
        rows.append(obj)
    return rows


def _parse(typ: pa.DataType, v: str):
    """Strict text -> value per contract type; ValueError when unparseable."""
    if typ == MONEY:
        if not re.fullmatch(r"-?\d+(\.\d+)?", v):
            raise ValueError(v)
        return Decimal(v)
    if pa.types.is_integer(typ):
        return int(v)
    if pa.types.is_floating(typ):
        return float(v)
    if pa.types.is_timestamp(typ):
        return datetime.fromisoformat(v)
    return v


def _rows(lake: Lake, path: str) -> tuple[str, list[dict]]:
    """(format, typed rows or None-for-unparseable markers) of one raw file."""
    fmt = parse_raw_path(path).fmt
    entity = parse_raw_path(path).entity
    data = lake.get(path)
    if fmt == "parquet":
        t = pq.read_table(io.BytesIO(data))
        assert t.schema == CONTRACTS[entity].arrow_schema(), path
        return fmt, [dict(r, _bad=set()) for r in t.to_pylist()]
    out = []
    for raw in _read_text_rows(data, fmt, entity):
        row: dict = {"_bad": set()}
        for c in CONTRACTS[entity].columns:
            v = raw[c.name]
            if v is None:
                row[c.name] = None
                continue
            try:
                row[c.name] = _parse(c.type, v)
            except (ValueError, InvalidOperation):
                row[c.name] = v
                row["_bad"].add(c.name)
        out.append(row)
    return fmt, out


def _truth(lake: Lake) -> dict[tuple[str, int], dict]:
    out = {}
    for f in lake.list("ground_truth/"):
        for r in csv.DictReader(io.StringIO(lake.get(f.path).decode())):
            out[(r["file"], int(r["row_number"]))] = r
    return out


def _lake_rows(lake: Lake) -> dict[str, list[tuple[str, int, dict]]]:
    """entity -> [(file, row_number, row)] over every raw file."""
    out: dict[str, list] = {e: [] for e in LOAD_ORDER}
    for f in lake.list("raw/"):
        _fmt, rows = _rows(lake, f.path)
        out[parse_raw_path(f.path).entity].extend((f.path, i + 1, r) for i, r in enumerate(rows))
    return out


def _detect(lake: Lake) -> dict[tuple[str, int], set[tuple[str, str]]]:
    """Every defect found in the lake's files by plain inspection: (file, row) -> {(kind, column)}."""
    rows = _lake_rows(lake)
    truth = _truth(lake)
    clean_keys = {}
    for e, c in (("customers", "customer_id"), ("orders", "order_id"), ("products", "product_id"),
                 ("sellers", "seller_id")):  # fmt: skip
        clean_keys[e] = {r[c] for f, n, r in rows[e] if (f, n) not in truth and r[c] is not None}
    found: dict[tuple[str, int], set] = {}
    for entity, items in rows.items():
        contract = CONTRACTS[entity]
        prev_file, prev = None, None
        for f, n, r in items:
            ingest = parse_raw_path(f).ingest_date
            limit = datetime.combine(ingest + timedelta(days=1), datetime.min.time())
            hits = {("unparseable_value", c) for c in r["_bad"]}
            for c in contract.columns:
                v = r[c.name]
                if c.name in r["_bad"]:
                    continue
                if v is None and c.name in contract.required_not_null:
                    hits.add(("null_key", c.name))
                if v is None:
                    continue
                if c.type == MONEY and v < 0:
                    hits.add(("negative_price", c.name))
                if c.name.endswith("_state") and v not in BR_STATES:
                    hits.add(("unknown_state", c.name))
                if c.not_after_ingest and v > limit:
                    hits.add(("future_timestamp", c.name))
            for fk in contract.foreign_keys:
                v = r[fk.column]
                if v is not None and fk.column not in r["_bad"] and v not in clean_keys[fk.parent]:
                    hits.add(("orphan_fk", fk.column))
            if prev_file == f and r == prev:
                hits.add(("duplicate_row", ""))
            prev_file, prev = f, r
            if hits:
                found[(f, n)] = hits
    return found


# ---------------------------------------------------------------- tests


def test_two_runs_write_identical_bytes_and_a_rerun_changes_nothing(tmp_path):
    a, b = open_lake(str(tmp_path / "a")), open_lake(str(tmp_path / "b"))
    ra = _gen(a, defect_rate=0.05)
    _gen(b, defect_rate=0.05)
    ha, hb = _hashes(a), _hashes(b)
    assert ha == hb
    # 8 entities x 4 days + 2 reference files + 4 ground-truth files
    assert len(ha) == 8 * 4 + 2 + 4 and ra.files_written == len(ha)
    again = _gen(a, defect_rate=0.05)
    assert again.files_written == 0 and again.files_unchanged == len(ha)
    assert _gen(open_lake(str(tmp_path / "c")), seed=6).to_dict()["rows"] != ra.to_dict()["rows"]


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_one_call_equals_day_by_day(tmp_path, fmt):
    whole, split = open_lake(str(tmp_path / "whole")), open_lake(str(tmp_path / "split"))
    _gen(whole, days=4, defect_rate=0.05, fmt=fmt, late_rate=0.3)
    for i in range(4):
        _gen(split, start=START + timedelta(days=i), days=1, defect_rate=0.05, fmt=fmt, late_rate=0.3)
    assert _hashes(whole) == _hashes(split)


def test_parquet_files_have_the_contract_schemas_and_paths(tmp_path):
    lake = open_lake(str(tmp_path / "lake"))
    _gen(lake, days=2)
    entities = set()
    for f in lake.list("raw/"):
        rp = parse_raw_path(f.path)
        entities.add(rp.entity)
        assert pq.read_schema(io.BytesIO(lake.get(f.path))) == CONTRACTS[rp.entity].arrow_schema()
        if CONTRACTS[rp.entity].reference:
            assert (rp.ingest_date, rp.batch_id) == (REFERENCE_DATE, "sim-reference")
        else:
            assert rp.batch_id == f"sim-{rp.ingest_date:%Y%m%d}"
    assert entities == set(LOAD_ORDER)


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_text_formats_round_trip_through_the_contract(tmp_path, fmt):
    """CSV/JSON files, minus their ground-truth rows and cast to the contract, equal the Parquet data."""
    pq_lake, txt_lake = open_lake(str(tmp_path / "pq")), open_lake(str(tmp_path / "txt"))
    _gen(pq_lake, days=3, defect_rate=0.04)
    _gen(txt_lake, days=3, defect_rate=0.04, fmt=fmt)
    pq_truth, txt_truth = _truth(pq_lake), _truth(txt_lake)
    assert {r["defect"] for r in txt_truth.values()} >= {"null_key", "unparseable_value"}
    ext = {"csv": "csv", "json": "jsonl"}[fmt]
    for f in pq_lake.list("raw/"):
        entity = parse_raw_path(f.path).entity
        schema = CONTRACTS[entity].arrow_schema()
        clean_pq = pq.read_table(io.BytesIO(pq_lake.get(f.path)))
        keep = [i for i in range(clean_pq.num_rows) if (f.path, i + 1) not in pq_truth]
        clean_pq = clean_pq.take(keep)
        tpath = f.path.rsplit(".", 1)[0] + "." + ext
        rows = _read_text_rows(txt_lake.get(tpath), fmt, entity)
        rows = [r for i, r in enumerate(rows) if (tpath, i + 1) not in txt_truth]
        cols = [pa.array([r[n] for r in rows], pa.string()).cast(fld.type) for n, fld in zip(schema.names, schema)]
        assert pa.Table.from_arrays(cols, schema=schema).equals(clean_pq), tpath


def test_relations_resolve_except_ground_truth_orphans(tmp_path):
    lake = open_lake(str(tmp_path / "lake"))
    _gen(lake, days=5, defect_rate=0.05, late_rate=0.3)
    truth = _truth(lake)
    con = duckdb.connect()
    for e in LOAD_ORDER:
        parts = []
        for f in lake.list(f"raw/{e}/"):
            t = pq.read_table(io.BytesIO(lake.get(f.path)))
            keep = [i for i in range(t.num_rows) if (f.path, i + 1) not in truth]
            t = t.take(keep)
            parts.append(
                t.append_column("_ingest", pa.array([parse_raw_path(f.path).ingest_date] * t.num_rows, pa.date32()))
            )
        con.register(e, pa.concat_tables(parts))
    checks = {
        "items->orders": "select count(*) from order_items i where i.order_id not in (select order_id from orders)",
        "items->products": "select count(*) from order_items where product_id not in (select product_id from products)",
        "items->sellers": "select count(*) from order_items where seller_id not in (select seller_id from sellers)",
        "payments->orders": "select count(*) from order_payments where order_id not in (select order_id from orders)",
        "reviews->orders": "select count(*) from order_reviews where order_id not in (select order_id from orders)",
        "orders->customers": "select count(*) from orders where customer_id not in (select customer_id from customers)",
        "web->orders": "select count(*) from web_events where event_type = 'purchase' "
        "and (order_id is null or order_id not in (select order_id from orders))",
        "category->translation": "select count(*) from products where product_category_name is not null and "
        "product_category_name not in (select product_category_name from product_category_translation)",
        "zip->geolocation": "select count(*) from customers where customer_zip_code_prefix not in "
        "(select geolocation_zip_code_prefix from geolocation)",
    }
    for name, sql in checks.items():
        assert con.execute(sql).fetchone()[0] == 0, name
    # the relations are not trivially empty
    assert con.execute("select count(*) from web_events where event_type = 'purchase'").fetchone()[0] > 50
    # the orphans listed in the ground truth really point nowhere
    orphans = [r for r in truth.values() if r["defect"] == "orphan_fk"]
    assert orphans
    # repeat customers: persons with several accounts
    assert con.execute("select count(*) from (select customer_unique_id from customers group by 1 "
                       "having count(distinct customer_id) > 1)").fetchone()[0] > 0  # fmt: skip
    # customers move: some accounts have two addresses over time
    assert con.execute("select count(*) from (select customer_id from customers group by 1 "
                       "having count(distinct customer_zip_code_prefix) > 1)").fetchone()[0] > 0  # fmt: skip
    # products change price or category
    assert con.execute("select count(*) from (select product_id from products group by 1 "
                       "having count(distinct list_price) > 1 or count(distinct product_category_name) > 1)"
                       ).fetchone()[0] > 0  # fmt: skip
    # late facts: some item rows arrive after their order's purchase day
    late = con.execute("""
        select count(*) from order_items i
        join (select order_id, min(cast(order_purchase_timestamp as date)) p from orders group by 1) o using (order_id)
        where i._ingest > o.p
    """).fetchone()[0]
    assert late > 0
    # Black Friday (2025-11-28) out-sells the Monday it follows
    created = con.execute("select cast(order_purchase_timestamp as date) d, count(distinct order_id) from orders "
                          "group by 1 order by 1").fetchall()  # fmt: skip
    by_day = dict(created)
    assert by_day[date(2025, 11, 28)] > 2.5 * by_day[date(2025, 11, 24)]


@pytest.mark.parametrize("fmt", ["parquet", "csv", "json"])
def test_ground_truth_is_exactly_what_the_files_contain(tmp_path, fmt):
    lake = open_lake(str(tmp_path / "lake"))
    result = _gen(lake, days=4, defect_rate=0.06, fmt=fmt, late_rate=0.2)
    truth = _truth(lake)
    found = _detect(lake)
    assert set(found) == set(truth), sorted(set(found) ^ set(truth))[:5]
    entity_rows = _lake_rows(lake)
    rows_by_pos = {(f, n): r for e in entity_rows.values() for f, n, r in e}
    for pos, t in truth.items():
        assert found[pos] == {(t["defect"], t["column"])}, (pos, t, found[pos])
        r = rows_by_pos[pos]
        key = CONTRACTS[t["entity"]].key
        assert t["key"] == "|".join("" if r[k] is None else str(r[k]) for k in key)
        assert t["file"].startswith(f"raw/{t['entity']}/")
    kinds = Counter(t["defect"] for t in truth.values())
    assert dict(kinds) == {k: v for k, v in result.defects.items() if v}
    expected = {"duplicate_row", "negative_price", "unknown_state", "orphan_fk", "future_timestamp"}
    if fmt != "parquet":
        expected |= {"null_key", "unparseable_value"}
    assert set(kinds) == expected
    # a clean run has an empty ground truth per day, and nothing to find
    clean = open_lake(str(tmp_path / "clean"))
    _gen(clean, days=2, fmt=fmt)
    assert _truth(clean) == {} and _detect(clean) == {}
    assert len(clean.list("ground_truth/")) == 2


def test_s3_lake_gets_the_same_bytes_as_a_folder(tmp_path, s3_endpoint, s3_bucket):
    local = open_lake(str(tmp_path / "lake"))
    s3 = open_lake(f"s3://{s3_bucket}/shop", endpoint_url=s3_endpoint)
    assert isinstance(s3, S3Lake)
    _gen(local, days=2, defect_rate=0.05, fmt="json")
    # worker processes reopen the S3 lake from its URI, endpoint and region
    res = generate(s3, SimulatorConfig(start=START, days=2, orders_per_day=30, seed=5, defect_rate=0.05,
                                       fmt="json"), workers=2)  # fmt: skip
    assert res.files_written == len(local.list(""))
    assert _hashes(s3) == _hashes(local)


def test_worker_processes_write_the_same_bytes(tmp_path):
    """Big runs spread days over processes (each recomputes its own look-back window): same files."""
    one, two = open_lake(str(tmp_path / "one")), open_lake(str(tmp_path / "two"))
    cfg = SimulatorConfig(start=START, days=4, orders_per_day=20, seed=3, defect_rate=0.05, fmt="csv")
    r1 = generate(one, cfg, workers=1)
    r2 = generate(two, cfg, workers=2)
    assert _hashes(one) == _hashes(two)
    assert r1.to_dict() | {"seconds": 0, "lake": ""} == r2.to_dict() | {"seconds": 0, "lake": ""}
    assert [f.replace(str(tmp_path / "one"), "") for f in r1.files] == r2.files


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_ground_truth_row_numbers_hold_across_split_files(tmp_path, monkeypatch, fmt):
    """Batches over the size limit become -pNNN parts; each defect's row number is within its part."""
    from shopdw.sources import simulator

    monkeypatch.setattr(simulator, "SPLIT_BYTES", 12_000)
    lake = open_lake(str(tmp_path / "lake"))
    _gen(lake, days=2, defect_rate=0.08, fmt=fmt)
    parts = [f.path for f in lake.list("raw/") if re.search(r"-p\d{3}\.", f.path)]
    assert len(parts) > 4
    truth = _truth(lake)
    assert any(re.search(r"-p\d{3}\.", f) for f, _n in truth)
    assert set(_detect(lake)) == set(truth)
    # the parts together hold exactly the rows of an unsplit run
    whole = open_lake(str(tmp_path / "whole"))
    r = _gen(whole, days=2, defect_rate=0.08, fmt=fmt)
    got = {e: 0 for e in LOAD_ORDER}
    for e, rows in _lake_rows(lake).items():
        got[e] = len(rows)
    assert got == r.rows
