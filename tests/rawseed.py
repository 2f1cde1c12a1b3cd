"""Seed raw.<entity> tables directly (as the loader would) for the dbt tests, and a small
deterministic shop history with the awkward cases the dbt project must handle: customers
who move (twice), products that change price/category, orders that change status over
several days, items and payments that arrive days late, exact duplicates re-emitted in
later batches, null change timestamps, city names with and without accents.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pyarrow as pa

from shopdw.config import Settings
from shopdw.contracts import LOAD_ORDER, raw_arrow_schema
from shopdw.warehouse import open_warehouse


def ensure_raw(settings: Settings) -> None:
    """Create every raw.<entity> table (empty) with the loader's schema."""
    with open_warehouse(settings) as wh:
        wh.ensure_tables({("raw", e): raw_arrow_schema(e) for e in LOAD_ORDER})


def to_arrow(
    entity: str, rows: list[dict[str, Any]], batch_id: str, ingest_date: date, loaded_at: datetime
) -> pa.Table:
    schema = raw_arrow_schema(entity)
    lineage = {
        "_source_file": f"raw/{entity}/ingest_date={ingest_date.isoformat()}/{batch_id}.parquet",
        "_batch_id": batch_id,
        "_ingest_date": ingest_date,
        "_loaded_at": loaded_at,
        "_run_id": f"run-{batch_id}",
    }
    cols = {f.name: [r.get(f.name, lineage.get(f.name)) for r in rows] for f in schema}
    return pa.table(cols, schema=schema)


def append_batch(settings: Settings, batch: Batch) -> None:
    """Append one day's batch to raw.* (every entity in one transaction, like a load run)."""
    with open_warehouse(settings) as wh:
        wh.ensure_tables({("raw", e): raw_arrow_schema(e) for e in LOAD_ORDER})
        with wh.transaction():
            for entity in LOAD_ORDER:
                rows = batch.rows.get(entity)
                if rows:
                    wh.append_arrow(
                        "raw", entity, to_arrow(entity, rows, batch.batch_id, batch.ingest_date, batch.loaded_at)
                    )


@dataclass
class Batch:
    ingest_date: date
    batch_id: str
    loaded_at: datetime
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, entity: str, row: dict[str, Any]) -> None:
        self.rows.setdefault(entity, []).append(dict(row))


def _ts(d: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(d, time(hour, minute))


CITIES = [("01001", "são paulo", "SP", -23.55, -46.63), ("20010", "rio de janeiro", "RJ", -22.90, -43.17),
          ("30110", "belo horizonte", "MG", -19.92, -43.94), ("80010", "curitiba", "PR", -25.43, -49.27),
          ("40010", "salvador", "BA", -12.97, -38.50), ("70040", "brasília", "DF", -15.79, -47.88)]  # fmt: skip
CATEGORIES = [("beleza_saude", "health_beauty"), ("informatica_acessorios", "computers_accessories"),
              ("esporte_lazer", "sports_leisure"), ("cama_mesa_banho", "bed_bath_table")]  # fmt: skip
PAYMENT_TYPES = ["credit_card", "boleto", "voucher", "debit_card"]


def shop_history(days: int = 6, orders_per_day: int = 12, seed: int = 7, start: date = date(2018, 3, 1)) -> list[Batch]:
    """A small, deterministic history in daily batches (see the module docstring).

    Fixed characters the tests check by hand:
    - customer account 'c_mover' (person 'p_mover') moves twice (day 1 and day 3 of the history)
      and orders on day 0, day 2 and day 4: each order joins the address it had then; the
      second move's record arrives two days late (batch of day 5, updated_at on day 3), after
      the day-4 order was loaded;
    - order 'o_late' (day 1) gets its second item and payment in the batch of day 3;
    - orders move created -> (shipped) -> delivered, the final version one or more batches later;
    - product 'prod_0' changes list price and category on day 2;
    - day 2's customer batch is re-emitted in full (exact duplicates) on day 3.
    """
    rng = random.Random(seed)
    batches = [
        Batch(start + timedelta(days=i), f"b{i:03d}", _ts(start + timedelta(days=i), 23, 30)) for i in range(days + 1)
    ]
    b0 = batches[0]
    for i, (zp, city, st, lat, lng) in enumerate(CITIES):
        for j in range(3):  # several points per prefix, one with an accent-free spelling
            name = city if j else city.replace("ã", "a").replace("í", "i").upper()
            b0.add("geolocation", {"geolocation_zip_code_prefix": zp, "geolocation_lat": lat + j * 0.01,
                                   "geolocation_lng": lng - j * 0.01, "geolocation_city": name, "geolocation_state": st})  # fmt: skip
        if i == 0:  # an exact duplicate row in the same file
            b0.add("geolocation", b0.rows["geolocation"][0])
    for pt, en in CATEGORIES:
        b0.add("product_category_translation", {"product_category_name": pt, "product_category_name_english": en})
    for k in range(8):
        pt = CATEGORIES[k % len(CATEGORIES)][0]
        b0.add("products", {"product_id": f"prod_{k}", "product_category_name": pt, "product_name_lenght": 40 + k,
                            "product_description_lenght": 300, "product_photos_qty": 1, "product_weight_g": 500 + k,
                            "product_length_cm": 20, "product_height_cm": 10, "product_width_cm": 15,
                            "list_price": Decimal(f"{50 + 10 * k}.90"),
                            "updated_at": _ts(start, 1) if k else None})  # fmt: skip
    for k in range(4):
        zp, city, st, *_ = CITIES[k]
        b0.add("sellers", {"seller_id": f"seller_{k}", "seller_zip_code_prefix": zp, "seller_city": city,
                           "seller_state": st, "updated_at": _ts(start, 1)})  # fmt: skip
    # product 0 changes price and category on day 2
    p0 = dict(b0.rows["products"][0])
    p0.update(
        list_price=Decimal("59.90"), product_category_name="esporte_lazer", updated_at=_ts(start + timedelta(days=2), 6)
    )
    batches[2].add("products", p0)

    # the mover: three versions; the third one arrives late (in the batch of day 4)
    mover = {"customer_id": "c_mover", "customer_unique_id": "p_mover"}
    moves = [(0, 0, batches[0]), (1, 1, batches[1]), (3, 2, batches[5])]
    for day, city_idx, batch in moves:
        zp, city, st, *_ = CITIES[city_idx]
        batch.add("customers", {**mover, "customer_zip_code_prefix": zp, "customer_city": city, "customer_state": st,
                                "updated_at": _ts(start + timedelta(days=day), 8)})  # fmt: skip
    counter = 0

    def order(day: int, cust: str, person: str, new_customer: bool, items: list[tuple[str, str, str, str]],
              status: str = "delivered", late_by: int = 0, hour: int = 10, oid: str | None = None) -> str:  # fmt: skip
        nonlocal counter
        counter += 1
        oid = oid or (f"o_{counter:04d}" if not cust.startswith("c_mover") else f"o_mover_{day}")
        b = batches[day]
        d = b.ingest_date
        if new_customer:
            zp, city, st, *_ = CITIES[rng.randrange(len(CITIES))]
            b.add("customers", {"customer_id": cust, "customer_unique_id": person, "customer_zip_code_prefix": zp,
                                "customer_city": city, "customer_state": st, "updated_at": _ts(d, hour - 1)})  # fmt: skip
        purchased = _ts(d, hour, rng.randrange(60))
        est = purchased + timedelta(days=2)
        b.add("orders", {"order_id": oid, "customer_id": cust, "order_status": "created",
                         "order_purchase_timestamp": purchased, "order_estimated_delivery_date": est,
                         "updated_at": purchased})  # fmt: skip
        if status in ("delivered", "canceled") and day + 1 < len(batches):
            if day + 1 + late_by * 2 >= len(batches):
                late_by = 0
            nb = batches[day + 1 + late_by * 2]  # a late delivery lands after the estimate (+2 days)
            delivered = _ts(nb.ingest_date, 15)
            final = {"order_id": oid, "customer_id": cust, "order_status": status,
                     "order_purchase_timestamp": purchased, "order_approved_at": purchased + timedelta(hours=1),
                     "order_estimated_delivery_date": est, "updated_at": delivered}  # fmt: skip
            if status == "delivered":
                final.update(
                    order_delivered_carrier_date=purchased + timedelta(hours=5), order_delivered_customer_date=delivered
                )
            if status == "delivered" and late_by == 0 and day + 1 < len(batches) and counter % 3 == 0:
                shipped = dict(
                    final,
                    order_status="shipped",
                    order_delivered_customer_date=None,
                    updated_at=purchased + timedelta(hours=6),
                )
                batches[day].add("orders", shipped)  # created -> shipped (same day) -> delivered
            nb.add("orders", final)
        for n, (pid, sid, price, freight) in enumerate(items, start=1):
            b.add("order_items", {"order_id": oid, "order_item_id": n, "product_id": pid, "seller_id": sid,
                                  "shipping_limit_date": purchased + timedelta(days=3),
                                  "price": Decimal(price), "freight_value": Decimal(freight)})  # fmt: skip
        total = sum(Decimal(p) + Decimal(f) for _, _, p, f in items)
        b.add("order_payments", {"order_id": oid, "payment_sequential": 1,
                                 "payment_type": PAYMENT_TYPES[counter % len(PAYMENT_TYPES)],
                                 "payment_installments": 1 + counter % 4, "payment_value": total})  # fmt: skip
        if status == "delivered" and day + 1 < len(batches):
            batches[day + 1].add("order_reviews", {"review_id": f"r_{oid}", "order_id": oid, "review_score": 1 + counter % 5,
                                                   "review_comment_title": None, "review_comment_message": "ok" if counter % 2 else None,
                                                   "review_creation_date": _ts(batches[day + 1].ingest_date, 21),
                                                   "review_answer_timestamp": None})  # fmt: skip
        sess = f"s_{oid}"
        for e, et in enumerate(("page_view", "product_view", "add_to_cart", "checkout", "purchase")):
            b.add("web_events", {"event_id": f"e_{oid}_{e}", "session_id": sess, "customer_unique_id": person,
                                 "event_type": et, "product_id": items[0][0] if items else None,
                                 "order_id": oid if et == "purchase" else None,
                                 "event_timestamp": purchased - timedelta(minutes=5 - e), "device_type": "mobile",
                                 "traffic_source": "organic"})  # fmt: skip
        return oid

    def item(k: int | None = None) -> tuple[str, str, str, str]:
        k = rng.randrange(8) if k is None else k
        return (
            f"prod_{k}",
            f"seller_{k % 4}",
            f"{rng.randrange(20, 200)}.{rng.randrange(100):02d}",
            f"{rng.randrange(5, 30)}.{rng.randrange(100):02d}",
        )

    # the mover's three orders (day 0, 2, 4): fixed prices for the hand-computed SCV figures
    order(0, "c_mover", "p_mover", False, [("prod_1", "seller_1", "100.00", "10.00")], hour=12)
    order(
        2,
        "c_mover",
        "p_mover",
        False,
        [("prod_2", "seller_2", "50.00", "5.00"), ("prod_1", "seller_1", "30.00", "3.00")],
        hour=12,
    )
    order(4, "c_mover", "p_mover", False, [("prod_0", "seller_0", "20.00", "2.00")], status="canceled", hour=12)
    # a second account of another person who buys twice
    order(1, "c_twice_a", "p_twice", True, [("prod_3", "seller_3", "80.00", "8.00")], late_by=2)
    order(3, "c_twice_b", "p_twice", True, [("prod_3", "seller_3", "40.00", "4.00")])
    for day in range(days):
        for _ in range(orders_per_day):
            cid = f"c_{counter + 1:04d}"
            order(day, cid, f"p_{counter + 1:04d}", True, [item() for _ in range(1 + rng.randrange(2))],
                  status=rng.choice(["delivered"] * 8 + ["canceled", "shipped"]), late_by=rng.choice([0, 0, 0, 1]))  # fmt: skip

    # o_late: an order on day 1 whose second item (and second payment) arrive in the batch of day 3
    late = order(1, "c_late", "p_late", True, [("prod_4", "seller_0", "60.00", "6.00")], oid="o_late")
    batches[3].add("order_items", {"order_id": late, "order_item_id": 2, "product_id": "prod_5", "seller_id": "seller_1",
                                   "shipping_limit_date": _ts(batches[1].ingest_date, 12),
                                   "price": Decimal("25.50"), "freight_value": Decimal("4.50")})  # fmt: skip
    batches[3].add("order_payments", {"order_id": late, "payment_sequential": 2, "payment_type": "voucher",
                                      "payment_installments": 1, "payment_value": Decimal("30.00")})  # fmt: skip
    # re-emit day 2's customers on day 3 (exact duplicates) and one order version twice
    for row in batches[2].rows.get("customers", []):
        batches[3].add("customers", row)
    dup = batches[1].rows["orders"][0]
    batches[2].add("orders", dup)
    return batches


# ---------------------------------------------------------------- reading results back


def tables_in(settings: Settings, schema: str) -> list[str]:
    with open_warehouse(settings) as wh:
        rows = wh.query(
            "select table_name from information_schema.tables where table_schema = "
            + ("?" if settings.target == "duckdb" else "%s")
            + " order by table_name",
            (schema,),
        )
    return [r[0] for r in rows]


def sorted_rows(settings: Settings, schema: str, table: str, exclude: tuple[str, ...] = ()) -> list[tuple]:
    """Every row of schema.table, sorted (None sorts first): a table's content, order-free.
    `exclude` drops columns (e.g. _loaded_at, when the two warehouses were loaded at different times)."""
    ph = "?" if settings.target == "duckdb" else "%s"
    with open_warehouse(settings) as wh:
        cols = [r[0] for r in wh.query(
            f"select column_name from information_schema.columns where table_schema = {ph} and table_name = {ph} "
            "order by ordinal_position", (schema, table))]  # fmt: skip
        keep = ", ".join(wh.quote_ident(c) for c in cols if c not in exclude)
        rows = wh.query(f"select {keep} from {wh.qualified(schema, table)}")
    return sorted(rows, key=lambda r: tuple((v is not None, str(v)) for v in r))


def query(settings: Settings, sql: str, params: tuple = ()) -> list[tuple]:
    with open_warehouse(settings) as wh:
        return wh.query(sql.replace("%s", "?") if settings.target == "duckdb" else sql, params or None)


def dedup_raw_totals(batches: list[Batch]) -> dict[str, Decimal]:
    """Money totals of the deduplicated raw history, computed in Python: items and payments
    keep one row per key (the latest batch's), and count only when their order exists."""
    orders = {r["order_id"] for b in batches for r in b.rows.get("orders", [])}
    items: dict[tuple, dict] = {}
    payments: dict[tuple, dict] = {}
    for b in batches:
        for r in b.rows.get("order_items", []):
            items[(r["order_id"], r["order_item_id"])] = r
        for r in b.rows.get("order_payments", []):
            payments[(r["order_id"], r["payment_sequential"])] = r
    return {
        "price": sum((r["price"] for r in items.values() if r["order_id"] in orders), Decimal("0")),
        "freight_value": sum((r["freight_value"] for r in items.values() if r["order_id"] in orders), Decimal("0")),
        "payment_value": sum((r["payment_value"] for r in payments.values() if r["order_id"] in orders), Decimal("0")),
        "items": Decimal(sum(1 for r in items.values() if r["order_id"] in orders)),
    }
