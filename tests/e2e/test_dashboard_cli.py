"""`shopdw dashboard` and `shopdw export` as a user runs them (subprocess, default paths under the cwd)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from test_dashboard_data import EXPECTED, make_warehouse  # noqa: E402

SHOPDW = Path(sys.executable).parent / "shopdw"


def shopdw(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SHOPDW_")}
    return subprocess.run(
        [str(SHOPDW), *args], cwd=cwd, env={**clean, **env}, capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def project(tmp_path):
    (tmp_path / "warehouse").mkdir()
    make_warehouse(tmp_path / "warehouse" / "shopdw.duckdb")
    return tmp_path


def test_dashboard_command_writes_the_page_and_says_where(project):
    r = shopdw("dashboard", "--no-progress", cwd=project)
    assert r.returncode == 0, r.stderr
    page = project / "site" / "index.html"
    assert f"dashboard written: {page}" in r.stdout and page.as_uri() in r.stdout
    html = page.read_text()
    assert (
        '"rev":[25050,123456789,' in html
    )  # centavos, rows by (date, state, category) and "<title>shopdw dashboard</title>" in html
    r = shopdw("dashboard", "--out", "public/sales.html", cwd=project)
    assert r.returncode == 0 and (project / "public" / "sales.html").read_bytes() == page.read_bytes()


def test_export_command_both_formats(project):
    r = shopdw("export", "--no-progress", cwd=project)
    assert r.returncode == 0, r.stderr
    assert "6 tables exported as csv" in r.stdout
    manifest = json.loads((project / "exports" / "manifest.json").read_text())
    rows = {t["table"]: t["rows"] for t in manifest["tables"]}
    assert rows["analytics.customer_360"] == EXPECTED["customers"] and rows["analytics.mart_daily_sales"] == 7
    assert rows["analytics.mart_daily_orders"] == 6
    r = shopdw("export", "--format", "parquet", "--out", "bi", cwd=project, SHOPDW_EXPORT_DIR="ignored")
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (project / "bi").iterdir()) == sorted(
        ["manifest.json"] + [f"{t.split('.')[1]}.parquet" for t in rows]
    )


def test_expected_failures_are_one_line_messages(project, tmp_path_factory):
    empty = tmp_path_factory.mktemp("empty")
    r = shopdw("dashboard", cwd=empty)
    assert r.returncode == 2 and "does not exist" in r.stderr and "Traceback" not in r.stderr
    assert not (empty / "warehouse" / "shopdw.duckdb").exists()
    r = shopdw("export", "--format", "xlsx", cwd=project)
    assert r.returncode == 2 and "xlsx" in r.stderr
    import duckdb

    duckdb.connect(str(empty / "bare.duckdb")).close()
    r = shopdw("dashboard", "--duckdb-path", "bare.duckdb", cwd=empty)
    assert r.returncode == 1 and "analytics.mart_daily_sales" in r.stderr and "Traceback" not in r.stderr
