"""Airflow-side glue for the DAGs in dags/: settings from Airflow connections, variables and
the environment; the day a run covers (its data interval, never the wall clock); the retry
policy (transient errors retry with backoff, terminal ones fail at once); the failure
callback that records the run as failed and sends the notification.

The DAG files only declare the graph; each task body calls one function here, which calls the
same `shopdw.pipeline` step as `shopdw run`. Airflow and every heavy module (DuckDB, dbt,
pyarrow) are imported inside functions, so importing this module at DAG-parse time is cheap
and the package works without Airflow installed.

Settings precedence (later wins): defaults < shopdw.toml < SHOPDW_* environment < Airflow
variable `shopdw_settings` (JSON object of non-secret settings) < Airflow connections
`shopdw_postgres`, `shopdw_redshift`, `shopdw_notify` (the secrets).
"""

from __future__ import annotations

import json
import logging
import os
from datetime import date, datetime, timedelta, timezone
from typing import Any, Mapping
from urllib.parse import quote

from shopdw.config import SECRET_FIELDS, Settings, load_settings
from shopdw.errors import ConfigError

log = logging.getLogger(__name__)

VAR_SETTINGS = "shopdw_settings"
VAR_SOURCE = "shopdw_source"
CONN_POSTGRES = "shopdw_postgres"
CONN_REDSHIFT = "shopdw_redshift"
CONN_NOTIFY = "shopdw_notify"

# Terminal errors fail the task at once; transient ones retry with exponential backoff.
# Anything else (not classified by shopdw) keeps Airflow's default: retry, since a driver
# error shopdw does not know may well be a dropped connection.
TERMINAL_ERRORS = ["shopdw.errors.TerminalError", "shopdw.errors.GateFailed"]
TRANSIENT_ERRORS = ["shopdw.errors.TransientError", "builtins.ConnectionError", "builtins.TimeoutError"]

SOURCE_DEFAULTS: dict[str, Any] = {
    "orders_per_day": 200,
    "seed": 42,
    "defect_rate": 0.0,
    "late_rate": 0.05,
    "fmt": "parquet",
}


def start_date() -> datetime:
    """The DAGs' fixed first logical date (catchup starts here); SHOPDW_AIRFLOW_START_DATE overrides it."""
    raw = os.environ.get("SHOPDW_AIRFLOW_START_DATE", "2025-01-01")
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise ConfigError(f"SHOPDW_AIRFLOW_START_DATE={raw!r} is not a date; use YYYY-MM-DD") from None
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


def retry_policy():
    """Airflow 3 retry policy: terminal shopdw errors fail immediately, transient ones retry."""
    from airflow.sdk import ExceptionRetryPolicy, RetryAction, RetryRule

    return ExceptionRetryPolicy(
        rules=[
            RetryRule(
                exception=list(TERMINAL_ERRORS),
                action=RetryAction.FAIL,
                reason="terminal: bad data, bad configuration or a failed quality gate; retrying will not help",
            ),
            RetryRule(
                exception=list(TRANSIENT_ERRORS),
                action=RetryAction.RETRY,
                reason="transient: retry with backoff",
            ),
        ],
        default=RetryAction.DEFAULT,
    )


def default_args(**overrides: Any) -> dict[str, Any]:
    """Task defaults shared by both DAGs: retries with exponential backoff, a timeout, the callback."""
    args: dict[str, Any] = {
        "owner": "shopdw",
        "retries": 3,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=30),
        "execution_timeout": timedelta(hours=1),
        "retry_policy": retry_policy(),
        "on_failure_callback": on_task_failure,
    }
    args.update(overrides)
    return args


# ---- settings from Airflow ------------------------------------------------------------------


def _variable(key: str) -> dict[str, Any]:
    """A JSON-object Airflow variable, {} when it is not defined."""
    from airflow.sdk import Variable

    raw = Variable.get(key, default=None)
    if raw in (None, ""):
        return {}
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError as e:
        raise ConfigError(
            f"Airflow variable {key!r} is not valid JSON ({e.msg} at char {e.pos}); "
            'set it to a JSON object such as {"lake": "s3://bucket/lake"}'
        ) from None
    if not isinstance(value, dict):
        raise ConfigError(f"Airflow variable {key!r} must be a JSON object, got {type(value).__name__}")
    return value


def _connection(conn_id: str):
    """The Airflow connection conn_id, or None when it is not defined."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return Connection.get(conn_id)
    except AirflowNotFoundException:
        return None


def postgres_dsn(conn: Any) -> str:
    """A libpq URI from an Airflow postgres connection (host, port, schema = database, login, password)."""
    if not conn.host:
        raise ConfigError(f"Airflow connection {conn.conn_id!r} has no host; set host, port, schema (database), login")
    auth = ""
    if conn.login:
        auth = quote(conn.login, safe="")
        if conn.password:
            auth += ":" + quote(conn.password, safe="")
        auth += "@"
    port = f":{conn.port}" if conn.port else ""
    return f"postgresql://{auth}{conn.host}{port}/{quote(conn.schema or 'postgres', safe='')}"


def webhook_url(conn: Any) -> str:
    """The notification URL of an Airflow connection: extra `webhook_url`, a URL in password, or host/port/schema."""
    extra = conn.extra_dejson or {}
    if extra.get("webhook_url"):
        return str(extra["webhook_url"])
    if conn.password and str(conn.password).startswith(("http://", "https://")):
        return str(conn.password)
    if not conn.host:
        raise ConfigError(f"Airflow connection {conn.conn_id!r} has no host and no webhook_url extra")
    host = conn.host
    base = host if "://" in host else f"{'http' if conn.conn_type == 'http' else 'https'}://{host}"
    if conn.port:
        base += f":{conn.port}"
    if conn.schema:
        base += "/" + conn.schema.lstrip("/")
    return base


def settings_overrides(
    variable: Mapping[str, Any], postgres: Any = None, redshift: Any = None, notify: Any = None
) -> dict[str, Any]:
    """Settings flags from the `shopdw_settings` variable and the three connections (pure, testable)."""
    leaked = SECRET_FIELDS & set(variable)
    if leaked:
        name = sorted(leaked)[0]
        raise ConfigError(
            f"Airflow variable {VAR_SETTINGS!r} sets {', '.join(sorted(leaked))}: variables are not secret; "
            f"put it in an Airflow connection ({CONN_POSTGRES}, {CONN_REDSHIFT}, {CONN_NOTIFY}) "
            f"or the worker's environment (SHOPDW_{name.upper()})"
        )
    flags = dict(variable)
    if postgres is not None:
        flags["postgres_dsn"] = postgres_dsn(postgres)
    if redshift is not None:
        extra = redshift.extra_dejson or {}
        flags.update(
            {
                "redshift_host": redshift.host,
                "redshift_port": redshift.port,
                "redshift_database": redshift.schema or None,
                "redshift_user": redshift.login,
                "redshift_password": redshift.password,
                "redshift_iam_role_arn": extra.get("iam_role_arn"),
                "redshift_region": extra.get("region"),
                "redshift_workgroup": extra.get("workgroup"),
            }
        )
    if notify is not None:
        flags["notify_webhook_url"] = webhook_url(notify)
    return {k: v for k, v in flags.items() if v is not None}


def airflow_settings() -> Settings:
    """Settings for a task: environment, then Airflow variable `shopdw_settings`, then connections."""
    flags = settings_overrides(
        _variable(VAR_SETTINGS),
        postgres=_connection(CONN_POSTGRES),
        redshift=_connection(CONN_REDSHIFT),
        notify=_connection(CONN_NOTIFY),
    )
    try:
        return load_settings(flags)
    except ConfigError as e:
        raise ConfigError(f"{e} (Airflow variable {VAR_SETTINGS!r} or the SHOPDW_* environment)") from None


def source_options(variable: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Simulator options for shopdw_source: defaults, overridden by the `shopdw_source` JSON variable."""
    variable = _variable(VAR_SOURCE) if variable is None else variable
    unknown = set(variable) - set(SOURCE_DEFAULTS)
    if unknown:
        raise ConfigError(
            f"Airflow variable {VAR_SOURCE!r} has unknown keys {', '.join(sorted(unknown))}; "
            f"known: {', '.join(SOURCE_DEFAULTS)}"
        )
    opts = {**SOURCE_DEFAULTS, **variable}
    try:
        opts["orders_per_day"] = int(opts["orders_per_day"])
        opts["seed"] = int(opts["seed"])
        opts["defect_rate"] = float(opts["defect_rate"])
        opts["late_rate"] = float(opts["late_rate"])
    except (TypeError, ValueError) as e:
        raise ConfigError(f"Airflow variable {VAR_SOURCE!r}: {e}") from None
    if opts["fmt"] not in ("parquet", "csv", "json"):
        raise ConfigError(f"Airflow variable {VAR_SOURCE!r}: fmt must be parquet, csv or json, got {opts['fmt']!r}")
    return opts


# ---- the run's day ----------------------------------------------------------------------------


def run_date(context: Mapping[str, Any]) -> date:
    """The day a DAG run covers: the UTC date of its data interval's start (never 'now').

    The DAGs use a daily CronDataIntervalTimetable, so the run with logical date D covers
    [D 00:00, D+1 00:00) and starts once that day is over; a backfill of D gets the same date.
    """
    start = context.get("data_interval_start")
    if start is None:
        raise ConfigError(
            "this DAG run has no data interval (triggered without a logical date); trigger it with a "
            "logical date, e.g. `airflow dags trigger shopdw_elt --logical-date 2025-01-02`"
        )
    return start.astimezone(timezone.utc).date()


# ---- task bodies (each one pipeline step) ------------------------------------------------------


def generate_day(context: Mapping[str, Any]) -> dict[str, Any]:
    """shopdw_source: the simulator writes the run's day to the lake, as the shop's system would."""
    from shopdw.lake.store import lake_from_settings
    from shopdw.sources.simulator import SimulatorConfig, generate

    settings = airflow_settings()
    day = run_date(context)
    opts = source_options()
    cfg = SimulatorConfig(start=day, days=1, **opts)
    result = generate(lake_from_settings(settings), cfg, progress=False)
    out = result.to_dict() if hasattr(result, "to_dict") else {}
    log.info("shopdw_source: wrote the batch of %s to %s", day, settings.lake)
    return {"date": day.isoformat(), **{k: v for k, v in out.items() if isinstance(v, (int, float, str))}}


def files_landed(context: Mapping[str, Any]) -> int:
    """How many lake files carry the run's ingest date (the sensor's poke)."""
    from shopdw import pipeline

    return pipeline.wait_for_files(airflow_settings(), run_date(context))


def start_run(context: Mapping[str, Any]) -> str:
    from shopdw import pipeline

    params = context.get("params") or {}
    return pipeline.start_run(
        airflow_settings(),
        run_date(context),
        command="airflow",
        params={"full_refresh": bool(params.get("full_refresh", False)), "dag_run": _dag_run_id(context)},
    )


def load(context: Mapping[str, Any], run_id: str) -> dict[str, Any]:
    from shopdw import pipeline

    out = pipeline.step_load(airflow_settings(), run_id, run_date(context))
    return {k: v for k, v in out.items() if k != "files"}


def transform(context: Mapping[str, Any], run_id: str) -> dict[str, Any]:
    from shopdw import pipeline

    params = context.get("params") or {}
    out = pipeline.step_transform(
        airflow_settings(), run_id, full_refresh=bool(params.get("full_refresh", False)), run_date=run_date(context)
    )
    return {k: v for k, v in out.items() if k not in ("nodes", "results")}


def quality(context: Mapping[str, Any], run_id: str) -> dict[str, Any]:
    from shopdw import pipeline

    card = pipeline.step_quality(airflow_settings(), run_id, run_date(context))
    return {k: v for k, v in card.items() if k != "checks"}


def publish(context: Mapping[str, Any], run_id: str) -> dict[str, Any]:
    from shopdw import pipeline

    return pipeline.step_publish(airflow_settings(), run_id, run_date(context))


def finish_run(context: Mapping[str, Any], run_id: str, loaded: Mapping[str, Any] | None) -> str:
    from shopdw import pipeline

    pipeline.finish_run(airflow_settings(), run_id, "success", None, (loaded or {}).get("rows_loaded"))
    return "success"


# ---- failure callback ---------------------------------------------------------------------------


def _dag_run_id(context: Mapping[str, Any]) -> str | None:
    dag_run = context.get("dag_run")
    return getattr(dag_run, "run_id", None)


def failure_message(context: Mapping[str, Any]) -> tuple[str, str]:
    """Subject and body of the failure notification (no settings, no secrets: only ids and the error)."""
    ti = context.get("ti") or context.get("task_instance")
    dag_id = getattr(ti, "dag_id", "?")
    task_id = getattr(ti, "task_id", "?")
    exc = context.get("exception")
    start = context.get("data_interval_start")
    day = start.astimezone(timezone.utc).date().isoformat() if start else "?"
    error = f"{type(exc).__name__}: {exc}" if exc is not None else "unknown error (see the task log)"
    subject = f"shopdw: {dag_id}.{task_id} failed for {day}"
    lines = [
        error,
        f"dag run: {_dag_run_id(context)}  try: {getattr(ti, 'try_number', '?')}",
    ]
    log_url = getattr(ti, "log_url", None)
    if log_url:
        lines.append(f"log: {log_url}")
    if exc is not None and type(exc).__name__ == "GateFailed":
        lines.append("Nothing was published. See `shopdw quality` and `shopdw status` for the scorecard.")
    return subject, "\n".join(lines)


def on_task_failure(context: Mapping[str, Any]) -> None:
    """on_failure_callback: mark the shopdw run failed/blocked in meta.runs and send the notification.

    Runs in the worker after the task's last try (not on a retry). It never raises: a broken
    notifier must not hide the failure it reports.
    """
    from shopdw.notify import notify_failure

    subject, message = failure_message(context)
    try:
        settings = airflow_settings()
    except Exception as e:  # configuration is broken: nothing to record or notify through
        log.error("shopdw failure callback: cannot build settings (%s); not notified: %s", e, subject)
        return
    ti = context.get("ti")
    exc = context.get("exception")
    try:
        run_id = ti.xcom_pull(task_ids="start_run") if ti is not None else None
        if run_id and getattr(ti, "task_id", None) not in ("start_run", "finish_run"):
            from shopdw import pipeline

            status = "blocked" if type(exc).__name__ == "GateFailed" else "failed"
            pipeline.finish_run(settings, run_id, status, f"{type(exc).__name__}: {exc}" if exc else subject)
            message += f"\nshopdw run: {run_id}"
    except Exception as e:
        log.warning("shopdw failure callback: could not record the run as failed: %s", e)
    sent = notify_failure(settings, subject, message)
    log.info("shopdw failure callback: notified %s", ", ".join(sent) or "nobody (no notifier configured)")
