"""The warehouse-side and load-side checks count exactly the rows they should.

A hand-made warehouse (staging and analytics tables of the models' shape) with planted
defects (some in dimension versions that are no longer current, which must not count), and a small loaded lake with a raw row removed: each check must report exactly the
planted failures, and nothing else.
"""

from __future__ import annotations

from datetime import date

from test_load_support import simulate

from shopdw.config import Settings
from shopdw.lake.store import open_lake
from shopdw.load import load
from shopdw.quality.checks import load_checks
from shopdw.quality.model_checks import model_checks
from shopdw.warehouse import open_warehouse

MODELS = """
create schema staging; create schema analytics;
create table analytics.dim_customer as select * from (values
  ('c1', '01001', 'sao paulo', 'SP', true), ('c2', null, 'rio', 'RJ', true), ('c3', '2000', 'rio', 'RJ', true),
  ('c4', '30100', 'bh', 'XX', true),
  ('c1', null, null, 'ZZ', false), ('c3', '1', 'rio', 'RJ', false)
) t(customer_id, customer_zip_code_prefix, customer_city, customer_state, is_current);
create table analytics.dim_product as select * from (values
  ('p1', 'toys', true), ('p2', null, true), ('p3', null, true), ('p1', null, false), ('p4', 'pets', true)
) t(product_id, product_category_name, is_current);
create schema intermediate;
create table intermediate.int_orders_current as select * from (values ('o1', 'delivered'), ('o2', 'lost'))
  t(order_id, order_status);
create table staging.stg_shop__order_items as select * from (values
  ('o1', 1, 10.00::decimal(12,2), 1.50::decimal(12,2)), ('o1', 2, 5.00::decimal(12,2), 0.00::decimal(12,2)),
  ('o2', 1, 7.25::decimal(12,2), 2.00::decimal(12,2))
) t(order_id, order_item_id, price, freight_value);
create table staging.stg_shop__order_payments as select * from (values (16.50::decimal(12,2)), (9.25::decimal(12,2)))
  t(payment_value);
create table analytics.fct_orders as select * from (values
  ('o1', 'delivered', null::timestamp, timestamp '2025-01-05 10:00', 1, true, 2, 16.50, 16.50, 1),
  ('o2', 'delivered', timestamp '2025-01-04 00:00', timestamp '2025-01-05 10:00', 1, true, 1, 50.00, 9.25, null),
  ('o3', 'shipped', null, timestamp '2025-01-20 00:00', 0, false, 0, 0, 0, 3)
) t(order_id, order_status, delivered_at, purchased_at, payment_count, is_revenue, item_count, paid_value,
    order_value, customer_sk);
create table analytics.fct_order_items as select * from (values
  ('o1', 1, 10.00::decimal(12,2), 1.50::decimal(12,2), 1, 1, 1), ('o1', 2, 0.00::decimal(12,2), 0.00::decimal(12,2), 1, null, 1)
) t(order_id, order_item_id, price, freight_value, customer_sk, product_sk, seller_sk);
create table analytics.fct_reviews as select * from (values ('r1', 'o1', 5), ('r2', 'o2', 6)) t(review_id, order_id, review_score);
create table analytics.fct_payments as select * from (values (16.50::decimal(12,2)), (9.25::decimal(12,2))) t(payment_value);
"""


def test_model_checks_count_exactly_the_planted_defects(tmp_path):
    settings = Settings(duckdb_path=str(tmp_path / "w.duckdb"))
    with open_warehouse(settings) as wh:
        for stmt in MODELS.split(";"):
            if stmt.strip():
                wh.execute(stmt)
        got = {c.check_name: c for c in model_checks(wh, settings, "run-1", date(2025, 1, 10))}
    failed = {name: (c.rows_checked, c.rows_failed) for name, c in got.items()}
    assert failed == {
        "customer_location_present": (4, 1),  # the current versions only: c1's old version lacked them
        "product_category_present": (4, 2),
        "delivered_orders_have_delivery_date": (3, 1),
        "item_price_positive": (2, 1),
        "payments_cover_order": (3, 1),
        "delivery_after_purchase": (3, 1),
        "review_score_1_to_5": (2, 1),
        "order_items_resolve_dimensions": (2, 1),
        "orders_resolve_customer": (3, 1),
        "customer_state_code": (4, 1),
        "customer_zip_format": (4, 1),  # "2000"; the null zip is a completeness failure, not this one
        "order_status_enum": (2, 1),
        "no_future_purchases": (3, 1),  # 2025-01-20 >= run date + 2 days
        "items_price_raw_equals_fact": (1, 1),  # 22.25 in staging vs 10.00 in the fact
        "items_freight_raw_equals_fact": (1, 1),  # 3.50 vs 1.50
        "payments_raw_equal_fact": (1, 0),
        "order_items_facts_match_staging": (3, 1),
    }
    assert got["product_category_present"].sample_keys == "p2, p3"
    assert got["customer_state_code"].sample_keys == "c4"
    assert "22.25" in got["items_price_raw_equals_fact"].detail and "10.00" in got["items_price_raw_equals_fact"].detail


def test_model_checks_name_a_missing_model(tmp_path):
    settings = Settings(duckdb_path=str(tmp_path / "w.duckdb"))
    with open_warehouse(settings) as wh:
        wh.execute("create schema staging")
        got = {c.check_name: c for c in model_checks(wh, settings, "run-1", date(2025, 1, 10))}
    assert (
        got["customer_state_code"].rows_failed == 1
        and "did `shopdw transform` run?" in got["customer_state_code"].detail
    )
    assert "items_price_raw_equals_fact" not in got


def test_ledger_matches_raw_sees_a_missing_row_of_the_scored_day_only(tmp_path):
    lake = open_lake(str(tmp_path / "lake"))
    simulate(lake, days=2, orders_per_day=15)
    settings = Settings(lake=str(tmp_path / "lake"), duckdb_path=str(tmp_path / "w.duckdb"))
    first = load(settings, progress=False)
    assert first.exit_code == 0
    with open_warehouse(settings) as wh:
        path, day = wh.query(
            "select path, ingest_date from meta.load_ledger where entity = 'orders' order by ingest_date desc limit 1"
        )[0]
        wh.execute(
            f"delete from raw.orders where rowid = (select min(rowid) from raw.orders where _source_file = '{path}')"
        )
        other = date.fromordinal(day.toordinal() - 1)

        def check(run_date):
            return {c.check_name: c for c in load_checks(wh, settings, first.run_id, run_date)}["ledger_matches_raw"]

        hit, clean = check(day), check(other)
    assert (hit.rows_failed, hit.sample_keys) == (1, path)
    assert clean.rows_failed == 0 and clean.rows_checked > 0
