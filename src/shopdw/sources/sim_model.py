"""The simulated shop: who buys what, when, and how each order lives on afterwards.

`purchase_day(world, d)` draws everything about the orders placed on day d (their whole
future: approval, shipping, delivery or cancellation, the review, when each item and payment
row arrives) from random streams keyed by (seed, d) only. `emit_day(world, D, cache)` then
assembles what day D's batch holds by looking back over the orders of the last LOOKBACK_DAYS
days, so a day's batch never depends on which days were generated before or with it.
Catalog attributes (products, sellers, persons) are hashes of (seed, index, version).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

from shopdw.sources import sim_reference as ref
from shopdw.sources.sim_core import DAY_US, NAT, day_start_us, hash64, inverse_cdf, normal, uniform, whole_seconds

LOOKBACK_DAYS = 32  # purchase -> last review (<= 31 days) or late row (<= 5 days) always fits inside this window
RETURNING_SHARE = 0.12  # orders placed by a person who bought before (new customer_id, same customer_unique_id)
RETURN_HORIZON_DAYS = 365
MOVE_SHARE = 0.10  # persons who move house once
BROWSE_SESSIONS_PER_ORDER = 1.0  # web sessions that end without an order, per order
KNOWN_VISITOR_SHARE = 0.25  # browse sessions by a recognised (logged-in) person

# Event columns of an order's lifecycle; along any path the present ones are chronological.
EVENTS = ("created", "approved", "invoiced", "shipped", "delivered", "canceled", "unavailable")
E_CREATED, E_APPROVED, E_INVOICED, E_SHIPPED, E_DELIVERED, E_CANCELED, E_UNAVAILABLE = range(7)

PAY_CREDIT, PAY_BOLETO, PAY_VOUCHER, PAY_DEBIT = 0, 1, 2, 3
PAYMENT_NAMES = ("credit_card", "boleto", "voucher", "debit_card")
INSTALLMENT_CDF = np.cumsum([0.34, 0.16, 0.13, 0.10, 0.07, 0.05, 0.04, 0.05, 0.01, 0.05])


@dataclass(frozen=True)
class World:
    seed: int
    orders_per_day: int
    late_rate: float
    n_products: int
    n_sellers: int
    # per product (index = product number)
    prod_period: np.ndarray = field(repr=False)
    prod_phase: np.ndarray = field(repr=False)
    seller_period: np.ndarray = field(repr=False)
    seller_phase: np.ndarray = field(repr=False)
    prod_static: dict[str, np.ndarray] = field(repr=False, default_factory=dict)
    memo: dict[str, np.ndarray] = field(repr=False, compare=False, default_factory=dict)  # derived, e.g. ids


def make_world(seed: int, orders_per_day: int, late_rate: float) -> World:
    n_products = int(max(200, min(orders_per_day * 6, 200_000)))
    n_sellers = int(max(20, min(orders_per_day // 2, 5_000)))
    p = np.arange(n_products)
    s = np.arange(n_sellers)
    prod_period = 30 + (hash64(seed, "prod.period", p) % np.uint64(150)).astype(np.int64)
    prod_phase = (hash64(seed, "prod.phase", p) % prod_period.astype(np.uint64)).astype(np.int64)
    seller_period = 200 + (hash64(seed, "seller.period", s) % np.uint64(1200)).astype(np.int64)
    seller_phase = (hash64(seed, "seller.phase", s) % seller_period.astype(np.uint64)).astype(np.int64)
    return World(seed, orders_per_day, late_rate, n_products, n_sellers, prod_period, prod_phase, seller_period,
                 seller_phase, product_static(seed, p))  # fmt: skip


# ---------------------------------------------------------------- calendar


def _last_friday_of_november(year: int) -> int:
    d = date(year, 11, 30).toordinal()
    return d - ((date.fromordinal(d).weekday() - 4) % 7)


def demand_factor(days: np.ndarray) -> np.ndarray:
    """Weekday x month x Black Friday multiplier of the mean order count, per day ordinal."""
    days = np.asarray(days, dtype=np.int64)
    out = np.empty(days.shape, dtype=float)
    for i, d in enumerate(days.ravel()):  # one entry per calendar day, not per row
        dt = date.fromordinal(int(d))
        f = ref.WEEKDAY_FACTOR[dt.weekday()] * ref.MONTH_FACTOR[dt.month - 1]
        offset = int(d) - _last_friday_of_november(dt.year)
        if offset == 0:
            f *= ref.BLACK_FRIDAY_FACTOR
        else:
            f *= ref.BLACK_FRIDAY_AROUND.get(offset, 1.0)
        out.ravel()[i] = f
    return out


_count_cache: dict[tuple[int, int, int], int] = {}


def order_counts(world: World, days: np.ndarray) -> np.ndarray:
    """New orders per day: the mean times the calendar factor, +-5% day-to-day noise; at least 1."""
    days = np.asarray(days, dtype=np.int64)
    if days.size == 0:
        return np.zeros(days.shape, dtype=np.int64)
    lo, hi = int(days.min()), int(days.max())
    if hi - lo < 4096:  # a table over the span, indexed by day (no sort of the days)
        return _counts_of(world, np.arange(lo, hi + 1))[days - lo]
    uniq, inv = np.unique(days, return_inverse=True)
    return _counts_of(world, uniq)[inv].reshape(days.shape)


def _counts_of(world: World, uniq: np.ndarray) -> np.ndarray:
    """order_counts of distinct days, each computed once per process."""
    key = (world.seed, world.orders_per_day)
    missing = [d for d in uniq.tolist() if (*key, d) not in _count_cache]
    if missing:
        md = np.array(missing, dtype=np.int64)
        noise = 1 + 0.1 * (uniform(world.seed, "day.noise", md) - 0.5)
        n = np.maximum(1, np.rint(world.orders_per_day * demand_factor(md) * noise)).astype(np.int64)
        for d, v in zip(missing, n.tolist()):
            _count_cache[(*key, d)] = v
    return np.array([_count_cache[(*key, d)] for d in uniq.tolist()], dtype=np.int64)


# ---------------------------------------------------------------- catalog (hash-based, versioned)


def pick_zip(state: np.ndarray, u: np.ndarray) -> np.ndarray:
    start = ref.STATE_ZIP_START[state]
    count = ref.STATE_ZIP_COUNT[state]
    return start + np.minimum((u * count).astype(np.int64), count - 1)


def product_version(world: World, p: np.ndarray, day: int | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(version number, first day of that version) of products p on day(s)."""
    per = world.prod_period[p]
    v = (np.asarray(day) + world.prod_phase[p]) // per
    return v, v * per - world.prod_phase[p]


def product_static(seed: int, p: np.ndarray) -> dict[str, np.ndarray]:
    """What never changes about products p: base category and price, size, weight, text lengths."""
    s = seed
    base_cat = inverse_cdf(ref.CATEGORY_CDF, uniform(s, "prod.cat", p))
    base_price = ref.CATEGORY_PRICE_MEDIAN[base_cat] * np.exp(
        ref.CATEGORY_PRICE_SIGMA[base_cat] * normal(s, "prod.price", p)
    )
    weight = np.maximum(50, ref.CATEGORY_WEIGHT_MEDIAN[base_cat] * np.exp(0.7 * normal(s, "prod.weight", p)))
    side = np.cbrt(weight / 0.25)  # cm of a cube of density 0.25 g/cm3
    return {
        "base_cat": base_cat,
        "base_price": base_price,
        "no_category": uniform(s, "prod.nocat", p) < 0.01,
        "name_len": (20 + hash64(s, "prod.name", p) % np.uint64(57)).astype(np.int64),
        "desc_len": (80 + hash64(s, "prod.desc", p) % np.uint64(2900)).astype(np.int64),
        "photos": (1 + hash64(s, "prod.photos", p) % np.uint64(6)).astype(np.int64),
        "weight_g": np.rint(weight).astype(np.int64),
        "length_cm": np.maximum(11, np.rint(side * (0.8 + 0.8 * uniform(s, "prod.l", p)))).astype(np.int64),
        "height_cm": np.maximum(2, np.rint(side * (0.4 + 0.6 * uniform(s, "prod.h", p)))).astype(np.int64),
        "width_cm": np.maximum(8, np.rint(side * (0.6 + 0.6 * uniform(s, "prod.w", p)))).astype(np.int64),
    }


def product_price(world: World, p: np.ndarray, day: int | np.ndarray) -> np.ndarray:
    """List price (cents) of products p on day(s): the base price moved by each version."""
    v, _ = product_version(world, p, day)
    price = world.prod_static["base_price"][p] * np.exp(0.08 * normal(world.seed, "prod.price.v", p, v))
    return np.maximum(350, np.rint(np.minimum(price, 9000.0) * 100)).astype(np.int64)


def product_attrs(world: World, p: np.ndarray, day: int | np.ndarray) -> dict[str, np.ndarray]:
    """Products p as of day(s): category, list price (cents), dimensions, updated_at."""
    s = world.seed
    v, vstart = product_version(world, p, day)
    st = {k: a[p] for k, a in world.prod_static.items()}
    alt_cat = inverse_cdf(ref.CATEGORY_CDF, uniform(s, "prod.cat.alt", p, v))
    st["category"] = np.where(uniform(s, "prod.cat.change", p, v) < 0.12, alt_cat, st["base_cat"])
    st["price_cents"] = product_price(world, p, day)
    st["updated_us"] = day_start_us(vstart) + (uniform(s, "prod.t", p, v) * DAY_US).astype(np.int64)
    return st


def product_of_draw(world: World, u: np.ndarray) -> np.ndarray:
    """Popular products sell more: a steep power law over product numbers."""
    return np.minimum((world.n_products * u**3).astype(np.int64), world.n_products - 1)


def seller_of_product(world: World, p: np.ndarray) -> np.ndarray:
    return np.minimum((world.n_sellers * uniform(world.seed, "prod.seller", p) ** 1.6).astype(np.int64),
                      world.n_sellers - 1)  # fmt: skip


def seller_attrs(world: World, sel: np.ndarray, day: int | np.ndarray) -> dict[str, np.ndarray]:
    """Sellers as of day(s): a seller moves now and then (a new version with a new address)."""
    s = world.seed
    per = world.seller_period[sel]
    v = (np.asarray(day) + world.seller_phase[sel]) // per
    vstart = v * per - world.seller_phase[sel]
    state = inverse_cdf(np.cumsum(ref.SELLER_STATE_WEIGHTS), uniform(s, "seller.state", sel, v))
    zip_ = pick_zip(state, uniform(s, "seller.zip", sel, v))
    return {"state": state, "zip": zip_,
            "updated_us": day_start_us(vstart) + (uniform(s, "seller.t", sel, v) * DAY_US).astype(np.int64)}  # fmt: skip


def person_attrs(world: World, pday: np.ndarray, pk: np.ndarray) -> dict[str, np.ndarray]:
    """A person (customer_unique_id) is the slot (day, ordinal) of their first order: home, move day, new home."""
    s = world.seed
    cdf = np.cumsum(ref.CUSTOMER_STATE_WEIGHTS)
    state0 = inverse_cdf(cdf, uniform(s, "person.state", pday, pk))
    zip0 = pick_zip(state0, uniform(s, "person.zip", pday, pk))
    moves = uniform(s, "person.moves", pday, pk) < MOVE_SHARE
    move_day = np.where(moves, pday + 1 + (hash64(s, "person.moveday", pday, pk) % np.uint64(400)).astype(np.int64),
                        np.iinfo(np.int64).max // 4)  # fmt: skip
    same_state = uniform(s, "person.samestate", pday, pk) < 0.7
    state1 = np.where(same_state, state0, inverse_cdf(cdf, uniform(s, "person.state1", pday, pk)))
    zip1 = pick_zip(state1, uniform(s, "person.zip1", pday, pk))
    move_us = day_start_us(np.minimum(move_day, 10**7)) + (uniform(s, "person.movet", pday, pk) * DAY_US).astype(
        np.int64
    )
    return {"zip0": zip0, "zip1": zip1, "move_day": move_day, "move_us": move_us}


# ---------------------------------------------------------------- a purchase day


@dataclass
class PurchaseDay:
    """Everything about the orders placed on one day (arrays; index = the order's ordinal k)."""

    day: int
    n: int
    pday: np.ndarray
    pk: np.ndarray
    zip_at_purchase: np.ndarray
    zip_moved: np.ndarray
    move_day: np.ndarray  # the account's person's move day (NEVER_DAY if never)
    move_us: np.ndarray
    events: np.ndarray  # (n, 7) int64 us, NAT where the event never happens
    estimated_us: np.ndarray
    # items
    it_order: np.ndarray
    it_no: np.ndarray
    it_product: np.ndarray
    it_seller: np.ndarray
    it_price: np.ndarray
    it_freight: np.ndarray
    it_limit_us: np.ndarray
    it_arrival: np.ndarray
    # payments
    pay_order: np.ndarray
    pay_seq: np.ndarray
    pay_type: np.ndarray
    pay_inst: np.ndarray
    pay_value: np.ndarray
    pay_arrival: np.ndarray
    # reviews (one per reviewed order)
    rv_order: np.ndarray
    rv_score: np.ndarray
    rv_created_us: np.ndarray
    rv_answer_us: np.ndarray
    rv_day: np.ndarray
    rv_title: np.ndarray  # index into REVIEW_TITLES, -1 = none
    rv_message: np.ndarray  # index into REVIEW_MESSAGES, -1 = none
    memo: dict[str, np.ndarray] = field(repr=False, compare=False, default_factory=dict)  # derived, e.g. ids


def _rng(world: World, stream: int, day: int) -> np.random.Generator:
    return np.random.default_rng([world.seed & 0xFFFFFFFF, (world.seed >> 32) & 0xFFFFFFFF, stream, day])


def purchase_day(world: World, d: int) -> PurchaseDay:
    n = int(order_counts(world, np.array([d]))[0])
    rng = _rng(world, 1, d)
    k = np.arange(n)
    t0 = day_start_us(d)

    # when: hour of day by the shop's daily rhythm, then uniform within the hour
    hour = inverse_cdf(ref.HOUR_CDF, rng.random(n))
    purchase = t0 + hour * 3_600_000_000 + (rng.random(n) * 3_600_000_000).astype(np.int64)
    purchase = np.sort(purchase)  # ordinals follow purchase time

    # who: a new person, or one who bought before (their first order's slot)
    returning = rng.random(n) < RETURNING_SHARE
    back = rng.integers(1, RETURN_HORIZON_DAYS + 1, n)
    pday = np.where(returning, d - back, d)
    prev_n = order_counts(world, pday)
    pk = np.where(returning, (rng.random(n) * prev_n).astype(np.int64), k)
    person = person_attrs(world, pday, pk)
    moved_already = d >= person["move_day"]
    zip_at_purchase = np.where(moved_already, person["zip1"], person["zip0"])
    cust_state = ref.ZIP_STATE[zip_at_purchase]

    # what: 1 item mostly, up to 21; later items often repeat the first product
    n_items = np.where(rng.random(n) < 0.9, 1, np.minimum(21, 1 + rng.geometric(0.55, n)))
    m = int(n_items.sum())
    it_order = np.repeat(k, n_items)
    first = np.cumsum(n_items) - n_items
    it_no = np.arange(m) - np.repeat(first, n_items) + 1
    drawn = product_of_draw(world, rng.random(m))
    repeat_first = (it_no > 1) & (rng.random(m) < 0.55)
    it_product = np.where(repeat_first, drawn[np.repeat(first, n_items)], drawn)
    it_seller = seller_of_product(world, it_product)
    it_price = product_price(world, it_product, d)
    weight_g = world.prod_static["weight_g"][it_product]
    seller_state = ref.ZIP_STATE[seller_attrs(world, it_seller, d)["zip"]]
    dist_item = ref.DISTANCE_KM[seller_state, cust_state[it_order]]
    wkg = weight_g / 1000.0
    freight = (9 + 1.6 * wkg + dist_item * 0.004 * (1 + 0.2 * wkg)) * np.exp(0.15 * rng.standard_normal(m))
    it_freight = np.rint(np.minimum(freight, 400) * 100).astype(np.int64)
    dist = dist_item[first]  # the first item's seller ships the parcel

    # how they pay
    total = np.bincount(it_order, weights=it_price + it_freight, minlength=n).astype(np.int64)
    u = rng.random(n)
    kind = np.select([u < 0.74, u < 0.93, u < 0.945, u < 0.975], [PAY_CREDIT, PAY_BOLETO, PAY_DEBIT, PAY_VOUCHER],
                     default=-1)  # -1: voucher + credit card  # fmt: skip
    split = kind == -1
    inst = 1 + inverse_cdf(INSTALLMENT_CDF / INSTALLMENT_CDF[-1], rng.random(n))
    n_pay = np.where(split, 2, 1)
    q = int(n_pay.sum())
    pay_order = np.repeat(k, n_pay)
    pfirst = np.cumsum(n_pay) - n_pay
    pay_seq = np.arange(q) - np.repeat(pfirst, n_pay) + 1
    voucher_part = np.minimum(total - 1, np.maximum(1, np.rint(total * (0.1 + 0.5 * rng.random(n))))).astype(np.int64)
    is_split_row = split[pay_order]
    pay_type = np.where(is_split_row, np.where(pay_seq == 1, PAY_VOUCHER, PAY_CREDIT), kind[pay_order])
    pay_value = np.where(is_split_row, np.where(pay_seq == 1, voucher_part[pay_order],
                                                (total - voucher_part)[pay_order]), total[pay_order])  # fmt: skip
    pay_inst = np.where(pay_type == PAY_CREDIT, inst[pay_order], 1)
    order_pay_kind = pay_type[pfirst + (n_pay - 1)]  # the card/boleto decides approval time

    # lifecycle: approval, invoice, carrier, delivery grow with distance; some cancel or are unavailable
    H = 3_600_000_000
    ev = np.full((n, 7), NAT, dtype=np.int64)
    ev[:, E_CREATED] = purchase
    boleto = order_pay_kind == PAY_BOLETO
    approve_lag = np.where(boleto, (1 + 2 * rng.random(n)) * 24 * H,
                           np.where(rng.random(n) < 0.1, rng.random(n) * 24 * H, rng.exponential(0.3 * H, n)))  # fmt: skip
    approved = purchase + np.maximum(60_000_000, approve_lag).astype(np.int64)
    invoiced = approved + ((0.5 + 19.5 * rng.random(n)) * H).astype(np.int64)
    ship_days = np.clip(rng.gamma(2.0, 1.2, n), 0.3, 5.0)
    shipped = np.maximum(invoiced + H, approved + (ship_days * 24 * H).astype(np.int64))
    transit_mean = 2 + dist / 250.0
    transit = np.clip(transit_mean * rng.gamma(4.0, 0.25, n), 0.5, 20.0)
    delivered = shipped + (transit * 24 * H).astype(np.int64)
    est_days = np.ceil(3 + transit_mean * 1.5 + 4 + 3 * rng.random(n)).astype(np.int64)
    estimated = day_start_us(d + est_days)

    u = rng.random(n)
    canceled = u < 0.012
    unavailable = (u >= 0.012) & (u < 0.018)
    normal_path = ~(canceled | unavailable)
    cancel_after_approval = rng.random(n) < 0.5
    ev[:, E_APPROVED] = np.where(canceled & ~cancel_after_approval, NAT, approved)
    ev[normal_path, E_INVOICED] = invoiced[normal_path]
    ev[normal_path, E_SHIPPED] = shipped[normal_path]
    ev[normal_path, E_DELIVERED] = delivered[normal_path]
    cancel_base = np.where(cancel_after_approval, approved, purchase)
    ev[canceled, E_CANCELED] = (cancel_base + ((0.1 + 2.5 * rng.random(n)) * 24 * H).astype(np.int64))[canceled]
    ev[unavailable, E_UNAVAILABLE] = (approved + ((0.5 + 3.5 * rng.random(n)) * 24 * H).astype(np.int64))[unavailable]

    limit = approved + ((5 + 2 * rng.random(n)) * 24 * H).astype(np.int64)
    it_limit = limit[it_order]

    # late-arriving facts: a share of item and payment rows lands 1-5 days after the purchase day
    it_arrival = d + np.where(rng.random(m) < world.late_rate, rng.integers(1, 6, m), 0)
    pay_arrival = d + np.where(rng.random(q) < world.late_rate, rng.integers(1, 6, q), 0)

    # reviews: a day or three after delivery (or after a cancellation); late parcels score worse
    final = np.where(normal_path, delivered, np.where(canceled, ev[:, E_CANCELED], ev[:, E_UNAVAILABLE]))
    has_review = np.where(normal_path, rng.random(n) < 0.98, rng.random(n) < 0.75)
    final_day = final // DAY_US + (date(1970, 1, 1).toordinal())
    rday_all = final_day + 1 + rng.integers(0, 3, n)
    late = delivered > estimated
    probs_ok = np.cumsum([0.07, 0.03, 0.08, 0.20, 0.62])
    probs_late = np.cumsum([0.45, 0.12, 0.13, 0.12, 0.18])
    probs_fail = np.cumsum([0.70, 0.10, 0.10, 0.05, 0.05])
    ur = rng.random(n)
    score = 1 + np.where(~normal_path, inverse_cdf(probs_fail, ur),
                         np.where(late, inverse_cdf(probs_late, ur), inverse_cdf(probs_ok, ur)))  # fmt: skip
    rv_order = k[has_review]
    rv_score = score[has_review]
    rv_day = rday_all[has_review]
    rv_created = day_start_us(rv_day)
    r = len(rv_order)
    rv_answer = rv_created + ((0.3 + 3.7 * rng.random(r)) * 24 * H).astype(np.int64)
    with_msg = rng.random(r) < 0.42
    with_title = rng.random(r) < 0.12
    pick = rng.random(r)
    msg_choices = ref.REVIEW_MESSAGE_BY_SCORE
    title_choices = ref.REVIEW_TITLE_BY_SCORE
    msg_idx = np.empty(r, dtype=np.int64)
    title_idx = np.empty(r, dtype=np.int64)
    for sc in range(1, 6):  # five scores, not rows
        sel = rv_score == sc
        mc, tc = np.array(msg_choices[sc - 1]), np.array(title_choices[sc - 1])
        msg_idx[sel] = mc[(pick[sel] * len(mc)).astype(np.int64)]
        title_idx[sel] = tc[(pick[sel] * len(tc)).astype(np.int64)]
    msg_idx[~with_msg] = -1
    title_idx[~with_title] = -1

    # kept for up to LOOKBACK_DAYS days: numbers, indices and day ordinals as int32, money as int64 and
    # times as int64 microseconds cut to whole seconds (what the files show; a day starts on a whole second,
    # so the day of each time is unchanged)
    i32, sec = _int32, whole_seconds
    return PurchaseDay(
        day=d, n=n, pday=i32(pday), pk=i32(pk), zip_at_purchase=i32(zip_at_purchase), zip_moved=i32(person["zip1"]),
        move_day=i32(np.minimum(person["move_day"], NEVER_DAY)), move_us=sec(person["move_us"]), events=sec(ev),
        estimated_us=sec(estimated), it_order=i32(it_order), it_no=i32(it_no), it_product=i32(it_product),
        it_seller=i32(it_seller), it_price=it_price, it_freight=it_freight, it_limit_us=sec(it_limit),
        it_arrival=i32(it_arrival), pay_order=i32(pay_order), pay_seq=i32(pay_seq), pay_type=i32(pay_type),
        pay_inst=i32(pay_inst), pay_value=pay_value, pay_arrival=i32(pay_arrival), rv_order=i32(rv_order),
        rv_score=i32(rv_score), rv_created_us=sec(rv_created), rv_answer_us=sec(rv_answer), rv_day=i32(rv_day),
        rv_title=i32(title_idx), rv_message=i32(msg_idx),
    )  # fmt: skip


NEVER_DAY = np.iinfo(np.int32).max  # move_day of a person who never moves


def _int32(a: np.ndarray) -> np.ndarray:
    out = np.asarray(a).astype(np.int32)
    if not np.array_equal(out, a):  # pragma: no cover - a bug, not bad input
        raise AssertionError("value out of int32 range")
    return out


class PurchaseCache:
    """Purchase days computed once per generate call and dropped when they leave the window."""

    def __init__(self, world: World):
        self.world = world
        self._days: dict[int, PurchaseDay] = {}

    def get(self, d: int) -> PurchaseDay:
        pd = self._days.get(d)
        if pd is None:
            pd = self._days[d] = purchase_day(self.world, d)
        return pd

    def drop_before(self, d: int) -> None:
        for old in [x for x in self._days if x < d]:
            del self._days[old]

    def prefetch(self, days, pool, prepare=None) -> None:
        """Compute the missing days on a thread pool (numpy releases the GIL in most of the work), each
        followed by prepare(world, day) if given; a day is a pure function of (world, d), so the cache
        holds what get() would have computed."""

        def one(d: int) -> PurchaseDay:
            pd = purchase_day(self.world, d)
            if prepare is not None:
                prepare(self.world, pd)
            return pd

        futures = [(d, pool.submit(one, d)) for d in days if d not in self._days]
        for d, fut in futures:
            self._days[d] = fut.result()
