"""Dashboard and export at Olist scale, candidate beside baseline, on synthetic marts of the contract's shape.

Inputs: a DuckDB warehouse whose marts have Olist's size (about 95k mart_daily_sales rows
over 700 days, 27 states, 71 categories; its mart_daily_orders, one row per day and state;
96k customers in customer_360), generated deterministically in SQL so no Olist row is copied.

- page: our columnar centavo payload vs a baseline page payload of one JSON object per row
  (bytes, and JSON.parse time in Chromium); build time; Chromium time until every chart is
  drawn; time to redraw after a state filter change.
- export: ours (Arrow, portable across targets) vs DuckDB's native COPY ... TO (DuckDB only).

Run: .venv/bin/python benchmarks/bench_dashboard.py [--work DIR] [--warehouse BUILT.duckdb]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

import duckdb

from shopdw.config import Settings
from shopdw.report.browser import Browser
from shopdw.report.dashboard import build_dashboard, collect
from shopdw.report.export import export

STATES = "AC AL AM AP BA CE DF ES GO MA MG MS MT PA PB PE PI PR RJ RN RO RR RS SC SE SP TO".split()


def make_marts(path: Path) -> None:
    con = duckdb.connect(str(path))
    cats = ", ".join(f"('category_{i:02d}')" for i in range(71))
    sts = ", ".join(f"('{s}')" for s in STATES)
    state_list = "[" + ", ".join(f"'{s}'" for s in STATES) + "]"
    con.execute(f"""
        create schema analytics;
        create table cats as select * from (values {cats}) t(product_category);
        create table sts as select * from (values {sts}) t(customer_state);
        create table analytics.mart_daily_sales as
        select date '2016-10-01' + d.i::integer as order_date, s.customer_state, c.product_category,
               cast((hash(d.i, s.customer_state, c.product_category) % 40000) / 100.0 + 10 as decimal(14,2)) as revenue,
               cast((hash(c.product_category, d.i) % 4000) / 100.0 as decimal(14,2)) as freight_value,
               cast(1 + hash(s.customer_state, d.i) % 3 as integer) as orders,
               cast(1 + hash(d.i, c.product_category) % 4 as integer) as items
        from range(700) d(i), sts s, cats c
        where hash(d.i * 31 + length(s.customer_state), s.customer_state, c.product_category) % 1000 < 70;
        -- one row per (day, state): revenue, freight and items add up mart_daily_sales' rows, the
        -- distinct order count lies between the largest category's and the sum (as the dbt test asks)
        create table analytics.mart_daily_orders as
        select order_date, customer_state,
               cast(max(orders) + (sum(orders) - max(orders)) * 9 // 10 as integer) as orders,
               cast(sum(revenue) as decimal(14,2)) as revenue, cast(sum(freight_value) as decimal(14,2)) as freight_value,
               cast(sum(items) as integer) as items
        from analytics.mart_daily_sales group by 1, 2;
        create table analytics.mart_category_performance as
        select product_category, sum(revenue)::decimal(14,2) as revenue, sum(orders)::integer as orders,
               sum(items)::integer as items, (sum(revenue) / sum(items))::decimal(14,2) as avg_item_price,
               4.0::decimal(4,2) as avg_review_score, (sum(revenue) / sum(sum(revenue)) over ())::double as revenue_share
        from analytics.mart_daily_sales group by 1;
        create table analytics.mart_delivery_performance as
        select customer_state, date_trunc('month', order_date)::date as purchase_month, sum(orders)::integer as delivered_orders,
               (sum(orders) * 0.9)::integer as on_time_orders, sum(orders) - (sum(orders) * 0.9)::integer as late_orders,
               0.1::double as late_rate, 12.0::double as avg_delivery_days
        from analytics.mart_daily_sales group by 1, 2;
        create table analytics.customer_360 as
        select 'c' || lpad(i::varchar, 31, '0') as customer_unique_id, lpad((hash(i) % 99999)::varchar, 5, '0') as customer_zip_code_prefix,
               'city_' || (hash(i, 'c') % 4100)::varchar as customer_city, {state_list}[(1 + hash(i, 'st') % 27)::bigint] as customer_state,
               timestamp '2017-01-01' + to_days((hash(i) % 600)::integer) as first_order_at, timestamp '2017-06-01' + to_days((hash(i) % 450)::integer) as last_order_at,
               (1 + hash(i, 'o') % 3)::integer as orders, (1 + hash(i, 'n') % 5)::integer as items,
               ((hash(i, 'v') % 200000) / 100.0)::decimal(14,2) as lifetime_value, ((hash(i, 'v') % 100000) / 100.0)::decimal(14,2) as avg_order_value,
               ((hash(i, 'f') % 5000) / 100.0)::decimal(14,2) as freight_paid, 'category_' || lpad((hash(i, 'k') % 71)::varchar, 2, '0') as favourite_category,
               'credit_card' as preferred_payment_type, 2.5::double as avg_installments,
               case when hash(i, 'r') % 10 = 0 then null else (1 + hash(i, 'r') % 5)::decimal(4,2) end as avg_review_score,
               0.1::double as late_delivery_rate, (hash(i) % 700)::integer as days_since_last_order,
               (1 + hash(i, 1) % 5)::integer as recency_score, (1 + hash(i, 2) % 5)::integer as frequency_score, (1 + hash(i, 3) % 5)::integer as monetary_score,
               ['champions','loyal','potential_loyalist','new','at_risk','hibernating','lost'][(1 + hash(i, 's') % 7)::bigint] as rfm_segment,
               (hash(i, 'w') % 6)::integer as web_sessions, 1 as converted_sessions, 0.5::double as conversion_rate
        from range(96096) t(i);
        create table analytics.mart_top_customers as
        select row_number() over (order by lifetime_value desc, customer_unique_id)::integer as rank, customer_unique_id, customer_city,
               customer_state, orders, lifetime_value, avg_order_value, avg_review_score, rfm_segment, last_order_at
        from analytics.customer_360 order by rank limit 100;
    """)  # fmt: skip
    con.close()


def timed(fn, repeat: int = 3) -> tuple[float, object, float]:
    """Median wall seconds, the last result, median CPU seconds of this process."""
    times, cpu, out = [], [], None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return statistics.median(times), out, statistics.median(cpu)


def parse_ms(b: Browser, work: Path, name: str, payload: str) -> float:
    page = work / f"parse-{name}.html"
    page.write_text(
        '<!doctype html><body><script type="application/json" id="d">' + payload.replace("<", "\\u003c") + "</script>"
        "<script>const s = document.getElementById('d').textContent; const r = [];"
        "for (let k = 0; k < 5; k++) { const t = performance.now(); JSON.parse(s); r.push(performance.now() - t); }"
        "r.sort((a, b) => a - b); document.body.dataset.ms = r[2];</script></body>"
    )
    b.open(page.as_uri(), "document.body && document.body.dataset.ms !== undefined")
    return float(b.evaluate("document.body.dataset.ms"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default="benchmarks/_work/dashboard")
    ap.add_argument("--warehouse", help="measure this built DuckDB warehouse (e.g. the real Olist data) instead")
    args = ap.parse_args()
    work = Path(args.work).resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    db = work / "shopdw.duckdb"
    if args.warehouse:
        shutil.copyfile(args.warehouse, db)  # a copy: the benchmark never touches the original
    else:
        make_marts(db)
    settings = Settings(duckdb_path=str(db), site=str(work / "site" / "index.html"))
    con = duckdb.connect(str(db))
    n_daily = con.execute("select count(*) from analytics.mart_daily_sales").fetchone()[0]
    n_orders = con.execute("select count(*) from analytics.mart_daily_orders").fetchone()[0]
    n_cust = con.execute("select count(*) from analytics.customer_360").fetchone()[0]
    con.close()

    load_before = os.getloadavg()
    build_s, page, build_cpu = timed(lambda: build_dashboard(settings))
    payload = collect(settings)
    ours = payload.to_json()
    d = payload.daily
    rows = [
        {"order_date": f"day+{d['day'][i]}", "customer_state": payload.states[d["st"][i]],
         "product_category": payload.categories[d["cat"][i]], "revenue": d["rev"][i] / 100,
         "freight_value": d["frt"][i] / 100, "items": d["itm"][i]}
        for i in range(len(d["day"]))
    ]  # fmt: skip
    o = payload.orders
    order_rows = [
        {"order_date": f"day+{o['day'][i]}", "customer_state": payload.states[o["st"][i]], "orders": o["ord"][i],
         "revenue": o["rev"][i] / 100}
        for i in range(len(o["day"]))
    ]  # fmt: skip
    naive = json.dumps({**json.loads(ours), "daily": rows, "orders": order_rows})

    with Browser() as b:
        b.viewport(1280, 900)
        ours_parse = parse_ms(b, work, "ours", ours)
        naive_parse = parse_ms(b, work, "naive", naive)
        loads = []
        for _ in range(3):
            t = time.perf_counter()
            b.open(Path(page).resolve().as_uri(), "document.body && document.body.dataset.ready === '1'")
            loads.append(time.perf_counter() - t)
        assert b.console_errors == [], b.console_errors
        redraw = b.evaluate(
            "(() => { const e = document.getElementById('f-state'); const r = [];"
            "for (const s of ['SP', 'RJ', '']) { const t = performance.now(); e.value = s;"
            "e.dispatchEvent(new Event('change')); r.push(performance.now() - t); } return r.sort((a,b)=>a-b)[1]; })()"
        )
        grain = b.evaluate(
            "(() => { const e = document.getElementById('f-grain'); const t = performance.now(); e.value = 'day';"
            "e.dispatchEvent(new Event('change')); return performance.now() - t; })()"
        )

    ex_csv, csv_files, ex_csv_cpu = timed(lambda: export(settings, "csv", work / "exports-csv"))
    ex_pq, _, ex_pq_cpu = timed(lambda: export(settings, "parquet", work / "exports-pq"))

    def native(fmt: str) -> None:
        out = work / f"native-{fmt}"
        out.mkdir(exist_ok=True)
        c = duckdb.connect(str(db), read_only=True)
        for t in (p.stem for p in csv_files[:-1]):
            opts = "(format csv, header)" if fmt == "csv" else "(format parquet, compression snappy)"
            c.execute(f"copy (select * from analytics.{t} order by all) to '{out / (t + '.' + fmt)}' {opts}")
        c.close()

    nat_csv, _, nat_csv_cpu = timed(lambda: native("csv"))
    nat_pq, _, nat_pq_cpu = timed(lambda: native("parquet"))
    load_after = os.getloadavg()
    days = (payload.daily["day"] and max(payload.daily["day"] + payload.orders["day"]) + 1) or 0

    print(
        f"inputs: mart_daily_sales {n_daily:,} rows, mart_daily_orders {n_orders:,} rows, customer_360 {n_cust:,} rows"
    )
    print("| measure | shopdw | baseline |")
    print("|---|---|---|")
    print(
        f"| page payload (bytes) | {len(ours.encode()):,} (columnar, centavos) | {len(naive.encode()):,} (row objects) |"
    )
    print(f"| JSON.parse in Chromium (ms, median of 5) | {ours_parse:.1f} | {naive_parse:.1f} |")
    print(f"| whole page (bytes) | {Path(page).stat().st_size:,} | – |")
    print(f"| build_dashboard (s, median of 3; CPU s) | {build_s:.2f} (CPU {build_cpu:.2f}) | – |")
    print(f"| open page until every chart is drawn (s, median of 3) | {statistics.median(loads):.2f} | – |")
    print(f"| redraw after a state filter change (ms) | {redraw:.0f} | – |")
    print(f"| redraw at day granularity ({days} points) (ms) | {grain:.0f} | – |")
    n = len(csv_files) - 1  # the last file is the manifest
    print(
        f"| export csv, {n} tables (s, median of 3; CPU s) | {ex_csv:.2f} (CPU {ex_csv_cpu:.2f}) "
        f"| {nat_csv:.2f} (CPU {nat_csv_cpu:.2f}) (DuckDB COPY) |"
    )
    print(
        f"| export parquet, {n} tables (s, median of 3; CPU s) | {ex_pq:.2f} (CPU {ex_pq_cpu:.2f}) "
        f"| {nat_pq:.2f} (CPU {nat_pq_cpu:.2f}) (DuckDB COPY) |"
    )
    print(
        f"load average (1/5/15 min) before: {' '.join(f'{x:.2f}' for x in load_before)}, "
        f"after: {' '.join(f'{x:.2f}' for x in load_after)}"
    )


if __name__ == "__main__":
    sys.exit(main())
