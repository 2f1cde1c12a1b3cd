"""The loader killed with SIGKILL at random points, then run again, ends with exactly the
warehouse of an uninterrupted load; and two loads started together load each file once."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest
from test_load_support import assert_ledger_consistent, ledger, parquet_rows, raw_counts, simulate, snapshot

from shopdw.config import Secret, Settings
from shopdw.lake.store import open_lake
from shopdw.load import load

CLI = [sys.executable, "-c", "from shopdw.cli import main; main()"]


def _env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ, SHOPDW_LAKE=settings.lake, SHOPDW_TARGET=settings.target)
    if settings.target == "duckdb":
        env["SHOPDW_DUCKDB_PATH"] = settings.duckdb_path
    else:
        env["SHOPDW_POSTGRES_DSN"] = settings.postgres_dsn.reveal()
    return env


def _start(settings: Settings) -> subprocess.Popen:
    return subprocess.Popen([*CLI, "load", "--no-progress"], env=_env(settings), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip


@pytest.fixture(scope="module")
def crash_lake(tmp_path_factory):
    root = tmp_path_factory.mktemp("crash") / "lake"
    lake = open_lake(str(root))
    simulate(lake, days=4, orders_per_day=40, defect_rate=0.02)
    return str(root)


def _new_pg_db(pg_server_dsn: str, name: str) -> str:
    import psycopg

    with psycopg.connect(pg_server_dsn, autocommit=True) as con:
        con.execute(f'drop database if exists "{name}" with (force)')
        con.execute(f'create database "{name}"')
    return pg_server_dsn.rsplit("/", 1)[0] + "/" + name


def _settings(target: str, lake: str, tmp_path, name: str, pg_server_dsn: str | None) -> Settings:
    if target == "duckdb":
        return Settings(lake=lake, duckdb_path=str(tmp_path / f"{name}.duckdb"))
    return Settings(lake=lake, target="postgres", postgres_dsn=Secret(_new_pg_db(pg_server_dsn, name)))


def _kill_after_files(s: Settings, p: subprocess.Popen, k: int, deadline: float) -> None:
    """Return once at least k files are committed (then the caller kills), or the loader ended."""
    while time.monotonic() < deadline and p.poll() is None:
        try:
            if len(ledger(s)) >= k:
                return
        except Exception:  # tables not created yet
            pass
        time.sleep(0.01)


@pytest.mark.parametrize("target,trials", [("duckdb", 10), ("postgres", 5)])
def test_sigkill_at_random_points_then_rerun_equals_uninterrupted(target, trials, crash_lake, tmp_path, request):
    pg = request.getfixturevalue("pg_server_dsn") if target == "postgres" else None
    ref = _settings(target, crash_lake, tmp_path, "crash_ref", pg)
    t0 = time.monotonic()
    p = _start(ref)
    out, err = p.communicate(timeout=300)
    full = time.monotonic() - t0
    assert p.returncode == 0, err
    expected = snapshot(ref)
    n_files = len(open_lake(crash_lake).list("raw/"))
    assert len(expected["ledger"]) == n_files

    rng = random.Random(20250301)
    interrupted = 0
    for trial in range(trials):
        s = _settings(target, crash_lake, tmp_path, f"crash_{trial}", pg)
        p = _start(s)
        if target == "postgres":
            # PostgreSQL lets us watch the ledger grow: kill after a random number of committed
            # files, so the kill lands mid-load however slow the process start is on a busy machine
            _kill_after_files(s, p, rng.randint(1, n_files - 1), deadline=time.monotonic() + 300)
        else:  # the DuckDB file is locked by the loader: kill at a random time instead
            time.sleep(rng.uniform(0.3, full))
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=60)
        if p.returncode == -signal.SIGKILL:
            try:
                done = len(ledger(s))
            except Exception:  # killed before the tables existed
                done = 0
            interrupted += 0 < done < n_files
        result = load(s, progress=False)
        assert result.exit_code == 0
        assert snapshot(s) == expected, f"trial {trial}: warehouse differs from the uninterrupted load"
        assert_ledger_consistent(s)
    assert interrupted >= 2, f"only {interrupted} of {trials} kills landed in the middle of a load"


@pytest.mark.parametrize("target", ["duckdb", "postgres"])
def test_two_loads_started_together_load_each_file_once(target, crash_lake, tmp_path, request):
    pg = request.getfixturevalue("pg_server_dsn") if target == "postgres" else None
    s = _settings(target, crash_lake, tmp_path, "concurrent", pg)
    a, b = _start(s), _start(s)
    outs = [a.communicate(timeout=300), b.communicate(timeout=300)]
    assert a.returncode == 0 and b.returncode == 0, outs
    rows = ledger(s)
    assert len(rows) == len({r["path"] for r in rows}) == len(open_lake(crash_lake).list("raw/"))
    lake_rows = parquet_rows(open_lake(crash_lake))
    counts = raw_counts(s)
    quarantined = {}
    for r in rows:
        quarantined[r["entity"]] = quarantined.get(r["entity"], 0) + r["rows_quarantined"]
    assert all(counts[e] + quarantined.get(e, 0) == lake_rows[e] for e in counts), (counts, lake_rows)
    assert_ledger_consistent(s)
