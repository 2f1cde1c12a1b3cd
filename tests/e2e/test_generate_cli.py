"""`shopdw generate` and `shopdw demo` as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from shopdw.cli import main

SHOPDW = [str(Path(sys.executable).parent / "shopdw")]  # the console script, as a user runs it


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPDW_")}
    return subprocess.run([*SHOPDW, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_help_explains_every_knob(tmp_path):
    p = _run("generate", "--help", cwd=tmp_path)
    assert p.returncode == 0
    for knob in ("--start", "--days", "--orders-per-day", "--seed", "--defect-rate", "--late-rate", "--format",
                 "--no-progress", "--lake", "Black Friday", "ground_truth", "Exit codes"):  # fmt: skip
        assert knob in p.stdout, knob


def test_generate_writes_the_lake_and_is_idempotent(tmp_path):
    args = ("generate", "--start", "2025-03-01", "--days", "2", "--orders-per-day", "15", "--defect-rate", "0.05",
            "--format", "csv", "--lake", "lk")  # fmt: skip
    first = _run(*args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "orders" in first.stdout and "written" in first.stdout
    files = sorted(p.relative_to(tmp_path / "lk").as_posix() for p in (tmp_path / "lk").rglob("*") if p.is_file())
    assert "raw/orders/ingest_date=2025-03-01/sim-20250301.csv" in files
    assert "ground_truth/defects/ingest_date=2025-03-02/sim-20250302.csv" in files
    again = _run(*args, "--json", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout)
    assert summary["files_written"] == 0 and summary["files_unchanged"] == len(files)
    assert summary["rows"]["orders"] > 15 and sum(summary["defects_injected"].values()) > 0


def test_bad_arguments_exit_2_with_a_clear_message(tmp_path):
    p = _run("generate", "--start", "2025-02-30", "--days", "1", cwd=tmp_path)
    assert p.returncode == 2
    assert "is not a date; use YYYY-MM-DD" in p.stderr and "Traceback" not in p.stderr
    p = _run("generate", "--start", "2025-02-01", "--days", "1", "--defect-rate", "2", cwd=tmp_path)
    assert p.returncode == 2 and "--defect-rate" in p.stderr
    p = _run("generate", "--start", "2025-02-01", "--days", "1", "--seed", "-1", "--lake", "lk", cwd=tmp_path)
    assert p.returncode == 2 and "--seed must be" in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "lk").exists()


def test_other_knobs_into_the_same_lake_are_refused_without_traceback(tmp_path):
    runner = CliRunner()
    base = ["generate", "--start", "2025-03-01", "--days", "1", "--orders-per-day", "5", "--no-progress",
            "--lake", str(tmp_path / "lk")]  # fmt: skip
    assert runner.invoke(main, base).exit_code == 0
    r = runner.invoke(main, [*base, "--seed", "7"])
    assert r.exit_code == 1
    assert "other knobs" in r.output and "Traceback" not in r.output


def test_a_lake_holds_one_format(tmp_path):
    runner = CliRunner()
    base = ["generate", "--start", "2025-03-01", "--days", "1", "--orders-per-day", "3", "--no-progress",
            "--lake", str(tmp_path / "lk")]  # fmt: skip
    assert runner.invoke(main, base).exit_code == 0
    r = runner.invoke(main, [*base[:2], "2025-04-01", *base[3:], "--format", "json"])
    assert r.exit_code == 2
    assert "holds one format" in r.output and "Traceback" not in r.output
    assert not list((tmp_path / "lk").rglob("*.jsonl"))
