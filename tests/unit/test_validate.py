"""Contract validation of one file (in-memory DuckDB, no servers): file rejects, row defects, drift."""

from __future__ import annotations

import io
import json
import os
from datetime import date, datetime
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shopdw.contracts import CONTRACTS
from shopdw.lake.formats import encode
from shopdw.load.validate import FileRejected, Validator, compatible

DAY = date(2025, 3, 1)
TS = datetime(2025, 3, 1, 10, 30)


def schema(entity: str) -> pa.Schema:
    return pa.schema([pa.field(c.name, c.type) for c in CONTRACTS[entity].columns])


def item(order_id="o1", n=1, product="p1", seller="s1", price="19.90", freight="5.00", ts=TS) -> dict:
    return dict(order_id=order_id, order_item_id=n, product_id=product, seller_id=seller, shipping_limit_date=ts,
                price=None if price is None else Decimal(price), freight_value=Decimal(freight))  # fmt: skip


def items_table(rows) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=schema("order_items"))


@pytest.fixture
def v():
    val = Validator()
    val.add_keys("orders", pa.table({"order_id": ["o1", "o2"]}))
    val.add_keys("products", pa.table({"product_id": ["p1"]}))
    val.add_keys("sellers", pa.table({"seller_id": ["s1"]}))
    yield val
    val.close()


def reasons(checked) -> dict[int, str]:
    return dict(zip(checked.bad["row_number"].to_pylist(), checked.bad["reason"].to_pylist()))


@pytest.mark.parametrize("fmt", ["parquet", "csv", "json"])
def test_row_defects_are_quarantined_with_reasons(v, fmt):
    rows = [
        item(),  # 1 good
        item(n=2, price="-1.00"),  # 2 below minimum
        item(order_id="o9", n=1),  # 3 orphan order
        item(),  # 4 exact duplicate of row 1
        item(order_id=None, n=3),  # 5 null key
        item(n=4, product="p-unknown"),  # 6 orphan product
        item(order_id="o2", n=1),  # 7 good
    ]
    checked = v.check("order_items", fmt, encode(items_table(rows), fmt), DAY)
    r = reasons(checked)
    assert set(r) == {2, 3, 4, 5, 6}
    assert "price: value '-1.00' below minimum 0" in r[2]
    assert "order_id: orphan foreign key, value 'o9' not found in orders.order_id" in r[3]
    assert r[4] == "duplicate row: exact copy of an earlier row"
    assert "null in required column order_id" in r[5]
    assert "product_id: orphan foreign key, value 'p-unknown'" in r[6]
    assert checked.rows_in_file == 7 == checked.good.num_rows + checked.bad.num_rows
    assert checked.good["order_id"].to_pylist() == ["o1", "o2"]  # file order kept
    assert checked.good.schema == schema("order_items")
    row5 = json.loads(checked.bad.filter(pa.compute.equal(checked.bad["row_number"], 5))["row"][0].as_py())
    assert row5["order_id"] is None and str(row5["order_item_id"]) == "3"


def test_text_values_that_do_not_cast(v):
    csv = (
        b"order_id,order_item_id,product_id,seller_id,shipping_limit_date,price,freight_value\n"
        b"o1,1,p1,s1,2025-03-01 10:00:00,19.90,5.00\n"
        b"o1,2,p1,s1,2025-03-01 10:00:00,abc,5.00\n"
        b"o1,1.5,p1,s1,2025-03-01 10:00:00,1.00,5.00\n"
        b"o1,4,p1,s1,not a date,1.00,5.00\n"
        b"o1,99999999999,p1,s1,,1.00,5.00\n"
    )
    checked = v.check("order_items", "csv", csv, DAY)
    r = reasons(checked)
    assert "price: value 'abc' does not cast to DECIMAL(12,2)" in r[2]
    assert "order_item_id: value '1.5' does not cast to INTEGER" in r[3]
    assert "shipping_limit_date: value 'not a date' does not cast to TIMESTAMP" in r[4]
    assert "order_item_id: value '99999999999' does not cast" in r[5]
    assert checked.good.num_rows == 1 and checked.good["shipping_limit_date"][0].as_py() == datetime(2025, 3, 1, 10)


def test_domains_allowed_pattern_range_and_ingest_bound():
    v = Validator()
    rows = [
        dict(customer_id="c1", customer_unique_id="u1", customer_zip_code_prefix="01234", customer_city="x",
             customer_state="SP", updated_at=datetime(2025, 3, 2, 0, 0, 0)),  # exactly ingest + 1 day: fine
        dict(customer_id="c2", customer_unique_id="u2", customer_zip_code_prefix="1234", customer_city="x",
             customer_state="SP", updated_at=TS),
        dict(customer_id="c3", customer_unique_id="u3", customer_zip_code_prefix="01234", customer_city="x",
             customer_state="XX", updated_at=TS),
        dict(customer_id="c4", customer_unique_id="u4", customer_zip_code_prefix="01234", customer_city="x",
             customer_state="SP", updated_at=datetime(2025, 3, 2, 0, 0, 1)),
        dict(customer_id="c5", customer_unique_id=None, customer_zip_code_prefix=None, customer_city=None,
             customer_state=None, updated_at=None),
    ]  # fmt: skip
    checked = v.check(
        "customers", "parquet", encode(pa.Table.from_pylist(rows, schema=schema("customers")), "parquet"), DAY
    )
    r = reasons(checked)
    assert set(r) == {2, 3, 4, 5}
    assert "customer_zip_code_prefix: value '1234' does not match pattern" in r[2]
    assert "customer_state: value 'XX' is not an allowed value" in r[3]
    assert "is later than ingest date 2025-03-01 + 1 day" in r[4]
    assert r[5] == "null in required column customer_unique_id"  # nullable columns may be null

    reviews = pa.Table.from_pylist(
        [dict(review_id="r1", order_id="o1", review_score=6, review_comment_title=None, review_comment_message=None,
              review_creation_date=TS, review_answer_timestamp=None)], schema=schema("order_reviews"))  # fmt: skip
    v.add_keys("orders", pa.table({"order_id": ["o1"]}))
    assert (
        "review_score: value '6' above maximum 5"
        in reasons(v.check("order_reviews", "parquet", encode(reviews, "parquet"), DAY))[1]
    )


def test_file_level_rejects(v):
    good = encode(items_table([item()]), "parquet")
    cases = {
        b"": "empty file (0 bytes)",
        b"not parquet at all": "unreadable parquet file",
        good[: len(good) - 9]: "unreadable parquet file",
    }
    for data, words in cases.items():
        with pytest.raises(FileRejected, match=words.replace("(", r"\(").replace(")", r"\)")):
            v.check("order_items", "parquet", data, DAY)
    t = items_table([item()])
    buf = io.BytesIO()
    pq.write_table(t.drop_columns(["price", "seller_id"]), buf)
    with pytest.raises(FileRejected, match="missing required column\\(s\\) seller_id, price"):
        v.check("order_items", "parquet", buf.getvalue(), DAY)
    buf = io.BytesIO()
    pq.write_table(t.set_column(5, "price", pa.array(["19.90"])), buf)
    with pytest.raises(
        FileRejected, match="incompatible column type\\(s\\): price is string, contract says decimal128"
    ):
        v.check("order_items", "parquet", buf.getvalue(), DAY)
    csv = encode(t, "csv")
    with pytest.raises(FileRejected, match="truncated csv file"):
        v.check("order_items", "csv", csv[:-3], DAY)
    with pytest.raises(FileRejected, match="unreadable csv file"):
        lines = csv.split(b"\n")
        lines[1] += b",one-field-too-many"
        v.check("order_items", "csv", b"\n".join(lines), DAY)
    with pytest.raises(FileRejected, match="unreadable json file"):
        v.check("order_items", "json", b'{"order_id": "o1"\n', DAY)


def test_drift_is_reported_and_not_loaded(v):
    t = items_table([item()]).append_column('coupon "code"', pa.array(["X"]))
    checked = v.check("order_items", "parquet", encode(t, "parquet"), DAY)
    assert checked.drift == 'extra column(s) not in the contract, not loaded: coupon "code" (string)'
    assert checked.good.column_names == CONTRACTS["order_items"].column_names and checked.good.num_rows == 1


def test_wider_parquet_types_are_cast_row_by_row(v):
    t = items_table([item(), item(n=2)])
    wide = t.set_column(1, "order_item_id", pa.array([1, 2**40], pa.int64()))
    checked = v.check("order_items", "parquet", encode(wide, "parquet"), DAY)
    assert checked.good["order_item_id"].type == pa.int32() and checked.good.num_rows == 1
    assert "order_item_id: value '1099511627776' does not cast to INTEGER" in reasons(checked)[2]


def test_compatibility_rules():
    assert compatible(pa.int64(), pa.int32()) and compatible(pa.int16(), pa.decimal128(12, 2))
    assert compatible(pa.timestamp("ns"), pa.timestamp("us")) and compatible(pa.large_string(), pa.string())
    assert compatible(pa.null(), pa.timestamp("us"))
    assert not compatible(pa.string(), pa.int32()) and not compatible(pa.float64(), pa.int32())
    assert not compatible(pa.int64(), pa.timestamp("us")) and not compatible(pa.int32(), pa.string())


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_same_key_other_content_is_no_duplicate_and_its_keys_still_count(v, fmt):
    """A duplicate is an exact copy of a whole row: a repeated business key with other values (two versions
    of an order in one file) is not one. The file's parent keys (order_id) are its distinct good values,
    whether or not a key repeats."""

    def order(oid, status="created", customer="c1"):
        return dict(order_id=oid, customer_id=customer, order_status=status, order_purchase_timestamp=TS,
                    order_approved_at=None, order_delivered_carrier_date=None, order_delivered_customer_date=None,
                    order_estimated_delivery_date=None, updated_at=TS)  # fmt: skip

    v.add_keys("customers", pa.table({"customer_id": ["c1"]}))
    rows = [order("a"), order("a", "approved"), order("b"), order("a", "approved"), order("c")]
    data = encode(pa.Table.from_pylist(rows, schema=schema("orders")), fmt)
    p = v.prepare("orders", fmt, data, DAY)
    try:
        assert reasons(p) == {4: "duplicate row: exact copy of an earlier row"}
        h, values = p.keys["order_id"]
        assert sorted(values.to_pylist()) == ["a", "b", "c"] and len(h) == 3
    finally:
        v.release(p)
    clean = [order("x"), order("x", "approved"), order("y")]  # repeated key, nothing quarantined
    p = v.prepare("orders", fmt, encode(pa.Table.from_pylist(clean, schema=schema("orders")), fmt), DAY)
    try:
        assert p.bad.num_rows == 0
        assert sorted(p.keys["order_id"][1].to_pylist()) == ["x", "y"]
        v.add_file_keys(p)
    finally:
        v.release(p)
    v.con.register("__probe", pa.table({"k": ["x", "y", "z"]}))
    h, values = v._distinct("__probe", "k")
    found = dict(zip(values.to_pylist(), v.keys[("orders", "order_id")].contains(h, values).tolist()))
    assert found == {"x": True, "y": True, "z": False}


def test_same_input_same_output(v):
    data = encode(items_table([item(), item(n=2, price="-3.00"), item()]), "csv")
    a, b = v.check("order_items", "csv", data, DAY), v.check("order_items", "csv", data, DAY)
    assert a.good.equals(b.good) and a.bad.equals(b.bad)


def test_keys_from_earlier_files_resolve_orphans():
    v = Validator()
    t = items_table([item(order_id="late")])
    v.add_keys("products", pa.table({"product_id": ["p1"]}))
    v.add_keys("sellers", pa.table({"seller_id": ["s1"]}))
    assert v.check("order_items", "parquet", encode(t, "parquet"), DAY).bad.num_rows == 1
    v.add_keys("orders", pa.table({"order_id": ["late"], "other": [1]}))
    assert v.check("order_items", "parquet", encode(t, "parquet"), DAY).bad.num_rows == 0


def test_corrupt_data_page_with_a_good_footer_is_rejected(v):
    """The footer reads fine, a data page does not: the file is rejected while validating (before any
    row is written), and the validator goes on with the next file."""
    rows = [item(order_id=f"o{i:06d}", n=1, product="p1") for i in range(20000)]
    good = encode(items_table(rows), "parquet")
    middle = len(good) // 3
    corrupt = good[:middle] + bytes(4000) + good[middle + 4000 :]
    assert pq.read_schema(io.BytesIO(corrupt)).names == CONTRACTS["order_items"].column_names
    with pytest.raises(FileRejected, match="unreadable parquet file") as e:
        v.check("order_items", "parquet", corrupt, DAY)
    assert "/shopdw-load-" not in str(e.value)  # the private copy's path is not in the reason
    assert v.check("order_items", "parquet", encode(items_table([item()]), "parquet"), DAY).good.num_rows == 1


@pytest.mark.parametrize("column", ["product_id", "order_id", "customer_unique_id"])
def test_corrupt_page_in_a_column_no_check_reads_is_rejected(v, column):
    """A web event's product_id, order_id and customer_unique_id have no checks (and are not its business
    key), yet a corrupt page in one of them still rejects the file while validating: every contract
    column is decoded there, so the insert never meets a page it cannot read."""
    n = 5000
    t = pa.table(
        {
            "event_id": [f"e{i}" for i in range(n)], "session_id": ["s"] * n, "customer_unique_id": [f"u{i}" for i in range(n)],
            "event_type": ["page_view"] * n, "product_id": [f"p{i}" for i in range(n)], "order_id": [f"o{i}" for i in range(n)],
            "event_timestamp": [TS] * n, "device_type": ["mobile"] * n, "traffic_source": ["direct"] * n,
        },
        schema=schema("web_events"),
    )  # fmt: skip
    buf = io.BytesIO()
    pq.write_table(t, buf, compression="zstd", use_dictionary=False)
    good = buf.getvalue()
    assert v.check("web_events", "parquet", good, DAY).good.num_rows == n
    chunk = pq.ParquetFile(io.BytesIO(good)).metadata.row_group(0).column(t.column_names.index(column))
    start = chunk.data_page_offset + chunk.total_compressed_size // 2
    corrupt = good[:start] + bytes(range(200)) + good[start + 200 :]
    with pytest.raises(FileRejected, match="unreadable parquet file"):
        v.check("web_events", "parquet", corrupt, DAY)


def test_killed_loaders_scratch_is_removed(tmp_path):
    """A killed loader's scratch folder (its lock file no longer held) goes; a live loader's stays."""
    import subprocess
    import sys

    stale = tmp_path / "shopdw-load-4242-abc"
    stale.mkdir()
    (stale / ".lock").write_bytes(b"")
    (stale / "f1.parquet").write_bytes(b"x")
    half_made = tmp_path / "shopdw-load-4343-new"  # no lock file yet: being created, kept
    half_made.mkdir()
    code = f"""
import sys
from shopdw.load.validate import Validator
v = Validator(scratch_dir={str(tmp_path)!r})
print(v._scratch.name, flush=True)
sys.stdin.readline()
v.close()
"""
    live = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        live_dir = live.stdout.readline().strip()
        assert not stale.exists()  # removed by the live loader's start
        val = Validator(scratch_dir=str(tmp_path))
        try:
            assert os.path.isdir(live_dir) and half_made.exists()
            assert os.path.basename(val._scratch.name).startswith(f"shopdw-load-{os.getpid()}-")
        finally:
            val.close()
    finally:
        live.communicate("\n", timeout=60)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shopdw-load-4343-new"]


def _order(oid, status="created", customer="c1", ts=TS) -> dict:
    return dict(order_id=oid, customer_id=customer, order_status=status, order_purchase_timestamp=ts,
                order_approved_at=None, order_delivered_carrier_date=None, order_delivered_customer_date=None,
                order_estimated_delivery_date=None, updated_at=ts)  # fmt: skip


def _outcome(p) -> tuple:
    """What the loader takes from a prepared file (or the reason it is rejected)."""
    if isinstance(p, FileRejected):
        return ("rejected", str(p))
    h, values = p.keys["order_id"]
    keys = sorted(zip(values.to_pylist(), h.tolist()))
    keep = None if p.keep is None else p.keep.to_pylist()
    return (p.rows_in_file, p.rows_good, p.bad.to_pylist(), keys, keep, p.drift)


def test_files_checked_together_give_what_each_gives_alone(monkeypatch):
    """`prepare_many` (the loader's path for small files of one entity) against `prepare` file by file: the
    same row counts, quarantined rows and reasons, parent keys and rejections. The clean files never reach
    the one-file row checks, and each file's timestamps are bounded by its own ingest date."""
    orders = schema("orders")

    def pq_(rows) -> bytes:
        return encode(pa.Table.from_pylist(rows, schema=orders), "parquet")

    late = datetime(2025, 3, 2, 12, 0)  # after 2025-03-01 + 1 day, before 2025-03-02 + 1 day
    big = pq_([_order(f"o{i:06d}") for i in range(20000)])
    corrupt = big[: len(big) // 3] + bytes(4000) + big[len(big) // 3 + 4000 :]
    files = {
        "clean": (pq_([_order("a"), _order("b", customer="c2"), _order("a", "approved")]), DAY),
        "late for its day": (pq_([_order("c", ts=late)]), DAY),
        "the same rows, a day later": (pq_([_order("c", ts=late)]), date(2025, 3, 2)),
        "unknown status": (pq_([_order("d"), _order("d2", status="lost")]), DAY),
        "repeated row": (pq_([_order("e"), _order("f"), _order("e")]), DAY),
        "orphan customer": (pq_([_order("g", customer="c-unknown"), _order("h")]), DAY),
        "no rows": (pq_([]), DAY),
        "clean, many rows": (big, date(2025, 3, 2)),
        "missing column": (encode(pa.table({"order_id": ["x"]}), "parquet"), DAY),
    }
    flagged = {"late for its day", "unknown status", "repeated row", "orphan customer"}

    def validator() -> Validator:
        v = Validator()
        v.add_keys("customers", pa.table({"customer_id": ["c1", "c2"]}))
        return v

    def one_by_one(named) -> list[tuple]:
        v, out = validator(), []
        try:
            for data, day in named.values():
                try:
                    p = v.prepare("orders", "parquet", data, day)
                except FileRejected as e:
                    out.append(_outcome(e))
                    continue
                out.append(_outcome(p))
                v.release(p)
        finally:
            v.close()
        return out

    def together(named) -> tuple[list[tuple], list[int]]:
        v, checked_alone = validator(), []
        flag_rows = v._flag_rows
        monkeypatch.setattr(v, "_flag_rows", lambda p, *a: (checked_alone.append(p.rows_in_file), flag_rows(p, *a)))
        try:
            got = v.prepare_many("orders", [("parquet", data, day) for data, day in named.values()])
            out = [_outcome(p) for p in got]
            assert not v._open or all(isinstance(p, FileRejected) or p.tag in v._open for p in got)
            for p in got:
                if not isinstance(p, FileRejected):
                    v.release(p)
            return out, len(checked_alone)
        finally:
            v.close()

    alone = one_by_one(files)
    assert [o[0] for o in alone].count("rejected") == 1
    assert [len(o[2]) for o in alone if o[0] != "rejected"] == [0, 1, 0, 1, 1, 1, 0, 0]  # quarantined per file
    got, n_alone = together(files)
    assert got == alone
    assert n_alone == len(flagged)  # the clean files were settled by the shared scan
    # a file that cannot be decoded fails the shared scan: every file is then checked alone
    with_corrupt = {**files, "corrupt page": (corrupt, DAY)}
    got, n_alone = together(with_corrupt)
    assert got == one_by_one(with_corrupt)
    assert got[-1][0] == "rejected" and "unreadable parquet file" in got[-1][1]
    assert n_alone == len(with_corrupt) - 1  # all but the file rejected for its missing column
