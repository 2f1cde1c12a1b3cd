"""The dashboard and exports from a real warehouse: simulator -> lake -> load -> dbt build -> page in Chromium."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from shopdw.config import Settings
from shopdw.report.browser import Browser, find_chromium
from shopdw.report.dashboard import build_dashboard, format_brl
from shopdw.report.export import export, manifest_schema, read_export
from shopdw.warehouse import open_warehouse

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
READY = "document.body && document.body.dataset.ready === '1'"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    from shopdw.lake.store import lake_from_settings
    from shopdw.load import load
    from shopdw.sources.simulator import SimulatorConfig, generate
    from shopdw.transform import transform

    root = tmp_path_factory.mktemp("pipeline")
    settings = Settings(lake=str(root / "lake"), duckdb_path=str(root / "warehouse" / "shopdw.duckdb"))
    cfg = SimulatorConfig(start=date(2025, 3, 1), days=4, orders_per_day=30, seed=11)  # default late-arriving facts
    generate(lake_from_settings(settings), cfg)
    load(settings, progress=False)
    transform(settings)  # failing dbt tests do not raise; the marts must exist for the page
    return settings


def _cents(v) -> int:
    return int((Decimal(v) * 100).to_integral_value())


def test_page_from_a_real_warehouse_shows_the_marts(warehouse, tmp_path):
    if not find_chromium():
        pytest.skip("Chromium not installed")
    page = build_dashboard(warehouse, tmp_path / "index.html")
    with open_warehouse(warehouse) as wh:
        rev, freight, summed = wh.query(
            "select sum(revenue), sum(freight_value), sum(orders) from analytics.mart_daily_sales"
        )[0]
        # the sales definition straight from the facts: not canceled/unavailable, at least one item
        orders, aov_rev = wh.query(
            "select count(distinct o.order_id), sum(o.items_value) from analytics.fct_orders o "
            "where o.order_status not in ('canceled', 'unavailable') "
            "and exists (select 1 from analytics.fct_order_items i where i.order_id = o.order_id)"
        )[0]
        sp_orders = wh.query(
            "select count(distinct o.order_id) from analytics.fct_orders o "
            "join analytics.dim_customer c on c.customer_sk = o.customer_sk "
            "where o.is_revenue and o.item_count > 0 and c.customer_state = 'SP'"
        )[0][0]
        by_state = dict(wh.query("select customer_state, sum(revenue) from analytics.mart_daily_sales group by 1"))
        customers, ltv = wh.query("select count(*), sum(lifetime_value) from analytics.customer_360")[0]
        top = [
            r[0] for r in wh.query("select customer_unique_id from analytics.mart_top_customers order by rank limit 25")
        ]
        quarantined = wh.query("select count(*) from meta.quarantine")[0][0]
        files_loaded = wh.query("select count(*) from meta.load_ledger where status = 'loaded'")[0][0]
    assert orders > 0 and rev > 0 and aov_rev == rev and sp_orders > 0
    with Browser() as b:
        b.viewport(1280, 900)
        b.open(page.as_uri(), READY)
        b.pump(0.3)
        b.screenshot(ARTIFACTS / "dashboard-simulated-warehouse.png")
        assert b.console_errors == [] and b.blocked_requests == []
        sp = b.evaluate(
            "(() => { const e = document.getElementById('f-state'); e.value = 'SP'; e.dispatchEvent(new Event('change'));"
            " const v = +document.querySelector('[data-kpi=orders]').dataset.value;"
            " e.value = ''; e.dispatchEvent(new Event('change')); return v; })()"
        )
        seen = b.evaluate(
            """(() => ({
              kpi: Object.fromEntries([...document.querySelectorAll('[data-kpi]')].map(e => [e.dataset.kpi, e.dataset.value])),
              revText: document.querySelector('[data-kpi=revenue] .v').textContent,
              states: Object.fromEntries([...document.querySelectorAll('[data-chart="revenue-by-state"] [data-key]')]
                        .map(m => [m.dataset.key, +m.dataset.value])),
              empty: [...document.querySelectorAll('.chart')].filter(c => !c.querySelector('svg [data-value]')).map(c => c.dataset.chart),
              top: [...document.querySelectorAll('#top-customers tr[data-customer]')].map(r => r.dataset.customer),
              loaded: +document.querySelector('[data-files=loaded]').dataset.value,
            }))()"""
        )
    assert seen["empty"] == []
    assert int(seen["kpi"]["revenue"]) == _cents(rev) and seen["revText"] == format_brl(rev)
    assert int(seen["kpi"]["orders"]) == orders and int(seen["kpi"]["freight"]) == _cents(freight)
    aov = (Decimal(_cents(rev)) / orders).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    assert int(seen["kpi"]["aov"]) == aov and sp == sp_orders
    # the generated data has orders spanning categories: adding mart_daily_sales up would overcount
    assert summed > orders
    assert seen["states"] == {s: _cents(v) for s, v in by_state.items()}
    assert int(seen["kpi"]["customers"]) == customers and int(seen["kpi"]["customer-ltv"]) == _cents(ltv)
    assert seen["top"] == top
    assert int(seen["kpi"]["quarantined-rows"]) == quarantined and seen["loaded"] == files_loaded > 0


def test_exports_from_a_real_warehouse_read_back_equal(warehouse, tmp_path):
    files = export(warehouse, "csv", tmp_path / "exports")
    import json

    manifest = json.loads(files[-1].read_text())
    with open_warehouse(warehouse) as wh:
        for entry in manifest["tables"]:
            n = len(manifest_schema(entry))
            want = wh.query_arrow(
                f"select * from {entry['table']} order by {', '.join(str(i) for i in range(1, n + 1))}"
            )
            back = read_export(tmp_path / "exports" / entry["file"], manifest_schema(entry))
            assert back.equals(want), entry["table"]
            assert entry["rows"] == want.num_rows
