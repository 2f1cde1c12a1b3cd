"""The dbt project on DuckDB, on a small history with changes, late arrivals and duplicates.

Two warehouses get the same raw history: one batch by batch with an incremental dbt run in
between (the last one a `dbt build` with tests: incremental, so the incremental models' tests
check the rows loaded since their watermark and the staging tests are off), the other all at
once with a full refresh. Four dbt invocations in all, shared by every test in the module.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from rawseed import append_batch, dedup_raw_totals, query, shop_history, sorted_rows, tables_in
from shopdw.config import Settings
from shopdw.transform import PROJECT_DIR, build_threads, incremental_since, scv, transform

MODELS_ONLY = ["resource_type:model", "resource_type:seed"]
HISTORY = shop_history()


def _order(settings, order_id):
    rows = query(
        settings,
        "select o.order_status, o.item_count, o.order_value, o.paid_value, c.customer_city, c.version_number "
        "from analytics.fct_orders o left join analytics.dim_customer c using (customer_sk) where o.order_id = %s",
        (order_id,),
    )
    assert len(rows) == 1, f"{order_id}: {rows}"
    return rows[0]


def _created_then_delivered_later() -> str:
    """An order created in the batch of day 4 whose 'delivered' version arrives in day 5's batch."""
    created = {r["order_id"] for r in HISTORY[4].rows["orders"] if r["order_status"] == "created"}
    delivered = {r["order_id"] for r in HISTORY[5].rows["orders"] if r["order_status"] == "delivered"}
    return sorted(created & delivered)[0]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("dbt-duckdb")
    inc = Settings(duckdb_path=str(base / "incremental.duckdb"))
    full = Settings(duckdb_path=str(base / "full.duckdb"))
    status_order = _created_then_delivered_later()
    out = {"inc": inc, "full": full, "status_order": status_order}

    for b in HISTORY[:3]:
        append_batch(inc, b)
    out["run1"] = transform(inc, select=MODELS_ONLY)
    out["late_after_run1"] = _order(inc, "o_late")
    for b in HISTORY[3:5]:
        append_batch(inc, b)
    out["run2"] = transform(inc, select=MODELS_ONLY)
    out["late_after_run2"] = _order(inc, "o_late")
    out["mover4_after_run2"] = _order(inc, "o_mover_4")
    out["status_after_run2"] = _order(inc, status_order)
    for b in HISTORY[5:]:
        append_batch(inc, b)
    out["since_run3"] = incremental_since(inc)
    out["run3"] = transform(inc)  # incremental, with tests and unit tests

    for b in HISTORY:
        append_batch(full, b)
    out["full_run"] = transform(full, full_refresh=True, select=MODELS_ONLY)
    out["full_wal_after_run"] = Path(full.duckdb_path + ".wal").exists()
    out["full_opened_by_another_process"] = _open_in_another_process(full.duckdb_path)
    return out


def _open_in_another_process(path: str) -> subprocess.CompletedProcess:
    code = "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print(c.sql('select count(*) from analytics.customer_360').fetchall()[0][0])"
    return subprocess.run([sys.executable, "-c", code, path], capture_output=True, text=True, timeout=120)


def test_every_run_succeeds_and_the_last_one_ran_its_tests(built):
    for key in ("run1", "run2", "run3", "full_run"):
        r = built[key]
        assert r.ok, f"{key}: " + "; ".join(f"{n.name}: {n.message}" for n in r.failed)
    counts = {}
    for n in built["run3"].nodes:
        counts[n.resource_type] = counts.get(n.resource_type, 0) + 1
    assert counts["model"] == len(list(Path(PROJECT_DIR, "models").rglob("*.sql"))) and counts["seed"] == 1
    # incremental: every test but the staging ones (they rank all of raw), the intermediate ones
    # (their rules are checked on the dims and customer_360) and the unit tests (they run on
    # full builds: test_dbt_generated, test_dbt_olist, test_transform_cli)
    assert counts["test"] > 80 and "unit_test" not in counts
    tested = {n.model for n in built["run3"].nodes if n.resource_type == "test"}
    marts = {f.stem for f in Path(PROJECT_DIR, "models", "marts").rglob("*.sql")}
    assert marts <= tested, marts - tested
    assert not [m for m in tested if m and m.startswith(("stg_shop__", "int_"))]
    assert built["run3"].node(
        "not_null_columns_fct_orders_order_id__customer_sk__customer_id__order_status__order_date"
    )
    assert all(n.status == "pass" for n in built["run3"].nodes if n.resource_type in ("test", "unit_test"))
    # tests name the model they check (the quality gate files them under it)
    assert built["run3"].node("unique_fct_orders_order_id").model == "fct_orders"
    d = built["run3"].to_dict()
    assert d["ok"] and d["counts"]["pass"] == counts["test"]


def test_full_builds_run_one_query_at_a_time_under_a_memory_limit_and_incremental_ones_on_dbt_threads(built):
    # two large DuckDB queries at once share one buffer pool and could run out of it (the 1M full
    # build); DuckDB parallelizes each query itself. The thread counts are dbt's own record.
    assert built["inc"].duckdb_memory_limit and built["inc"].dbt_threads == 2
    assert built["run1"].threads == 1  # the first build: every model built in full
    assert built["full_run"].threads == 1
    assert built["run3"].threads == 2  # incremental
    assert built["run3"].to_dict()["threads"] == 2
    unlimited = Settings(duckdb_path="x.duckdb", duckdb_memory_limit="")
    assert build_threads(unlimited, incremental=False) == 2
    assert build_threads(Settings(target="postgres"), incremental=False) == 2


def test_dbt_connects_with_the_memory_limit_and_unordered_inserts(tmp_path):
    # the two DuckDB settings reach dbt's connection once, at connect time (config_options), not as
    # a SET on every node's cursor; a node (here a `dbt show` query) still sees both
    from shopdw.transform import _dbt_env, _invoke, _release_duckdb, profile_for

    settings = Settings(duckdb_path=str(tmp_path / "limited.duckdb"), duckdb_memory_limit="300MiB")
    out = profile_for(settings)[0]["shopdw"]["outputs"]["duckdb"]
    assert "settings" not in out
    sql = "select current_setting('memory_limit') as m, current_setting('preserve_insertion_order') as p"
    try:
        with _dbt_env(settings) as (_, flags):
            res = _invoke(["show", "--inline", sql, "--log-level", "none"] + flags)
    finally:
        _release_duckdb()
    assert res.success, res.exception
    ((limit, ordered),) = [tuple(r) for r in res.result.results[0].agate_table.rows]
    assert limit in ("300.0 MiB", "314.5 MB") and ordered is False, (limit, ordered)


def test_a_build_closes_the_warehouse_with_its_writes_checkpointed(built):
    # dbt-duckdb keeps its database open after dbt returns; transform() closes it, so the file is
    # free for other processes and holds every write (no write-ahead log left to replay)
    assert not built["full_wal_after_run"]
    opened = built["full_opened_by_another_process"]
    assert opened.returncode == 0, opened.stderr
    assert int(opened.stdout) > 0


def test_late_item_changes_its_orders_totals_on_the_next_run(built):
    # o_late's second item and payment arrive two batches late (see rawseed)
    assert [r["order_item_id"] for r in HISTORY[3].rows["order_items"] if r["order_id"] == "o_late"] == [2]
    _, items1, value1, paid1, *_ = built["late_after_run1"]
    _, items2, value2, paid2, *_ = built["late_after_run2"]
    assert (items1, value1, paid1) == (1, Decimal("66.00"), Decimal("66.00"))
    assert (items2, value2, paid2) == (2, Decimal("96.00"), Decimal("96.00"))


def test_status_change_rewrites_the_order(built):
    assert built["status_after_run2"][0] in ("created", "shipped")
    assert _order(built["inc"], built["status_order"])[0] == "delivered"


def test_mover_has_three_versions_and_each_order_joins_the_one_valid_at_purchase(built):
    for s in (built["inc"], built["full"]):
        versions = query(
            s,
            "select customer_city, valid_from, valid_to, is_current, version_number from analytics.dim_customer "
            "where customer_id = 'c_mover' order by valid_from",
        )
        assert [(v[0], v[4], v[3]) for v in versions] == [
            ("sao paulo", 1, False), ("rio de janeiro", 2, False), ("belo horizonte", 3, True),
        ]  # fmt: skip
        assert versions[0][2] == versions[1][1] and versions[1][2] == versions[2][1]
        assert versions[1][1] == datetime(2018, 3, 2, 8) and versions[2][1] == datetime(2018, 3, 4, 8)
        assert _order(s, "o_mover_0")[4:] == ("sao paulo", 1)
        assert _order(s, "o_mover_2")[4:] == ("rio de janeiro", 2)
        assert _order(s, "o_mover_4")[4:] == ("belo horizonte", 3)
        items = query(
            s,
            "select i.order_id, c.customer_city from analytics.fct_order_items i "
            "join analytics.dim_customer c using (customer_sk) where i.customer_id = 'c_mover' order by 1",
        )
        assert [c for _, c in items] == ["sao paulo", "rio de janeiro", "rio de janeiro", "belo horizonte"]
    # the third version arrived after the day-4 order was loaded: run 2 joined version 2,
    # the next incremental run moved the order to version 3 (where it belongs in time)
    assert built["mover4_after_run2"][4:] == ("rio de janeiro", 2)


def test_facts_carry_the_state_of_the_customer_version_valid_at_purchase(built):
    for s in (built["inc"], built["full"]):
        for fact in ("fct_orders", "fct_order_items"):
            wrong = query(
                s,
                f"select count(*) from analytics.{fact} f left join analytics.dim_customer c using (customer_sk) "
                "where f.customer_state is distinct from c.customer_state",
            )
            assert wrong == [(0,)], fact
        states = query(s, "select customer_state from analytics.fct_orders where customer_id = 'c_mover' order by 1")
        assert len({st for (st,) in states}) == 3, states  # the mover's three versions, three states


def test_each_incremental_models_yaml_lists_exactly_the_columns_it_builds(built):
    """An incremental table whose columns differ from its YAML's list is dropped before a build
    (a table from another version of the project), so the lists must be exact."""
    from shopdw.transform import INCREMENTAL_MODELS, documented_columns

    for s in (built["inc"], built["full"]):
        for schema, table in INCREMENTAL_MODELS:
            cols = query(
                s, "select column_name from information_schema.columns where table_schema = %s and table_name = %s",
                (schema, table),
            )  # fmt: skip
            assert {c for (c,) in cols} == documented_columns()[table], table


def test_product_change_is_a_new_version_and_items_join_the_price_valid_then(built):
    s = built["inc"]
    versions = query(
        s,
        "select list_price, product_category, version_number from analytics.dim_product "
        "where product_id = 'prod_0' order by version_number",
    )
    assert versions == [(Decimal("50.90"), "health_beauty", 1), (Decimal("59.90"), "sports_leisure", 2)]
    cats = query(
        s,
        "select i.order_date < date '2018-03-03' as early, min(p.list_price), max(p.list_price) "
        "from analytics.fct_order_items i join analytics.dim_product p using (product_sk) "
        "where i.product_id = 'prod_0' group by 1 order by 1",
    )
    assert cats == [(False, Decimal("59.90"), Decimal("59.90")), (True, Decimal("50.90"), Decimal("50.90"))]


def test_incremental_runs_equal_a_full_refresh_table_by_table(built):
    inc, full = built["inc"], built["full"]
    for schema in ("staging", "intermediate", "analytics"):  # staging: its views and the seed
        names = tables_in(inc, schema)
        assert names == tables_in(full, schema)
        assert len(names) >= {"staging": 11, "intermediate": 5, "analytics": 15}[schema]
        for name in names:
            assert sorted_rows(inc, schema, name) == sorted_rows(full, schema, name), f"{schema}.{name} differs"


def test_the_facts_orders_table_holds_the_rows_of_the_staging_view_after_incremental_runs(built):
    """int_orders_current (incremental, read by the facts) = stg_shop__orders (the view over raw)."""
    s = built["inc"]
    rows = sorted_rows(s, "intermediate", "int_orders_current")
    assert rows and rows == sorted_rows(s, "staging", "stg_shop__orders")


def test_money_totals_equal_the_deduplicated_raw_totals_to_the_cent(built):
    expected = dedup_raw_totals(HISTORY)
    for s in (built["inc"], built["full"]):
        price, freight, n = query(s, "select sum(price), sum(freight_value), count(*) from analytics.fct_order_items")[
            0
        ]
        assert (price, freight, Decimal(n)) == (expected["price"], expected["freight_value"], expected["items"])
        assert query(s, "select sum(payment_value) from analytics.fct_payments")[0][0] == expected["payment_value"]
        assert query(s, "select sum(items_value), sum(freight_value) from analytics.fct_orders")[0] == (price, freight)
        # raw really holds duplicates the facts do not count twice
        raw_rows = query(s, "select count(*) from raw.customers")[0][0]
        assert raw_rows > query(s, "select count(*) from staging.stg_shop__customers")[0][0]
    # the marts' revenue is the facts' price over revenue orders
    s = built["inc"]
    rev = query(
        s,
        "select sum(i.price) from analytics.fct_order_items i join analytics.fct_orders o using (order_id) "
        "where o.order_status not in ('canceled', 'unavailable')",
    )[0][0]
    assert query(s, "select sum(revenue) from analytics.mart_daily_sales")[0][0] == rev
    assert query(s, "select sum(revenue), sum(revenue_share) from analytics.mart_category_performance")[0][0] == rev


def test_scv_of_hand_computed_customers(built):
    s = built["inc"]
    mover = scv(s, "p_mover")
    assert mover is not None
    # orders o_mover_0 (100.00 + 10.00 freight) and o_mover_2 (50.00 + 30.00, freight 5.00 + 3.00);
    # o_mover_4 was canceled and does not count
    expect = {
        "customer_zip_code_prefix": "30110", "customer_city": "belo horizonte", "customer_state": "MG",
        "orders": 2, "items": 3, "lifetime_value": 180, "avg_order_value": 90, "freight_paid": 18,
        "favourite_category": "computers_accessories",  # prod_1 twice
        "preferred_payment_type": "boleto",  # one boleto (110.00) and one voucher (88.00): value breaks the tie
        "avg_installments": 2.5, "avg_review_score": 2.5, "late_delivery_rate": 0,
        "days_since_last_order": 3,  # last revenue order 2018-03-03, newest order 2018-03-06
        "web_sessions": 3, "converted_sessions": 3, "conversion_rate": 1,
        "last_order_at": "2018-03-03T12:09:00",
    }  # fmt: skip
    assert {k: mover[k] for k in expect} == expect
    twice = scv(s, "p_twice")
    b_row = next(r for r in HISTORY[3].rows["customers"] if r["customer_id"] == "c_twice_b")
    assert (twice["orders"], twice["lifetime_value"], twice["freight_paid"]) == (2, 120, 12)
    assert twice["late_delivery_rate"] == 0.5  # c_twice_a's order was delivered 4 days late
    assert twice["favourite_category"] == "bed_bath_table" and twice["frequency_score"] == 2
    assert twice["customer_state"] == b_row["customer_state"]  # the newest account's address
    assert scv(s, "nobody") is None
    segments = {r[0] for r in query(s, "select distinct rfm_segment from analytics.customer_360")}
    assert segments <= {"champions", "loyal", "potential_loyalist", "new", "at_risk", "hibernating", "lost"}
    assert len(segments) >= 4
    top = query(s, "select rank, customer_unique_id, lifetime_value from analytics.mart_top_customers order by rank")
    assert [r[0] for r in top] == list(range(1, len(top) + 1))
    assert all(a[2] >= b[2] for a, b in zip(top, top[1:]))


def test_dim_date_and_geography(built):
    s = built["inc"]
    first, last, n, weekend = query(
        s,
        "select min(date_day), max(date_day), count(*), sum(case when is_weekend then 1 else 0 end) from analytics.dim_date",
    )[0]
    assert first.isoformat() == "2018-03-01" and n == (last - first).days + 1 and weekend >= 2
    geo = query(s, "select zip_code_prefix, city, state, region from analytics.dim_geography order by 1")
    # 'SAO PAULO' and 'são paulo' are one city; one row per prefix
    assert geo[0] == ("01001", "sao paulo", "SP", "Sudeste")
    assert len({g[0] for g in geo}) == len(geo) == 6


def test_incremental_tests_check_only_rows_loaded_since_the_watermark(built):
    """An incremental run's tests of an incremental model skip the rows loaded before its
    watermark; a full refresh tests every row (here the same test, on a row broken on purpose)."""
    s, since = built["inc"], built["since_run3"]["fct_orders"]
    # run 2 held batches up to 2018-03-05 (stamped 23:30): the newest row it held
    assert since == datetime(2018, 3, 5, 23, 30)
    old = query(s, "select order_id from analytics.fct_orders where _loaded_at <= %s order by 1 limit 1", (since,))
    assert old
    query(s, "update analytics.fct_orders set order_status = 'lost_in_transit' where order_id = %s", (old[0][0],))
    test = "accepted_values_fct_orders_order_status__created__approved__invoiced__processing__shipped__delivered__canceled__unavailable"
    try:
        incremental = transform(s, select=[test])
        full = transform(s, select=[test], full_refresh=True)
    finally:  # leave the shared warehouse as the other tests expect it
        query(s, "update analytics.fct_orders set order_status = %s where order_id = %s",
              (query(s, "select order_status from staging.stg_shop__orders where order_id = %s", (old[0][0],))[0][0],
               old[0][0]))  # fmt: skip
    assert [(n.name, n.status) for n in incremental.nodes] == [(test, "pass")]
    assert [(n.name, n.status, n.failures) for n in full.nodes] == [(test, "fail", 1)]


def test_a_models_ranges_are_one_test_that_fails_on_each_row_out_of_range_and_names_its_columns(built):
    """customer_360's ten ranges are one accepted_ranges test (one dbt node): it passes on the
    built table, fails with one failure per broken row, and each failing row names the columns
    out of range (here two in one row, one in another)."""
    from shopdw.transform import _dbt_env, _invoke, _release_duckdb

    s, test = built["inc"], "customer_360_accepted_ranges"
    assert built["run3"].node(test).status == "pass" and built["run3"].node(test).model == "customer_360"
    assert not [n for n in built["run3"].nodes if n.name.startswith("accepted_range_customer_360")]
    cols = "recency_score, days_since_last_order, conversion_rate"
    people = query(s, f"select customer_unique_id, {cols} from analytics.customer_360 order by 1 limit 2")
    a, b = people[0][0], people[1][0]
    query(
        s,
        "update analytics.customer_360 set recency_score = 6, days_since_last_order = -1 where customer_unique_id = %s",
        (a,),
    )
    query(s, "update analytics.customer_360 set conversion_rate = 1.5 where customer_unique_id = %s", (b,))
    try:
        result = transform(s, select=[test])
        with _dbt_env(s) as (_, flags):
            shown = _invoke(["show", "--select", test, "--log-level", "none", "--limit", "10"] + flags)
        _release_duckdb()
    finally:  # leave the shared warehouse as the other tests expect it
        for uid, recency, days, rate in people:
            query(s, "update analytics.customer_360 set recency_score = %s, days_since_last_order = %s, "
                     "conversion_rate = %s where customer_unique_id = %s", (recency, days, rate, uid))  # fmt: skip
    assert [(n.name, n.status, n.failures) for n in result.nodes] == [(test, "fail", 2)]
    assert shown.success, shown.exception
    table = shown.result.results[0].agate_table
    named = sorted((r["customer_unique_id"], r["failed_columns"].split()) for r in table.rows)
    assert named == sorted([(a, ["days_since_last_order", "recency_score"]), (b, ["conversion_rate"])])


def test_rows_stamped_at_the_watermark_are_not_read_again(built):
    """The last load run's rows (stamped with the newest _loaded_at a model holds) were all
    committed before the build that saw them (transform holds the run lock): an incremental
    build with nothing new reads none of them. A lookback that re-read them would re-read a
    whole backfill loaded in one run."""
    s = built["inc"]
    newest = query(s, "select max(_loaded_at) from analytics.fct_orders")[0][0]
    order_id = query(s, "select min(order_id) from analytics.fct_orders where _loaded_at = %s", (newest,))[0][0]
    status = query(s, "select order_status from analytics.fct_orders where order_id = %s", (order_id,))[0][0]
    query(s, "update analytics.fct_orders set order_status = 'lost_in_transit' where order_id = %s", (order_id,))
    try:
        r = transform(s, select=["fct_orders"])
        after = query(s, "select order_status from analytics.fct_orders where order_id = %s", (order_id,))[0][0]
    finally:
        query(s, "update analytics.fct_orders set order_status = %s where order_id = %s", (status, order_id))
    assert r.ok and r.node("fct_orders").status == "success"
    assert after == "lost_in_transit"  # the row was not rewritten: its raw rows were not read


def test_duckdb_incremental_sql_carries_each_models_watermark_as_a_constant(built):
    """On DuckDB an incremental model's SQL holds its watermark (the newest _loaded_at it holds,
    to the microsecond) as a constant, not a subquery DuckDB cannot push into the raw scans."""
    import re

    from shopdw.transform import _dbt_env, _invoke

    s = built["inc"]
    with _dbt_env(s) as (tmp, flags):
        res = _invoke(["compile", "--select", "fct_orders", "dim_customer", *flags])
        assert res.success, res.exception
        compiled = {Path(f).stem: f.read_text() for f in (tmp / "target" / "compiled").rglob("*.sql")}
    for schema, model in (("analytics", "fct_orders"), ("analytics", "dim_customer")):
        sql = compiled[model]
        assert "coalesce(max(_loaded_at)" not in sql, model  # no watermark subquery left
        stamps = set(re.findall(r"make_timestamp\(cast\((-?\d+) as bigint\)\)", sql))
        newest = query(s, f"select epoch_us(max(_loaded_at)) from {schema}.{model}")[0][0]
        assert stamps == {str(newest)}, (model, stamps, newest)


def test_incremental_build_leaves_out_the_unchanged_views_and_seed_and_rebuilds_a_missing_one(built):
    """A complete build records the digest of the project it was made from and the views and seed
    it made (meta.dbt_build_state). The next incremental build with the same project leaves those
    nodes out (nothing in them comes from raw); a missing view, other settings (another digest)
    or a --select build in between make a build recreate them all."""
    s = built["inc"]
    views = {"stg_shop__order_items", "stg_shop__customers", "int_customer_rfm"}

    def reference_nodes(r):
        return {n.name for n in r.nodes if n.resource_type == "seed" or n.name in views}

    assert transform(s).ok  # complete; the tests before may have run --select builds, which forget the state
    again = transform(s)
    assert again.ok and not reference_nodes(again), reference_nodes(again)
    assert again.node("fct_orders") and again.node("customer_360")  # the models from raw still run
    assert {"stg_shop__order_items", "br_national_holidays"} <= set(tables_in(s, "staging"))

    query(s, "drop view staging.stg_shop__order_items")
    rebuilt = transform(s)
    assert rebuilt.ok and reference_nodes(rebuilt) == views | {"br_national_holidays"}
    assert "stg_shop__order_items" in tables_in(s, "staging")

    other = Settings(duckdb_path=s.duckdb_path, dbt_threads=s.dbt_threads + 1)  # another profile: another digest
    assert reference_nodes(transform(other)) == views | {"br_national_holidays"}
    assert not reference_nodes(transform(other))

    # a --select build (which may recreate some of them) forgets the state: the next build makes them all
    assert transform(other, select=["stg_shop__order_items"]).ok
    assert reference_nodes(transform(other)) == views | {"br_national_holidays"}
