"""Day D's clean batch of every dated entity, as Arrow tables in the contract's exact schemas."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from shopdw.contracts import CONTRACTS
from shopdw.sources import sim_reference as ref
from shopdw.sources.sim_core import (
    DAY_US,
    NAT,
    day_start_us,
    hex_ids,
    int32_array,
    inverse_cdf,
    money_array,
    str_take,
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
_DEVICES = ("desktop", "mobile", "tablet")
_DEVICE_CDF = np.cumsum([0.45, 0.50, 0.05])
_TRAFFIC = ("direct", "organic", "paid_search", "social", "email", "referral")
_TRAFFIC_CDF = np.cumsum([0.30, 0.25, 0.15, 0.15, 0.10, 0.05])
_WEB_TYPES = ("page_view", "product_view", "add_to_cart", "checkout", "purchase")


def _table(entity: str, cols: dict[str, pa.Array]) -> pa.Table:
    schema = CONTRACTS[entity].arrow_schema()
    return pa.Table.from_arrays([cols[f.name] for f in schema], schema=schema)


def _cat(parts: list[np.ndarray], dtype=np.int64) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


def emit_day(world: World, cache: PurchaseCache, D: int) -> dict[str, pa.Table]:
    """The clean batch of day D (ordinal) for every non-reference entity."""
    s = world.seed
    start_d = day_start_us(D)
    end_d = day_start_us(D + 1) - 1

    o_w, o_k, o_j, o_ev, o_est = [], [], [], [], []
    c_w, c_k, c_pday, c_pk, c_zip, c_upd = [], [], [], [], [], []
    i_w, i_k, i_no, i_prod, i_sel, i_lim, i_price, i_fr = [], [], [], [], [], [], [], []
    p_w, p_k, p_seq, p_type, p_inst, p_val = [], [], [], [], [], []
    r_w, r_k, r_score, r_cre, r_ans, r_title, r_msg = [], [], [], [], [], [], []

    for w in range(D - LOOKBACK_DAYS, D + 1):  # one iteration per window day
        pd = cache.get(w)
        isel = pd.it_arrival == D
        psel = pd.pay_arrival == D
        rsel = pd.rv_day == D
        referenced = np.zeros(pd.n, dtype=bool)
        referenced[pd.it_order[isel]] = True
        referenced[pd.pay_order[psel]] = True
        referenced[pd.rv_order[rsel]] = True
        known = pd.events <= end_d
        j = known.shape[1] - 1 - np.argmax(known[:, ::-1], axis=1)  # latest event so far
        last = pd.events[np.arange(pd.n), j]
        emit = (last >= start_d) | referenced
        if emit.any():
            idx = np.nonzero(emit)[0]
            o_w.append(np.full(len(idx), w))
            o_k.append(idx)
            o_j.append(j[idx])
            o_ev.append(np.where(known[idx], pd.events[idx], NAT))
            o_est.append(pd.estimated_us[idx])
        moves_today = (pd.move_day == D) & (w < D)
        cust = emit | moves_today
        if cust.any():
            idx = np.nonzero(cust)[0]
            moved = (w < pd.move_day[idx]) & (pd.move_day[idx] <= D)
            c_w.append(np.full(len(idx), w))
            c_k.append(idx)
            c_pday.append(pd.pday[idx])
            c_pk.append(pd.pk[idx])
            c_zip.append(np.where(moved, pd.zip_moved[idx], pd.zip_at_purchase[idx]))
            c_upd.append(np.where(moved, pd.move_us[idx], pd.events[idx, 0]))
        if isel.any():
            i_w.append(np.full(int(isel.sum()), w))
            i_k.append(pd.it_order[isel])
            i_no.append(pd.it_no[isel])
            i_prod.append(pd.it_product[isel])
            i_sel.append(pd.it_seller[isel])
            i_lim.append(pd.it_limit_us[isel])
            i_price.append(pd.it_price[isel])
            i_fr.append(pd.it_freight[isel])
        if psel.any():
            p_w.append(np.full(int(psel.sum()), w))
            p_k.append(pd.pay_order[psel])
            p_seq.append(pd.pay_seq[psel])
            p_type.append(pd.pay_type[psel])
            p_inst.append(pd.pay_inst[psel])
            p_val.append(pd.pay_value[psel])
        if rsel.any():
            r_w.append(np.full(int(rsel.sum()), w))
            r_k.append(pd.rv_order[rsel])
            r_score.append(pd.rv_score[rsel])
            r_cre.append(pd.rv_created_us[rsel])
            r_ans.append(pd.rv_answer_us[rsel])
            r_title.append(pd.rv_title[rsel])
            r_msg.append(pd.rv_message[rsel])

    out: dict[str, pa.Table] = {}

    # orders
    ow, ok_, oj = _cat(o_w), _cat(o_k), _cat(o_j)
    ev = np.concatenate(o_ev) if o_ev else np.zeros((0, 7), dtype=np.int64)
    upd = ev[np.arange(len(oj)), oj] if len(oj) else np.zeros(0, dtype=np.int64)
    out["orders"] = _table("orders", {
        "order_id": hex_ids(s, "order", ow, ok_),
        "customer_id": hex_ids(s, "customer", ow, ok_),
        "order_status": _STATUS.take(pa.array(oj)),
        "order_purchase_timestamp": ts_array(ev[:, 0]),
        "order_approved_at": ts_array(ev[:, 1]),
        "order_delivered_carrier_date": ts_array(ev[:, 3]),
        "order_delivered_customer_date": ts_array(ev[:, 4]),
        "order_estimated_delivery_date": ts_array(_cat(o_est)),
        "updated_at": ts_array(upd),
    })  # fmt: skip

    # customers: the accounts of today's order rows, plus accounts whose person moved today
    cw, ck, czip = _cat(c_w), _cat(c_k), _cat(c_zip)
    out["customers"] = _table("customers", {
        "customer_id": hex_ids(s, "customer", cw, ck),
        "customer_unique_id": hex_ids(s, "person", _cat(c_pday), _cat(c_pk)),
        "customer_zip_code_prefix": _ZIPS.take(pa.array(czip)),
        "customer_city": _CITIES.take(pa.array(ref.ZIP_CITY[czip])),
        "customer_state": _STATES.take(pa.array(ref.ZIP_STATE[czip])),
        "updated_at": ts_array(_cat(c_upd)),
    })  # fmt: skip

    # order items
    iw, ik, iprod, isel_ = _cat(i_w), _cat(i_k), _cat(i_prod), _cat(i_sel)
    out["order_items"] = _table("order_items", {
        "order_id": hex_ids(s, "order", iw, ik),
        "order_item_id": int32_array(_cat(i_no)),
        "product_id": hex_ids(s, "product", iprod),
        "seller_id": hex_ids(s, "seller", isel_),
        "shipping_limit_date": ts_array(_cat(i_lim)),
        "price": money_array(_cat(i_price)),
        "freight_value": money_array(_cat(i_fr)),
    })  # fmt: skip

    # payments
    pw, pk_ = _cat(p_w), _cat(p_k)
    out["order_payments"] = _table("order_payments", {
        "order_id": hex_ids(s, "order", pw, pk_),
        "payment_sequential": int32_array(_cat(p_seq)),
        "payment_type": _PAYMENTS.take(pa.array(_cat(p_type))),
        "payment_installments": int32_array(_cat(p_inst)),
        "payment_value": money_array(_cat(p_val)),
    })  # fmt: skip

    # reviews
    rw, rk = _cat(r_w), _cat(r_k)
    rt, rm = _cat(r_title), _cat(r_msg)
    out["order_reviews"] = _table("order_reviews", {
        "review_id": hex_ids(s, "review", rw, rk),
        "order_id": hex_ids(s, "order", rw, rk),
        "review_score": int32_array(_cat(r_score)),
        "review_comment_title": str_take(ref.REVIEW_TITLES, rt, rt < 0),
        "review_comment_message": str_take(ref.REVIEW_MESSAGES, rm, rm < 0),
        "review_creation_date": ts_array(_cat(r_cre)),
        "review_answer_timestamp": ts_array(_cat(r_ans)),
    })  # fmt: skip

    # products: those sold in today's item rows, plus those whose price/category changes today
    changing = np.nonzero((D + world.prod_phase) % world.prod_period == 0)[0]
    prods = np.union1d(iprod, changing).astype(np.int64)
    pa_ = product_attrs(world, prods, D)
    nocat = pa_["no_category"]
    out["products"] = _table("products", {
        "product_id": hex_ids(s, "product", prods),
        "product_category_name": _CATS.take(pa.array(pa_["category"], mask=nocat)),
        "product_name_lenght": int32_array(pa_["name_len"], nocat),
        "product_description_lenght": int32_array(pa_["desc_len"], nocat),
        "product_photos_qty": int32_array(pa_["photos"], nocat),
        "product_weight_g": int32_array(pa_["weight_g"]),
        "product_length_cm": int32_array(pa_["length_cm"]),
        "product_height_cm": int32_array(pa_["height_cm"]),
        "product_width_cm": int32_array(pa_["width_cm"]),
        "list_price": money_array(pa_["price_cents"]),
        "updated_at": ts_array(pa_["updated_us"]),
    })  # fmt: skip

    # sellers: those of today's item rows, plus those who move today
    moving = np.nonzero((D + world.seller_phase) % world.seller_period == 0)[0]
    sellers = np.union1d(isel_, moving).astype(np.int64)
    sa = seller_attrs(world, sellers, D)
    out["sellers"] = _table("sellers", {
        "seller_id": hex_ids(s, "seller", sellers),
        "seller_zip_code_prefix": _ZIPS.take(pa.array(sa["zip"])),
        "seller_city": _CITIES.take(pa.array(ref.ZIP_CITY[sa["zip"]])),
        "seller_state": _STATES.take(pa.array(ref.ZIP_STATE[sa["zip"]])),
        "updated_at": ts_array(sa["updated_us"]),
    })  # fmt: skip

    out["web_events"] = web_events(world, cache, D)
    return out


def web_events(world: World, cache: PurchaseCache, D: int) -> pa.Table:
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
    etype = np.select([pos < 1, pos < t1[sess], pos < t2[sess], pos < t3[sess]], [0, 1, 2, 3], default=4)

    # who and which product
    first_idx = np.searchsorted(pd.it_order, np.arange(n_buy))
    buy_product = pd.it_product[first_idx]
    browse_product = product_of_draw(world, rng.random(n_s))
    sess_product = np.where(buy, np.concatenate([buy_product, np.zeros(n_browse, np.int64)]), browse_product)
    known = buy | (rng.random(n_s) < KNOWN_VISITOR_SHARE)
    vday = D - rng.integers(0, RETURN_HORIZON_DAYS, n_s)
    vk = (rng.random(n_s) * order_counts(world, vday)).astype(np.int64)
    pday = np.where(buy, np.concatenate([pd.pday, np.zeros(n_browse, np.int64)]), vday)
    pk = np.where(buy, np.concatenate([pd.pk, np.zeros(n_browse, np.int64)]), vk)

    # when: purchase sessions end at their order's purchase time; others start through the day
    gap = (20 + 100 * rng.random(n_s)) * 1_000_000
    purchase_us = np.concatenate([pd.events[:, 0], np.zeros(n_browse, np.int64)])
    browse_start = start_d + (rng.random(n_s) * (DAY_US - 1)).astype(np.int64)
    back = (n_ev[sess] - 1 - pos) * gap[sess]
    fwd = pos * gap[sess]
    ts = np.where(buy[sess], purchase_us[sess] - back.astype(np.int64), browse_start[sess] + fwd.astype(np.int64))
    ts = np.clip(ts, start_d, end_d)

    order = np.argsort(ts, kind="stable")
    sess_o, etype_o, ts_o = sess[order], etype[order], ts[order]
    has_product = (etype_o == 1) | (etype_o == 2)
    is_purchase = etype_o == 4
    who_known = known[sess_o]
    dev = inverse_cdf(_DEVICE_CDF, rng.random(n_s))
    src = inverse_cdf(_TRAFFIC_CDF, rng.random(n_s))
    buy_k = np.where(is_purchase, sess_o, 0)
    session_ids = hex_ids(s, "session", D, np.arange(n_s))
    person_ids = hex_ids(s, "person", pday[known], pk[known])
    known_pos = np.cumsum(known) - 1  # session -> its index among known sessions
    cols = {
        "event_id": hex_ids(s, "event", D, order),
        "session_id": session_ids.take(pa.array(sess_o)),
        "customer_unique_id": person_ids.take(pa.array(known_pos[sess_o], mask=~who_known)),
        "event_type": pa.array(_WEB_TYPES).take(pa.array(etype_o)),
        "product_id": _sparse_ids(s, "product", has_product, sess_product[sess_o]),
        "order_id": _sparse_ids(s, "order", is_purchase, np.full(total, D), buy_k),
        "event_timestamp": ts_array(ts_o),
        "device_type": pa.array(_DEVICES).take(pa.array(dev[sess_o])),
        "traffic_source": pa.array(_TRAFFIC).take(pa.array(src[sess_o])),
    }
    return _table("web_events", cols)


def _sparse_ids(seed: int, name: str, present: np.ndarray, *parts: np.ndarray) -> pa.Array:
    """Ids where present is True, null elsewhere; hashes only the present rows."""
    ids = hex_ids(seed, name, *[p[present] for p in parts])
    pos = np.cumsum(present) - 1
    return ids.take(pa.array(np.maximum(pos, 0), mask=~present))
