"""The dbt project on a real PostgreSQL: the same small history as the DuckDB tests, loaded in
two steps with an incremental `dbt build` (every test) after the second, compared table by
table with a full refresh of everything at once in a second database."""

from __future__ import annotations

import secrets
from decimal import Decimal

import psycopg
import pytest

from rawseed import append_batch, dedup_raw_totals, query, shop_history, sorted_rows, tables_in
from shopdw.config import Secret, Settings
from shopdw.transform import scv, transform

HISTORY = shop_history()


@pytest.fixture(scope="module")
def pg(pg_server_dsn):
    names = [f"dbt_{secrets.token_hex(4)}" for _ in range(2)]
    base = pg_server_dsn.rsplit("/", 1)[0]
    with psycopg.connect(pg_server_dsn, autocommit=True) as con:
        for n in names:
            con.execute(f'create database "{n}"')
    inc, full = (Settings(target="postgres", postgres_dsn=Secret(f"{base}/{n}")) for n in names)
    out = {"inc": inc, "full": full}
    for b in HISTORY[:5]:
        append_batch(inc, b)
    out["run1"] = transform(inc, select="resource_type:model resource_type:seed")
    out["mover4_after_run1"] = query(
        inc,
        "select c.customer_city from analytics.fct_orders o join analytics.dim_customer c using (customer_sk) "
        "where o.order_id = 'o_mover_4'",
    )
    for b in HISTORY[5:]:
        append_batch(inc, b)
    out["run2"] = transform(inc, unit_tests=True)  # incremental; unit tests only on request
    for b in HISTORY:
        append_batch(full, b)
    out["full_run"] = transform(full, full_refresh=True, select=["resource_type:model", "resource_type:seed"])
    yield out
    with psycopg.connect(pg_server_dsn, autocommit=True) as con:
        for n in names:
            con.execute(f'drop database if exists "{n}" with (force)')


def test_dbt_build_passes_on_postgres(pg):
    for key in ("run1", "run2", "full_run"):
        assert pg[key].ok, f"{key}: " + "; ".join(f"{n.name}: {n.message}" for n in pg[key].failed)
    kinds = {n.resource_type for n in pg["run2"].nodes}
    assert kinds == {"model", "seed", "test", "unit_test"}
    # an incremental build: every data test but the staging and intermediate ones (102 here)
    assert sum(1 for n in pg["run2"].nodes if n.resource_type == "test") > 80
    assert pg["run2"].node("assert_mart_daily_orders_matches_daily_sales").status == "pass"


def test_models_land_in_the_three_schemas(pg):
    s = pg["inc"]
    assert "dim_customer" in tables_in(s, "analytics") and "customer_360" in tables_in(s, "analytics")
    assert "int_customer_versions" in tables_in(s, "intermediate")
    views = query(s, "select count(*) from information_schema.views where table_schema = 'staging'")[0][0]
    assert views == 10
    assert not tables_in(s, "public")


def test_incremental_equals_full_refresh_on_postgres(pg):
    for schema in ("intermediate", "analytics"):
        names = tables_in(pg["inc"], schema)
        assert names == tables_in(pg["full"], schema)
        for name in names:
            assert sorted_rows(pg["inc"], schema, name) == sorted_rows(pg["full"], schema, name), f"{schema}.{name}"


def test_the_facts_orders_table_holds_the_rows_of_the_staging_view_on_postgres(pg):
    rows = sorted_rows(pg["inc"], "intermediate", "int_orders_current")
    assert rows and rows == sorted_rows(pg["inc"], "staging", "stg_shop__orders")


def test_late_customer_version_and_money_on_postgres(pg):
    s = pg["inc"]
    assert pg["mover4_after_run1"] == [("rio de janeiro",)]
    cities = query(
        s,
        "select o.order_id, c.customer_city, c.version_number from analytics.fct_orders o "
        "join analytics.dim_customer c using (customer_sk) where o.customer_id = 'c_mover' order by 1",
    )
    assert cities == [
        ("o_mover_0", "sao paulo", 1),
        ("o_mover_2", "rio de janeiro", 2),
        ("o_mover_4", "belo horizonte", 3),
    ]
    expected = dedup_raw_totals(HISTORY)
    assert query(s, "select sum(price), sum(freight_value) from analytics.fct_order_items")[0] == (
        expected["price"], expected["freight_value"],
    )  # fmt: skip
    assert query(s, "select sum(payment_value) from analytics.fct_payments")[0][0] == expected["payment_value"]
    row = query(s, "select item_count, order_value from analytics.fct_orders where order_id = 'o_late'")[0]
    assert row == (2, Decimal("96.00"))


def test_scv_on_postgres_matches_the_hand_computed_figures(pg):
    mover = scv(pg["inc"], "p_mover")
    assert mover is not None
    assert (mover["orders"], mover["items"], mover["lifetime_value"], mover["avg_order_value"]) == (2, 3, 180, 90)
    assert (mover["customer_city"], mover["preferred_payment_type"], mover["days_since_last_order"]) == (
        "belo horizonte", "boleto", 3,
    )  # fmt: skip
    assert scv(pg["inc"], "nobody") is None
