"""Day D's clean batch of every dated entity, as Arrow tables in the contract's exact schemas."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from shopdw.contracts import CONTRACTS
from shopdw.sources import sim_reference as ref
from shopdw.sources.sim_core import (
    DAY_US,
    ID_LEN,
    NAT,
    day_start_us,
    hex_chars,
    hex_ids,
    id_array,
    int32_array,
    inverse_cdf,
    money_array,
    take_ids,
    ts_array,
)
from shopdw.sources.sim_model import (
    BROWSE_SESSIONS_PER_ORDER,
    EVENTS,
    KNOWN_VISITOR_SHARE,
    LOOKBACK_DAYS,
    PAYMENT_NAMES,
    RETURN_HORIZON_DAYS,
    PurchaseCache,
    PurchaseDay,
    World,
    _rng,
    order_counts,
    product_attrs,
    product_of_draw,
    seller_attrs,
)

_STATES = pa.array(ref.STATES)
_CITIES = pa.array(ref.CITY_NAMES)
_ZIPS = pa.array(ref.ZIP_CODES.tolist())
_CATS = pa.array(ref.CATEGORY_PT.tolist())
_STATUS = pa.array(EVENTS)
_PAYMENTS = pa.array(PAYMENT_NAMES)
_TITLES = pa.array(ref.REVIEW_TITLES)
_MESSAGES = pa.array(ref.REVIEW_MESSAGES)
_DEVICES = pa.array(["desktop", "mobile", "tablet"])
_DEVICE_CDF = np.cumsum([0.45, 0.50, 0.05])
_TRAFFIC = pa.array(["direct", "organic", "paid_search", "social", "email", "referral"])
_TRAFFIC_CDF = np.cumsum([0.30, 0.25, 0.15, 0.15, 0.10, 0.05])
# Parquet dictionary encoding only where values repeat (ids would waste half the encoding time).
DICTIONARY_COLUMNS = (
    "order_status", "payment_type", "event_type", "device_type", "traffic_source", "customer_state",
    "customer_city", "customer_zip_code_prefix", "seller_state", "seller_city", "seller_zip_code_prefix",
    "product_category_name", "review_comment_title", "review_comment_message", "geolocation_state",
    "geolocation_city", "geolocation_zip_code_prefix", "product_category_name_english",
)  # fmt: skip
_WEB_TYPES = pa.array(["page_view", "product_view", "add_to_cart", "checkout", "purchase"])
_EPOCH_DAY = day_start_us(0) // DAY_US  # ordinal -> days since 1970: D + _EPOCH_DAY


def _table(entity: str, cols: dict[str, pa.Array], dictionary: bool) -> pa.Table:
    """A table in the contract's schema. Columns built as dictionary arrays (low-cardinality values,
    and ids that repeat within the day: indices into a pool, no string copies) stay dictionaries when
    dictionary is True (for the Parquet writer to store as they are), else are decoded to plain strings."""
    fields, arrays = [], []
    for f in CONTRACTS[entity].arrow_schema():
        a = cols[f.name]
        if pa.types.is_dictionary(a.type):
            if dictionary:
                f = f.with_type(a.type)
            else:
                a = a.dictionary_decode()
        fields.append(f)
        arrays.append(a)
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _pool(pool: pa.Array, idx: np.ndarray, null: np.ndarray | None = None) -> pa.DictionaryArray:
    """Values of a string pool by index (null where null is True), as a dictionary array."""
    idx = np.asarray(idx, dtype=np.int32)
    if null is not None and null.any():
        indices = pa.array(np.where(null, 0, idx), type=pa.int32(), mask=null)
    else:
        indices = pa.array(idx, type=pa.int32())
    return pa.DictionaryArray.from_arrays(indices, pool)


def _cat(parts: list[np.ndarray], dtype=np.int64) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


def _union(n: int, *parts: np.ndarray) -> np.ndarray:
    """Sorted distinct numbers below n found in any of parts (np.union1d without a sort)."""
    seen = np.zeros(n, dtype=bool)
    for p in parts:
        seen[p] = True
    return np.nonzero(seen)[0]


def _cat_ids(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros((0, ID_LEN), dtype=np.uint8)


# ---------------------------------------------------------------- ids kept with what they identify


def _day_ids(world: World, pd: PurchaseDay, name: str) -> np.ndarray:
    """hex_chars of one purchase day's orders (order, customer account, person) or reviews, computed once."""
    ids = pd.memo.get(name)
    if ids is None:
        s, w = world.seed, pd.day
        if name == "person":
            ids = hex_chars(s, "person", pd.pday, pd.pk)
        elif name == "review":
            ids = hex_chars(s, "review", w, pd.rv_order)
        else:  # order, customer
            ids = hex_chars(s, name, w, np.arange(pd.n))
        pd.memo[name] = ids
    return ids


def _catalog_ids(world: World, name: str) -> np.ndarray:
    """hex_chars of every product or seller number, computed once per world."""
    ids = world.memo.get(name)
    if ids is None:
        ids = world.memo[name] = hex_chars(world.seed, name, np.arange(world.n_products if name == "product"
                                                                        else world.n_sellers))  # fmt: skip
    return ids


def prepare_day(world: World, pd: PurchaseDay) -> None:
    """Compute what emit_day derives from a purchase day (its ids and event days) ahead of time."""
    for name in ("order", "customer", "person", "review"):
        _day_ids(world, pd, name)
    _event_days(pd)


def _event_days(pd: PurchaseDay) -> np.ndarray:
    """Days after its purchase day of each order's events as (n, 8) int8 (no event and the padding column:
    -1; 127 and later: 127, beyond any look-back), so that 'any event on day D' is one uint64 test per order."""
    ev = pd.memo.get("event_days")
    if ev is None:
        ev = np.full((pd.n, 8), -1, dtype=np.int8)
        present = pd.events != NAT
        rel = pd.events[present] // DAY_US - (pd.day + _EPOCH_DAY)
        ev[:, :7][present] = np.minimum(rel, 127)
        pd.memo["event_days"] = ev
    return ev


def emit_day(world: World, cache: PurchaseCache, D: int, dictionary: bool = False) -> dict[str, pa.Table]:
    """The clean batch of day D (ordinal) for every non-reference entity.

    dictionary: low-cardinality string columns (DICTIONARY_COLUMNS) as dictionary arrays, for the
    Parquet writer to store without hashing each value; the values are the same."""
    end_d = day_start_us(D + 1) - 1

    o_id, o_cid, o_j, o_ev, o_est = [], [], [], [], []
    c_id, c_pid, c_zip, c_upd = [], [], [], []
    i_oid, i_no, i_prod, i_sel, i_lim, i_price, i_fr = [], [], [], [], [], [], []
    p_oid, p_seq, p_type, p_inst, p_val = [], [], [], [], []
    r_id, r_oid, r_score, r_cre, r_ans, r_title, r_msg = [], [], [], [], [], [], []

    for w in range(D - LOOKBACK_DAYS, D + 1):  # one iteration per window day
        pd = cache.get(w)
        isel = np.nonzero(pd.it_arrival == D)[0]
        psel = np.nonzero(pd.pay_arrival == D)[0]
        rsel = np.nonzero(pd.rv_day == D)[0]
        # an order row when the order's status changes today (one of its events falls on D: events are
        # chronological, so that event is its latest so far), or when a child row refers to it today
        emit = (_event_days(pd) == np.int8(D - w)).view(np.uint64).ravel() != 0
        emit[pd.it_order[isel]] = True
        emit[pd.pay_order[psel]] = True
        emit[pd.rv_order[rsel]] = True
        order_ids = _day_ids(world, pd, "order")
        if emit.any():
            idx = np.nonzero(emit)[0]
            ev = np.take(pd.events, idx, axis=0)
            known = ev <= end_d
            o_id.append(np.take(order_ids, idx, axis=0))
            o_cid.append(np.take(_day_ids(world, pd, "customer"), idx, axis=0))
            o_j.append(known.shape[1] - 1 - np.argmax(known[:, ::-1], axis=1))  # latest event so far
            o_ev.append(np.where(known, ev, NAT))
            o_est.append(pd.estimated_us[idx])
        if w < D:
            emit |= pd.move_day == D  # accounts whose person moves today
        if emit.any():
            idx = np.nonzero(emit)[0]
            moved = (w < pd.move_day[idx]) & (pd.move_day[idx] <= D)
            c_id.append(np.take(_day_ids(world, pd, "customer"), idx, axis=0))
            c_pid.append(np.take(_day_ids(world, pd, "person"), idx, axis=0))
            c_zip.append(np.where(moved, pd.zip_moved[idx], pd.zip_at_purchase[idx]))
            c_upd.append(np.where(moved, pd.move_us[idx], pd.events[idx, 0]))
        if len(isel):
            i_oid.append(np.take(order_ids, pd.it_order[isel], axis=0))
            i_no.append(pd.it_no[isel])
            i_prod.append(pd.it_product[isel])
            i_sel.append(pd.it_seller[isel])
            i_lim.append(pd.it_limit_us[isel])
            i_price.append(pd.it_price[isel])
            i_fr.append(pd.it_freight[isel])
        if len(psel):
            p_oid.append(np.take(order_ids, pd.pay_order[psel], axis=0))
            p_seq.append(pd.pay_seq[psel])
            p_type.append(pd.pay_type[psel])
            p_inst.append(pd.pay_inst[psel])
            p_val.append(pd.pay_value[psel])
        if len(rsel):
            r_id.append(np.take(_day_ids(world, pd, "review"), rsel, axis=0))
            r_oid.append(np.take(order_ids, pd.rv_order[rsel], axis=0))
            r_score.append(pd.rv_score[rsel])
            r_cre.append(pd.rv_created_us[rsel])
            r_ans.append(pd.rv_answer_us[rsel])
            r_title.append(pd.rv_title[rsel])
            r_msg.append(pd.rv_message[rsel])

    out: dict[str, pa.Table] = {}
    dic = dictionary

    # orders
    oj = _cat(o_j)
    ev = np.concatenate(o_ev) if o_ev else np.zeros((0, 7), dtype=np.int64)
    upd = ev[np.arange(len(oj)), oj] if len(oj) else np.zeros(0, dtype=np.int64)
    out["orders"] = _table("orders", {
        "order_id": id_array(_cat_ids(o_id)),
        "customer_id": id_array(_cat_ids(o_cid)),
        "order_status": _pool(_STATUS, oj),
        "order_purchase_timestamp": ts_array(ev[:, 0], whole=True),
        "order_approved_at": ts_array(ev[:, 1], whole=True),
        "order_delivered_carrier_date": ts_array(ev[:, 3], whole=True),
        "order_delivered_customer_date": ts_array(ev[:, 4], whole=True),
        "order_estimated_delivery_date": ts_array(_cat(o_est), whole=True),
        "updated_at": ts_array(upd, whole=True),
    }, dic)  # fmt: skip

    # customers: the accounts of today's order rows, plus accounts whose person moved today
    czip = _cat(c_zip)
    out["customers"] = _table("customers", {
        "customer_id": id_array(_cat_ids(c_id)),
        "customer_unique_id": id_array(_cat_ids(c_pid)),
        "customer_zip_code_prefix": _pool(_ZIPS, czip),
        "customer_city": _pool(_CITIES, ref.ZIP_CITY[czip]),
        "customer_state": _pool(_STATES, ref.ZIP_STATE[czip]),
        "updated_at": ts_array(_cat(c_upd), whole=True),
    }, dic)  # fmt: skip

    # order items
    iprod, isel_ = _cat(i_prod), _cat(i_sel)
    product_ids, seller_ids = _catalog_ids(world, "product"), _catalog_ids(world, "seller")
    out["order_items"] = _table("order_items", {
        "order_id": id_array(_cat_ids(i_oid)),
        "order_item_id": int32_array(_cat(i_no)),
        "product_id": take_ids(product_ids, iprod),
        "seller_id": take_ids(seller_ids, isel_),
        "shipping_limit_date": ts_array(_cat(i_lim), whole=True),
        "price": money_array(_cat(i_price)),
        "freight_value": money_array(_cat(i_fr)),
    }, dic)  # fmt: skip

    # payments
    out["order_payments"] = _table("order_payments", {
        "order_id": id_array(_cat_ids(p_oid)),
        "payment_sequential": int32_array(_cat(p_seq)),
        "payment_type": _pool(_PAYMENTS, _cat(p_type)),
        "payment_installments": int32_array(_cat(p_inst)),
        "payment_value": money_array(_cat(p_val)),
    }, dic)  # fmt: skip

    # reviews
    rt, rm = _cat(r_title), _cat(r_msg)
    out["order_reviews"] = _table("order_reviews", {
        "review_id": id_array(_cat_ids(r_id)),
        "order_id": id_array(_cat_ids(r_oid)),
        "review_score": int32_array(_cat(r_score)),
        "review_comment_title": _pool(_TITLES, rt, rt < 0),
        "review_comment_message": _pool(_MESSAGES, rm, rm < 0),
        "review_creation_date": ts_array(_cat(r_cre), whole=True),
        "review_answer_timestamp": ts_array(_cat(r_ans), whole=True),
    }, dic)  # fmt: skip

    # products: those sold in today's item rows, plus those whose price/category changes today
    changing = np.nonzero((D + world.prod_phase) % world.prod_period == 0)[0]
    prods = _union(world.n_products, iprod, changing)
    pa_ = product_attrs(world, prods, D)
    nocat = pa_["no_category"]
    out["products"] = _table("products", {
        "product_id": take_ids(product_ids, prods),
        "product_category_name": _pool(_CATS, pa_["category"], nocat),
        "product_name_lenght": int32_array(pa_["name_len"], nocat),
        "product_description_lenght": int32_array(pa_["desc_len"], nocat),
        "product_photos_qty": int32_array(pa_["photos"], nocat),
        "product_weight_g": int32_array(pa_["weight_g"]),
        "product_length_cm": int32_array(pa_["length_cm"]),
        "product_height_cm": int32_array(pa_["height_cm"]),
        "product_width_cm": int32_array(pa_["width_cm"]),
        "list_price": money_array(pa_["price_cents"]),
        "updated_at": ts_array(pa_["updated_us"]),
    }, dic)  # fmt: skip

    # sellers: those of today's item rows, plus those who move today
    moving = np.nonzero((D + world.seller_phase) % world.seller_period == 0)[0]
    sellers = _union(world.n_sellers, isel_, moving)
    sa = seller_attrs(world, sellers, D)
    out["sellers"] = _table("sellers", {
        "seller_id": take_ids(seller_ids, sellers),
        "seller_zip_code_prefix": _pool(_ZIPS, sa["zip"]),
        "seller_city": _pool(_CITIES, ref.ZIP_CITY[sa["zip"]]),
        "seller_state": _pool(_STATES, ref.ZIP_STATE[sa["zip"]]),
        "updated_at": ts_array(sa["updated_us"]),
    }, dic)  # fmt: skip

    out["web_events"] = web_events(world, cache, D, dictionary)
    return out


def web_events(world: World, cache: PurchaseCache, D: int, dictionary: bool = False) -> pa.Table:
    """Sessions of day D: one per order placed that day (ending in its purchase) plus browse-only sessions."""
    s = world.seed
    rng = _rng(world, 2, D)
    start_d = day_start_us(D)
    end_d = day_start_us(D + 1) - 1
    pd = cache.get(D)
    n_buy = pd.n
    n_browse = int(rng.poisson(BROWSE_SESSIONS_PER_ORDER * n_buy))
    n_s = n_buy + n_browse
    buy = np.arange(n_s) < n_buy

    # funnel depth per session: page view, product views, add to cart, checkout, purchase
    n_pv = np.where(buy, 1 + rng.integers(0, 2, n_s), 0)
    depth = rng.random(n_s)
    browse_pv = depth >= 0.4
    n_pv = np.where(~buy & browse_pv, 1 + rng.integers(0, 4, n_s), n_pv)
    n_cart = (buy | (depth >= 0.75)).astype(np.int64)
    n_checkout = (buy | (depth >= 0.9)).astype(np.int64)
    n_purchase = buy.astype(np.int64)
    n_ev = 1 + n_pv + n_cart + n_checkout + n_purchase
    total = int(n_ev.sum())
    sess = np.repeat(np.arange(n_s), n_ev)
    first = np.cumsum(n_ev) - n_ev
    pos = np.arange(total) - first[sess]
    t1 = 1 + n_pv
    t2 = t1 + n_cart
    t3 = t2 + n_checkout
    # 0 page view, 1 product view, 2 add to cart, 3 checkout, 4 purchase: thresholds passed so far
    etype = (pos >= 1).astype(np.int8) + (pos >= t1[sess]) + (pos >= t2[sess]) + (pos >= t3[sess])

    # who and which product
    first_idx = np.nonzero(pd.it_no == 1)[0]  # each order's first item (items are in order, numbered from 1)
    buy_product = pd.it_product[first_idx]
    browse_product = product_of_draw(world, rng.random(n_s))
    sess_product = np.where(buy, np.concatenate([buy_product, np.zeros(n_browse, np.int64)]), browse_product)
    known = buy | (rng.random(n_s) < KNOWN_VISITOR_SHARE)
    vday = D - rng.integers(0, RETURN_HORIZON_DAYS, n_s)
    vk = (rng.random(n_s) * order_counts(world, vday)).astype(np.int64)

    # when: purchase sessions end at their order's purchase time; others start through the day
    gap = (20 + 100 * rng.random(n_s)) * 1_000_000
    purchase_us = np.concatenate([pd.events[:, 0], np.zeros(n_browse, np.int64)])
    browse_start = start_d + (rng.random(n_s) * (DAY_US - 1)).astype(np.int64)
    back = (n_ev[sess] - 1 - pos) * gap[sess]
    fwd = pos * gap[sess]
    ts = np.where(buy[sess], purchase_us[sess] - back.astype(np.int64), browse_start[sess] + fwd.astype(np.int64))
    ts = np.clip(ts, start_d, end_d)

    # rows in time order: by the whole second the file shows, ties in the order the events were made
    secs = (ts - start_d) // 1_000_000
    order = _argsort_seconds(secs)
    sess_o, etype_o, ts_o = sess[order], etype[order], secs[order] * 1_000_000 + start_d
    has_product = (etype_o == 1) | (etype_o == 2)
    is_purchase = etype_o == 4
    dev = inverse_cdf(_DEVICE_CDF, rng.random(n_s))
    src = inverse_cdf(_TRAFFIC_CDF, rng.random(n_s))
    # ids that repeat within the day are dictionary arrays: a session's, its known visitor's (a buyer's
    # person is their order's, computed with the purchase day; a recognised browser's is hashed here), and
    # the viewed products (the day's distinct ones)
    # (a Parquet dictionary must not repeat a value: a person may visit in several sessions)
    browse_known = np.nonzero(known[n_buy:])[0] + n_buy
    pday, pk = np.concatenate([pd.pday, vday[browse_known]]), np.concatenate([pd.pk, vk[browse_known]])
    _, first_seen, person_of = np.unique(pday.astype(np.int64) << 32 | pk, return_index=True, return_inverse=True)
    persons = np.take(np.concatenate([_day_ids(world, pd, "person"),
                                      hex_chars(s, "person", vday[browse_known], vk[browse_known])]),
                      first_seen, axis=0)  # fmt: skip
    session_person = np.zeros(n_s, dtype=np.int64)
    session_person[known] = person_of
    viewed = sess_product[sess_o][has_product]
    seen = np.zeros(world.n_products, dtype=bool)
    seen[viewed] = True
    products = np.nonzero(seen)[0]
    product_idx = np.zeros(total, dtype=np.int64)
    product_idx[has_product] = (np.cumsum(seen) - 1)[viewed]  # rank among the day's viewed products
    cols = {
        "event_id": hex_ids(s, "event", D, order),
        "session_id": _pool(id_array(hex_chars(s, "session", D, np.arange(n_s))), sess_o),
        "customer_unique_id": _pool(id_array(persons), session_person[sess_o], ~known[sess_o]),
        "event_type": _pool(_WEB_TYPES, etype_o),
        "product_id": _pool(take_ids(_catalog_ids(world, "product"), products), product_idx, ~has_product),
        "order_id": take_ids(_day_ids(world, pd, "order"), sess_o, is_purchase),
        "event_timestamp": ts_array(ts_o, whole=True),
        "device_type": _pool(_DEVICES, dev[sess_o]),
        "traffic_source": _pool(_TRAFFIC, src[sess_o]),
    }
    return _table("web_events", cols, dictionary)


def _argsort_seconds(t: np.ndarray) -> np.ndarray:
    """np.argsort(t, kind="stable") for seconds within a day (0 <= t < 2**24), as an LSD radix sort: two
    stable passes over 16- and 8-bit digits, each numpy's O(n) radix sort."""
    if len(t) and (int(t.min()) < 0 or int(t.max()) >= 1 << 24):  # pragma: no cover - not within a day
        return np.argsort(t, kind="stable")
    order = np.argsort((t & 0xFFFF).astype(np.uint16), kind="stable")
    step = np.argsort((t[order] >> 16).astype(np.uint8), kind="stable")
    return order[step]
