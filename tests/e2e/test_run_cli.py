"""`shopdw run` end to end, through the CLI as a user runs it: the gate passes on clean data,
blocks on defects and on a missing day, and a rerun of a date changes no table."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SHOPDW = str(Path(sys.executable).parent / "shopdw")


def shopdw(cwd: Path, *args: str, env: dict | None = None, check_code: int | None = 0) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPDW_")}
    full_env.update(env or {})
    p = subprocess.run([SHOPDW, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=900)
    if check_code is not None:
        assert p.returncode == check_code, (
            f"exit {p.returncode}\nstdout:\n{p.stdout[-4000:]}\nstderr:\n{p.stderr[-4000:]}"
        )
    return p


def table_hashes(wh) -> dict[str, str]:
    """Hash of each staging/analytics table's sorted rows."""
    out = {}
    tables = wh.query(
        "select table_schema, table_name from information_schema.tables "
        "where table_schema in ('staging', 'intermediate', 'analytics', 'raw') order by 1, 2"
    )
    for schema, table in tables:
        rows = wh.query(f"select * from {wh.quote_ident(schema)}.{wh.quote_ident(table)}")
        digest = hashlib.sha256("\n".join(sorted(repr(r) for r in rows)).encode()).hexdigest()
        out[f"{schema}.{table}"] = f"{len(rows)}:{digest}"
    return out


def warehouse_hashes(env: dict, cwd: Path) -> dict[str, str]:
    from shopdw.config import load_settings
    from shopdw.warehouse import open_warehouse

    old = os.getcwd()
    os.chdir(cwd)
    try:
        settings = load_settings(env={**env})
        with open_warehouse(settings) as wh:
            return table_hashes(wh)
    finally:
        os.chdir(old)


def runs(env: dict, cwd: Path) -> list[tuple]:
    from shopdw.config import load_settings
    from shopdw.warehouse import open_warehouse

    old = os.getcwd()
    os.chdir(cwd)
    try:
        with open_warehouse(load_settings(env={**env})) as wh:
            return wh.query(
                "select run_id, run_date, status from meta.runs where step = 'run' order by started_at, run_id"
            )
    finally:
        os.chdir(old)


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def clean_month(request, tmp_path_factory):
    """A generated month with change data and late facts, run once without a date."""
    target = request.param
    cwd = tmp_path_factory.mktemp(f"month-{target}")
    env = {"SHOPDW_TARGET": target}
    if target == "postgres":
        import psycopg

        dsn = request.getfixturevalue("pg_server_dsn")
        name = f"e2e_{os.getpid()}"
        with psycopg.connect(dsn, autocommit=True) as con:
            con.execute(f'drop database if exists "{name}" with (force)')
            con.execute(f'create database "{name}"')
        env["SHOPDW_POSTGRES_DSN"] = dsn.rsplit("/", 1)[0] + "/" + name
    shopdw(cwd, "generate", "--start", "2025-03-01", "--days", "30", "--orders-per-day", "12", "--no-progress")
    first = shopdw(cwd, "run", "--no-progress", env=env)
    return cwd, env, first


def test_clean_month_passes_the_gate_and_publishes(clean_month):
    cwd, env, first = clean_month
    assert "status=success" in first.stdout
    assert (cwd / "site" / "index.html").exists()
    card = json.loads(shopdw(cwd, "quality", "--json", env=env).stdout)
    assert card["failed"] == 0 and len(card["checks"]) > 20
    dims = {c["dimension"] for c in card["checks"]}
    assert {"completeness", "accuracy", "consistency", "validity", "freshness", "reconciliation", "dbt_test"} <= dims
    status = json.loads(shopdw(cwd, "status", "--json", env=env).stdout)
    assert status["runs"][0]["status"] == "success"
    assert str(status["newest_loaded_ingest_date"]) == "2025-03-30"
    assert sum(e["rejected"] for e in status["ledger"]) == 0


def test_rerunning_a_date_changes_no_table_and_history_stays_honest(clean_month):
    cwd, env, _ = clean_month
    before = warehouse_hashes(env, cwd)
    again = shopdw(cwd, "run", "--date", "2025-03-30", "--no-progress", env=env)
    assert "status=success" in again.stdout
    assert warehouse_hashes(env, cwd) == before
    history = runs(env, cwd)
    assert [r[2] for r in history][-2:] == ["success", "success"] and len({r[0] for r in history}) == len(history)


def test_a_day_without_files_fails_freshness(clean_month):
    cwd, env, _ = clean_month
    before = warehouse_hashes(env, cwd)
    page = (cwd / "site" / "index.html").read_bytes()
    p = shopdw(cwd, "run", "--date", "2025-03-31", "--no-progress", env=env, check_code=1)
    out = p.stdout + p.stderr
    assert "freshness" in out and "newest loaded batch 2025-03-30" in out and "nothing was published" in out
    assert (cwd / "site" / "index.html").read_bytes() == page  # the last good page stays
    assert warehouse_hashes(env, cwd) == before
    assert runs(env, cwd)[-1][2] == "blocked"


def test_defects_above_thresholds_fail_the_gate_naming_the_checks(tmp_path):
    shopdw(tmp_path, "generate", "--start", "2025-05-01", "--days", "3", "--orders-per-day", "40",
           "--defect-rate", "0.15", "--format", "csv", "--no-progress")  # fmt: skip
    p = shopdw(tmp_path, "run", "--json", env={}, check_code=1)
    result = json.loads(p.stdout)
    checks = {c["check_name"]: c for c in result["runs"][0]["quality"]["checks"]}
    failed = {name for name, c in checks.items() if c["status"] == "fail"}
    # every defect kind is quarantined at load; the quarantine is scored per dimension
    assert {"quarantined_rows_validity", "quarantined_rows_consistency"} <= failed
    for dim in ("completeness", "accuracy", "consistency", "validity"):
        assert checks[f"quarantined_rows_{dim}"]["rows_failed"] > 0, dim
    assert not any(name.startswith("dbt:") for name in failed)  # the models themselves stay clean
    assert not (tmp_path / "site" / "index.html").exists()
    card = json.loads(shopdw(tmp_path, "quality", "--json").stdout)
    assert card["failed"] == len(failed)


def test_backfill_runs_day_by_day(tmp_path):
    shopdw(tmp_path, "generate", "--start", "2025-06-01", "--days", "2", "--orders-per-day", "10", "--no-progress")
    p = shopdw(tmp_path, "run", "--start", "2025-06-01", "--end", "2025-06-02", "--json")
    days = json.loads(p.stdout)["runs"]
    assert [d["run_date"] for d in days] == ["2025-06-01", "2025-06-02"]
    assert [d["status"] for d in days] == ["success", "success"]


def test_run_usage_errors_exit_2(tmp_path):
    p = shopdw(tmp_path, "run", "--date", "2025-01-01", "--start", "2025-01-01", "--end", "2025-01-02", check_code=2)
    assert "either --date or --start/--end" in p.stderr and "Traceback" not in p.stderr
    p = shopdw(tmp_path, "run", "--date", "yesterday", check_code=2)
    assert "YYYY-MM-DD" in p.stderr


def test_demo_runs_the_whole_spine(tmp_path):
    """`shopdw demo` in an empty folder: a month in ./lake, DuckDB in ./warehouse, the page in ./site."""
    p = shopdw(tmp_path, "demo", "--no-progress")
    days = {d.name for d in (tmp_path / "lake" / "raw" / "orders").iterdir()}
    assert len(days) == 30 and "ingest_date=2025-01-30" in days
    assert (tmp_path / "warehouse" / "shopdw.duckdb").exists()
    page = tmp_path / "site" / "index.html"
    assert page.exists() and f"file://{page}" in p.stdout
    assert "0 blocking failures" in p.stdout
    again = shopdw(tmp_path, "demo", "--no-progress")  # idempotent: nothing new to load
    assert "0 blocking failures" in again.stdout


def test_status_and_quality_before_any_run_create_nothing(tmp_path):
    assert "no runs yet" in shopdw(tmp_path, "status").stdout
    assert json.loads(shopdw(tmp_path, "quality", "--json").stdout)["checks"] == []
    assert list(tmp_path.iterdir()) == []
