"""The Olist importer on tiny synthetic CSVs written here (never Olist's rows): quirks, dating rules, errors."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from shopdw.cli import main
from shopdw.contracts import CONTRACTS
from shopdw.errors import DataError
from shopdw.lake.layout import parse_raw_path
from shopdw.lake.store import LocalLake
from shopdw.sources.olist import SOURCES, import_olist, read_source

BOM = "\ufeff"


def _header(entity: str) -> str:
    return ",".join(f'"{c}"' for c in SOURCES[entity][1])


# Five orders covering Olist's oddities (see each comment), six customers (one never orders).
FILES: dict[str, str] = {
    "customers": "\n".join(
        [
            _header("customers"),
            'c1,u1,1037,sao paulo,SP',
            'c2,u2,"22790","rio de janeiro, centro",RJ',
            'c3,u1,1037,sao paulo,SP',
            'c4,u4,99999,porto alegre,RS',
            'c5,u5,69900,rio branco,AC',
            'c6,u6,123,nowhere,MG',
        ]
    ) + "\n",
    # CRLF line ends and a BOM, like the translation file
    "orders": BOM + "\r\n".join(
        [
            _header("orders"),
            # o1: the happy path over four days
            "o1,c1,delivered,2017-01-01 10:00:00,2017-01-01 10:15:00,2017-01-03 09:00:00,2017-01-08 12:00:00,2017-01-20 00:00:00",
            # o2: approved then canceled (no cancel timestamp)
            "o2,c2,canceled,2017-01-02 08:00:00,2017-01-02 09:00:00,,,2017-01-15 00:00:00",
            # o3: handed to the carrier before the purchase
            "o3,c3,delivered,2017-01-02 12:00:00,2017-01-03 12:00:00,2017-01-01 10:00:00,2017-01-05 18:30:00,2017-01-25 00:00:00",
            # o4: no approval, delivered before the carrier date
            "o4,c4,delivered,2017-01-03 10:00:00,,2017-01-06 07:00:00,2017-01-04 16:00:00,2017-01-30 00:00:00",
            # o5: still created
            "o5,c5,created,2017-01-04 23:59:59,,,,2017-02-01 00:00:00",
        ]
    ) + "\r\n",
    "order_items": "\n".join(
        [
            _header("order_items"),
            "o1,1,p1,s1,2017-01-05 10:00:00,10.5,2.00",
            "o1,2,p2,s1,2017-01-05 10:00:00,100.00,15.10",
            '"o3",1,"p1","s2",2017-01-06 12:00:00,7,0.01',
            "o4,1,p3,s1,2017-01-07 10:00:00,1234.56,0",
        ]
    ) + "\n",
    "order_payments": "\n".join(
        [
            _header("order_payments"),
            "o1,1,credit_card,3,100.00",
            "o1,2,voucher,1,27.60",
            "o2,1,boleto,1,50.00",
            "o3,1,credit_card,1,7.01",
            "o4,1,debit_card,1,1234.56",
        ]
    ) + "\n",
    # a multi-line quoted comment with a comma and a doubled quote; a review id shared by two orders;
    # a review without creation date; one created before its order; a comment that reads "NA"
    "order_reviews": "\n".join(
        [
            _header("order_reviews"),
            '"r1","o1",5,Top,"great, really\nfast ""delivery""\nthanks",2017-01-09 00:00:00,2017-01-10 10:00:00',
            '"r1","o3",4,,,2017-01-06 00:00:00,2017-01-07 10:00:00',
            '"r2","o4",1,,NA,,',
            '"r3","o5",3,,,2016-12-31 00:00:00,2017-01-01 00:00:00',
        ]
    ) + "\n",
    "products": "\n".join(
        [
            _header("products"),
            "p1,perfumaria,40,287,1,225,16,10,14",
            "p2,,,,,700,30,20,10",
            "p3,artes,44,276,1,1000,30,18,20",
        ]
    ) + "\n",
    "sellers": "\n".join([_header("sellers"), 's1,"13023",campinas,SP', "s2,1001,sao paulo,SP"]) + "\n",
    "geolocation": "\n".join(
        [
            _header("geolocation"),
            "1037,-23.54562128115268,-46.63929204800168,sao paulo,SP",
            "1037,-23.546081127035535,-46.64482029837157,sao paulo,SP",
            '"22790",-0.00004367379244740171,-43.2,rio de janeiro,RJ',
        ]
    ) + "\n",
    # BOM, CRLF and no newline after the last row, like the real file
    "product_category_translation": BOM
    + "product_category_name,product_category_name_english\r\nperfumaria,perfumery\r\nartes,art",
}  # fmt: skip


def write_olist(directory: Path, **replace: str | None) -> Path:
    """The nine synthetic CSVs in directory; replace=entity->text (None: leave the file out)."""
    directory.mkdir(parents=True, exist_ok=True)
    for entity, text in {**FILES, **replace}.items():
        if text is not None:
            (directory / SOURCES[entity][0]).write_bytes(text.encode("utf-8"))
    return directory


@pytest.fixture
def src(tmp_path):
    return write_olist(tmp_path / "olist")


@pytest.fixture
def lake(tmp_path):
    return LocalLake(tmp_path / "lake")


def read_lake(lake: LocalLake) -> dict[str, list[dict]]:
    """entity -> rows (dicts) with _day and _batch from the path, in file order."""
    out: dict[str, list[dict]] = {}
    for f in lake.list("raw/"):
        rp = parse_raw_path(f.path)
        t = pq.read_table(lake.url(f.path))
        assert t.schema == CONTRACTS[rp.entity].arrow_schema(), f.path
        for row in t.to_pylist():
            out.setdefault(rp.entity, []).append({**row, "_day": rp.ingest_date, "_batch": rp.batch_id})
    return out


def ts(s: str) -> datetime:
    return datetime.fromisoformat(s)


# ---------------------------------------------------------------------------------------------
# Reading


def test_bom_crlf_and_no_final_newline(src):
    t = read_source(src, "product_category_translation")
    assert t.column_names == ["product_category_name", "product_category_name_english"]
    assert t.to_pylist() == [
        {"product_category_name": "perfumaria", "product_category_name_english": "perfumery"},
        {"product_category_name": "artes", "product_category_name_english": "art"},
    ]
    orders = read_source(src, "orders")
    assert orders.column("order_id").to_pylist() == ["o1", "o2", "o3", "o4", "o5"]
    assert orders.column("order_estimated_delivery_date")[0].as_py() == ts("2017-01-20 00:00:00")


def test_multiline_quoted_comments_and_empty_values(src):
    t = read_source(src, "order_reviews")
    assert t.num_rows == 4
    assert t.column("review_comment_message").to_pylist() == [
        'great, really\nfast "delivery"\nthanks',
        None,
        "NA",
        None,
    ]
    assert t.column("review_creation_date").null_count == 1
    assert t.schema.field("review_score").type == pa.int32()


def test_zip_prefixes_are_five_character_strings(src):
    assert read_source(src, "customers").column("customer_zip_code_prefix").to_pylist() == [
        "01037", "22790", "01037", "99999", "69900", "00123",
    ]  # fmt: skip
    assert read_source(src, "sellers").column("seller_zip_code_prefix").to_pylist() == ["13023", "01001"]
    assert read_source(src, "geolocation").column("geolocation_zip_code_prefix").to_pylist() == ["01037"] * 2 + [
        "22790"
    ]


def test_money_is_exact_decimal(src):
    t = read_source(src, "order_items")
    assert t.schema.field("price").type == pa.decimal128(12, 2)
    assert t.column("price").to_pylist() == [Decimal("10.50"), Decimal("100.00"), Decimal("7.00"), Decimal("1234.56")]
    assert read_source(src, "geolocation").column("geolocation_lat")[2].as_py() == -0.00004367379244740171


# ---------------------------------------------------------------------------------------------
# Dating rules


def test_order_versions(src, lake):
    import_olist(lake, src, progress=False)
    rows = read_lake(lake)["orders"]
    by_order: dict[str, list[dict]] = {}
    for r in rows:
        by_order.setdefault(r["order_id"], []).append(r)

    def trail(oid):
        return [(r["order_status"], r["updated_at"], r["_day"]) for r in by_order[oid]]

    assert trail("o1") == [
        ("created", ts("2017-01-01 10:00:00"), date(2017, 1, 1)),
        ("approved", ts("2017-01-01 10:15:00"), date(2017, 1, 1)),
        ("shipped", ts("2017-01-03 09:00:00"), date(2017, 1, 3)),
        ("delivered", ts("2017-01-08 12:00:00"), date(2017, 1, 8)),
    ]
    approved = by_order["o1"][1]
    assert approved["order_approved_at"] == ts("2017-01-01 10:15:00")
    assert approved["order_delivered_carrier_date"] is None and approved["order_delivered_customer_date"] is None
    assert approved["order_estimated_delivery_date"] == ts("2017-01-20 00:00:00")
    assert trail("o2") == [
        ("created", ts("2017-01-02 08:00:00"), date(2017, 1, 2)),
        ("canceled", ts("2017-01-02 09:00:00"), date(2017, 1, 2)),
    ]
    # carrier date before purchase: moved to the purchase, so it ties with the approval and collapses into it
    assert trail("o3") == [
        ("created", ts("2017-01-02 12:00:00"), date(2017, 1, 2)),
        ("shipped", ts("2017-01-03 12:00:00"), date(2017, 1, 3)),
        ("delivered", ts("2017-01-05 18:30:00"), date(2017, 1, 5)),
    ]
    assert by_order["o3"][1]["order_delivered_carrier_date"] == ts("2017-01-01 10:00:00")
    # delivered before the carrier date: the delivered version keeps the carrier's (later) updated_at
    assert trail("o4") == [
        ("created", ts("2017-01-03 10:00:00"), date(2017, 1, 3)),
        ("delivered", ts("2017-01-06 07:00:00"), date(2017, 1, 6)),
    ]
    assert trail("o5") == [("created", ts("2017-01-04 23:59:59"), date(2017, 1, 4))]
    for r in rows:
        assert r["_batch"] == f"olist-{r['_day']:%Y%m%d}"


def test_last_order_version_is_the_csv_row(src, lake):
    import_olist(lake, src, progress=False)
    rows = read_lake(lake)["orders"]
    latest = {}
    for r in rows:
        if r["order_id"] not in latest or (r["updated_at"], r["_day"]) > (
            latest[r["order_id"]]["updated_at"],
            latest[r["order_id"]]["_day"],
        ):
            latest[r["order_id"]] = r
    csv_rows = read_source(src, "orders").to_pylist()
    for want in csv_rows:
        got = latest[want["order_id"]]
        assert {k: got[k] for k in want} == want
        stamps = [want[c] for c in SOURCES["orders"][1][3:7] if want[c] is not None]
        assert got["updated_at"] == max(stamps)


def test_facts_dimensions_and_reference_days(src, lake):
    import_olist(lake, src, progress=False)
    data = read_lake(lake)
    assert [(r["order_id"], r["order_item_id"], r["_day"]) for r in data["order_items"]] == [
        ("o1", 1, date(2017, 1, 1)),
        ("o1", 2, date(2017, 1, 1)),
        ("o3", 1, date(2017, 1, 2)),
        ("o4", 1, date(2017, 1, 3)),
    ]
    assert {(r["order_id"], r["_day"]) for r in data["order_payments"]} == {
        ("o1", date(2017, 1, 1)), ("o2", date(2017, 1, 2)), ("o3", date(2017, 1, 2)), ("o4", date(2017, 1, 3)),
    }  # fmt: skip
    reviews = {(r["review_id"], r["order_id"]): r for r in data["order_reviews"]}
    assert reviews[("r1", "o1")]["_day"] == date(2017, 1, 9)  # creation day
    assert reviews[("r1", "o3")]["_day"] == date(2017, 1, 6)
    assert reviews[("r2", "o4")]["_day"] == date(2017, 1, 6)  # no creation date: the order's last status day
    assert reviews[("r3", "o5")]["_day"] == date(2017, 1, 4)  # created before its order: with the order
    assert reviews[("r1", "o1")]["review_comment_message"] == 'great, really\nfast "delivery"\nthanks'

    customers = {r["customer_id"]: r for r in data["customers"]}
    assert (customers["c3"]["updated_at"], customers["c3"]["_day"]) == (ts("2017-01-02 12:00:00"), date(2017, 1, 2))
    # never ordered: on the first day, dated by the first purchase
    assert (customers["c6"]["updated_at"], customers["c6"]["_day"]) == (ts("2017-01-01 10:00:00"), date(2017, 1, 1))
    assert customers["c2"]["customer_city"] == "rio de janeiro, centro"
    products = {r["product_id"]: r for r in data["products"]}
    assert products["p1"]["updated_at"] == ts("2017-01-01 10:00:00")  # first sold in o1, again in o3
    assert products["p3"]["_day"] == date(2017, 1, 3)
    assert all(r["list_price"] is None for r in products.values())
    assert products["p2"]["product_category_name"] is None and products["p2"]["product_weight_g"] == 700
    sellers = {r["seller_id"]: r for r in data["sellers"]}
    assert sellers["s2"]["updated_at"] == ts("2017-01-02 12:00:00")
    for entity in ("geolocation", "product_category_translation"):
        assert {(r["_batch"], r["_day"]) for r in data[entity]} == {("olist-reference", date(2017, 1, 1))}
    assert len(data["geolocation"]) == 3 and len(data["product_category_translation"]) == 2


def test_result_counts(src, lake):
    result = import_olist(lake, src, progress=False)
    d = result.to_dict()
    assert d["entities"]["orders"] == {"source_rows": 5, "lake_rows": 12, "files_written": 7, "files_unchanged": 0}
    assert d["entities"]["order_items"]["source_rows"] == d["entities"]["order_items"]["lake_rows"] == 4
    assert (d["first_day"], d["last_day"]) == ("2017-01-01", "2017-01-09")
    assert d["files_written"] == len(lake.list("raw/"))
    result.render()


def test_import_twice_is_a_noop_and_bytes_are_deterministic(src, tmp_path):
    a, b = LocalLake(tmp_path / "a"), LocalLake(tmp_path / "b")
    first = import_olist(a, src, progress=False)
    again = import_olist(a, src, progress=False)
    assert again.written == 0 and again.unchanged == first.written > 0
    import_olist(b, src, progress=False)

    def digest(lake):
        return {f.path: hashlib.sha256(lake.get(f.path)).hexdigest() for f in lake.list("raw/")}

    assert digest(a) == digest(b)


@pytest.mark.parametrize("fmt,ext", [("csv", "csv"), ("json", "jsonl")])
def test_text_formats(src, lake, fmt, ext):
    result = import_olist(lake, src, fmt=fmt, progress=False)
    files = lake.list("raw/")
    assert files and all(f.path.endswith("." + ext) for f in files)
    assert result.lake_rows["orders"] == 12


# ---------------------------------------------------------------------------------------------
# Errors: each names the file and what is wrong


def test_missing_file_names_it_and_the_directory(tmp_path, lake):
    d = write_olist(tmp_path / "olist", order_payments=None)
    with pytest.raises(DataError, match=r"olist_order_payments_dataset\.csv") as e:
        import_olist(lake, d, progress=False)
    assert str(d) in str(e.value)
    assert lake.list("raw/") == []
    with pytest.raises(DataError, match="no such directory"):
        import_olist(lake, tmp_path / "nope", progress=False)


def test_wrong_header_names_missing_and_unexpected_columns(tmp_path, lake):
    bad = FILES["sellers"].replace('"seller_city"', '"seller_town"')
    d = write_olist(tmp_path / "olist", sellers=bad)
    with pytest.raises(DataError) as e:
        import_olist(lake, d, progress=False)
    msg = str(e.value)
    assert "olist_sellers_dataset.csv" in msg and "missing column(s) seller_city" in msg and "'seller_town'" in msg
    fixed_spelling = FILES["products"].replace("lenght", "length")
    d = write_olist(tmp_path / "olist2", products=fixed_spelling)
    with pytest.raises(DataError, match=r"olist_products_dataset\.csv.*missing column\(s\) product_name_lenght"):
        import_olist(lake, d, progress=False)


@pytest.mark.parametrize(
    "entity,old,new,expected",
    [
        ("order_items", "100.00", "1O0.00", r"olist_order_items_dataset\.csv: data row 2 \(line 3\): price = '1O0\.00'"),
        ("order_items", "15.10", "15.105", r"olist_order_items_dataset\.csv: data row 2 \(line 3\): freight_value"),
        ("orders", "2017-01-02 09:00:00", "2017-13-02 09:00:00", r"olist_orders_dataset\.csv: data row 2 \(line 3\): order_approved_at"),
        ("order_reviews", '"r2","o4",1', '"r2","o4",five', r"olist_order_reviews_dataset\.csv: data row 3: review_score"),
        ("customers", "c4,u4,99999", "c4,,99999", r"olist_customers_dataset\.csv: data row 4 \(line 5\): customer_unique_id is empty"),
        ("order_payments", "o2,1,boleto", "o1,1,boleto", r"olist_order_payments_dataset\.csv: order_id='o1', payment_sequential=1 appears 2 times"),
        ("order_items", "o4,1,p3", "o9,1,p3", r"olist_order_items_dataset\.csv: data row 4 \(line 5\): order_id 'o9' is not in olist_orders"),
        ("sellers", "s2,1001,sao paulo,SP", "s2,1001,sao paulo,SP,extra", r"olist_sellers_dataset\.csv: .*Expected 4 columns"),
    ],
)  # fmt: skip
def test_bad_values_are_named(tmp_path, lake, entity, old, new, expected):
    assert old in FILES[entity]
    d = write_olist(tmp_path / "olist", **{entity: FILES[entity].replace(old, new, 1)})
    with pytest.raises(DataError, match=expected):
        import_olist(lake, d, progress=False)


def test_empty_and_non_utf8_files(tmp_path, lake):
    d = write_olist(tmp_path / "olist", sellers="")
    with pytest.raises(DataError, match=r"olist_sellers_dataset\.csv: the file is empty"):
        import_olist(lake, d, progress=False)
    d = write_olist(tmp_path / "olist2")
    (d / SOURCES["sellers"][0]).write_bytes(FILES["sellers"].replace("campinas", "s\xe3o").encode("latin-1"))
    with pytest.raises(DataError, match=r"olist_sellers_dataset\.csv: data row 1 \(line 2\): seller_city = b's\\xe3o'"):
        import_olist(lake, d, progress=False)
    d = write_olist(tmp_path / "olist3", orders=_header("orders") + "\n")
    with pytest.raises(DataError, match=r"olist_orders_dataset\.csv: no orders"):
        import_olist(lake, d, progress=False)
    assert lake.list("raw/") == []


def test_changed_source_after_import_is_refused(src, lake):
    from shopdw.errors import LakeError

    import_olist(lake, src, progress=False)
    write_olist(src, order_payments=FILES["order_payments"].replace("27.60", "27.61"))
    with pytest.raises(LakeError, match=r"raw/order_payments/ingest_date=2017-01-01/olist-20170101\.parquet"):
        import_olist(lake, src, progress=False)


# ---------------------------------------------------------------------------------------------
# The command


def test_cli_import_olist(src, tmp_path):
    runner = CliRunner()
    lake_dir = tmp_path / "cli_lake"
    r = runner.invoke(main, ["import-olist", str(src), "--lake", str(lake_dir), "--no-progress"])
    assert r.exit_code == 0, r.output
    assert "orders" in r.output and "written" in r.output
    assert (lake_dir / "raw/orders/ingest_date=2017-01-01/olist-20170101.parquet").is_file()
    r = runner.invoke(main, ["import-olist", str(src), "--lake", str(lake_dir), "--json"])
    assert r.exit_code == 0, r.output
    again = json.loads(r.output)
    assert again["files_written"] == 0 and again["files_unchanged"] > 0
    assert again["entities"]["orders"]["lake_rows"] == 12
    (src / SOURCES["orders"][0]).unlink()
    r = runner.invoke(main, ["import-olist", str(src), "--lake", str(lake_dir), "--no-progress"])
    assert r.exit_code == 1
    assert "olist_orders_dataset.csv" in r.output and "Traceback" not in r.output
