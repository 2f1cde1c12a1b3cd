"""`shopdw transform`, `shopdw scv` and `shopdw docs` as a user runs them (subprocess, default
DuckDB path under the cwd), on the small history of tests/rawseed.py."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from rawseed import Batch, append_batch, shop_history  # noqa: E402
from shopdw.config import Settings  # noqa: E402
from shopdw.transform import PROJECT_DIR, parse_project  # noqa: E402

SHOPDW = Path(sys.executable).parent / "shopdw"


def shopdw(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPDW_")}
    return subprocess.run([str(SHOPDW), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("transform-cli")
    settings = Settings(duckdb_path=str(cwd / "warehouse" / "shopdw.duckdb"))
    return cwd, settings


def test_transform_before_any_load_is_a_one_line_error(tmp_path):
    r = shopdw("transform", "--no-progress", cwd=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Traceback" not in r.stderr and "run `shopdw load` first" in r.stderr


def test_transform_scv_docs_and_a_failing_test(project):
    cwd, settings = project
    for b in shop_history():
        append_batch(settings, b)

    r = shopdw("transform", "--no-progress", cwd=cwd)
    assert r.returncode == 0, r.stdout + r.stderr
    ran = re.search(r"ok: (\d+) nodes", r.stdout.replace("\n", " "))
    # a first build: every model, seed, data test and unit test of the project (193 in session 14)
    manifest = parse_project(settings)
    every_node = [n for n in manifest.nodes.values() if n.resource_type in ("model", "seed", "test")]
    assert ran and int(ran.group(1)) == len(every_node) + len(manifest.unit_tests), r.stdout

    r = shopdw("scv", "p_mover", "--json", cwd=cwd)
    assert r.returncode == 0, r.stderr
    row = json.loads(r.stdout)
    assert (row["orders"], row["lifetime_value"], row["customer_city"]) == (2, 180, "belo horizonte")
    r = shopdw("scv", "p_mover", cwd=cwd)
    assert r.returncode == 0 and "favourite_category" in r.stdout and "computers_accessories" in r.stdout
    r = shopdw("scv", "nobody", cwd=cwd)
    assert r.returncode == 1 and "no customer with customer_unique_id 'nobody'" in r.stderr

    r = shopdw("docs", "--out", "site/dbt", cwd=cwd)
    assert r.returncode == 0, r.stdout + r.stderr
    index = cwd / "site" / "dbt" / "index.html"
    assert index.exists() and "customer_360" in index.read_text()
    catalog = json.loads((cwd / "site" / "dbt" / "catalog.json").read_text())
    assert "model.shopdw.customer_360" in catalog["nodes"]

    # a payment the contract would refuse slips into raw: on the next (incremental) build the
    # fact's test of the rows loaded since its watermark catches it, exit 1; a full refresh's
    # staging test catches it too
    bad = Batch(date(2018, 3, 8), "b-bad", datetime(2018, 3, 8, 23, 0))
    bad.add("order_payments", {"order_id": "o_late", "payment_sequential": 3, "payment_type": "voucher",
                               "payment_installments": 99, "payment_value": Decimal("1.00")})  # fmt: skip
    append_batch(settings, bad)
    for flags, model in (([], "fct_payments"), (["--full-refresh"], "stg_shop__order_payments")):
        r = shopdw("transform", "--no-progress", "--json", "--select", model, *flags, cwd=cwd)
        assert r.returncode == 1, r.stdout + r.stderr
        result = json.loads(r.stdout)
        failed = [n for n in result["nodes"] if n["status"] == "fail"]
        assert [n["name"] for n in failed] == [f"accepted_range_{model}_payment_installments__24__0"]
        assert failed[0]["failures"] == 1 and failed[0]["model"] == model

    # dbt's logs and target stay out of the user's folder and the package
    assert not (cwd / "logs").exists() and not (cwd / "target").exists()
    assert not (PROJECT_DIR / "logs").exists() and not (PROJECT_DIR / "target").exists()
