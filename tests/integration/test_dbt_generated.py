"""The dbt build on the simulator's data, loaded by the loader, with injected defects (the
loader quarantines them), late items and payments, order status changes, moving customers
and products that change: on DuckDB (in two loads: a first build, then an incremental build
with every test, compared with a full refresh) and on PostgreSQL (one build with every test)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from rawseed import query, sorted_rows, tables_in
from shopdw.config import Secret, Settings
from shopdw.transform import transform

START, DAYS, PER_DAY = date(2024, 11, 20), 12, 25
MODELS_ONLY = ["resource_type:model", "resource_type:seed"]


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    from shopdw.lake.store import open_lake
    from shopdw.sources.simulator import SimulatorConfig, generate

    path = tmp_path_factory.mktemp("gen-lake")
    cfg = SimulatorConfig(start=START, days=DAYS, orders_per_day=PER_DAY, seed=11, defect_rate=0.03, late_rate=0.2)
    result = generate(open_lake(str(path)), cfg)
    assert sum(result.defects.values()) > 0
    return str(path)


def _load(settings, until=None):
    from shopdw.load import load

    return load(settings, progress=False, until=until)


def _check_facts_against_raw(settings):
    """Facts count each deduplicated raw item/payment once, to the cent."""
    raw_items = query(settings, """
        select count(*), sum(price), sum(freight_value) from (
            select distinct order_id, order_item_id, price, freight_value from raw.order_items
            where order_id in (select order_id from raw.orders)) as d""")[0]  # fmt: skip
    assert (
        query(settings, "select count(*), sum(price), sum(freight_value) from analytics.fct_order_items")[0]
        == raw_items
    )
    raw_paid = query(settings, """
        select sum(payment_value) from (select distinct order_id, payment_sequential, payment_value
        from raw.order_payments where order_id in (select order_id from raw.orders)) as d""")[0][0]  # fmt: skip
    assert query(settings, "select sum(payment_value) from analytics.fct_payments")[0][0] == raw_paid


def test_generated_data_on_duckdb_incremental_equals_full_refresh(lake, tmp_path):
    inc = Settings(lake=lake, duckdb_path=str(tmp_path / "inc.duckdb"))
    full = Settings(lake=lake, duckdb_path=str(tmp_path / "full.duckdb"))
    _load(inc, until=START + timedelta(days=7))
    first = transform(inc, select=MODELS_ONLY)
    assert first.ok
    _load(inc)
    second = transform(inc, unit_tests=True)  # incremental; unit tests only on request
    assert second.ok, "; ".join(f"{n.name}: {n.message}" for n in second.failed)
    assert {n.resource_type for n in second.nodes} == {"model", "seed", "test", "unit_test"}
    quarantined = query(inc, "select count(*) from meta.quarantine")[0][0]
    assert quarantined > 0  # defects existed, and never reached the models
    _check_facts_against_raw(inc)

    _load(full)
    assert transform(full, full_refresh=True, select=MODELS_ONLY).ok
    for schema in ("intermediate", "analytics"):
        for name in tables_in(inc, schema):
            # the loader stamps _loaded_at with the wall clock: the two warehouses were loaded at
            # different times, so that lineage column differs by construction; all else must not
            a, b = (sorted_rows(s, schema, name, exclude=("_loaded_at",)) for s in (inc, full))
            assert a == b, f"{schema}.{name}"
    # moving customers produced SCD2 history, and orders changed status across days
    assert query(inc, "select count(*) from analytics.dim_customer where not is_current")[0][0] > 0
    assert query(inc, "select count(*) from analytics.dim_product where version_number > 1")[0][0] > 0


def test_generated_data_on_postgres(lake, pg_dsn):
    settings = Settings(lake=lake, target="postgres", postgres_dsn=Secret(pg_dsn))
    _load(settings)
    result = transform(settings)
    assert result.ok, "; ".join(f"{n.name}: {n.message}" for n in result.failed)
    _check_facts_against_raw(settings)
    assert query(settings, "select count(*) from analytics.customer_360")[0][0] > 0
