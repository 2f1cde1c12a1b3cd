"""Row-group merges ("vacuum") are deferred by shopdw's DuckDB connections and dbt's, and done by
the closing checkpoint of a connection that wrote, once a table's deleted rows reach a quarter.

A table of 2M rows (17 row groups of 122,880): deleting 60% of each of its first two row groups
lets DuckDB merge them into one, which a checkpoint with DuckDB's defaults does at once.
"""

from __future__ import annotations

import os
import time

import duckdb
import pytest

from shopdw.config import Settings
from shopdw.warehouse.duckdb import VACUUM_DEAD_SHARE, VACUUM_MIN_DEAD_ROWS, DuckDBWarehouse, deleted_rows, vacuum_due

ROW_GROUP = 122_880
FIRST_TWO = f"i < {2 * ROW_GROUP} and i % 5 < 3"  # 147,456 rows: 7.4% of the table
NEXT_SIX = f"i >= {2 * ROW_GROUP} and i < {8 * ROW_GROUP} and i % 5 < 3"  # 3x as many: 29.5% in all


def _table(path) -> None:
    con = duckdb.connect(str(path))
    con.execute("create table t as select range as i, md5(range::varchar) as s from range(2000000)")
    con.close()


def _rows(path) -> tuple[int, int]:
    """(rows the table's row groups hold, deleted ones included; live rows)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        held = con.execute("select estimated_size from duckdb_tables() where table_name = 't'").fetchall()[0][0]
        return held, con.execute("select count(*) from t").fetchall()[0][0]
    finally:
        con.close()


def test_shopdw_connections_merge_row_groups_only_once_a_quarter_of_a_table_is_deleted(tmp_path):
    path = tmp_path / "w.duckdb"
    _table(path)
    assert (VACUUM_DEAD_SHARE, VACUUM_MIN_DEAD_ROWS) == (0.25, ROW_GROUP)  # 500,000 rows of this table

    wh = DuckDBWarehouse(str(path))
    assert wh.query("select current_setting('max_vacuum_tasks')") == [(0,)]
    wh.execute(f"delete from t where {FIRST_TWO}")
    assert deleted_rows(wh.con) == [("main.t", 2_000_000, 2_000_000 - 147_456)] and not vacuum_due(wh.con)
    wh.close()
    assert _rows(path) == (2_000_000, 2_000_000 - 147_456)  # checkpointed, the two row groups kept

    wh = DuckDBWarehouse(str(path))
    wh.execute(f"delete from t where {NEXT_SIX}")
    assert deleted_rows(wh.con) == [("main.t", 2_000_000, 2_000_000 - 4 * 147_456)] and vacuum_due(wh.con)
    wh.close()
    assert _rows(path) == (2_000_000 - 4 * 147_456,) * 2  # merged: no deleted row left

    # a small table that churns waits for a row group's worth of deleted rows, whatever its share
    wh = DuckDBWarehouse(str(path))
    wh.execute("create table small as select range as i from range(100000)")
    wh.execute("delete from small where i % 2 = 0")
    assert ("main.small", 100_000, 50_000) in deleted_rows(wh.con) and not vacuum_due(wh.con)
    wh.close()

    # DuckDB's defaults would have merged at the first checkpoint
    plain = tmp_path / "plain.duckdb"
    _table(plain)
    con = duckdb.connect(str(plain))
    con.execute(f"delete from t where {FIRST_TWO}")
    con.close()
    assert _rows(plain) == (2_000_000 - 147_456,) * 2


def test_a_week_without_merges_lets_the_next_write_merge(tmp_path):
    """Below the share too: the small row groups loads append to raw tables get merged weekly."""
    path = tmp_path / "w.duckdb"
    _table(path)
    wh = DuckDBWarehouse(str(path))
    wh.execute(f"delete from t where {FIRST_TWO}")
    wh.close()
    clock = tmp_path / "w.duckdb.merged"
    assert clock.exists() and _rows(path) == (2_000_000, 2_000_000 - 147_456)  # the clock starts; no merge
    week_ago = time.time() - 7 * 86_400 - 60
    os.utime(clock, (week_ago, week_ago))
    wh = DuckDBWarehouse(str(path))
    wh.execute("create table other as select 1 as x")  # any write
    wh.close()
    assert _rows(path) == (2_000_000 - 147_456,) * 2  # merged
    assert time.time() - clock.stat().st_mtime < 60  # and the clock restarted


def test_a_read_only_visit_never_merges(tmp_path):
    path = tmp_path / "w.duckdb"
    _table(path)
    con = duckdb.connect(str(path), config={"max_vacuum_tasks": 0})
    con.execute(f"delete from t where {FIRST_TWO} or {NEXT_SIX}")  # 29.5%, left unmerged
    con.close()
    wh = DuckDBWarehouse(str(path))
    assert wh.query("select count(*) from t") == [(2_000_000 - 4 * 147_456,)]
    wh.close()  # nothing written: no checkpoint, no merge
    assert _rows(path) == (2_000_000, 2_000_000 - 4 * 147_456)


@pytest.mark.parametrize(("deleted", "merged"), [(FIRST_TWO, False), (f"{FIRST_TWO} or {NEXT_SIX}", True)])
def test_dbts_connection_defers_merges_and_the_end_of_a_build_merges_when_due(tmp_path, deleted, merged):
    """dbt's connection opens with merges off (a `dbt show` reads the setting); rows deleted
    through it are merged by the checkpoint transform's _release_duckdb ends the build with only
    past the share."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.cli.main import dbtRunner

    from shopdw.transform import _dbt_env, _release_duckdb

    settings = Settings(duckdb_path=str(tmp_path / "w.duckdb"))
    _table(settings.duckdb_path)
    try:
        with _dbt_env(settings) as (_, flags):
            res = dbtRunner().invoke(
                ["show", "--inline", "select current_setting('max_vacuum_tasks') as v", "--log-level", "none"] + flags
            )
        assert res.success, res.exception
        assert [tuple(r) for r in res.result.results[0].agate_table.rows] == [(0,)]
        cursor = DuckDBConnectionManager._ENV.handle().cursor()  # dbt's database, still open
        cursor.execute(f"delete from t where {deleted}")
        cursor.close()
    finally:
        _release_duckdb()
    held, live = _rows(settings.duckdb_path)
    assert (held == live) is merged and held == (live if merged else 2_000_000)
