"""The dashboard: one self-contained HTML page (data, styles and chart code inlined) built from the marts.

`build_dashboard(settings, out_path=None) -> Path` reads the analytics marts, customer_360
and the meta tables (quality scorecard, runs, load ledger, quarantine), packs them into a
compact JSON payload and writes `template.html` with `dashboard.css`, `dashboard.js` and
the payload inlined. The page needs no network when viewed; filters (date range, state,
day/week/month) are applied in the browser over the inlined rows.

Money is kept as integer centavos end to end (exact sums in the browser) and shown the
Brazilian way: `R$ 1.234.567,89`. The page holds no wall-clock time, so the same
warehouse always gives the same bytes.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from shopdw import __version__
from shopdw.config import Settings
from shopdw.errors import DataError, ShopdwError, TransientError
from shopdw.report.source import Source, open_source

HERE = Path(__file__).parent
MART_TABLES = (
    "mart_daily_orders",
    "mart_daily_sales",
    "mart_category_performance",
    "mart_delivery_performance",
    "mart_top_customers",
    "customer_360",
)
TOP_CITIES = 10  # bars in the "top cities" chart
RFM_SEGMENTS = ("champions", "loyal", "potential_loyalist", "new", "at_risk", "hibernating", "lost")


def format_brl(value: Decimal | int | float | None, cents: bool = False) -> str:
    """`R$ 1.234.567,89` (Brazilian separators); `cents=True` when value is integer centavos.

    The page's JavaScript formatter (`fmtBRL` in dashboard.js) gives the same text.
    """
    if value is None:
        return "–"
    d = Decimal(value) / 100 if cents else Decimal(str(value))
    d = d.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if d < 0 else ""
    whole, frac = f"{abs(d):.2f}".split(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return f"{sign}R$ {'.'.join(groups)},{frac}"


@dataclass
class Payload:
    """Everything the page shows, as plain JSON-able data."""

    meta: dict[str, Any] = field(default_factory=dict)
    states: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    daily: dict[str, Any] = field(default_factory=dict)
    orders: dict[str, Any] = field(default_factory=dict)
    delivery: list[list[Any]] = field(default_factory=list)
    category_perf: list[dict[str, Any]] = field(default_factory=list)
    top_customers: list[dict[str, Any]] = field(default_factory=list)
    customers: list[list[Any]] = field(default_factory=list)
    cities: list[list[Any]] = field(default_factory=list)
    health: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        data = {k: getattr(self, k) for k in self.__dataclass_fields__}
        text = json.dumps(data, separators=(",", ":"), sort_keys=True, default=_json_default, allow_nan=False)
        # Safe inside <script>: no "</script>", no HTML comment openers.
        return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _json_default(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.isoformat(sep=" ", timespec="seconds")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return float(v)
    raise TypeError(f"cannot serialise {type(v).__name__}")


def _num(v: Any, digits: int = 4) -> float | None:
    """A float for the page, rounded; None for NULL, NaN or infinity (JSON has no NaN)."""
    if v is None:
        return None
    f = float(v)
    return round(f, digits) if math.isfinite(f) else None


# ---------------------------------------------------------------------------------------------
# reading


def _require_marts(src: Source) -> None:
    missing = [t for t in MART_TABLES if not src.exists("analytics", t)]
    if missing:
        raise DataError(
            f"{src.describe}: missing {', '.join('analytics.' + t for t in missing)}; "
            "run `shopdw transform` (or `shopdw run`) to build the marts, then build the dashboard again"
        )


def _off_contract(src: Source, table: str, e: Exception) -> DataError:
    return DataError(
        f"{src.describe}: analytics.{table} does not match the mart contract ({e}); "
        "see the mart contract in the dbt project's marts/dashboards models"
    )


def _query_mart(src: Source, table: str, sql: str) -> dict[str, list[Any]]:
    """Run one query over one mart; a failure that is not transient names that mart."""
    try:
        return src.query(sql).to_pydict()
    except (TransientError, DataError):
        raise
    except ShopdwError as e:
        raise _off_contract(src, table, e) from None


def _read_daily(src: Source, p: Payload) -> None:
    """mart_daily_sales (revenue, freight, items by day, state and category) and mart_daily_orders
    (distinct orders and their revenue by day and state), as columns over one day origin and
    one list of states.

    Order counts and the average order value come from mart_daily_orders only: an order with
    items in two categories sits in two mart_daily_sales rows, so adding those up would count
    it twice.
    """
    t = src.table("analytics", "mart_daily_sales")
    rows = _query_mart(
        src,
        "mart_daily_sales",
        "select order_date, customer_state, product_category, "  # noqa: S608 - quoted identifiers
        "cast(round(revenue * 100, 0) as bigint) as rev, cast(round(freight_value * 100, 0) as bigint) as frt, "
        f"cast(items as bigint) as itm from {t} "
        "order by order_date, customer_state, product_category",
    )
    t = src.table("analytics", "mart_daily_orders")
    orders = _query_mart(
        src,
        "mart_daily_orders",
        "select order_date, customer_state, cast(orders as bigint) as ord, "  # noqa: S608 - quoted identifiers
        f"cast(round(revenue * 100, 0) as bigint) as rev from {t} order by order_date, customer_state",
    )
    dates = rows["order_date"] + orders["order_date"]
    states = sorted({s or "??" for s in rows["customer_state"] + orders["customer_state"]})
    # categories ordered by all-time revenue, then name: the page's colour and legend order
    cat_rev: dict[str, int] = {}
    for c, r in zip(rows["product_category"], rows["rev"], strict=True):
        cat_rev[c or "unknown"] = cat_rev.get(c or "unknown", 0) + (r or 0)
    categories = sorted(cat_rev, key=lambda c: (-cat_rev[c], c))
    st_idx = {s: i for i, s in enumerate(states)}
    cat_idx = {c: i for i, c in enumerate(categories)}
    d0 = min(dates) if dates else None
    p.states, p.categories = states, categories
    p.daily = {
        "d0": d0.isoformat() if d0 else None,
        "day": [(d - d0).days for d in rows["order_date"]],
        "st": [st_idx[s or "??"] for s in rows["customer_state"]],
        "cat": [cat_idx[c or "unknown"] for c in rows["product_category"]],
        "rev": [r or 0 for r in rows["rev"]],
        "frt": [r or 0 for r in rows["frt"]],
        "itm": [r or 0 for r in rows["itm"]],
    }
    p.orders = {
        "day": [(d - d0).days for d in orders["order_date"]],
        "st": [st_idx[s or "??"] for s in orders["customer_state"]],
        "ord": [r or 0 for r in orders["ord"]],
        "rev": [r or 0 for r in orders["rev"]],
    }
    p.meta["data_from"] = d0.isoformat() if d0 else None
    p.meta["data_to"] = max(dates).isoformat() if dates else None


def _read_delivery(src: Source, p: Payload) -> None:
    t = src.table("analytics", "mart_delivery_performance")
    rows = src.query(
        "select customer_state, purchase_month, cast(delivered_orders as bigint) as delivered, "  # noqa: S608
        "cast(on_time_orders as bigint) as on_time, cast(late_orders as bigint) as late, "
        f"avg_delivery_days from {t} order by purchase_month, customer_state"
    ).to_pylist()
    p.delivery = [
        [r["customer_state"] or "??", r["purchase_month"].isoformat()[:7], r["delivered"] or 0, r["on_time"] or 0,
         r["late"] or 0, _num(r["avg_delivery_days"])]
        for r in rows
    ]  # fmt: skip


def _read_category_perf(src: Source, p: Payload) -> None:
    t = src.table("analytics", "mart_category_performance")
    rows = src.query(
        "select product_category, cast(round(revenue * 100, 0) as bigint) as rev, "  # noqa: S608
        "cast(orders as bigint) as orders, cast(items as bigint) as items, "
        "cast(round(avg_item_price * 100, 0) as bigint) as avg_price, avg_review_score, revenue_share "
        f"from {t} order by revenue desc, product_category"
    ).to_pylist()
    p.category_perf = [
        {"category": r["product_category"] or "unknown", "rev": r["rev"] or 0, "orders": r["orders"] or 0,
         "items": r["items"] or 0, "avg_price": r["avg_price"], "review": _num(r["avg_review_score"]),
         "share": _num(r["revenue_share"], 6)}
        for r in rows
    ]  # fmt: skip


def _read_top_customers(src: Source, p: Payload) -> None:
    t = src.table("analytics", "mart_top_customers")
    rows = src.query(
        "select rank, customer_unique_id, customer_city, customer_state, cast(orders as bigint) as orders, "  # noqa: S608
        "cast(round(lifetime_value * 100, 0) as bigint) as ltv, "
        "cast(round(avg_order_value * 100, 0) as bigint) as aov, avg_review_score, rfm_segment, last_order_at "
        f"from {t} order by rank, customer_unique_id"
    ).to_pylist()
    p.top_customers = [
        {"rank": r["rank"], "id": r["customer_unique_id"], "city": r["customer_city"], "state": r["customer_state"],
         "orders": r["orders"], "ltv": r["ltv"], "aov": r["aov"], "review": _num(r["avg_review_score"]),
         "segment": r["rfm_segment"], "last": r["last_order_at"]}
        for r in rows
    ]  # fmt: skip


def _read_customers(src: Source, p: Payload) -> None:
    t = src.table("analytics", "customer_360")
    bucket = (
        "case when avg_review_score is null then 0 when avg_review_score < 1.5 then 1 "
        "when avg_review_score < 2.5 then 2 when avg_review_score < 3.5 then 3 "
        "when avg_review_score < 4.5 then 4 else 5 end"
    )
    rows = src.query(
        f"select customer_state, rfm_segment, {bucket} as review_bucket, count(*) as customers, "  # noqa: S608
        "cast(round(sum(lifetime_value) * 100, 0) as bigint) as ltv, cast(sum(orders) as bigint) as orders "
        f"from {t} group by customer_state, rfm_segment, {bucket} "
        "order by customer_state, rfm_segment, review_bucket"
    ).to_pylist()
    p.customers = [
        [r["customer_state"] or "??", r["rfm_segment"] or "unknown", int(r["review_bucket"]), int(r["customers"]),
         r["ltv"] or 0, r["orders"] or 0]
        for r in rows
    ]  # fmt: skip
    rows = src.query(
        "select customer_state, customer_city, count(*) as customers, "  # noqa: S608
        "cast(round(sum(lifetime_value) * 100, 0) as bigint) as ltv, cast(sum(orders) as bigint) as orders "
        f"from {t} group by customer_state, customer_city order by customer_state, customer_city"
    ).to_pylist()
    # The page shows the top cities overall or within one state: the top N of each state cover both.
    per_state: dict[str, list[list[Any]]] = {}
    for r in rows:
        if (r["ltv"] or 0) > 0:
            per_state.setdefault(r["customer_state"] or "??", []).append(
                [r["customer_state"] or "??", r["customer_city"] or "unknown", int(r["customers"]), r["ltv"],
                 r["orders"] or 0]
            )  # fmt: skip
    p.cities = [c for st in sorted(per_state) for c in sorted(per_state[st], key=lambda c: (-c[3], c[1]))[:TOP_CITIES]]


def _read_health(src: Source, p: Payload) -> None:
    """Latest quality scorecard, freshness and quarantine counts; each part degrades to a note."""
    h: dict[str, Any] = {"notes": []}

    def part(name: str, table: str, fn) -> None:
        if not src.exists("meta", table):
            h["notes"].append(f"meta.{table} does not exist yet")
            return
        try:
            fn(src.table("meta", table))
        except Exception as e:  # noqa: BLE001 - a broken meta table must not take the page down
            h["notes"].append(f"meta.{table} could not be read: {type(e).__name__}: {str(e).splitlines()[0]}")

    def dq(t: str) -> None:
        latest = src.query(
            f"select run_id, max(checked_at) as last_checked from {t} group by run_id "  # noqa: S608
            "order by last_checked desc, run_id desc limit 1"
        ).to_pylist()
        if not latest:
            return
        run_id = latest[0]["run_id"]
        rows = src.query(
            "select check_name, dimension, table_name, rows_checked, rows_failed, score, threshold, "  # noqa: S608
            f"blocking, status, checked_at from {t} where run_id = '{str(run_id).replace(chr(39), chr(39) * 2)}' "
            "order by dimension, check_name, table_name"
        ).to_pylist()
        h["dq"] = {
            "run_id": run_id,
            "checked_at": latest[0]["last_checked"],
            "checks": [
                {
                    "check": r["check_name"],
                    "dimension": r["dimension"],
                    "table": r["table_name"],
                    "checked": r["rows_checked"],
                    "failed": r["rows_failed"],
                    "score": _num(r["score"]),
                    "threshold": _num(r["threshold"]),
                    "blocking": bool(r["blocking"]),
                    "status": r["status"],
                }
                for r in rows
            ],  # fmt: skip
        }

    def runs(t: str) -> None:
        # the pipeline writes one row per step plus a step 'run' row holding the run's outcome
        rows = src.query(
            f"select run_id, min(started_at) as started_at, max(ended_at) as ended_at, "  # noqa: S608
            "max(case when step = 'run' then status end) as run_status, "
            "sum(case when status in ('failed', 'fail', 'error') then 1 else 0 end) as failed_steps, count(*) as steps "
            f"from {t} group by run_id order by started_at desc, run_id desc limit 5"
        ).to_pylist()
        h["runs"] = [
            {"run_id": r["run_id"], "started_at": r["started_at"], "ended_at": r["ended_at"],
             "status": r["run_status"], "failed_steps": int(r["failed_steps"] or 0), "steps": int(r["steps"])}
            for r in rows
        ]  # fmt: skip

    def ledger(t: str) -> None:
        rows = src.query(
            f"select status, count(*) as files, cast(sum(rows_loaded) as bigint) as loaded, "  # noqa: S608
            "cast(sum(rows_quarantined) as bigint) as quarantined, max(loaded_at) as last_at, "
            f"max(ingest_date) as last_ingest from {t} group by status order by status"
        ).to_pylist()
        h["ledger"] = [
            {"status": r["status"], "files": int(r["files"]), "rows_loaded": int(r["loaded"] or 0),
             "rows_quarantined": int(r["quarantined"] or 0), "last_loaded_at": r["last_at"],
             "last_ingest_date": r["last_ingest"]}
            for r in rows
        ]  # fmt: skip

    def quarantine(t: str) -> None:
        rows = src.query(
            f"select entity, reason, count(*) as n from {t} group by entity, reason "  # noqa: S608
            "order by entity, n desc, reason"
        ).to_pylist()
        h["quarantine"] = [{"entity": r["entity"], "reason": r["reason"], "rows": int(r["n"])} for r in rows]

    part("dq", "dq_results", dq)
    part("runs", "runs", runs)
    part("ledger", "load_ledger", ledger)
    part("quarantine", "quarantine", quarantine)
    p.health = h


def collect(settings: Settings) -> Payload:
    """Read everything the page shows from the warehouse."""
    p = Payload()
    with open_source(settings) as src:
        _require_marts(src)
        for table, read in (
            ("mart_daily_sales", _read_daily),  # and mart_daily_orders, named by _query_mart
            ("mart_delivery_performance", _read_delivery),
            ("mart_category_performance", _read_category_perf),
            ("mart_top_customers", _read_top_customers),
            ("customer_360", _read_customers),
        ):
            try:
                read(src, p)
            except (TransientError, DataError):
                raise
            except ShopdwError as e:  # a mart that no longer matches the contract: say which and why
                raise _off_contract(src, table, e) from None
        _read_health(src, p)
        p.meta.update({"target": settings.target, "version": __version__, "source": src.describe.split(" ")[0]})
    return p


# ---------------------------------------------------------------------------------------------
# rendering


def render(payload: Payload) -> str:
    """The page's HTML: template with CSS, JS and the JSON payload inlined."""
    template = (HERE / "template.html").read_text(encoding="utf-8")
    css = (HERE / "dashboard.css").read_text(encoding="utf-8")
    js = (HERE / "dashboard.js").read_text(encoding="utf-8")
    title = "shopdw dashboard"
    subtitle = (
        f"Orders {payload.meta.get('data_from') or '–'} to {payload.meta.get('data_to') or '–'} · "
        f"{payload.meta.get('target')} warehouse · shopdw {payload.meta.get('version')}"
    )
    values = {
        "/*__CSS__*/": css,
        "/*__JS__*/": js.replace("</script", "<\\/script"),
        "__DATA__": payload.to_json(),
        "__TITLE__": html.escape(title),
        "__HEADING__": html.escape(title),
        "__SUBTITLE__": html.escape(subtitle),
    }
    for key in values:
        if template.count(key) != 1:
            raise RuntimeError(f"template.html must hold the {key} placeholder exactly once")
    # one pass, so inlined text is never scanned for placeholders again
    pattern = re.compile("|".join(re.escape(k) for k in values))
    return pattern.sub(lambda m: values[m.group(0)], template)


def build_dashboard(settings: Settings, out_path: str | os.PathLike[str] | None = None) -> Path:
    """Build the dashboard from the warehouse and write it atomically; returns the page's path.

    `out_path` defaults to `settings.site` (./site/index.html). Raises DataError when the
    marts are missing; missing or empty meta tables show as "no quality run yet".
    """
    page = render(collect(settings))
    out = Path(out_path or settings.site)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(page.encode("utf-8"))
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out.resolve()
