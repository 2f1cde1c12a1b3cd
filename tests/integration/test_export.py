"""BI exports: the files read back equal the warehouse tables (DuckDB and PostgreSQL), byte-stable."""

from __future__ import annotations

import json

import duckdb
import pyarrow as pa
import pytest
from test_dashboard_data import copy_to_postgres, make_warehouse

from shopdw.config import Settings
from shopdw.errors import ConfigError, DataError
from shopdw.report.export import BOM, export, manifest_schema, read_export

TABLES = {
    "customer_360", "mart_category_performance", "mart_daily_orders", "mart_daily_sales",
    "mart_delivery_performance", "mart_top_customers",
}  # fmt: skip


def _warehouse_table(con, name: str) -> pa.Table:
    n = len(con.execute(f"select * from analytics.{name} limit 0").description)
    order = ", ".join(str(i) for i in range(1, n + 1))
    return con.sql(f"select * from analytics.{name} order by {order}").to_arrow_table()


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_round_trip_equals_the_warehouse(tmp_path, fmt):
    db = make_warehouse(tmp_path / "w.duckdb")
    settings = Settings(duckdb_path=db, export_dir=str(tmp_path / "exports"))
    files = export(settings, fmt=fmt)
    assert files[-1].name == "manifest.json" and files[0].parent == tmp_path / "exports"
    assert {f.name for f in files[:-1]} == {f"{t}.{fmt}" for t in TABLES}
    manifest = json.loads(files[-1].read_text())
    con = duckdb.connect(db)
    for entry in manifest["tables"]:
        name = entry["table"].split(".", 1)[1]
        back = read_export(tmp_path / "exports" / entry["file"], manifest_schema(entry))
        want = _warehouse_table(con, name)
        assert back.schema == want.schema, name
        assert back.equals(want), name
        assert entry["rows"] == want.num_rows > 0
    raw = (tmp_path / "exports" / f"customer_360.{fmt}").read_bytes()
    if fmt == "csv":
        assert raw.startswith(BOM) and "são paulo".encode() in raw
        # money keeps its two decimals and a decimal point for BI tools
        assert b"1234567.89" in (tmp_path / "exports" / "mart_daily_sales.csv").read_bytes()
    # same warehouse, same bytes
    again = export(settings, fmt=fmt, out_dir=tmp_path / "again")
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in files]


def test_export_from_postgres_equals_duckdb(tmp_path, pg_dsn):
    db = make_warehouse(tmp_path / "w.duckdb")
    copy_to_postgres(db, pg_dsn)
    from shopdw.config import Secret

    pg_files = export(Settings(target="postgres", postgres_dsn=Secret(pg_dsn)), "parquet", tmp_path / "pg")
    dk_files = export(Settings(duckdb_path=db), "parquet", tmp_path / "dk")
    assert [p.name for p in pg_files] == [p.name for p in dk_files]
    for pg, dk in zip(pg_files[:-1], dk_files[:-1], strict=True):
        a, b = read_export(pg), read_export(dk)
        assert a.column_names == b.column_names
        # same values; integer widths may differ by target (PostgreSQL count(*) is bigint)
        assert a.to_pylist() == b.to_pylist(), pg.name


def test_export_errors_are_clear(tmp_path):
    db = tmp_path / "empty.duckdb"
    duckdb.connect(str(db)).close()
    with pytest.raises(DataError, match="marts are not built.*shopdw transform"):
        export(Settings(duckdb_path=str(db)), "csv", tmp_path / "out")
    with pytest.raises(ConfigError, match="format 'xlsx'"):
        export(Settings(duckdb_path=str(db)), "xlsx", tmp_path / "out")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="not a folder"):
        export(Settings(duckdb_path=make_warehouse(tmp_path / "w.duckdb")), "csv", tmp_path / "file")
