"""The per-person models on an incremental build: int_customer_metrics re-derives only the people
touched since its watermark, and each kind of change reaches the people it touches (a product's
new category, an account that moves, a web event), so the SCV equals a full refresh."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from rawseed import Batch, append_batch, query, shop_history, sorted_rows
from shopdw.config import Settings
from shopdw.transform import transform

MODELS_ONLY = ["resource_type:model", "resource_type:seed"]
SCV_TABLES = (
    ("intermediate", "int_customer_metrics"),
    ("intermediate", "int_customer_rfm"),
    ("analytics", "customer_360"),
)


def _changes(history: list[Batch]) -> tuple[Batch, str]:
    """One more batch with no order in it: prod_1 (p_mover's favourite category, bought twice)
    re-emitted with another category at the same updated_at (the later batch wins), prod_0 (whose
    category changed on day 2) re-emitted unchanged, c_twice_b moving to Rio, and a new web
    session of a third person. Returns it and that person."""
    rows = {e: [r for b in history for r in b.rows.get(e, [])] for e in ("products", "customers", "web_events")}
    extra = Batch(date(2018, 3, 8), "b_extra", datetime(2018, 3, 8, 23, 30))
    prod = next(r for r in rows["products"] if r["product_id"] == "prod_1")
    extra.add("products", {**prod, "product_category_name": "esporte_lazer"})
    # the same change timestamp and category as prod_0's newest raw row: it changes nothing
    extra.add("products", dict([r for r in rows["products"] if r["product_id"] == "prod_0"][-1]))
    acct = [r for r in rows["customers"] if r["customer_id"] == "c_twice_b"][-1]
    extra.add("customers", {**acct, "customer_zip_code_prefix": "20040", "customer_city": "rio de janeiro",
                            "customer_state": "RJ", "updated_at": datetime(2018, 3, 8, 9)})  # fmt: skip
    event = next(r for r in rows["web_events"] if r["customer_unique_id"] not in (None, "p_mover", "p_twice"))
    extra.add("web_events", {**event, "event_id": "e_extra", "session_id": "s_extra", "event_type": "page_view",
                             "event_timestamp": datetime(2018, 3, 8, 10)})  # fmt: skip
    return extra, event["customer_unique_id"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("dbt-scv")
    inc, full = (Settings(duckdb_path=str(base / f"{n}.duckdb")) for n in ("inc", "full"))
    history = shop_history()
    extra, web_person = _changes(history)
    for b in history:
        append_batch(inc, b)
        append_batch(full, b)
    first = transform(inc, select=MODELS_ONLY)
    before = {
        p: query(inc, "select favourite_category, customer_city, web_sessions from intermediate.int_customer_metrics "
                      "where customer_unique_id = %s", (p,))[0]
        for p in ("p_mover", "p_twice", web_person)
    }  # fmt: skip
    # a canary: a person nothing in the new batch touches, altered by hand; an incremental run
    # that re-derived everyone would put the true value back
    canary = query(inc, "select min(customer_unique_id) from intermediate.int_customer_metrics where orders > 0 "
                        "and customer_unique_id not in ('p_mover', 'p_twice', %s)", (web_person,))[0][0]  # fmt: skip
    # a second canary: a buyer of prod_0 after its category change; its unchanged re-emit touches nobody
    unchanged_product_buyer = query(
        inc,
        "select min(o.customer_unique_id) from analytics.fct_order_items i join analytics.fct_orders o "
        "on o.order_id = i.order_id where i.product_id = 'prod_0' and o.is_revenue "
        "and o.purchased_at >= %s and o.customer_unique_id not in ('p_mover', 'p_twice', %s, %s) "
        "and o.customer_unique_id not in (select customer_unique_id from analytics.fct_order_items "
        "where product_id = 'prod_1')",
        (datetime(2018, 3, 3, 6), web_person, canary),
    )[0][0]
    assert unchanged_product_buyer is not None
    for person in (canary, unchanged_product_buyer):
        query(
            inc,
            "update intermediate.int_customer_metrics set items = items + 1000 where customer_unique_id = %s",
            (person,),
        )
    append_batch(inc, extra)
    second = transform(inc, select=MODELS_ONLY)
    append_batch(full, extra)
    refresh = transform(full, full_refresh=True, select=MODELS_ONLY)
    return {"inc": inc, "full": full, "runs": (first, second, refresh), "before": before,
            "canaries": (canary, unchanged_product_buyer), "web_person": web_person}  # fmt: skip


def _metrics(settings, person):
    return query(settings, "select favourite_category, customer_city, web_sessions from intermediate.int_customer_metrics "
                           "where customer_unique_id = %s", (person,))[0]  # fmt: skip


def test_runs_succeed(built):
    for r in built["runs"]:
        assert r.ok, "; ".join(f"{n.name}: {n.message}" for n in r.failed)


def test_each_kind_of_change_reaches_its_person(built):
    inc, before, web_person = built["inc"], built["before"], built["web_person"]
    assert before["p_mover"][0] == "computers_accessories" and _metrics(inc, "p_mover")[0] == "sports_leisure"
    assert before["p_twice"][1] == "sao paulo" and _metrics(inc, "p_twice")[1] == "rio de janeiro"
    assert _metrics(inc, web_person)[2] == before[web_person][2] + 1


def test_untouched_people_are_not_rewritten(built):
    # neither the canary nor the buyer of the product re-emitted unchanged is re-derived
    inc, full = built["inc"], built["full"]
    sql = "select items from intermediate.int_customer_metrics where customer_unique_id = %s"
    for person in built["canaries"]:
        assert query(inc, sql, (person,))[0][0] == query(full, sql, (person,))[0][0] + 1000, person


def test_scv_equals_a_full_refresh_but_for_the_canaries(built):
    inc, full, canaries = built["inc"], built["full"], built["canaries"]
    for schema, table in SCV_TABLES:
        a, b = (sorted_rows(s, schema, table) for s in (inc, full))
        assert len(a) == len(b) > 50
        if table == "int_customer_rfm":
            assert a == b, table  # ranks use lifetime value and recency only, not the canaries' items
        else:
            assert [r for r in a if not set(canaries) & set(r)] == [r for r in b if not set(canaries) & set(r)], table
            for person in canaries:
                assert [r for r in a if person in r] != [r for r in b if person in r], (table, person)
