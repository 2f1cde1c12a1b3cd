"""A lake on a real S3 API server (moto, 127.0.0.1) loads into DuckDB and PostgreSQL."""

from __future__ import annotations

import pytest
from test_load_support import assert_ledger_consistent, ground_truth, parquet_rows, raw_counts, simulate

from shopdw.config import Secret, Settings
from shopdw.lake.store import lake_from_settings
from shopdw.load import load


@pytest.mark.parametrize("target", ["duckdb", "postgres"])
def test_s3_lake_loads(target, s3_endpoint, s3_bucket, tmp_path, request):
    settings = Settings(lake=f"s3://{s3_bucket}/shop", s3_endpoint=s3_endpoint, target=target,
                        duckdb_path=str(tmp_path / "w.duckdb"))  # fmt: skip
    if target == "postgres":
        settings.postgres_dsn = Secret(request.getfixturevalue("pg_dsn"))
    lake = lake_from_settings(settings)
    simulate(lake, days=3, orders_per_day=15, defect_rate=0.02)
    result = load(settings, progress=False)
    d = result.to_dict()
    assert d["files_loaded"] == len(lake.list("raw/")) and d["exit_code"] == 0
    assert d["rows_quarantined"] == len(ground_truth(lake))
    lake_rows = parquet_rows(lake)
    by_entity = result.rows_by_entity
    for entity, n in raw_counts(settings).items():
        assert n + by_entity.get(entity, {}).get("rows_quarantined", 0) == lake_rows[entity]
    assert_ledger_consistent(settings)
    assert load(settings, progress=False).to_dict()["files_loaded"] == 0
