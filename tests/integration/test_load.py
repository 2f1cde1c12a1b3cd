"""`shopdw load` on a real DuckDB file and a real PostgreSQL 15: a month, a reload, defects against
the simulator's ground truth, and every kind of file-level reject."""

from __future__ import annotations

import io
import os
import shutil
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from test_load_support import (
    assert_ledger_consistent,
    ground_truth,
    ledger,
    parquet_rows,
    raw_counts,
    simulate,
    snapshot,
)

from shopdw.config import Secret, Settings
from shopdw.errors import TransientError
from shopdw.lake.store import open_lake
from shopdw.load import load
from shopdw.warehouse import open_warehouse


@pytest.fixture(params=["duckdb", "postgres"])
def target(request, tmp_path):
    """(settings, lake) for a fresh lake folder and a fresh warehouse of the given target."""
    lake_dir = tmp_path / "lake"
    if request.param == "duckdb":
        settings = Settings(lake=str(lake_dir), target="duckdb", duckdb_path=str(tmp_path / "wh" / "shopdw.duckdb"))
    else:
        dsn = request.getfixturevalue("pg_dsn")
        settings = Settings(lake=str(lake_dir), target="postgres", postgres_dsn=Secret(dsn))
    return settings, open_lake(str(lake_dir))


def test_month_loads_once_and_reload_changes_nothing(target):
    settings, lake = target
    simulate(lake, days=30, orders_per_day=4)
    first = load(settings, progress=False)
    assert first.exit_code == 0
    d = first.to_dict()
    n_files = len(lake.list("raw/"))
    assert d["files_loaded"] == n_files and d["files_rejected"] == 0 and d["rows_quarantined"] == 0
    assert raw_counts(settings) == parquet_rows(lake)
    assert_ledger_consistent(settings)
    before = snapshot(settings)

    again = load(settings, progress=False)
    assert again.to_dict()["files_loaded"] == 0 and again.to_dict()["files_already_loaded"] == n_files
    assert snapshot(settings) == before
    if settings.target == "duckdb":  # load must not keep the file open: another connection can write it
        import duckdb

        duckdb.connect(settings.duckdb_path).close()


def test_lineage_columns(target):
    settings, lake = target
    simulate(lake, days=1, orders_per_day=3)
    result = load(settings, progress=False, run_id="run-lineage-1")
    with open_warehouse(settings) as wh:
        rows = wh.query("select distinct _source_file, _batch_id, _ingest_date, _run_id from raw.orders")
        loaded_at = wh.query("select count(distinct _loaded_at), min(_loaded_at) from raw.orders")[0]
    assert rows == [("raw/orders/ingest_date=2025-03-01/sim-20250301.parquet", "sim-20250301", date(2025, 3, 1),
                     "run-lineage-1")]  # fmt: skip
    assert loaded_at[0] == 1 and loaded_at[1] is not None
    assert result.run_id == "run-lineage-1"


@pytest.mark.parametrize("fmt", ["parquet", "csv", "json"])
def test_defects_are_exactly_the_ground_truth_duckdb(tmp_path, fmt):
    lake = open_lake(str(tmp_path / "lake"))
    settings = Settings(lake=str(tmp_path / "lake"), duckdb_path=str(tmp_path / "w.duckdb"))
    simulate(lake, days=5, orders_per_day=40, defect_rate=0.02, fmt=fmt)
    _assert_ground_truth(settings, lake)


def test_defects_are_exactly_the_ground_truth_postgres(tmp_path, pg_dsn):
    lake = open_lake(str(tmp_path / "lake"))
    settings = Settings(lake=str(tmp_path / "lake"), target="postgres", postgres_dsn=Secret(pg_dsn))
    simulate(lake, days=5, orders_per_day=40, defect_rate=0.02, fmt="csv")
    _assert_ground_truth(settings, lake)


def _assert_ground_truth(settings, lake):
    truth = ground_truth(lake)
    assert len(truth) > 20, "the simulator should have injected defects"
    result = load(settings, progress=False)
    assert result.to_dict()["files_rejected"] == 0
    with open_warehouse(settings) as wh:
        got = {(f, n): r for f, n, r in wh.query("select source_file, row_number, reason from meta.quarantine")}
        raw_rows = sum(wh.query(f"select count(*) from raw.{e}")[0][0] for e in result.rows_by_entity)
    missed = sorted(set(truth) - set(got))
    extra = sorted(set(got) - set(truth))
    assert not missed, [(k, truth[k]) for k in missed[:5]]
    assert not extra, [(k, got[k]) for k in extra[:5]]
    # every reason names what is wrong
    words = {"duplicate_row": "duplicate", "null_key": "null", "negative_price": "below minimum",
             "unknown_state": "not an allowed value", "orphan_fk": "orphan", "future_timestamp": "later than",
             "unparseable_value": "does not cast"}  # fmt: skip
    for key, defect in truth.items():
        assert words[defect] in got[key], (key, defect, got[key])
    assert_ledger_consistent(settings)
    d = result.to_dict()
    assert d["rows_quarantined"] == len(truth)
    assert raw_rows == d["rows_loaded"]


def _put_raw(lake_dir, rel: str, data: bytes) -> None:
    p = lake_dir / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)


def test_file_level_rejects_leave_other_files_loading(target):
    settings, lake = target
    simulate(lake, days=2, orders_per_day=10)
    root = lake.root
    orders_path = "raw/orders/ingest_date=2025-03-01/sim-20250301.parquet"
    good = lake.get(orders_path)
    table = pq.read_table(io.BytesIO(good))
    d = "raw/orders/ingest_date=2025-03-02"

    def pq_bytes(t: pa.Table) -> bytes:
        buf = io.BytesIO()
        pq.write_table(t, buf)
        return buf.getvalue()

    bad = {
        f"{d}/corrupt.parquet": b"PAR1" + bytes(range(256)) * 4 + b"PAR1",
        f"{d}/empty.parquet": b"",
        f"{d}/truncated.parquet": good[: len(good) // 2],
        f"{d}/missing-column.parquet": pq_bytes(table.drop_columns(["order_status"])),
        f"{d}/changed-type.parquet": pq_bytes(
            table.set_column(3, "order_purchase_timestamp", pc.cast(table["order_purchase_timestamp"], pa.string()))
        ),
        "raw/invoices/ingest_date=2025-03-02/b1.parquet": pq_bytes(table),
        "raw/orders/misplaced.parquet": pq_bytes(table),
    }
    for rel, data in bad.items():
        _put_raw(root, rel, data)
    _put_raw(root, f"{d}/same-content-new-name.parquet", good)  # one file under two names
    drift = table.append_column("coupon_code", pa.array(["X"] * table.num_rows))
    _put_raw(root, "raw/orders/ingest_date=2025-03-02/with-drift.parquet", pq_bytes(drift.slice(0, 0)))

    result = load(settings, progress=False)
    assert result.exit_code == 1
    by_path = {f.path: f for f in result.files}
    expect = {
        "corrupt.parquet": "unreadable parquet file",
        "empty.parquet": "empty file",
        "truncated.parquet": "unreadable parquet file",
        "missing-column.parquet": "missing required column(s) order_status",
        "changed-type.parquet": "incompatible column type(s): order_purchase_timestamp is string",
    }
    for name, words in expect.items():
        f = by_path[f"{d}/{name}"]
        assert f.status == "rejected" and words in f.reason, (name, f.reason)
    assert "unknown entity folder 'invoices'" in by_path["raw/invoices/ingest_date=2025-03-02/b1.parquet"].reason
    assert "not a raw lake path" in by_path["raw/orders/misplaced.parquet"].reason
    dup = by_path[f"{d}/same-content-new-name.parquet"]
    assert dup.status == "duplicate" and orders_path in dup.reason
    drifted = by_path["raw/orders/ingest_date=2025-03-02/with-drift.parquet"]
    assert drifted.status == "loaded" and "coupon_code" in drifted.schema_drift
    # everything else loaded in full; the rejected and duplicate files added no rows
    good_files = [f for f in result.files if f.status == "loaded"]
    assert len(good_files) == len(lake.list("raw/")) - len(bad) - 1
    counts = raw_counts(settings)
    assert counts["orders"] == pq.read_metadata(io.BytesIO(good)).num_rows + pq.read_metadata(
        io.BytesIO(lake.get("raw/orders/ingest_date=2025-03-02/sim-20250302.parquet"))).num_rows  # fmt: skip
    rows = {r["path"]: r for r in ledger(settings)}
    assert rows[f"{d}/empty.parquet"]["status"] == "rejected" and rows[f"{d}/empty.parquet"]["reason"]
    assert rows["raw/orders/ingest_date=2025-03-02/with-drift.parquet"]["schema_drift"]
    assert_ledger_consistent(settings)

    # a rerun records nothing new; then someone overwrites a loaded file in place
    assert load(settings, progress=False).to_dict()["files_rejected"] == 0
    os.chmod(root / orders_path, 0o644)
    _put_raw(root, orders_path, pq_bytes(table.slice(0, 1)))
    changed = load(settings, progress=False)
    assert [(f.path, f.status) for f in changed.files] == [(orders_path, "rejected")]
    assert "immutable file changed" in changed.files[0].reason
    assert raw_counts(settings)["orders"] == counts["orders"]
    assert_ledger_consistent(settings)


def test_csv_and_json_rejects(tmp_path):
    settings = Settings(lake=str(tmp_path / "lake"), duckdb_path=str(tmp_path / "w.duckdb"))
    lake = open_lake(settings.lake)
    simulate(lake, days=1, orders_per_day=5, fmt="csv")
    csv_path = "raw/orders/ingest_date=2025-03-01/sim-20250301.csv"
    data = lake.get(csv_path)
    _put_raw(lake.root, "raw/orders/ingest_date=2025-03-01/cut.csv", data[: len(data) - 7])
    _put_raw(lake.root, "raw/orders/ingest_date=2025-03-01/cut.jsonl", b'{"order_id": "a", "customer_id": "b"}\n{"ord')
    result = load(settings, progress=False)
    by_path = {f.path: f for f in result.files}
    assert by_path["raw/orders/ingest_date=2025-03-01/cut.csv"].status == "rejected"
    assert "truncated csv file" in by_path["raw/orders/ingest_date=2025-03-01/cut.csv"].reason
    assert "truncated json file" in by_path["raw/orders/ingest_date=2025-03-01/cut.jsonl"].reason
    assert by_path[csv_path].status == "loaded"


def test_until_limits_the_days(target):
    settings, lake = target
    simulate(lake, days=3, orders_per_day=3)
    first = load(settings, progress=False, until=date(2025, 3, 1))
    dates = {f.path.split("/")[2] for f in first.files}
    assert "ingest_date=2025-03-02" not in dates and "ingest_date=2025-03-01" in dates
    rest = load(settings, progress=False)
    assert {f.path.split("/")[2] for f in rest.files} == {"ingest_date=2025-03-02", "ingest_date=2025-03-03"}
    assert raw_counts(settings) == parquet_rows(lake)


def test_run_lock_is_exclusive_and_reentrant(target):
    settings, _ = target
    with open_warehouse(settings) as a, open_warehouse(settings) as b:
        with a.run_lock():
            with b.run_lock(timeout=0):  # same process: re-entrant
                pass
    # another process must wait, then give up with a clear message
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent(f"""
        import sys, time
        from shopdw.config import Settings, Secret
        from shopdw.warehouse import open_warehouse
        s = Settings(target={settings.target!r}, duckdb_path={settings.duckdb_path!r},
                     postgres_dsn=Secret({(settings.postgres_dsn or Secret("")).reveal()!r}) or None)
        with open_warehouse(s) as wh, wh.run_lock():
            print("locked", flush=True)
            sys.stdin.readline()
    """)
    holder = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with open_warehouse(settings) as wh:
            with pytest.raises(TransientError, match="another shopdw run holds"):
                with wh.run_lock(timeout=0.5):
                    pass
        with pytest.raises(TransientError, match="another shopdw run holds"):
            load(settings, progress=False, lock_timeout=0.3)
    finally:
        holder.communicate("\n", timeout=30)


def test_dropped_postgres_connection_is_retried(tmp_path, pg_dsn, monkeypatch):
    """The server kills the loader's session in the middle of a file: the file is retried, loaded once."""
    import psycopg

    from shopdw.warehouse.postgres import PostgresWarehouse

    settings = Settings(lake=str(tmp_path / "lake"), target="postgres", postgres_dsn=Secret(pg_dsn))
    lake = open_lake(settings.lake)
    simulate(lake, days=2, orders_per_day=5)
    original = PostgresWarehouse.append_raw
    kills = []

    def append_then_die(self, entity, data, lineage):
        original(self, entity, data, lineage)
        if entity == "orders" and not kills:  # rows written, transaction not committed yet
            pid = self.conn.info.backend_pid
            with psycopg.connect(pg_dsn, autocommit=True) as other:
                other.execute("select pg_terminate_backend(%s)", (pid,))
            kills.append(pid)

    monkeypatch.setattr(PostgresWarehouse, "append_raw", append_then_die)
    result = load(settings, progress=False)
    assert kills and result.exit_code == 0
    assert raw_counts(settings) == parquet_rows(lake)
    assert_ledger_consistent(settings)


def test_unreachable_postgres_is_transient_and_retried_without_password(tmp_path, capsys):
    from servers import free_port

    settings = Settings(lake=str(tmp_path / "lake"), target="postgres",
                        postgres_dsn=Secret(f"postgresql://u:hunter2secret@127.0.0.1:{free_port()}/db"))  # fmt: skip
    with pytest.raises(TransientError) as e:
        load(settings, progress=False)
    msg = str(e.value)
    assert "gave up after 5 attempts" in msg and "check that the server is up" in msg
    assert "hunter2secret" not in msg + "".join(capsys.readouterr())


def test_bad_dsn_names_the_setting_and_hides_the_password(tmp_path, pg_server_dsn):
    from shopdw.errors import ConfigError

    base = pg_server_dsn.rsplit("/", 1)[0].replace("postgres@", "postgres:hunter2secret@")
    settings = Settings(lake=str(tmp_path / "lake"), target="postgres", postgres_dsn=Secret(base + "/no_such_db"))
    with pytest.raises(ConfigError) as e:
        load(settings, progress=False)
    assert "hunter2secret" not in str(e.value) and "no_such_db" in str(e.value)


def test_warehouse_directory_is_created_and_file_closed(tmp_path):
    settings = Settings(lake=str(tmp_path / "lake"), duckdb_path=str(tmp_path / "deep" / "er" / "w.duckdb"))
    simulate(open_lake(settings.lake), days=1, orders_per_day=2)
    load(settings, progress=False)
    shutil.copy(settings.duckdb_path, tmp_path / "copy.duckdb")
    import duckdb

    con = duckdb.connect(settings.duckdb_path)  # would fail if load still held the file
    assert con.execute("select count(*) from meta.load_ledger").fetchone()[0] > 0
    con.close()


def test_rerun_reads_only_new_files_and_a_resized_file_is_rejected(tmp_path, monkeypatch):
    """A path and size already in the ledger is not read again (lake files are immutable); a file
    replaced in place by one of another size is read, hashed and rejected, and nothing loads twice."""
    from shopdw.lake.store import LocalLake

    settings = Settings(lake=str(tmp_path / "lake"), duckdb_path=str(tmp_path / "w.duckdb"))
    lake = open_lake(settings.lake)
    simulate(lake, days=2, orders_per_day=6)
    n_files = len(lake.list("raw/"))
    load(settings, progress=False)
    counts = raw_counts(settings)
    reads: list[str] = []
    get = LocalLake.get
    monkeypatch.setattr(LocalLake, "get", lambda self, path: reads.append(path) or get(self, path))

    again = load(settings, progress=False)
    assert reads == [] and again.to_dict()["files_already_loaded"] == n_files and not again.files

    orders_path = "raw/orders/ingest_date=2025-03-01/sim-20250301.parquet"
    table = pq.read_table(io.BytesIO(get(lake, orders_path)))
    new_path = "raw/orders/ingest_date=2025-03-02/extra-batch.parquet"
    buf = io.BytesIO()
    pq.write_table(table.slice(0, 2).set_column(0, "order_id", pa.array(["extra-1", "extra-2"])), buf)
    _put_raw(lake.root, new_path, buf.getvalue())
    new = load(settings, progress=False)
    assert reads == [new_path] and [(f.path, f.status) for f in new.files] == [(new_path, "loaded")]

    reads.clear()
    os.chmod(lake.root / orders_path, 0o644)
    buf = io.BytesIO()
    pq.write_table(table.slice(0, 1), buf)
    _put_raw(lake.root, orders_path, buf.getvalue())
    changed = load(settings, progress=False)
    assert reads == [orders_path] and [(f.path, f.status) for f in changed.files] == [(orders_path, "rejected")]
    assert "immutable file changed" in changed.files[0].reason and changed.exit_code == 1

    reads.clear()
    last = load(settings, progress=False)
    assert reads == [] and not last.files and last.exit_code == 0
    assert raw_counts(settings) == {**counts, "orders": counts["orders"] + 2}
    assert_ledger_consistent(settings)


def test_a_failed_batch_commits_nothing_and_a_rerun_completes_it(target, monkeypatch, tmp_path):
    """Files commit in batches (one entity's files at a time): an error while writing a batch (after
    its raw rows) rolls back the whole batch (rows, quarantine, ledger), keeps the batches before it,
    and the next run loads exactly what an uninterrupted run would."""
    settings, lake = target
    simulate(lake, days=3, orders_per_day=8, defect_rate=0.05)
    wh_class = type(open_warehouse(settings))
    original = wh_class.append_arrow

    def fail_on_orders_ledger(self, schema, table, data):
        if table == "load_ledger" and "orders" in data["entity"].to_pylist():
            assert data.num_rows == 3  # the orders batch: its raw rows are written by now
            raise RuntimeError("disk full (simulated)")
        original(self, schema, table, data)

    monkeypatch.setattr(wh_class, "append_arrow", fail_on_orders_ledger)
    with pytest.raises(RuntimeError, match="simulated"):
        load(settings, progress=False)
    monkeypatch.setattr(wh_class, "append_arrow", original)
    rows = ledger(settings)
    assert {r["entity"] for r in rows} == {"product_category_translation", "geolocation", "customers",
                                           "sellers", "products"}  # fmt: skip
    assert raw_counts(settings)["orders"] == 0
    with open_warehouse(settings) as wh:
        assert wh.query("select count(*) from meta.quarantine where entity = 'orders'")[0][0] == 0
    assert_ledger_consistent(settings)

    result = load(settings, progress=False)
    assert result.exit_code == 0 and result.files_already_done == len(rows)
    ref = Settings(lake=settings.lake, duckdb_path=str(tmp_path / "ref.duckdb"))
    load(ref, progress=False)
    assert snapshot(settings) == snapshot(ref)
    assert_ledger_consistent(settings)


def test_good_rows_keep_file_order_around_quarantined_rows(tmp_path):
    """DuckDB inserts a file's good rows straight from the file, skipping quarantined rows by position:
    the rows land in file order."""
    settings = Settings(lake=str(tmp_path / "lake"), duckdb_path=str(tmp_path / "w.duckdb"))
    lake = open_lake(settings.lake)
    simulate(lake, days=2, orders_per_day=60, defect_rate=0.05)
    result = load(settings, progress=False)
    checked = 0
    with open_warehouse(settings) as wh:
        for f in result.files:
            if f.status != "loaded" or not f.rows_quarantined or f.entity not in ("orders", "order_items"):
                continue
            bad = {n for (n,) in wh.query("select row_number from meta.quarantine where source_file = ?", (f.path,))}
            file_rows = pq.read_table(io.BytesIO(lake.get(f.path))).to_pylist()
            expect = [(r["order_id"], r["updated_at"] if f.entity == "orders" else r["order_item_id"])
                      for i, r in enumerate(file_rows, 1) if i not in bad]  # fmt: skip
            second = "updated_at" if f.entity == "orders" else "order_item_id"
            got = wh.query(f"select order_id, {second} from raw.{f.entity} where _source_file = ? order by rowid",
                           (f.path,))  # fmt: skip
            assert got == expect, f.path
            checked += 1
    assert checked >= 2


def test_parquet_columns_named_like_duckdbs_scan_columns_still_load(tmp_path):
    """Drift columns called filename / file_row_number / file_index (DuckDB's own scan columns) do not
    break the batch insert that reads several files at once (and picks each file's lineage by its
    file_index): such a file loads, with its drift reported, and every row keeps its own file's lineage."""
    settings = Settings(lake=str(tmp_path / "lake"), duckdb_path=str(tmp_path / "w.duckdb"))
    lake = open_lake(settings.lake)
    simulate(lake, days=2, orders_per_day=5)
    table = pq.read_table(io.BytesIO(lake.get("raw/orders/ingest_date=2025-03-01/sim-20250301.parquet")))
    extra = table.set_column(0, "order_id", pa.array([f"x{i}" for i in range(table.num_rows)]))
    n = extra.num_rows
    for name, col in (("filename", pa.array(["a.csv"] * n)), ("FILE_ROW_NUMBER", pa.array(range(n))),
                      ("File_Index", pa.array([7] * n))):  # fmt: skip
        extra = extra.append_column(name, col)
    buf = io.BytesIO()
    pq.write_table(extra, buf)
    _put_raw(lake.root, "raw/orders/ingest_date=2025-03-02/with-scan-names.parquet", buf.getvalue())
    result = load(settings, progress=False)
    by_path = {f.path: f for f in result.files}
    f = by_path["raw/orders/ingest_date=2025-03-02/with-scan-names.parquet"]
    assert result.exit_code == 0 and f.status == "loaded" and f.rows_loaded == n
    assert "filename" in f.schema_drift and "FILE_ROW_NUMBER" in f.schema_drift and "File_Index" in f.schema_drift
    assert raw_counts(settings)["orders"] == parquet_rows(lake)["orders"]
    assert_ledger_consistent(settings)
