"""Read-only access to the warehouse for the dashboard and the exports.

`open_source(settings)` yields an object with `query(sql) -> pyarrow.Table`,
`exists(schema, table) -> bool` and `table(schema, name)` (quoted, with the Redshift
schema prefix), over `shopdw.warehouse.open_warehouse`.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Iterator

import pyarrow as pa

from shopdw.config import Settings
from shopdw.errors import ConfigError

_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


def ident(name: str) -> str:
    """A validated, double-quoted SQL identifier (schema or table name)."""
    if not _IDENT.match(name):
        raise ConfigError(f"{name!r} is not a valid schema/table name (lower-case letters, digits, '_')")
    return f'"{name}"'


class Source:
    """What the report reads through: SQL in, Arrow out."""

    def __init__(self, settings: Settings, query_fn, describe: str):
        self.settings = settings
        self._query = query_fn
        self.describe = describe
        self._tables: set[tuple[str, str]] | None = None

    def schema_name(self, schema: str) -> str:
        """The physical schema name: on Redshift the dbt-built schemas carry redshift_schema_prefix
        (as in shopdw.transform); raw and meta belong to the loader and are never prefixed."""
        redshift = self.settings.target == "redshift" and schema not in ("raw", "meta")
        prefix = self.settings.redshift_schema_prefix if redshift else ""
        return f"{prefix}{schema}"

    def table(self, schema: str, table: str) -> str:
        """Quoted `schema.table` ready to paste into SQL."""
        return f"{ident(self.schema_name(schema))}.{ident(table)}"

    def query(self, sql: str) -> pa.Table:
        return self._query(sql)

    def tables(self) -> set[tuple[str, str]]:
        """Every (logical schema, table) in the analytics and meta schemas."""
        if self._tables is None:
            wanted = {self.schema_name(s): s for s in ("analytics", "meta")}
            names = ", ".join("'" + n.replace("'", "''") + "'" for n in wanted)
            rows = self._query(
                "select table_schema, table_name from information_schema.tables "  # noqa: S608 - validated names
                f"where table_schema in ({names})"
            ).to_pylist()
            self._tables = {(wanted[r["table_schema"]], r["table_name"]) for r in rows}
        return self._tables

    def exists(self, schema: str, table: str) -> bool:
        return (schema, table) in self.tables()


@contextlib.contextmanager
def open_source(settings: Settings) -> Iterator[Source]:
    """Open the configured warehouse for reading (through shopdw.warehouse.open_warehouse)."""
    from shopdw.warehouse import open_warehouse

    if settings.target == "duckdb":
        path = Path(settings.duckdb_path)
        if not path.exists():  # do not let a report create an empty warehouse file
            raise ConfigError(
                f"DuckDB warehouse {path} does not exist (setting duckdb_path / SHOPDW_DUCKDB_PATH); "
                "run `shopdw run` (or load + transform) first"
            )
        describe = f"DuckDB {path}"
    else:
        describe = f"{settings.target} warehouse"
    with open_warehouse(settings) as wh:
        yield Source(settings, wh.query_arrow, describe)
