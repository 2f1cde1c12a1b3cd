"""The full dbt build (every model, test and unit test) on the real Olist data: imported into a
lake by the Olist importer, loaded by the loader into DuckDB, one `dbt build`."""

from __future__ import annotations

import csv
from decimal import Decimal

import pytest

from rawseed import query
from shopdw.config import Settings
from shopdw.transform import parse_project, scv, transform

pytestmark = pytest.mark.timeout(3600)  # import + load + build of the real data: minutes, more on a busy machine


@pytest.fixture(scope="module")
def olist_built(olist_dir, tmp_path_factory):
    from shopdw.lake.store import open_lake
    from shopdw.load import load
    from shopdw.sources.olist import import_olist

    base = tmp_path_factory.mktemp("olist-dbt")
    settings = Settings(lake=str(base / "lake"), duckdb_path=str(base / "olist.duckdb"))
    import_olist(open_lake(settings.lake), olist_dir, progress=False)
    loaded = load(settings, progress=False)
    assert loaded.exit_code == 0, loaded.to_dict()
    return settings, transform(settings)


def _csv_sum(path, *columns):
    totals = [Decimal("0")] * len(columns)
    n = 0
    with open(path, newline="", encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            n += 1
            for i, c in enumerate(columns):
                totals[i] += Decimal(row[c])
    return n, totals


def test_full_build_passes_on_olist(olist_built):
    settings, result = olist_built
    assert result.ok, "; ".join(f"{n.name}: {n.message}" for n in result.failed)
    # a full build runs every data test of the project (150 in session 14)
    tests = sum(1 for n in parse_project(settings).nodes.values() if n.resource_type == "test")
    assert sum(1 for n in result.nodes if n.resource_type == "test") == tests > 100


def test_olist_facts_reconcile_with_the_csvs_to_the_cent(olist_built, olist_dir):
    settings, _ = olist_built
    n_items, (price, freight) = _csv_sum(olist_dir / "olist_order_items_dataset.csv", "price", "freight_value")
    n_pay, (paid,) = _csv_sum(olist_dir / "olist_order_payments_dataset.csv", "payment_value")
    assert query(settings, "select count(*), sum(price), sum(freight_value) from analytics.fct_order_items")[0] == (
        n_items, price, freight,
    )  # fmt: skip
    assert query(settings, "select count(*), sum(payment_value) from analytics.fct_payments")[0] == (n_pay, paid)
    with open(olist_dir / "olist_orders_dataset.csv", encoding="utf-8-sig") as fh:
        n_orders = sum(1 for _ in csv.DictReader(fh))
    with open(olist_dir / "olist_customers_dataset.csv", encoding="utf-8-sig") as fh:
        people = {r["customer_unique_id"] for r in csv.DictReader(fh)}
    assert query(settings, "select count(*) from analytics.fct_orders")[0][0] == n_orders
    assert query(settings, "select count(*) from analytics.customer_360")[0][0] == len(people)


def test_olist_marts_and_scv(olist_built):
    settings, _ = olist_built
    states = query(settings, "select count(distinct customer_state) from analytics.mart_daily_sales")[0][0]
    assert states == 27
    share = query(settings, "select sum(revenue_share) from analytics.mart_category_performance")[0][0]
    assert abs(share - 1) < Decimal("0.01")
    assert query(settings, "select count(*) from analytics.mart_top_customers")[0][0] == 100
    # mart_daily_orders counts each sales order once (Olist: 98,199; mart_daily_sales' per-category counts add to 99,002)
    orders, revenue = query(settings, "select sum(orders), sum(revenue) from analytics.mart_daily_orders")[0]
    distinct, items_value = query(
        settings,
        "select count(distinct order_id), sum(items_value) from analytics.fct_orders "
        "where order_status not in ('canceled', 'unavailable') and item_count > 0",
    )[0]
    assert orders == distinct and 98_000 < orders < 98_400 and revenue == items_value
    assert query(settings, "select sum(revenue) from analytics.mart_daily_sales")[0][0] == revenue
    top = query(settings, "select customer_unique_id, lifetime_value from analytics.mart_top_customers where rank = 1")[
        0
    ]
    row = scv(settings, top[0])
    assert row["lifetime_value"] == float(top[1]) and row["orders"] >= 1
    assert row["rfm_segment"] in {"champions", "loyal", "potential_loyalist", "new", "at_risk", "hibernating", "lost"}
    holidays = query(settings, "select count(*) from analytics.dim_date where is_holiday and year = 2017")[0][0]
    assert holidays == 12  # 8 fixed + Carnival Monday/Tuesday + Good Friday + Corpus Christi
    assert query(settings, "select count(*) from analytics.dim_geography where region is null")[0][0] == 0
