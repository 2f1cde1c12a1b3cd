"""The simulator's building blocks and realism, in memory (no lake, no servers)."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from shopdw.contracts import BR_STATES, CONTRACTS, ORDER_STATUSES, PAYMENT_TYPES, WEB_EVENT_TYPES
from shopdw.errors import ConfigError
from shopdw.sources import sim_model
from shopdw.sources.sim_core import hex_ids, money_array
from shopdw.sources.sim_model import PurchaseCache, make_world, order_counts
from shopdw.sources.sim_tables import emit_day
from shopdw.sources.simulator import DATED_ENTITIES, SimulatorConfig, applicable_defects, inject_defects


def _days(world, start: date, n: int) -> list[dict[str, pa.Table]]:
    cache = PurchaseCache(world)
    return [emit_day(world, cache, (start + timedelta(days=i)).toordinal()) for i in range(n)]


@pytest.fixture(scope="module")
def month():
    """30 days of 150 orders/day, concatenated per entity."""
    world = make_world(7, 150, 0.05)
    days = _days(world, date(2025, 3, 1), 30)
    return {e: pa.concat_tables([d[e] for d in days]) for e in DATED_ENTITIES}


def test_hex_ids_are_32_lowercase_hex_unique_and_deterministic():
    a = hex_ids(1, "order", 739000, np.arange(50_000))
    b = hex_ids(1, "order", 739000, np.arange(50_000))
    c = hex_ids(2, "order", 739000, np.arange(50_000))
    assert a.equals(b)
    assert not a.equals(c)
    values = a.to_pylist()
    assert all(re.fullmatch(r"[0-9a-f]{32}", v) for v in values[:1000])
    assert len(set(values)) == len(values)
    assert hex_ids(1, "order", 739000, np.array([7])).to_pylist()[0] == values[7]  # any subset, same id


def test_money_array_is_exact_decimal():
    arr = money_array(np.array([0, 1, 12345, -250]))
    assert arr.type == pa.decimal128(12, 2)
    assert [str(v) for v in arr.to_pylist()] == ["0.00", "0.01", "123.45", "-2.50"]


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"days": 0}, "--days"),
        ({"orders_per_day": 0}, "--orders-per-day"),
        ({"seed": -1}, "--seed"),
        ({"defect_rate": 1.5}, "--defect-rate"),
        ({"late_rate": -0.1}, "--late-rate"),
        ({"fmt": "xml"}, "--format"),
    ],
)
def test_bad_config_is_a_config_error_naming_the_knob(kwargs, fragment):
    base = {"start": date(2025, 1, 1), "days": 1}
    with pytest.raises(ConfigError, match=re.escape(fragment)):
        SimulatorConfig(**{**base, **kwargs})


def test_each_day_is_a_pure_function_of_seed_and_day():
    """Emitting a day inside a long run equals emitting it alone (fresh cache, nothing before it)."""
    world = make_world(11, 60, 0.2)
    run = _days(world, date(2025, 1, 1), 6)
    alone = _days(make_world(11, 60, 0.2), date(2025, 1, 5), 1)[0]
    for e in DATED_ENTITIES:
        assert run[4][e].equals(alone[e]), e


def test_tables_match_contracts_and_domains(month):
    for e, t in month.items():
        assert t.schema == CONTRACTS[e].arrow_schema(), e
        assert t.num_rows > 0, e
        for col in CONTRACTS[e].required_not_null:
            assert t.column(col).null_count == 0, (e, col)
    assert set(month["orders"].column("order_status").to_pylist()) <= set(ORDER_STATUSES)
    assert set(month["order_payments"].column("payment_type").to_pylist()) <= set(PAYMENT_TYPES)
    assert set(month["web_events"].column("event_type").to_pylist()) == set(WEB_EVENT_TYPES)
    for e, col in (("customers", "customer_state"), ("sellers", "seller_state")):
        assert set(month[e].column(col).to_pylist()) <= set(BR_STATES)
    zips = month["customers"].column("customer_zip_code_prefix").to_pylist()
    assert all(re.fullmatch(r"[0-9]{5}", z) for z in zips)
    for e, col in (("order_items", "price"), ("order_items", "freight_value"), ("order_payments", "payment_value")):
        assert pc.min(month[e].column(col)).as_py() >= 0


def test_orders_move_through_statuses_and_payments_add_up(month):
    o = month["orders"]
    statuses = Counter(o.column("order_status").to_pylist())
    for s in ("created", "shipped", "delivered", "canceled"):
        assert statuses[s] > 0, s
    # one order's versions: status changes in time, updated_at grows
    ids = o.column("order_id").to_pylist()
    first_delivered = ids[o.column("order_status").to_pylist().index("delivered")]
    versions = o.filter(pc.equal(o.column("order_id"), first_delivered)).sort_by("updated_at")
    assert versions.column("order_status").to_pylist()[-1] == "delivered"
    # payments of an order sum to its items' price + freight
    items = month["order_items"].group_by("order_id").aggregate([("price", "sum"), ("freight_value", "sum")])
    pays = month["order_payments"].group_by("order_id").aggregate([("payment_value", "sum")])
    totals = {r["order_id"]: r["price_sum"] + r["freight_value_sum"] for r in items.to_pylist()}
    paid = {r["order_id"]: r["payment_value_sum"] for r in pays.to_pylist()}
    common = [k for k in paid if k in totals]
    assert len(common) > 1000
    mismatched = [k for k in common if paid[k] != totals[k]]
    # late rows may put part of an order outside the month; almost all must match exactly
    assert len(mismatched) < 0.15 * len(common)


def test_realism_items_states_payments_reviews(month):
    per_order = Counter(month["order_items"].column("order_id").to_pylist())
    counts = np.array(list(per_order.values()))
    assert 0.80 < (counts == 1).mean() < 0.95
    assert counts.max() <= 21 and counts.max() >= 3
    states = Counter(month["customers"].column("customer_state").to_pylist())
    assert states.most_common(1)[0][0] == "SP"
    assert len(states) >= 20
    assert len(set(month["sellers"].column("seller_state").to_pylist())) >= 8
    types = Counter(month["order_payments"].column("payment_type").to_pylist())
    assert {"credit_card", "boleto", "voucher", "debit_card"} <= set(types)
    assert types["credit_card"] > types["boleto"] > types["debit_card"]
    installments = month["order_payments"].column("payment_installments").to_pylist()
    assert max(installments) > 1 and Counter(installments).most_common(1)[0][0] == 1
    scores = Counter(month["order_reviews"].column("review_score").to_pylist())
    assert scores[5] > scores[4] > scores[3] > scores[2]
    assert scores[1] > scores[2]  # the J-shape of real shop reviews
    # repeat customers: some persons hold several customer_ids
    cust = month["customers"]
    accounts = Counter(
        dict(zip(cust.column("customer_id").to_pylist(), cust.column("customer_unique_id").to_pylist())).values()
    )
    assert 0 < sum(1 for v in accounts.values() if v > 1)


def test_delivery_takes_longer_to_far_states(month):
    o = month["orders"].filter(pc.equal(month["orders"].column("order_status"), "delivered"))
    c = month["customers"]
    state = dict(zip(c.column("customer_id").to_pylist(), c.column("customer_state").to_pylist()))
    days_by_state: dict[str, list[float]] = {}
    for cid, p, dlv in zip(o.column("customer_id").to_pylist(), o.column("order_purchase_timestamp").to_pylist(),
                           o.column("order_delivered_customer_date").to_pylist()):  # fmt: skip
        days_by_state.setdefault(state[cid], []).append((dlv - p).total_seconds() / 86400)
    near = np.mean(days_by_state["SP"])
    far = np.mean([d for s in ("AM", "RR", "AP", "AC", "PA", "RO") for d in days_by_state.get(s, [])])
    assert far > near + 4


def test_black_friday_beats_an_ordinary_friday():
    world = make_world(3, 1000, 0.05)
    bf = date(2025, 11, 28).toordinal()  # last Friday of November 2025
    ordinary = date(2025, 11, 14).toordinal()
    counts = order_counts(world, np.array([bf, ordinary]))
    assert counts[0] > 3 * counts[1]
    assert sim_model._last_friday_of_november(2024) == date(2024, 11, 29).toordinal()
    # weekday rhythm: Mondays busier than Saturdays on average
    days = np.arange(date(2025, 2, 3).toordinal(), date(2025, 2, 3).toordinal() + 7 * 8)
    c = order_counts(world, days)
    assert c[0::7].mean() > c[5::7].mean()


def test_web_sessions_end_in_real_orders_sometimes():
    world = make_world(5, 80, 0.0)
    day = _days(world, date(2025, 6, 2), 1)[0]
    w = day["web_events"]
    purchases = w.filter(pc.equal(w.column("event_type"), "purchase"))
    new_orders = set(
        day["orders"].filter(pc.equal(day["orders"].column("order_status"), "created")).column("order_id").to_pylist()
    )
    assert set(purchases.column("order_id").to_pylist()) <= set(day["orders"].column("order_id").to_pylist())
    assert len(purchases) == len(set(purchases.column("order_id").to_pylist())) > 0
    assert len(new_orders & set(purchases.column("order_id").to_pylist())) > 0
    sessions = set(w.column("session_id").to_pylist())
    assert len(sessions) > 1.5 * len(purchases)  # most sessions end without an order
    assert w.column("customer_unique_id").null_count > 0  # anonymous visitors


def test_defects_are_extra_rows_and_removing_them_gives_the_clean_table(month):
    clean = month["order_items"]
    d = inject_defects(clean, "order_items", 740000, seed=9, rate=0.2, fmt="csv")
    assert len(d.rows) > 0.1 * clean.num_rows
    keep = np.ones(d.table.num_rows, dtype=bool)
    keep[d.rows] = False
    assert d.table.filter(pa.array(keep)).equals(clean)
    assert set(d.kinds) == set(applicable_defects("order_items", "csv"))
    # each duplicate sits right after its original
    rows = d.table.to_pylist()
    for r, kind in zip(d.rows, d.kinds):
        if kind == "duplicate_row":
            assert rows[r] == rows[r - 1]


def test_parquet_gets_no_null_keys_or_unparseable_values():
    for e in DATED_ENTITIES:
        kinds = applicable_defects(e, "parquet")
        assert "null_key" not in kinds and "unparseable_value" not in kinds
        assert "null_key" in applicable_defects(e, "json")
