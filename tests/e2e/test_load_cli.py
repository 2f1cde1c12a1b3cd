"""`shopdw load` as a user runs it: generate, load, reload, a broken file, JSON output, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

SHOPDW = [sys.executable, "-c", "from shopdw.cli import main; main()"]


def run(args, cwd, **env):
    e = {k: v for k, v in os.environ.items() if not k.startswith("SHOPDW_")}
    e.update(env)
    return subprocess.run([*SHOPDW, *args], cwd=cwd, env=e, capture_output=True, text=True, timeout=600)


def test_load_cli_end_to_end(tmp_path):
    gen = run(["generate", "--start", "2025-03-01", "--days", "2", "--orders-per-day", "10", "--no-progress"], tmp_path)
    assert gen.returncode == 0, gen.stderr
    first = run(["load", "--no-progress"], tmp_path)
    assert first.returncode == 0, first.stderr
    assert "file(s) loaded" in first.stdout and "orders" in first.stdout
    assert (tmp_path / "warehouse" / "shopdw.duckdb").exists()

    again = run(["load", "--json"], tmp_path)
    d = json.loads(again.stdout)
    assert again.returncode == 0 and d["files_loaded"] == 0 and d["files_already_loaded"] == d["files_seen"] > 10

    bad = tmp_path / "lake" / "raw" / "orders" / "ingest_date=2025-03-02" / "broken.parquet"
    bad.write_bytes(b"PAR1 this is not parquet")
    broken = run(["load", "--json"], tmp_path)
    d = json.loads(broken.stdout)
    assert broken.returncode == 1 and d["files_rejected"] == 1
    assert "unreadable parquet file" in d["files"][0]["reason"]
    human = run(["load"], tmp_path)  # recorded once: the rerun has nothing new
    assert human.returncode == 0 and "Traceback" not in human.stderr


def test_load_cli_bad_settings_exit_2_without_traceback(tmp_path):
    r = run(["load", "--target", "postgres"], tmp_path)
    assert r.returncode == 2 and "postgres_dsn (SHOPDW_POSTGRES_DSN)" in r.stderr and "Traceback" not in r.stderr
    r = run(["load", "--target", "redshift", "--lake", "s3://bucket/x"], tmp_path,
            SHOPDW_REDSHIFT_PASSWORD="pw-should-not-show")  # fmt: skip
    assert r.returncode == 2 and "redshift_host (SHOPDW_REDSHIFT_HOST)" in r.stderr
    assert "pw-should-not-show" not in r.stderr + r.stdout


def test_load_cli_waits_then_reports_a_held_lock(tmp_path):
    import fcntl

    (tmp_path / "warehouse").mkdir()
    lock = open(tmp_path / "warehouse" / "shopdw.duckdb.lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        r = run(["load", "--wait", "0.5", "--no-progress"], tmp_path)
    finally:
        lock.close()
    assert r.returncode == 3 and "another shopdw run holds the lock" in r.stderr and "Traceback" not in r.stderr
