"""The dashboard page, built from a known DuckDB warehouse and opened in real headless Chromium with no network."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest
from test_dashboard_data import EXPECTED, make_warehouse

from shopdw.config import Settings
from shopdw.errors import ConfigError, DataError
from shopdw.report.browser import Browser, find_chromium
from shopdw.report.dashboard import build_dashboard, format_brl

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
READY = "document.body && document.body.dataset.ready === '1'"
CHARTS = (
    "revenue-trend", "orders-trend", "aov-trend", "revenue-by-state", "top-cities", "category-revenue",
    "delivery-by-state", "rfm-segments", "customers-by-state", "review-distribution",
)  # fmt: skip

# Everything the page shows, read back from the DOM.
READ_PAGE = """(() => {
  const kpis = {};
  document.querySelectorAll('[data-kpi]').forEach(e => kpis[e.dataset.kpi] = {
    value: e.dataset.value, text: (e.querySelector('.v') || e).textContent });
  const charts = {};
  document.querySelectorAll('.chart[data-chart]').forEach(box => {
    const svg = box.querySelector('svg');
    charts[box.dataset.chart] = {
      drawn: !!svg && svg.getBoundingClientRect().width > 0 && svg.getBoundingClientRect().height > 0,
      marks: [...box.querySelectorAll('[data-key][data-value]')].map(m => ({
        key: m.dataset.key, value: m.dataset.value, ontime: m.dataset.ontime, late: m.dataset.late,
        text: [...m.querySelectorAll('title')].map(t => t.textContent).join('|') })),
    };
  });
  const top = [...document.querySelectorAll('#top-customers tbody tr[data-customer]')].map(r => ({
    id: r.dataset.customer, rank: +r.dataset.rank, ltv: r.dataset.ltv, cells: [...r.cells].map(c => c.textContent) }));
  const rows = sel => [...document.querySelectorAll(sel)].map(r => [r.dataset.check || r.dataset.dimension, r.dataset.status]);
  const checks = rows('#scorecard [data-list="all-checks"] tr[data-check]');
  const failing = rows('#scorecard [data-list="not-passing"] tr[data-check]');
  const dims = rows('#scorecard tr[data-dimension]');
  const dq = document.querySelector('[data-health]');
  const files = {};
  document.querySelectorAll('[data-files]').forEach(e => files[e.dataset.files] = +e.dataset.value);
  return { kpis, charts, top, checks, failing, dims, dq: dq ? Object.assign({}, dq.dataset) : null, files,
           overflow: document.documentElement.scrollWidth - window.innerWidth,
           clipped: [...document.querySelectorAll('.kpi .v')].filter(v => v.scrollWidth > v.clientWidth).map(v => v.textContent),
           error: document.getElementById('error').hidden ? null : document.getElementById('error').textContent };
})()"""


def cents(v) -> int:
    return int((Decimal(v) * 100).to_integral_value())


@pytest.fixture(scope="module")
def chromium():
    if not find_chromium():
        pytest.skip("Chromium not installed (scripts/ensure-system-deps.sh installs Debian's chromium)")
    with Browser() as b:
        yield b


@pytest.fixture
def known(tmp_path):
    db = make_warehouse(tmp_path / "shopdw.duckdb")
    settings = Settings(duckdb_path=db, site=str(tmp_path / "site" / "index.html"))
    return settings, duckdb.connect(db)  # same configuration as the warehouse interface, so they share it


def _open(b: Browser, page: Path, width: int, height: int, mobile: bool = False, fragment: str = "") -> dict:
    b.console_errors.clear()
    b.blocked_requests.clear()
    b.viewport(width, height, mobile=mobile)
    b.open(page.as_uri() + fragment, READY)
    b.pump(0.3)
    return b.evaluate(READ_PAGE)


def test_page_is_self_contained_deterministic_and_escaped(known):
    settings, _ = known
    page = build_dashboard(settings)
    assert page == Path(settings.site).resolve()
    first = page.read_bytes()
    assert build_dashboard(settings).read_bytes() == first  # same warehouse, same bytes
    html = first.decode()
    # nothing fetched when viewed: no external src/href, and the CSP forbids any fetch anyway
    assert not re.search(r"""(?:src|href|url)\s*[=(]\s*["']?\s*(?:https?:)?//""", html, re.I)
    assert [u for u in re.findall(r"https?://[^\s\"'<>]+", html) if u != "http://www.w3.org/2000/svg"] == []
    assert "default-src 'none'" in html
    # the hostile city name stays data: exactly the two script elements of the template exist
    assert html.count("</script>") == 2 and "<b>&amp;</b>" not in html


def test_missing_marts_or_warehouse_give_clear_errors(tmp_path):
    missing = tmp_path / "nowhere.duckdb"
    with pytest.raises(ConfigError, match=r"nowhere\.duckdb does not exist.*shopdw run"):
        build_dashboard(Settings(duckdb_path=str(missing)), tmp_path / "x.html")
    assert not missing.exists()  # a report never creates an empty warehouse
    db = tmp_path / "half.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create schema analytics; create table analytics.customer_360 (customer_unique_id varchar)")
    con.close()
    with pytest.raises(DataError, match=r"analytics\.mart_daily_sales.*shopdw transform"):
        build_dashboard(Settings(duckdb_path=str(db)), tmp_path / "x.html")
    assert not (tmp_path / "x.html").exists()


def test_figures_on_the_page_equal_the_marts(known, chromium):
    settings, con = known
    page = build_dashboard(settings)
    seen = _open(chromium, page, 1280, 900)
    chromium.screenshot(ARTIFACTS / "dashboard-laptop-1280.png")
    assert seen["error"] is None and chromium.console_errors == [] and chromium.blocked_requests == []
    assert all(n == page.as_uri() for n in chromium.requests[-1:])
    for name in CHARTS:
        assert seen["charts"][name]["drawn"] and seen["charts"][name]["marks"], f"chart {name} not drawn"
    assert seen["clipped"] == [] and seen["overflow"] <= 0

    k = seen["kpis"]
    rev, items, freight = con.execute(
        "select sum(revenue), sum(items), sum(freight_value) from analytics.mart_daily_sales"
    ).fetchone()
    assert int(k["revenue"]["value"]) == cents(rev) == cents(EXPECTED["revenue"])
    assert k["revenue"]["text"] == format_brl(rev) == EXPECTED["revenue_text"]
    assert int(k["items"]["value"]) == items and k["freight"]["text"] == format_brl(freight) == "R$ 216,10"
    # orders: distinct orders from mart_daily_orders; adding up mart_daily_sales' per-category counts
    # (what the page did before) would count the order with items in two categories twice
    orders, order_rev = con.execute("select sum(orders), sum(revenue) from analytics.mart_daily_orders").fetchone()
    summed = con.execute("select sum(orders) from analytics.mart_daily_sales").fetchone()[0]
    assert int(k["orders"]["value"]) == orders == EXPECTED["orders"] == 10 and k["orders"]["text"] == "10"
    assert summed == 11 != int(k["orders"]["value"])
    assert order_rev == rev
    aov = (rev / orders).quantize(Decimal("0.01"))
    assert int(k["aov"]["value"]) == cents(aov) and k["aov"]["text"] == format_brl(aov) == "R$ 123.641,99"
    assert format_brl((rev / summed).quantize(Decimal("0.01"))) != k["aov"]["text"]
    late, delivered = con.execute(
        "select sum(late_orders), sum(delivered_orders) from analytics.mart_delivery_performance"
    ).fetchone()
    assert float(k["late-rate"]["value"]) == pytest.approx(late / delivered) and k["late-rate"]["text"] == "33,3%"
    n, ltv = con.execute("select count(*), sum(lifetime_value) from analytics.customer_360").fetchone()
    assert int(k["customers"]["value"]) == n == EXPECTED["customers"] and int(k["customer-ltv"]["value"]) == cents(ltv)

    def marks(name):
        return {m["key"]: m for m in seen["charts"][name]["marks"]}

    by_state = dict(
        con.execute("select customer_state, sum(revenue) from analytics.mart_daily_sales group by 1").fetchall()
    )
    assert {s: int(m["value"]) for s, m in marks("revenue-by-state").items()} == {
        s: cents(v) for s, v in by_state.items()
    }
    assert marks("revenue-by-state")["SP"]["text"] == f"SP: {format_brl(EXPECTED['sp_revenue'])}"
    by_cat = dict(
        con.execute("select product_category, sum(revenue) from analytics.mart_daily_sales group by 1").fetchall()
    )
    assert {c: int(m["value"]) for c, m in marks("category-revenue").items()} == {
        c: cents(v) for c, v in by_cat.items()
    }
    by_month = dict(
        con.execute(
            "select strftime(date_trunc('month', order_date), '%Y-%m-%d'), sum(revenue) from analytics.mart_daily_sales group by 1"
        ).fetchall()
    )
    assert {d: int(m["value"]) for d, m in marks("revenue-trend").items()} == {d: cents(v) for d, v in by_month.items()}
    orders_by_month = con.execute(
        "select strftime(date_trunc('month', order_date), '%Y-%m-%d'), sum(orders), sum(revenue) "
        "from analytics.mart_daily_orders group by 1"
    ).fetchall()
    assert {d: int(m["value"]) for d, m in marks("orders-trend").items()} == {d: n for d, n, _ in orders_by_month}
    assert {d: int(m["value"]) for d, m in marks("orders-trend").items()} == {"2024-01-01": 6, "2024-02-01": 4}
    assert {d: int(m["value"]) for d, m in marks("aov-trend").items()} == {
        d: cents((r / n).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)) for d, n, r in orders_by_month
    }
    segs = dict(con.execute("select rfm_segment, count(*) from analytics.customer_360 group by 1").fetchall())
    assert {s: int(m["value"]) for s, m in marks("rfm-segments").items()} == segs
    states = dict(con.execute("select customer_state, count(*) from analytics.customer_360 group by 1").fetchall())
    assert {s: int(m["value"]) for s, m in marks("customers-by-state").items()} == states
    # review buckets: 4.67 and 5.00 -> 5, 4.20 -> 4, 3 -> 3, 2 -> 2, 1 -> 1, two without reviews -> 0
    assert {b: int(m["value"]) for b, m in marks("review-distribution").items()} == {
        "5": 2, "4": 1, "3": 1, "2": 1, "1": 1, "0": 2,
    }  # fmt: skip
    delivery = {
        s: (int(o), int(la))
        for s, o, la in con.execute(
            "select customer_state, sum(on_time_orders), sum(late_orders) from analytics.mart_delivery_performance group by 1"
        ).fetchall()
    }
    assert {s: (int(m["ontime"]), int(m["late"])) for s, m in marks("delivery-by-state").items()} == delivery
    cities = con.execute(
        "select customer_city || '/' || customer_state, sum(lifetime_value) from analytics.customer_360 "
        "group by 1 having sum(lifetime_value) > 0 order by 2 desc limit 10"
    ).fetchall()
    assert {c: int(m["value"]) for c, m in marks("top-cities").items()} == {c: cents(v) for c, v in cities}

    top = con.execute(
        "select rank, customer_unique_id, lifetime_value from analytics.mart_top_customers order by rank"
    ).fetchall()
    assert [(r["rank"], r["id"], int(r["ltv"])) for r in seen["top"]] == [(r, c, cents(v)) for r, c, v in top]
    assert seen["top"][0]["cells"][5] == "R$ 1.234.567,89"

    # data health: the latest run's checks, the quarantine and the ledger
    assert seen["dq"]["run"] == "run-2" and (seen["dq"]["pass"], seen["dq"]["warn"], seen["dq"]["fail"]) == (
        "2",
        "1",
        "1",
    )
    assert sorted(map(tuple, seen["checks"])) == sorted(
        con.execute("select check_name, status from meta.dq_results where run_id = 'run-2'").fetchall()
    )
    # failures first, then warnings; one summary row per dimension with its worst status
    assert seen["failing"] == [["revenue_reconciles", "fail"], ["price_positive", "warn"]]
    assert sorted(seen["dims"]) == [
        ["completeness", "pass"],
        ["consistency", "fail"],
        ["freshness", "pass"],
        ["validity", "warn"],
    ]
    assert int(seen["kpis"]["quarantined-rows"]["value"]) == 3
    assert seen["files"] == {"loaded": 2, "rejected": 1, "duplicate": 0}


def test_filters_recompute_every_figure(known, chromium):
    settings, con = known
    page = build_dashboard(settings)
    _open(chromium, page, 1280, 900)
    chromium.evaluate(
        """(() => { const set = (id, v) => { const e = document.getElementById(id); e.value = v;
             e.dispatchEvent(new Event('change')); };
           set('f-state', 'SP'); set('f-from', '2024-01-31'); set('f-to', '2024-02-03'); set('f-grain', 'day'); })()"""
    )
    seen = chromium.evaluate(READ_PAGE)
    assert chromium.console_errors == [] and seen["error"] is None
    where = "where customer_state = 'SP' and order_date between '2024-01-31' and '2024-02-03'"
    rev, summed = con.execute(f"select sum(revenue), sum(orders) from analytics.mart_daily_sales {where}").fetchone()
    (orders,) = con.execute(f"select sum(orders) from analytics.mart_daily_orders {where}").fetchone()
    assert int(seen["kpis"]["revenue"]["value"]) == cents(rev) == cents("1100.99")
    assert seen["kpis"]["revenue"]["text"] == "R$ 1.100,99"
    # exact under the state and date filters too: 3 distinct orders, not the 4 the category rows add up to
    assert int(seen["kpis"]["orders"]["value"]) == orders == 3 and summed == 4
    assert int(seen["kpis"]["aov"]["value"]) == round(110099 / 3)
    trend = {m["key"]: int(m["value"]) for m in seen["charts"]["revenue-trend"]["marks"]}
    assert trend == {"2024-01-31": 9999, "2024-02-01": 0, "2024-02-02": 0, "2024-02-03": 100100}  # empty days are zero
    orders_trend = {m["key"]: int(m["value"]) for m in seen["charts"]["orders-trend"]["marks"]}
    assert orders_trend == {"2024-01-31": 1, "2024-02-01": 0, "2024-02-02": 0, "2024-02-03": 2}
    aov_trend = {m["key"]: int(m["value"]) for m in seen["charts"]["aov-trend"]["marks"]}
    assert aov_trend == {"2024-01-31": 9999, "2024-02-03": 50050}  # days without orders have no AOV
    assert [m["key"] for m in seen["charts"]["revenue-by-state"]["marks"]] == ["SP"]
    # delivery counts months overlapping the range (January and February) for SP only
    assert {m["key"]: (int(m["ontime"]), int(m["late"])) for m in seen["charts"]["delivery-by-state"]["marks"]} == {
        "SP": (4, 2)
    }
    assert int(seen["kpis"]["customers"]["value"]) == 4
    assert {r["id"] for r in seen["top"]} == {
        r[0]
        for r in con.execute(
            "select customer_unique_id from analytics.mart_top_customers where customer_state = 'SP'"
        ).fetchall()
    }
    # the filters live in the URL fragment: reopening it shows the same view
    again = _open(chromium, page, 1280, 900, fragment="#from=2024-01-31&to=2024-02-03&state=SP&grain=day")
    assert again["kpis"] == seen["kpis"]
    # weekly view: Monday-based weeks, 2024-01-29 and 2024-02-05
    chromium.evaluate(
        "(() => { const e = document.getElementById('f-grain'); e.value = 'week'; e.dispatchEvent(new Event('change')); })()"
    )
    weeks = chromium.evaluate(READ_PAGE)["charts"]
    assert {m["key"]: int(m["value"]) for m in weeks["revenue-trend"]["marks"]} == {"2024-01-29": 110099}
    assert {m["key"]: int(m["value"]) for m in weeks["orders-trend"]["marks"]} == {"2024-01-29": 3}


def test_readable_on_a_phone(known, chromium):
    settings, _ = known
    page = build_dashboard(settings)
    seen = _open(chromium, page, 390, 844, mobile=True)
    chromium.screenshot(ARTIFACTS / "dashboard-phone-390.png")
    assert chromium.console_errors == [] and seen["error"] is None
    assert seen["overflow"] <= 0, "the page scrolls sideways on a phone"
    assert seen["clipped"] == []
    assert all(seen["charts"][c]["drawn"] for c in CHARTS)
    widths = chromium.evaluate("[...document.querySelectorAll('.chart svg')].map(s => s.getBoundingClientRect().right)")
    assert max(widths) <= 390


@pytest.mark.parametrize("meta", ["none", "empty"])
def test_page_renders_without_quality_runs(tmp_path, chromium, meta):
    db = make_warehouse(tmp_path / "w.duckdb", meta=meta)
    page = build_dashboard(Settings(duckdb_path=db), tmp_path / "index.html")
    seen = _open(chromium, page, 1280, 900)
    assert chromium.console_errors == [] and seen["error"] is None
    assert seen["dq"] == {"health": "no-dq"}
    text = chromium.evaluate("document.getElementById('health').innerText")
    assert "No quality run yet." in text and "no load yet" in text and "no run yet" in text
    assert int(seen["kpis"]["quarantined-rows"]["value"]) == 0
    assert all(seen["charts"][c]["drawn"] for c in CHARTS)
    if meta == "none":
        assert "meta.dq_results does not exist yet" in text


def test_postgres_warehouse_gives_the_same_page_data(tmp_path, pg_dsn):
    import json

    from test_dashboard_data import copy_to_postgres

    from shopdw.config import Secret

    db = make_warehouse(tmp_path / "w.duckdb")
    copy_to_postgres(db, pg_dsn)

    def payload(page: Path) -> dict:
        text = re.search(r'<script type="application/json" id="shopdw-data">(.*?)</script>', page.read_text(), re.S)
        data = json.loads(text.group(1))
        data.pop("meta")  # names the target
        return data

    pg = build_dashboard(Settings(target="postgres", postgres_dsn=Secret(pg_dsn)), tmp_path / "pg.html")
    dk = build_dashboard(Settings(duckdb_path=db), tmp_path / "dk.html")
    assert payload(pg) == payload(dk)
    assert pg_dsn.rsplit("/", 1)[1] not in pg.read_text()  # nothing of the connection string in the page


def test_money_formatting_is_the_same_in_python_and_in_the_page(known, chromium):
    settings, _ = known
    page = build_dashboard(settings)
    _open(chromium, page, 1280, 900)
    values = [0, 1, 5, 99, 100, 101, 99999, 100000, 123456789, 100000000000, -1, -250050, 999999999999]
    shown = chromium.evaluate(f"{values}.map(window.shopdw.fmtBRL)")
    assert shown == [format_brl(v, cents=True) for v in values]
    assert shown[:4] == ["R$ 0,00", "R$ 0,01", "R$ 0,05", "R$ 0,99"]
    assert shown[8] == "R$ 1.234.567,89" and shown[11] == "-R$ 2.500,50"
    assert format_brl(Decimal("1234.565")) == "R$ 1.234,57" and format_brl(None) == "–"
    health = chromium.evaluate("document.getElementById('freshness').innerText")
    assert "run-2 at 2024-02-06 05:00:00" in health and "2024-02-06 05:00:40" in health


def test_every_report_query_parses_as_redshift_and_postgres(known, monkeypatch, tmp_path):
    """Redshift cannot run here: the SQL the dashboard and export send is parsed with its grammar."""
    import sqlfluff
    import sqlglot

    from shopdw.report import source
    from shopdw.report.export import export

    settings, _ = known
    sent: list[str] = []
    real_query = source.Source.query

    def recording(self, sql):
        sent.append(sql)
        return real_query(self, sql)

    monkeypatch.setattr(source.Source, "query", recording)
    build_dashboard(settings)
    export(settings, "csv", tmp_path / "exports")
    assert len(sent) > 15
    for sql in sent:
        for dialect in ("redshift", "postgres"):
            assert sqlglot.parse_one(sql, read=dialect) is not None, (dialect, sql)
    for sql in set(sent):  # sqlfluff's grammar is the stricter one; raises APIParsingError when it cannot parse
        sqlfluff.parse(sql, dialect="redshift")
    # on Redshift the dbt schemas carry the configured prefix, the loader's meta schema does not
    rs = source.Source(Settings(target="redshift", redshift_schema_prefix="dev_"), lambda sql: None, "redshift")
    assert rs.table("analytics", "customer_360") == '"dev_analytics"."customer_360"'
    assert rs.table("meta", "runs") == '"meta"."runs"'
    with pytest.raises(ConfigError, match="not a valid schema/table name"):
        rs.table("analytics", 'x"; drop table y; --')


def test_empty_marts_render_empty_panels_without_errors(tmp_path, chromium):
    db = make_warehouse(tmp_path / "w.duckdb")
    con = duckdb.connect(db)
    for t in ("mart_daily_sales", "mart_daily_orders", "mart_category_performance", "mart_delivery_performance",
              "mart_top_customers", "customer_360"):  # fmt: skip
        con.execute(f"delete from analytics.{t}")
    con.close()
    page = build_dashboard(Settings(duckdb_path=db), tmp_path / "index.html")
    seen = _open(chromium, page, 1280, 900)
    assert chromium.console_errors == [] and seen["error"] is None
    assert chromium.evaluate("document.querySelectorAll('.chart [data-empty]').length") == len(CHARTS)
    assert seen["kpis"]["revenue"]["text"] == "R$ 0,00" and seen["kpis"]["aov"]["text"] == "–"


def test_a_mart_off_contract_is_named(tmp_path):
    db = make_warehouse(tmp_path / "w.duckdb", meta="none")
    con = duckdb.connect(db)
    con.execute("alter table analytics.mart_delivery_performance rename column late_orders to late")
    con.close()
    with pytest.raises(DataError, match=r"analytics\.mart_delivery_performance does not match the mart contract"):
        build_dashboard(Settings(duckdb_path=db), tmp_path / "index.html")


def test_the_order_mart_off_contract_or_missing_is_named(tmp_path):
    db = make_warehouse(tmp_path / "w.duckdb", meta="none")
    con = duckdb.connect(db)
    con.execute("alter table analytics.mart_daily_orders rename column orders to n_orders")
    con.close()
    with pytest.raises(DataError, match=r"analytics\.mart_daily_orders does not match the mart contract"):
        build_dashboard(Settings(duckdb_path=db), tmp_path / "index.html")
    con = duckdb.connect(db)
    con.execute("drop table analytics.mart_daily_orders")  # a warehouse built before the mart existed
    con.close()
    with pytest.raises(DataError, match=r"missing analytics\.mart_daily_orders; run `shopdw transform`"):
        build_dashboard(Settings(duckdb_path=db), tmp_path / "index.html")
    assert not (tmp_path / "index.html").exists()
