"""The data-quality scorecard and the gate.

Every check yields rows checked, rows failed, a score (% passing), its threshold and whether it
blocks. Dimensions and default thresholds: completeness 95, accuracy 98, consistency 99,
validity 97 (settings dq_*); freshness, reconciliation and rejected files block outright;
volume only warns. dbt test results are part of the card (dimension `dbt_test`). Results go
to meta.dq_results, one row per check and run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, timezone
from typing import Any

from shopdw.config import Settings
from shopdw.errors import GateFailed

DQ_DDL = """
create table if not exists meta.dq_results (
    run_id varchar(64) not null,
    run_date date,
    check_name varchar(128) not null,
    dimension varchar(32) not null,
    table_name varchar(128),
    rows_checked bigint not null,
    rows_failed bigint not null,
    score double precision not null,
    threshold double precision,
    blocking boolean not null,
    status varchar(8) not null,
    sample_keys varchar(4096),
    detail varchar(4096),
    checked_at timestamp not null
)
"""

DIMENSIONS = ("completeness", "accuracy", "consistency", "validity", "freshness", "volume", "reconciliation",
              "dbt_test")  # fmt: skip


@dataclass
class CheckResult:
    check_name: str
    dimension: str
    table_name: str | None
    rows_checked: int
    rows_failed: int
    threshold: float | None  # minimum score (%) to pass; None: pass only with zero failures
    blocking: bool
    sample_keys: str | None = None
    detail: str | None = None

    @property
    def score(self) -> float:
        if self.rows_checked <= 0:
            return 100.0
        return round(100.0 * (1 - self.rows_failed / self.rows_checked), 4)

    @property
    def status(self) -> str:
        ok = self.rows_failed == 0 if self.threshold is None else self.score >= self.threshold
        if ok:
            return "pass"
        return "fail" if self.blocking else "warn"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["score"], d["status"] = self.score, self.status
        return d

    def explain(self) -> str:
        where = f" in {self.table_name}" if self.table_name else ""
        thr = "no failures allowed" if self.threshold is None else f"threshold {self.threshold:.2f}%"
        s = (
            f"{self.check_name} ({self.dimension}){where}: {self.rows_failed} of {self.rows_checked} rows failed, "
            f"score {self.score:.2f}% ({thr})"
        )
        if self.sample_keys:
            s += f"; e.g. {self.sample_keys}"
        if self.detail:
            s += f"; {self.detail}"
        return s


@dataclass
class Scorecard:
    run_id: str
    run_date: date | None
    checks: list[CheckResult]

    @property
    def blocking_failures(self) -> list[CheckResult]:
        return [c for c in self.checks if c.status == "fail"]

    def summary(self) -> dict[str, Any]:
        return {
            "checks": len(self.checks),
            "passed": sum(c.status == "pass" for c in self.checks),
            "warnings": sum(c.status == "warn" for c in self.checks),
            "failed": len(self.blocking_failures),
        }

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "run_date": self.run_date, **self.summary(),
                "checks": [c.to_dict() for c in self.checks]}  # fmt: skip

    def raise_if_blocked(self) -> None:
        failed = self.blocking_failures
        if failed:
            lines = "\n".join(f"  - {c.explain()}" for c in failed)
            raise GateFailed(
                f"quality gate failed for run {self.run_id}: {len(failed)} blocking check(s) failed, nothing was "
                f"published:\n{lines}\nLook at `shopdw quality --run {self.run_id}`, meta.quarantine and "
                "meta.load_ledger (status 'rejected') for the rows and files behind them."
            )


def _threshold(settings: Settings, dimension: str) -> float | None:
    return {
        "completeness": settings.dq_completeness,
        "accuracy": settings.dq_accuracy,
        "consistency": settings.dq_consistency,
        "validity": settings.dq_validity,
    }.get(dimension)


def save(settings: Settings, card: Scorecard, replace_dimensions: tuple[str, ...] | None = None) -> None:
    """Write the card's checks to meta.dq_results (replacing earlier rows of the same run and check)."""
    from shopdw.pipeline import ensure_meta, lit
    from shopdw.warehouse import open_warehouse

    ensure_meta(settings)
    now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    with open_warehouse(settings) as wh:
        with wh.transaction():
            names = ", ".join(lit(c.check_name) for c in card.checks) or "''"
            wh.execute(f"delete from meta.dq_results where run_id = {lit(card.run_id)} and check_name in ({names})")
            for c in card.checks:
                vals = [card.run_id, card.run_date, c.check_name, c.dimension, c.table_name, c.rows_checked,
                        c.rows_failed, c.score, c.threshold, c.blocking, c.status,
                        (c.sample_keys or None) and c.sample_keys[:4000], (c.detail or None) and c.detail[:4000], now]  # fmt: skip
                wh.execute(
                    "insert into meta.dq_results (run_id, run_date, check_name, dimension, table_name, rows_checked, "
                    "rows_failed, score, threshold, blocking, status, sample_keys, detail, checked_at) values ("
                    + ", ".join(lit(v) for v in vals)
                    + ")"
                )


def record_dbt_tests(settings: Settings, run_id: str, run_date: date | None, transform_result: Any) -> None:
    """Put every dbt test of a transform into the scorecard (dimension dbt_test)."""
    checks = []
    for n in transform_result.nodes:
        if n.resource_type not in ("test", "unit_test"):
            continue
        failed = int(n.failures or 0) if n.status in ("fail", "error", "warn") else 0
        if n.status == "error" and failed == 0:
            failed = 1
        checks.append(
            CheckResult(
                check_name=f"dbt:{n.name}"[:128],
                dimension="dbt_test",
                table_name=getattr(n, "model", None),
                rows_checked=max(failed, 1),
                rows_failed=failed,
                threshold=None,
                blocking=n.status != "warn",
                detail=(n.message or None) if failed else None,
            )
        )
    if checks:
        save(settings, Scorecard(run_id, run_date, checks))


def run_checks(settings: Settings, run_id: str, run_date: date | None) -> Scorecard:
    """Run every check for this run, add the run's dbt test results, save and return the card."""
    from shopdw.quality.checks import all_checks
    from shopdw.warehouse import open_warehouse

    with open_warehouse(settings) as wh:
        checks = all_checks(wh, settings, run_id, run_date)
    card = Scorecard(run_id, run_date, checks)
    save(settings, card)
    return scorecard_object_for_run(settings, run_id) or card


def _rows_to_checks(rows: list[tuple]) -> list[CheckResult]:
    out = []
    for r in rows:
        (name, dim, table, checked, failed, _score, thr, blocking, _status, sample, detail) = r
        out.append(CheckResult(name, dim, table, int(checked), int(failed), thr, bool(blocking), sample, detail))
    return out


def scorecard_object_for_run(settings: Settings, run_id: str) -> Scorecard | None:
    from shopdw.pipeline import lit
    from shopdw.warehouse import open_warehouse

    with open_warehouse(settings) as wh:
        rows = wh.query(
            "select check_name, dimension, table_name, rows_checked, rows_failed, score, threshold, blocking, "
            f"status, sample_keys, detail, run_date from meta.dq_results where run_id = {lit(run_id)} "
            "order by dimension, check_name"
        )
    if not rows:
        return None
    return Scorecard(run_id, rows[0][-1], _rows_to_checks([r[:-1] for r in rows]))


def scorecard_for_run(settings: Settings, run_id: str) -> dict | None:
    card = scorecard_object_for_run(settings, run_id)
    return card.to_dict() if card else None
