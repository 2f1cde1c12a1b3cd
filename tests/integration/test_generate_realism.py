"""The simulator's shape against the real Olist dataset (read in place via olist_dir; nothing copied):
the same statistics computed the same way on both, within stated tolerances."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pytest

from shopdw.sources.sim_model import PurchaseCache, make_world
from shopdw.sources.sim_tables import emit_day


def _stats(items: pa.Table, payments: pa.Table, reviews: pa.Table, customers: pa.Table, orders: pa.Table) -> dict:
    per_order = np.array(list(Counter(items.column("order_id").to_pylist()).values()))
    types = Counter(payments.column("payment_type").to_pylist())
    scores = Counter(reviews.column("review_score").to_pylist())
    states = Counter(customers.column("customer_state").to_pylist())
    inst = Counter(payments.column("payment_installments").to_pylist())
    delivered = orders.filter(pc.equal(orders.column("order_status"), "delivered"))
    days = [
        (b - a).total_seconds() / 86400
        for a, b in zip(
            delivered.column("order_purchase_timestamp").to_pylist(),
            delivered.column("order_delivered_customer_date").to_pylist(),
        )  # fmt: skip
        if a and b
    ]
    return {
        "one_item": float((per_order == 1).mean()),
        "max_items": int(per_order.max()),
        **{f"pay_{k}": types[k] / len(payments) for k in ("credit_card", "boleto", "voucher", "debit_card")},
        "one_installment": inst[1] / len(payments),
        **{f"score_{s}": scores[s] / len(reviews) for s in range(1, 6)},
        "state_SP": states["SP"] / len(customers),
        "top_state": states.most_common(1)[0][0],
        "median_delivery_days": float(np.median(days)),
    }


TOLERANCE = {
    "one_item": 0.04,
    "pay_credit_card": 0.06,
    "pay_boleto": 0.06,
    "pay_voucher": 0.04,
    "pay_debit_card": 0.02,
    "one_installment": 0.08,
    "score_1": 0.05,
    "score_2": 0.03,
    "score_3": 0.04,
    "score_4": 0.06,
    "score_5": 0.08,
    "state_SP": 0.12,
    "median_delivery_days": 4.0,
}


@pytest.fixture(scope="module")
def simulated():
    world = make_world(21, 300, 0.05)
    cache = PurchaseCache(world)
    start = date(2025, 4, 7)
    days = [emit_day(world, cache, (start + timedelta(days=i)).toordinal()) for i in range(21)]
    t = {e: pa.concat_tables([d[e] for d in days]) for e in days[0]}
    # one row per key, as staging would keep: the latest version
    cust = t["customers"].sort_by([("customer_id", "ascending"), ("updated_at", "descending")])
    keep = np.r_[
        True,
        np.array(cust.column("customer_id").to_pylist()[1:]) != np.array(cust.column("customer_id").to_pylist()[:-1]),
    ]
    t["customers"] = cust.filter(pa.array(keep))
    return _stats(t["order_items"], t["order_payments"], t["order_reviews"], t["customers"], t["orders"])


def test_simulated_shape_matches_olist(olist_dir, simulated):
    def read(name: str) -> pa.Table:
        return pacsv.read_csv(olist_dir / f"olist_{name}_dataset.csv")

    real = _stats(read("order_items"), read("order_payments"), read("order_reviews"), read("customers"), read("orders"))
    off = {
        k: (round(simulated[k], 3), round(real[k], 3))
        for k, tol in TOLERANCE.items()
        if abs(simulated[k] - real[k]) > tol
    }
    assert not off, f"simulated vs Olist outside tolerance: {off}"
    assert simulated["top_state"] == real["top_state"] == "SP"
    assert 3 <= simulated["max_items"] <= 21
