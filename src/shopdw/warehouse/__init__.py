"""Warehouse targets behind one interface: `open_warehouse(settings)` -> Warehouse.

with open_warehouse(settings) as wh:      # wh.dialect: 'duckdb' | 'postgres' | 'redshift'
    wh.execute(sql, params)               # placeholders: DuckDB '?', PostgreSQL/Redshift '%s'
    rows = wh.query(sql, params)          # list of tuples
    table = wh.query_arrow(sql)           # pyarrow.Table
    with wh.transaction(): ...            # nested transactions join the outer one
    with wh.run_lock(): ...               # one run at a time per warehouse (re-entrant in a process)
    wh.quote_ident(name)                  # validated and quoted identifier
"""

from __future__ import annotations

from shopdw.config import Settings, require
from shopdw.warehouse.base import Warehouse, check_ident

__all__ = ["Warehouse", "open_warehouse", "check_ident"]


def open_warehouse(settings: Settings) -> Warehouse:
    """Connect to the target named by settings.target (transient failures are retried)."""
    if settings.target == "duckdb":
        from shopdw.warehouse.duckdb import DuckDBWarehouse

        return DuckDBWarehouse(settings.duckdb_path, memory_limit=settings.duckdb_memory_limit)
    if settings.target == "postgres":
        from shopdw.warehouse.postgres import PostgresWarehouse

        require(settings, "postgres_dsn")
        return PostgresWarehouse(settings.postgres_dsn)
    if settings.target == "redshift":
        from shopdw.warehouse.redshift import RedshiftWarehouse

        return RedshiftWarehouse.from_settings(settings)
    raise AssertionError(f"unknown target {settings.target!r}")  # Settings already validated it
