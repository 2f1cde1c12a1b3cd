"""A small hand-made warehouse with the marts and meta tables shaped exactly as the mart contract says.

`make_warehouse(path, meta="full"|"empty"|"none")` writes it to a DuckDB file; the dashboard,
export and CLI tests build on it. Every figure is chosen so the expected totals are known
by hand (see EXPECTED) and so formatting meets thousands separators and odd text.
The tests in this file check the fixture itself agrees with the contract.
"""

from __future__ import annotations

from decimal import Decimal

import duckdb

# (order_date, customer_state, product_category, revenue, freight_value, orders, items)
DAILY = [
    ("2024-01-30", "SP", "bed_bath_table", "1234567.89", "100.00", 3, 4),
    ("2024-01-30", "RJ", "health_beauty", "250.50", "20.10", 2, 2),
    ("2024-01-31", "SP", "health_beauty", "99.99", "10.00", 1, 1),
    ("2024-02-01", "MG", "unknown", "500.00", "50.00", 1, 3),
    ("2024-02-03", "SP", "bed_bath_table", "1000.01", "30.00", 2, 2),
    # one of the two bed_bath_table orders above also holds a health_beauty item: 2 orders that day, not 3
    ("2024-02-03", "SP", "health_beauty", "0.99", "1.00", 1, 1),
    ("2024-02-05", "RJ", "bed_bath_table", "0.50", "5.00", 1, 1),
]
# mart_daily_orders: (order_date, customer_state, orders, revenue, freight_value, items), each order once
DAILY_ORDERS = [
    ("2024-01-30", "RJ", 2, "250.50", "20.10", 2),
    ("2024-01-30", "SP", 3, "1234567.89", "100.00", 4),
    ("2024-01-31", "SP", 1, "99.99", "10.00", 1),
    ("2024-02-01", "MG", 1, "500.00", "50.00", 3),
    ("2024-02-03", "SP", 2, "1001.00", "31.00", 3),
    ("2024-02-05", "RJ", 1, "0.50", "5.00", 1),
]
EXPECTED = {
    "revenue": Decimal("1236419.88"),
    "revenue_text": "R$ 1.236.419,88",
    "orders": 10,  # distinct; adding up mart_daily_sales.orders gives 11
    "orders_summed_over_categories": 11,
    "items": 14,
    "freight": Decimal("216.10"),
    "sp_revenue": Decimal("1235668.88"),
    "customers": 8,
    "late_rate_all": 3 / 9,
}

# (customer_state, purchase_month, delivered, on_time, late, late_rate, avg_delivery_days)
DELIVERY = [
    ("SP", "2024-01-01", 4, 3, 1, "0.2500", "8.50"),
    ("RJ", "2024-01-01", 2, 2, 0, "0.0000", "5.00"),
    ("SP", "2024-02-01", 2, 1, 1, "0.5000", "12.00"),
    ("MG", "2024-02-01", 1, 0, 1, "1.0000", "20.00"),
]

# customer_unique_id, zip, city, state, orders, items, ltv, review, segment, days_since_last_order
CUSTOMERS = [
    ("c0000000000000000000000000000001", "01001", "sao paulo", "SP", 3, 4, "1234567.89", "4.67", "champions", 0),
    ("c0000000000000000000000000000002", "20010", "rio de janeiro", "RJ", 2, 2, "250.50", "5.00", "loyal", 6),
    ("c0000000000000000000000000000003", "01002", "sao paulo", "SP", 1, 1, "99.99", "1.00", "potential_loyalist", 5),
    ("c0000000000000000000000000000004", "30110", "belo horizonte", "MG", 1, 3, "500.00", "3.00", "new", 4),
    ("c0000000000000000000000000000005", "13010", "campinas", "SP", 2, 3, "1001.00", "2.00", "at_risk", 2),
    ("c0000000000000000000000000000006", "24020", "niterói", "RJ", 1, 1, "0.50", None, "hibernating", 0),
    (
        "c0000000000000000000000000000007",
        "38400",
        "d'oeste <b>&amp;</b> </script>",
        "MG",
        0,
        0,
        "0.00",
        None,
        "lost",
        6,
    ),
    ("c0000000000000000000000000000008", "01003", "são paulo", "SP", 0, 0, "0.00", "4.20", "lost", 6),
]


def _mk_daily(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "create table analytics.mart_daily_sales (order_date date, customer_state varchar, product_category varchar, "
        "revenue decimal(14,2), freight_value decimal(14,2), orders integer, items integer)"
    )
    con.executemany("insert into analytics.mart_daily_sales values (?, ?, ?, ?, ?, ?, ?)", DAILY)
    con.execute(
        "create table analytics.mart_daily_orders (order_date date, customer_state varchar, orders integer, "
        "revenue decimal(14,2), freight_value decimal(14,2), items integer)"
    )
    con.executemany("insert into analytics.mart_daily_orders values (?, ?, ?, ?, ?, ?)", DAILY_ORDERS)
    con.execute(
        """
        create table analytics.mart_category_performance as
        with c as (
            select product_category, sum(revenue) as revenue, sum(orders)::integer as orders,
                   sum(items)::integer as items
            from analytics.mart_daily_sales group by product_category
        )
        select product_category, cast(revenue as decimal(14,2)) as revenue, orders, items,
               cast(revenue / items as decimal(14,2)) as avg_item_price,
               cast(case product_category when 'bed_bath_table' then 4.5 when 'health_beauty' then 3.25
                    else null end as decimal(4,2)) as avg_review_score,
               cast(revenue / sum(revenue) over () as decimal(8,6)) as revenue_share
        from c
        """
    )


def _mk_delivery(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "create table analytics.mart_delivery_performance (customer_state varchar, purchase_month date, "
        "delivered_orders integer, on_time_orders integer, late_orders integer, late_rate decimal(6,4), "
        "avg_delivery_days decimal(8,2))"
    )
    con.executemany("insert into analytics.mart_delivery_performance values (?, ?, ?, ?, ?, ?, ?)", DELIVERY)


def _mk_customers(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        create table analytics.customer_360 (
            customer_unique_id varchar, customer_zip_code_prefix varchar, customer_city varchar,
            customer_state varchar, first_order_at timestamp, last_order_at timestamp, orders integer,
            items integer, lifetime_value decimal(14,2), avg_order_value decimal(14,2), freight_paid decimal(14,2),
            favourite_category varchar, preferred_payment_type varchar, avg_installments double,
            avg_review_score decimal(4,2), late_delivery_rate double, days_since_last_order integer,
            recency_score integer, frequency_score integer, monetary_score integer, rfm_segment varchar,
            web_sessions integer, converted_sessions integer, conversion_rate double)
        """
    )
    for i, (cid, zipc, city, st, orders, items, ltv, review, seg, dsl) in enumerate(CUSTOMERS):
        aov = (Decimal(ltv) / orders).quantize(Decimal("0.01")) if orders else None
        last = None if not orders else f"2024-02-0{5 - min(dsl, 4)} 10:00:00"
        con.execute(
            "insert into analytics.customer_360 values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "?, ?, ?)",
            [cid, zipc, city, st, last and "2024-01-30 09:00:00", last, orders, items, ltv, aov,
             "10.00" if orders else "0.00", "bed_bath_table" if orders else None, "credit_card" if orders else None,
             2.0 if orders else None, review, 0.0 if orders else None, dsl, 5 - i % 5, 1 + i % 5, 1 + (i + 2) % 5,
             seg, 3, 1 if orders else 0, 1 / 3 if orders else 0.0],
        )  # fmt: skip
    con.execute(
        """
        create table analytics.mart_top_customers as
        select cast(row_number() over (order by lifetime_value desc, customer_unique_id) as integer) as rank,
               customer_unique_id, customer_city, customer_state, orders, lifetime_value, avg_order_value,
               avg_review_score, rfm_segment, last_order_at
        from analytics.customer_360
        order by rank limit 100
        """
    )


def _mk_meta(con: duckdb.DuckDBPyConnection, meta: str) -> None:
    con.execute("create schema meta")
    con.execute(
        "create table meta.dq_results (run_id varchar, check_name varchar, dimension varchar, table_name varchar, "
        "rows_checked bigint, rows_failed bigint, score double, threshold double, blocking boolean, status varchar, "
        "sample_keys varchar, checked_at timestamp)"
    )
    con.execute(
        "create table meta.runs (run_id varchar, step varchar, started_at timestamp, ended_at timestamp, "
        "status varchar, rows bigint, error varchar)"
    )
    con.execute(
        "create table meta.load_ledger (path varchar, entity varchar, ingest_date date, rows_in_file bigint, "
        "rows_loaded bigint, rows_quarantined bigint, status varchar, reason varchar, loaded_at timestamp, "
        "run_id varchar)"
    )
    con.execute(
        "create table meta.quarantine (entity varchar, source_file varchar, row_number bigint, reason varchar, "
        "row varchar, run_id varchar, quarantined_at timestamp)"
    )
    if meta == "empty":
        return
    t1, t2 = "2024-02-05 06:00:00", "2024-02-06 06:00:00"
    con.executemany(
        "insert into meta.dq_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            ("run-1", "orders_not_null", "completeness", "raw.orders", 10, 5, 50.0, 95.0, True, "fail", None, t1),
            ("run-2", "orders_not_null", "completeness", "raw.orders", 12, 0, 100.0, 95.0, True, "pass", None, t2),
            ("run-2", "price_positive", "validity", "raw.order_items", 13, 1, 92.31, 97.0, False, "warn", "['o9']", t2),
            ("run-2", "orders_fresh", "freshness", "raw.orders", 1, 0, 100.0, 100.0, True, "pass", None, t2),
            ("run-2", "revenue_reconciles", "consistency", "analytics.fct_orders", 10, 1, 90.0, 99.0, True,
             "fail", "['o3']", t2),
        ],
    )  # fmt: skip
    con.executemany(
        "insert into meta.runs values (?, ?, ?, ?, ?, ?, ?)",
        [
            ("run-1", "load", "2024-02-05 05:00:00", "2024-02-05 05:01:00", "success", 20, None),
            ("run-2", "load", "2024-02-06 05:00:00", "2024-02-06 05:01:00", "success", 25, None),
            ("run-2", "transform", "2024-02-06 05:01:00", "2024-02-06 05:03:00", "success", None, None),
        ],
    )
    con.executemany(
        "insert into meta.load_ledger values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            ("raw/orders/ingest_date=2024-02-05/b1.parquet", "orders", "2024-02-05", 7, 5, 2, "loaded", None,
             "2024-02-06 05:00:30", "run-2"),
            ("raw/order_items/ingest_date=2024-02-05/b1.parquet", "order_items", "2024-02-05", 9, 8, 1, "loaded",
             None, "2024-02-06 05:00:40", "run-2"),
            ("raw/orders/ingest_date=2024-02-04/b1.csv", "orders", "2024-02-04", 3, 0, 0, "rejected",
             "missing column order_status", "2024-02-05 05:00:30", "run-1"),
        ],
    )  # fmt: skip
    con.executemany(
        "insert into meta.quarantine values (?, ?, ?, ?, ?, ?, ?)",
        [
            ("orders", "raw/orders/ingest_date=2024-02-05/b1.parquet", 3, "null key", "{}", "run-2", t2),
            ("orders", "raw/orders/ingest_date=2024-02-05/b1.parquet", 6, "null key", "{}", "run-2", t2),
            ("order_items", "raw/order_items/ingest_date=2024-02-05/b1.parquet", 2, "negative price", "{}", "run-2",
             t2),
        ],
    )  # fmt: skip


def make_warehouse(path, meta: str = "full") -> str:
    """Write the known warehouse to the DuckDB file at path; meta: full | empty | none."""
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema analytics")
        _mk_daily(con)
        _mk_delivery(con)
        _mk_customers(con)
        if meta != "none":
            _mk_meta(con, meta)
    finally:
        con.close()
    return str(path)


def test_fixture_agrees_with_the_mart_contract(tmp_path):
    con = duckdb.connect(make_warehouse(tmp_path / "w.duckdb"))
    rev, orders, items, freight = con.execute(
        "select sum(revenue), sum(orders), sum(items), sum(freight_value) from analytics.mart_daily_orders"
    ).fetchone()
    assert (rev, orders, items, freight) == (
        EXPECTED["revenue"],
        EXPECTED["orders"],
        EXPECTED["items"],
        EXPECTED["freight"],
    )
    # the same checks as the dbt test assert_mart_daily_orders_matches_daily_sales: per (day, state)
    # the same revenue, freight and items, and a distinct count between the largest category's and the sum
    disagree = con.execute(
        """
        with s as (
            select order_date, customer_state, sum(revenue) as revenue, sum(freight_value) as freight_value,
                   sum(items) as items, sum(orders) as summed, max(orders) as largest
            from analytics.mart_daily_sales group by 1, 2
        )
        select * from analytics.mart_daily_orders o full outer join s using (order_date, customer_state)
        where o.revenue is distinct from s.revenue or o.freight_value is distinct from s.freight_value
           or o.items is distinct from s.items or o.orders > s.summed or o.orders < s.largest
           or o.orders is null or s.summed is null
        """
    ).fetchall()
    assert disagree == []
    summed = con.execute("select sum(orders) from analytics.mart_daily_sales").fetchone()[0]
    assert summed == EXPECTED["orders_summed_over_categories"] > EXPECTED["orders"]
    share = con.execute("select sum(revenue_share) from analytics.mart_category_performance").fetchone()[0]
    assert abs(float(share) - 1) < 1e-5
    # customer_360's lifetime value adds up to the marts' revenue; the top list is ranked by it
    assert con.execute("select sum(lifetime_value) from analytics.customer_360").fetchone()[0] == EXPECTED["revenue"]
    ranks = con.execute("select rank, lifetime_value from analytics.mart_top_customers order by rank").fetchall()
    assert [r for r, _ in ranks] == list(range(1, len(CUSTOMERS) + 1))
    assert [v for _, v in ranks] == sorted((v for _, v in ranks), reverse=True)
    segs = {r[0] for r in con.execute("select distinct rfm_segment from analytics.customer_360").fetchall()}
    assert segs <= {"champions", "loyal", "potential_loyalist", "new", "at_risk", "hibernating", "lost"}


_PG_TYPES = {"VARCHAR": "text", "DOUBLE": "double precision", "INTEGER": "integer", "BIGINT": "bigint",
             "DATE": "date", "TIMESTAMP": "timestamp", "BOOLEAN": "boolean"}  # fmt: skip


def copy_to_postgres(duckdb_path, dsn: str) -> None:
    """Copy every analytics/meta table of the known warehouse into PostgreSQL, same names and types."""
    import psycopg

    src = duckdb.connect(str(duckdb_path))
    try:
        tables = src.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('analytics', 'meta') order by 1, 2"
        ).fetchall()
        with psycopg.connect(dsn) as pg:
            for schema in sorted({s for s, _ in tables}):
                pg.execute(f'create schema if not exists "{schema}"')
            for schema, table in tables:
                cols = src.execute(
                    "select column_name, data_type from information_schema.columns "
                    "where table_schema = ? and table_name = ? order by ordinal_position",
                    [schema, table],
                ).fetchall()
                ddl = ", ".join(
                    f'"{c}" ' + (t.replace("DECIMAL", "numeric") if t.startswith("DECIMAL") else _PG_TYPES[t])
                    for c, t in cols
                )
                pg.execute(f'create table "{schema}"."{table}" ({ddl})')
                rows = src.execute(f'select * from "{schema}"."{table}"').fetchall()
                if rows:
                    marks = ", ".join(["%s"] * len(cols))
                    with pg.cursor() as cur:
                        cur.executemany(f'insert into "{schema}"."{table}" values ({marks})', rows)
    finally:
        src.close()
