"""One run of the pipeline: discover → load → transform → quality gate → publish.

The CLI (`shopdw run`) and the Airflow DAGs call these same functions, so a local run and
an Airflow run do the same work. Every step records its start, end, status, row count and
error in meta.runs under the run's id; the quality step writes the scorecard to
meta.dq_results. A failing blocking check stops the run before publish (exit code 1).
"""

from __future__ import annotations

import json
import secrets
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

from shopdw.config import Settings
from shopdw.errors import EXIT_BLOCKED, EXIT_OK, EXIT_UNEXPECTED, GateFailed, ShopdwError

DBT_PROJECT_DIR = Path(__file__).parent / "dbt"

RUNS_DDL = """
create table if not exists meta.runs (
    run_id varchar(64) not null,
    step varchar(32) not null,
    run_date date,
    command varchar(32),
    started_at timestamp not null,
    ended_at timestamp,
    status varchar(16) not null,
    rows bigint,
    error varchar(4096),
    details varchar(8192)
)
"""


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


def lit(value: Any) -> str:
    """A SQL literal valid on DuckDB, PostgreSQL and Redshift (strings quote-doubled)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, datetime):
        return f"timestamp '{value.isoformat(sep=' ')}'"
    if isinstance(value, date):
        return f"date '{value.isoformat()}'"
    text = str(value).replace("\x00", "")
    return "'" + text.replace("'", "''") + "'"


def new_run_id() -> str:
    return f"run-{_now():%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


def _warehouse(settings: Settings):
    from shopdw.warehouse import open_warehouse

    return open_warehouse(settings)


def ensure_meta(settings: Settings) -> None:
    with _warehouse(settings) as wh:
        wh.execute("create schema if not exists meta")
        wh.execute(RUNS_DDL)
        from shopdw.quality.gate import DQ_DDL

        wh.execute(DQ_DDL)


def record_step(
    settings: Settings,
    run_id: str,
    step: str,
    started_at: datetime,
    ended_at: datetime | None,
    status: str,
    rows: int | None = None,
    error: str | None = None,
    details: dict | None = None,
    run_date: date | None = None,
    command: str | None = None,
) -> None:
    """Insert or replace the meta.runs row of one step of a run."""
    with _warehouse(settings) as wh:
        with wh.transaction():
            wh.execute(f"delete from meta.runs where run_id = {lit(run_id)} and step = {lit(step)}")
            values = [
                run_id, step, run_date, command, started_at, ended_at, status, rows,
                (error or None) and error[:4000],
                json.dumps(details, default=str)[:8000] if details else None,
            ]  # fmt: skip
            wh.execute(
                "insert into meta.runs (run_id, step, run_date, command, started_at, ended_at, status, rows, "
                f"error, details) values ({', '.join(lit(v) for v in values)})"
            )


def start_run(settings: Settings, run_date: date | None, command: str = "run", params: dict | None = None) -> str:
    """Create a run id and its 'run' row in meta.runs (status running)."""
    ensure_meta(settings)
    run_id = new_run_id()
    record_step(settings, run_id, "run", _now(), None, "running", details=params, run_date=run_date, command=command)
    return run_id


def finish_run(settings: Settings, run_id: str, status: str, error: str | None = None, rows: int | None = None) -> None:
    with _warehouse(settings) as wh:
        wh.execute(
            f"update meta.runs set ended_at = {lit(_now())}, status = {lit(status)}, "
            f"error = {lit((error or None) and error[:4000])}, rows = {lit(rows)} "
            f"where run_id = {lit(run_id)} and step = 'run'"
        )


@contextmanager
def _step(settings: Settings, run_id: str, step: str, run_date: date | None) -> Iterator[dict]:
    """Record a step: running, then success/failed/blocked with rows and error."""
    started = _now()
    record_step(settings, run_id, step, started, None, "running", run_date=run_date)
    out: dict[str, Any] = {"rows": None, "details": None}
    try:
        yield out
    except GateFailed as e:
        record_step(settings, run_id, step, started, _now(), "blocked", out["rows"], str(e), out["details"], run_date)
        raise
    except BaseException as e:
        msg = str(e) if isinstance(e, ShopdwError) else "".join(traceback.format_exception_only(e)).strip()
        record_step(settings, run_id, step, started, _now(), "failed", out["rows"], msg, out["details"], run_date)
        raise
    record_step(settings, run_id, step, started, _now(), out.get("status", "success"), out["rows"], None,
                out["details"], run_date)  # fmt: skip


def wait_for_files(settings: Settings, run_date: date) -> int:
    """How many raw lake files carry this ingest date (0: the day's batch has not landed yet)."""
    from shopdw.lake.layout import parse_raw_path
    from shopdw.lake.store import lake_from_settings

    n = 0
    for f in lake_from_settings(settings).list("raw/"):
        try:
            if parse_raw_path(f.path).ingest_date == run_date:
                n += 1
        except ValueError:
            continue
    return n


def step_load(settings: Settings, run_id: str, run_date: date | None = None, progress: bool = False) -> dict:
    """Load every new lake file with ingest_date <= run_date (all, if None) exactly once.

    Rejected files do not raise here: they are recorded in the ledger and the quality gate's
    blocking `rejected_files` check fails the run, after the good files have loaded.
    """
    from shopdw.load import load

    with _step(settings, run_id, "load", run_date) as st:
        result = load(settings, run_id=run_id, progress=progress, until=run_date)
        d = result.to_dict()
        st["rows"] = d.get("rows_loaded")
        st["details"] = {k: v for k, v in d.items() if k != "files"}
        if result.exit_code:
            st["status"] = "warning"
    return d


def step_transform(settings: Settings, run_id: str, full_refresh: bool = False, select: str | None = None,
                   run_date: date | None = None) -> dict:  # fmt: skip
    """dbt build in-process; every dbt test result goes into meta.dq_results for the gate."""
    from shopdw.quality.gate import record_dbt_tests
    from shopdw.transform import transform

    with _step(settings, run_id, "transform", run_date) as st:
        result = transform(settings, full_refresh=full_refresh, select=select)
        d = result.to_dict()
        record_dbt_tests(settings, run_id, run_date, result)
        st["details"] = {k: v for k, v in d.items() if k not in ("nodes", "results")}
        errors = [n for n in result.nodes if n.resource_type != "test" and n.status == "error"]
        if errors:
            raise ShopdwError(
                "dbt failed on "
                + ", ".join(f"{n.name}: {n.message}" for n in errors[:5])
                + " — run `shopdw transform` to see dbt's full output"
            )
    return d


def step_quality(settings: Settings, run_id: str, run_date: date | None) -> dict:
    """Score the run (meta.dq_results) and raise GateFailed if a blocking check failed."""
    from shopdw.quality.gate import run_checks

    with _step(settings, run_id, "quality", run_date) as st:
        card = run_checks(settings, run_id, run_date)
        st["rows"] = len(card.checks)
        st["details"] = card.summary()
        card.raise_if_blocked()
    return card.to_dict()


def step_publish(settings: Settings, run_id: str, run_date: date | None = None) -> dict:
    """Write the dashboard page (atomically replacing the previous one) and the BI exports."""
    from shopdw.report.dashboard import build_dashboard
    from shopdw.report.export import export

    with _step(settings, run_id, "publish", run_date) as st:
        page = build_dashboard(settings)
        files = export(settings, fmt="parquet")
        st["rows"] = len(files)
        st["details"] = {"dashboard": str(page), "exports": [str(f) for f in files]}
    return {"dashboard": str(page), "exports": [str(f) for f in files]}


def hours_since_last_load(settings: Settings) -> float | None:
    with _warehouse(settings) as wh:
        newest = wh.query("select max(loaded_at) from meta.load_ledger where status = 'loaded'")[0][0]
    if newest is None:
        return None
    return round((_now() - newest).total_seconds() / 3600, 3)


def _publish_freshness(settings: Settings) -> None:
    """The freshness metric the Terraform monitoring alarm watches (only when settings.environment is set)."""
    if not settings.environment:
        return
    from shopdw.notify import publish_freshness_metric

    hours = hours_since_last_load(settings)
    publish_freshness_metric(settings, 1e6 if hours is None else hours)


@dataclass
class DayResult:
    run_id: str
    run_date: date | None
    status: str  # success | blocked | failed
    error: str | None = None
    load: dict | None = None
    quality: dict | None = None
    publish: dict | None = None
    seconds: float = 0.0


@dataclass
class RunResult:
    days: list[DayResult] = field(default_factory=list)

    @property
    def status(self) -> str:
        if any(d.status == "failed" for d in self.days):
            return "failed"
        if any(d.status == "blocked" for d in self.days):
            return "blocked"
        return "success"

    @property
    def exit_code(self) -> int:
        return {"success": EXIT_OK, "blocked": EXIT_BLOCKED}.get(self.status, EXIT_UNEXPECTED)

    def to_dict(self) -> dict:
        return {"status": self.status, "exit_code": self.exit_code, "runs": [d.__dict__ for d in self.days]}

    def render(self) -> None:
        from rich.table import Table

        from shopdw.errors import wide_console

        console = wide_console()
        for d in self.days:
            colour = {"success": "green", "blocked": "yellow"}.get(d.status, "red")
            console.print(
                f"[bold]{d.run_id}[/] date={d.run_date or 'all'} status=[{colour}]{d.status}[/] ({d.seconds:.1f}s)"
            )
            if d.load:
                console.print(
                    f"  load: {d.load.get('files_loaded', 0)} files loaded, {d.load.get('files_rejected', 0)} rejected, "
                    f"{d.load.get('files_duplicate', 0)} duplicate; {d.load.get('rows_loaded', 0)} rows loaded, "
                    f"{d.load.get('rows_quarantined', 0)} quarantined"
                )
            if d.quality:
                t = Table("check", "dimension", "table", "failed/checked", "score", "threshold", "status", title=None)
                dbt_passed = [c for c in d.quality["checks"] if c["dimension"] == "dbt_test" and c["status"] == "pass"]
                for c in d.quality["checks"]:
                    if c in dbt_passed:
                        continue
                    st = c["status"]
                    style = {"pass": "green", "warn": "yellow", "fail": "red"}[st]
                    t.add_row(
                        c["check_name"], c["dimension"], c["table_name"] or "",
                        f"{c['rows_failed']}/{c['rows_checked']}", f"{c['score']:.2f}",
                        "" if c["threshold"] is None else f"{c['threshold']:.2f}",
                        f"[{style}]{st}{' (blocking)' if c['blocking'] and st == 'fail' else ''}[/]",
                    )  # fmt: skip
                console.print(t)
                if dbt_passed:
                    console.print(f"  and {len(dbt_passed)} dbt tests passed")
            if d.publish:
                console.print(f"  dashboard: {d.publish['dashboard']}")
            if d.error:
                console.print(f"  [{colour}]{d.error}[/]")


def _run_one(settings: Settings, run_date: date | None, full_refresh: bool, progress: bool, command: str) -> DayResult:
    """One run under the warehouse's one-run-at-a-time lock (re-entrant: the load step takes it too)."""
    wh = _warehouse(settings)
    try:
        with wh.run_lock():
            wh.close()  # the lock has its own handle; dbt needs the DuckDB file free
            return _run_one_locked(settings, run_date, full_refresh, progress, command)
    finally:
        wh.close()


def _run_one_locked(settings: Settings, run_date: date | None, full_refresh: bool, progress: bool,
                    command: str) -> DayResult:  # fmt: skip
    from shopdw.notify import notify_failure
    from shopdw.transform import preload_dbt

    preload_dbt()  # dbt's imports (~1.6 s) overlap with the load step
    t0 = time.monotonic()
    run_id = start_run(settings, run_date, command, {"full_refresh": full_refresh})
    day = DayResult(run_id, run_date, "running")
    try:
        day.load = step_load(settings, run_id, run_date, progress=progress)
        step_transform(settings, run_id, full_refresh=full_refresh, run_date=run_date)
        day.quality = step_quality(settings, run_id, run_date)
        day.publish = step_publish(settings, run_id, run_date)
        day.status = "success"
    except GateFailed as e:
        day.status, day.error = "blocked", str(e)
        from shopdw.quality.gate import scorecard_for_run

        day.quality = scorecard_for_run(settings, run_id)
    except ShopdwError as e:
        day.status, day.error = "failed", str(e)
    except Exception as e:
        day.status, day.error = "failed", f"unexpected {type(e).__name__}: {e}"
        finish_run(settings, run_id, "failed", day.error)
        notify_failure(settings, f"shopdw run {run_id} failed", day.error)
        raise
    day.seconds = time.monotonic() - t0
    finish_run(settings, run_id, day.status, day.error, (day.load or {}).get("rows_loaded"))
    _publish_freshness(settings)
    if day.status != "success":
        notify_failure(
            settings,
            f"shopdw run {run_id} {day.status} (date {run_date or 'all'})",
            f"{day.error}\nSee `shopdw quality --run {run_id}` and `shopdw status`.",
        )
    return day


def run(
    settings: Settings,
    date: date | None = None,
    start: date | None = None,
    end: date | None = None,
    full_refresh: bool = False,
    progress: bool = False,
    command: str = "run",
) -> RunResult:
    """Run the pipeline for one date (or all new files when no date), or backfill start..end day by day.

    A backfill stops at the first day that is blocked or fails: later days are not published
    on top of data that did not pass the gate.
    """
    from shopdw.errors import ConfigError

    if date and (start or end):
        raise ConfigError("give either --date or --start/--end, not both")
    if (start is None) != (end is None):
        raise ConfigError("--start and --end go together")
    if start and end and end < start:
        raise ConfigError(f"--end {end} is before --start {start}")
    result = RunResult()
    if start and end:
        d = start
        while d <= end:
            day = _run_one(settings, d, full_refresh and d == start, progress, command)
            result.days.append(day)
            if day.status != "success":
                break
            d += timedelta(days=1)
    else:
        result.days.append(_run_one(settings, date, full_refresh, progress, command))
    return result
