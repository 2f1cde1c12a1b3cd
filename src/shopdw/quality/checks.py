"""The checks behind the scorecard, as SQL over meta.*, raw.*, staging and analytics.

Load-side checks are scoped to the run's day (files with ingest_date = run date), or to the
files this run loaded when there is no run date, so rerunning a date scores it the same way.
Warehouse-side checks look at the published tables as a whole.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from shopdw.config import Settings
from shopdw.quality.gate import CheckResult, _threshold

# How a quarantine reason maps onto a quality dimension (first match wins; default validity).
REASON_DIMENSIONS: tuple[tuple[str, str], ...] = (
    ("null in required column", "completeness"),
    ("orphan foreign key", "consistency"),
    ("duplicate row", "consistency"),
    ("below minimum", "accuracy"),
    ("above maximum", "accuracy"),
)


def reason_dimension(reason: str) -> str:
    """The dimension of a quarantine reason (the first of several '; '-joined reasons), ignoring
    the quoted offending value so a value cannot pose as a reason."""
    first = (reason or "").split("; ")[0]
    r = re.sub(r"'(?:[^']|'')*'", "", first).lower()
    for needle, dim in REASON_DIMENSIONS:
        if needle in r:
            return dim
    return "validity"


def _scope(run_id: str, run_date: date | None, alias: str = "") -> str:
    from shopdw.pipeline import lit

    p = f"{alias}." if alias else ""
    return f"{p}ingest_date = {lit(run_date)}" if run_date else f"{p}run_id = {lit(run_id)}"


def _one(wh, sql: str) -> Any:
    rows = wh.query(sql)
    return rows[0][0] if rows else None


def _samples(wh, sql: str, limit: int = 5) -> str | None:
    rows = wh.query(f"{sql} limit {int(limit)}")
    return ", ".join("|".join("" if v is None else str(v) for v in r) for r in rows) or None


def _table_exists(wh, schema: str, table: str) -> bool:
    from shopdw.pipeline import lit

    return bool(
        _one(
            wh,
            "select count(*) from information_schema.tables "
            f"where table_schema = {lit(schema)} and table_name = {lit(table)}",
        )
    )


def load_checks(wh, settings: Settings, run_id: str, run_date: date | None) -> list[CheckResult]:
    """Quarantine by dimension, rejected files, file reconciliation, freshness and volume."""
    from shopdw.pipeline import lit

    scope = _scope(run_id, run_date)
    out: list[CheckResult] = []
    rows_in_scope = int(
        _one(wh, f"select coalesce(sum(rows_in_file), 0) from meta.load_ledger where status = 'loaded' and {scope}")
    )
    files_in_scope = f"select path from meta.load_ledger where status = 'loaded' and {scope}"
    q = wh.query(
        f"select reason, count(*) from meta.quarantine where source_file in ({files_in_scope}) group by reason"
    )
    by_dim: dict[str, int] = {}
    for reason, n in q:
        dim = reason_dimension(reason)
        by_dim[dim] = by_dim.get(dim, 0) + int(n)
    for dim in ("completeness", "accuracy", "consistency", "validity"):
        failed = by_dim.get(dim, 0)
        sample = None
        if failed:
            reasons = [r for r, _ in q if reason_dimension(r) == dim]
            sample = _samples(
                wh,
                "select source_file, row_number, reason from meta.quarantine "
                f"where source_file in ({files_in_scope}) and reason in ({', '.join(lit(r) for r in reasons)}) "
                "order by source_file, row_number",
                3,
            )
        out.append(CheckResult(f"quarantined_rows_{dim}", dim, "meta.quarantine", rows_in_scope, failed,
                               _threshold(settings, dim), True, sample,
                               "rows of the day's files held back at load" if failed else None))  # fmt: skip

    rejected = int(_one(wh, f"select count(*) from meta.load_ledger where status = 'rejected' and {scope}"))
    files = int(_one(wh, f"select count(*) from meta.load_ledger where {scope}"))
    out.append(
        CheckResult("rejected_files", "validity", "meta.load_ledger", files, rejected, None, True,
                    _samples(wh, f"select path, reason from meta.load_ledger where status = 'rejected' and {scope} "
                                 "order by path") if rejected else None,
                    "rejected files stay in the lake; fix and resend them under a new batch id" if rejected else None)
    )  # fmt: skip

    bad_ledger = int(
        _one(
            wh,
            "select count(*) from meta.load_ledger where status = 'loaded' and "
            f"rows_in_file <> rows_loaded + rows_quarantined and {scope}",
        )
    )
    out.append(CheckResult("ledger_rows_balance", "reconciliation", "meta.load_ledger", files, bad_ledger, None, True,
                           None, "rows in file must equal rows loaded + rows quarantined"))  # fmt: skip

    # every loaded file's rows are really in raw.<entity>
    entities = [
        e for (e,) in wh.query(f"select distinct entity from meta.load_ledger where status = 'loaded' and {scope}")
    ]
    missing = 0
    samples = []
    for entity in sorted(entities):
        from shopdw.contracts import CONTRACTS

        if entity not in CONTRACTS:
            continue
        rows = wh.query(
            f"select l.path, l.rows_loaded, coalesce(r.n, 0) from meta.load_ledger l left join "
            f"(select _source_file, count(*) as n from raw.{wh.quote_ident(entity)} where _source_file in ("
            f"select path from meta.load_ledger where status = 'loaded' and entity = {lit(entity)} and {scope}"
            ") group by _source_file) r "
            f"on r._source_file = l.path where l.status = 'loaded' and l.entity = {lit(entity)} and "
            f"{_scope(run_id, run_date, 'l')} and l.rows_loaded <> coalesce(r.n, 0)"
        )
        missing += len(rows)
        samples += [r[0] for r in rows[:3]]
    out.append(CheckResult("ledger_matches_raw", "reconciliation", "raw.*", files, missing, None, True,
                           ", ".join(samples) or None, "raw rows per source file must equal the ledger's rows_loaded"))  # fmt: skip

    newest = _one(wh, "select max(ingest_date) from meta.load_ledger where status = 'loaded'"
                      + (f" and ingest_date <= {lit(run_date)}" if run_date else ""))  # fmt: skip
    if run_date:
        reference = run_date
    else:
        reference = _one(wh, "select max(ingest_date) from meta.load_ledger")
    lag = None if newest is None or reference is None else (reference - newest).days
    stale = newest is None or (lag is not None and lag > settings.dq_freshness_days)
    out.append(
        CheckResult("freshness", "freshness", "meta.load_ledger", 1, int(stale), None, True,
                    None, f"newest loaded batch {newest or 'none'}, run date {reference or 'none'}, lag "
                          f"{'n/a' if lag is None else lag} day(s), allowed {settings.dq_freshness_days}")
    )  # fmt: skip

    if run_date:
        today = int(_one(wh, f"select coalesce(sum(rows_loaded), 0) from meta.load_ledger where status = 'loaded' "
                             f"and ingest_date = {lit(run_date)}"))  # fmt: skip
        lo, hi = run_date - timedelta(days=7), run_date - timedelta(days=1)
        rows = wh.query(
            "select ingest_date, sum(rows_loaded) from meta.load_ledger where status = 'loaded' and "
            f"ingest_date between {lit(lo)} and {lit(hi)} group by ingest_date"
        )
        if rows:
            avg = sum(int(r[1]) for r in rows) / len(rows)
            off = avg > 0 and not (0.5 * avg <= today <= 2.0 * avg)
            out.append(CheckResult("volume_vs_trailing_7d", "volume", "meta.load_ledger", 1, int(off), None, False,
                                   None, f"{today} rows today vs {avg:.0f} average over the previous {len(rows)} "
                                         "day(s); expected between 50% and 200%"))  # fmt: skip
    return out


def all_checks(wh, settings: Settings, run_id: str, run_date: date | None) -> list[CheckResult]:
    from shopdw.quality.model_checks import model_checks

    return load_checks(wh, settings, run_id, run_date) + model_checks(wh, settings, run_id, run_date)
