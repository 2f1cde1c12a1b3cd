"""Benchmark `shopdw load` against its floors, in one run over the same files.

Data: the simulator's Parquet lake for N orders (default 1,000,000: 30 days x 33,334 orders per
day, every entity), generated once into benchmarks/_work/load/lake (reused when present).

DuckDB:  shopdw load (validation + ledger + lineage, one transaction per batch of files)
         vs the floor: DuckDB's own CREATE TABLE AS SELECT * FROM read_parquet([...]) per entity
         vs dlt (pyarrow mode, duckdb destination) loading the same files as Arrow tables.
Postgres: shopdw load vs a bare COPY (FROM STDIN, CSV) of the same rows into the same tables,
         on a throwaway PostgreSQL server (tests/servers.py).

Usage:  .venv/bin/python benchmarks/bench_load.py [--orders 1000000] [--days 30] [--skip-postgres] [--skip-dlt]
        .venv/bin/python benchmarks/bench_load.py --olist ../shared/data/olist   # the real data instead

With --olist DIR the lake is the real Olist data imported by `shopdw import-olist` (4,441 small daily
files, ~1.8M rows) into benchmarks/_work/load/lake_olist: the many-small-files case.

Prints and records (benchmarks/_work/load/results_<orders>_<days>.json, and results.json for the
latest run) wall seconds, this process's CPU seconds for the in-process runs (the PostgreSQL
server's own CPU is not in them) and the load average, since the machine may be shared.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import sys
import time
from datetime import date
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
WORK = ROOT / "benchmarks" / "_work" / "load"


def generate(orders: int, days: int) -> Path:
    from shopdw.lake.store import open_lake
    from shopdw.sources.simulator import SimulatorConfig, generate

    lake_dir = WORK / f"lake_{orders}_{days}"
    marker = lake_dir / ".complete"
    if not marker.exists():
        shutil.rmtree(lake_dir, ignore_errors=True)
        per_day = -(-orders // days)
        t = time.perf_counter()
        generate(open_lake(str(lake_dir)), SimulatorConfig(start=date(2025, 1, 1), days=days, orders_per_day=per_day,
                                                           seed=42, fmt="parquet"), progress=True)  # fmt: skip
        print(f"generated {orders:,} orders in {time.perf_counter() - t:.1f}s", flush=True)
        marker.write_text("ok")
    return lake_dir


def import_olist_lake(directory: str) -> Path:
    from shopdw.lake.store import open_lake
    from shopdw.sources.olist import import_olist

    lake_dir = WORK / "lake_olist"
    marker = lake_dir / ".complete"
    if not marker.exists():
        shutil.rmtree(lake_dir, ignore_errors=True)
        t = time.perf_counter()
        import_olist(open_lake(str(lake_dir)), directory, progress=True)
        print(f"imported the Olist data in {time.perf_counter() - t:.1f}s", flush=True)
        marker.write_text("ok")
    return lake_dir


def files_by_entity(lake_dir: Path) -> dict[str, list[str]]:
    from shopdw.contracts import LOAD_ORDER

    out = {}
    for e in LOAD_ORDER:
        out[e] = sorted(str(p) for p in (lake_dir / "raw" / e).rglob("*.parquet"))
    return out


def rows_in(files: dict[str, list[str]]) -> int:
    return sum(pq.read_metadata(f).num_rows for fs in files.values() for f in fs)


def bench_shopdw(settings) -> tuple[float, dict]:
    from shopdw.load import load

    t = time.perf_counter()
    result = load(settings, progress=False)
    return time.perf_counter() - t, result.to_dict()


def bench_floor(files: dict[str, list[str]], db: Path) -> float:
    import duckdb

    t = time.perf_counter()
    con = duckdb.connect(str(db))
    con.execute("create schema raw")
    for entity, fs in files.items():
        if fs:
            listing = ", ".join("'" + f.replace("'", "''") + "'" for f in fs)
            con.execute(f"create table raw.{entity} as select * from read_parquet([{listing}])")
    con.close()
    return time.perf_counter() - t


def bench_dlt(files: dict[str, list[str]], work: Path) -> float:
    import dlt

    def resources():
        for entity, fs in files.items():
            if fs:
                tables = (pq.read_table(f) for f in fs)
                yield dlt.resource(tables, name=entity, write_disposition="append")

    t = time.perf_counter()
    pipe = dlt.pipeline(
        pipeline_name="bench_load",
        destination=dlt.destinations.duckdb(str(work / "dlt.duckdb")),
        dataset_name="raw",
        pipelines_dir=str(work / "dlt_pipelines"),
    )
    pipe.run(list(resources()))
    return time.perf_counter() - t


def bench_bare_copy(files: dict[str, list[str]], dsn: str) -> float:
    """COPY FROM STDIN of the same rows (Arrow -> CSV), no validation, ledger or lineage."""
    import psycopg

    from shopdw.contracts import CONTRACTS
    from shopdw.warehouse.postgres import arrow_to_postgres_type

    t = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute("create schema if not exists bare")
        opts = pacsv.WriteOptions(include_header=False, quoting_style="needed")
        for entity, fs in files.items():
            schema = CONTRACTS[entity].arrow_schema()
            cols = ", ".join(f"{f.name} {arrow_to_postgres_type(f.type)}" for f in schema)
            con.execute(f"create table bare.{entity} ({cols})")
            for f in fs:
                with (
                    con.transaction(),
                    con.cursor() as cur,
                    cur.copy(f"copy bare.{entity} from stdin (format csv)") as cp,
                ):
                    for batch in pq.read_table(f).to_batches(max_chunksize=65536):
                        buf = io.BytesIO()
                        pacsv.write_csv(batch, buf, opts)
                        cp.write(buf.getbuffer())
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--skip-postgres", action="store_true")
    ap.add_argument("--skip-dlt", action="store_true")
    ap.add_argument("--olist", metavar="DIR", help="load the Olist CSVs in DIR (imported into a lake) instead")
    args = ap.parse_args()

    from shopdw.config import Secret, Settings

    lake_dir = import_olist_lake(args.olist) if args.olist else generate(args.orders, args.days)
    files = files_by_entity(lake_dir)
    n_rows = rows_in(files)
    n_files = sum(len(v) for v in files.values())
    size = sum(Path(f).stat().st_size for fs in files.values() for f in fs)
    print(f"lake: {n_files} files, {n_rows:,} rows, {size / 1e6:.0f} MB parquet", flush=True)
    run = WORK / "run"
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir(parents=True)
    results: dict[str, float] = {}
    cpu: dict[str, float] = {}
    load_avg: dict[str, float] = {}

    def timed(name: str, fn):
        c = time.process_time()
        out = fn()
        cpu[name] = time.process_time() - c
        load_avg[name] = os.getloadavg()[0]
        return out

    results["floor_duckdb_ctas"] = timed("floor_duckdb_ctas", lambda: bench_floor(files, run / "floor.duckdb"))
    print(f"floor (DuckDB CTAS read_parquet): {results['floor_duckdb_ctas']:.2f}s "
          f"(cpu {cpu['floor_duckdb_ctas']:.2f}s, load {load_avg['floor_duckdb_ctas']:.2f})", flush=True)  # fmt: skip
    secs, d = timed("shopdw_duckdb",
                    lambda: bench_shopdw(Settings(lake=str(lake_dir), duckdb_path=str(run / "shopdw.duckdb"))))  # fmt: skip
    assert d["rows_loaded"] + d["rows_quarantined"] == n_rows, d
    results["shopdw_duckdb"] = secs
    print(f"shopdw load (duckdb): {secs:.2f}s (cpu {cpu['shopdw_duckdb']:.2f}s, load "
          f"{load_avg['shopdw_duckdb']:.2f})  {d['rows_loaded']:,} rows", flush=True)  # fmt: skip
    if not args.skip_dlt:
        results["dlt_duckdb_pyarrow"] = timed("dlt_duckdb_pyarrow", lambda: bench_dlt(files, run))
        print(f"dlt (pyarrow -> duckdb): {results['dlt_duckdb_pyarrow']:.2f}s "
              f"(cpu {cpu['dlt_duckdb_pyarrow']:.2f}s, load {load_avg['dlt_duckdb_pyarrow']:.2f})", flush=True)  # fmt: skip
    if not args.skip_postgres:
        import psycopg

        from servers import postgres_server

        with postgres_server() as server:
            base = server.rsplit("/", 1)[0]
            with psycopg.connect(server, autocommit=True) as con:
                con.execute("create database bench_shopdw")
                con.execute("create database bench_bare")
            results["bare_copy_postgres"] = timed("bare_copy_postgres",
                                                  lambda: bench_bare_copy(files, f"{base}/bench_bare"))  # fmt: skip
            print(f"bare COPY (postgres): {results['bare_copy_postgres']:.2f}s "
                  f"(load {load_avg['bare_copy_postgres']:.2f})", flush=True)  # fmt: skip
            pg = Settings(lake=str(lake_dir), target="postgres", postgres_dsn=Secret(f"{base}/bench_shopdw"))
            secs, d = timed("shopdw_postgres", lambda: bench_shopdw(pg))
            results["shopdw_postgres"] = secs
            print(f"shopdw load (postgres): {secs:.2f}s (load {load_avg['shopdw_postgres']:.2f})", flush=True)
    ratios = {"duckdb_vs_floor": results["shopdw_duckdb"] / results["floor_duckdb_ctas"]}
    if "dlt_duckdb_pyarrow" in results:
        ratios["duckdb_vs_dlt"] = results["shopdw_duckdb"] / results["dlt_duckdb_pyarrow"]
    if "shopdw_postgres" in results:
        ratios["postgres_vs_bare_copy"] = results["shopdw_postgres"] / results["bare_copy_postgres"]
    ratios["duckdb_vs_floor_cpu"] = cpu["shopdw_duckdb"] / cpu["floor_duckdb_ctas"]
    name = "olist" if args.olist else f"{args.orders}_{args.days}"
    out = {"lake": name, "orders": None if args.olist else args.orders, "days": None if args.olist else args.days, "files": n_files, "rows": n_rows, "parquet_mb": round(size / 1e6),
           "seconds": {k: round(v, 2) for k, v in results.items()}, "ratios": {k: round(v, 2) for k, v in ratios.items()},
           "cpu_seconds_this_process": {k: round(v, 2) for k, v in cpu.items()},
           "load_average_1min_after": {k: round(v, 2) for k, v in load_avg.items()}}  # fmt: skip
    text = json.dumps(out, indent=2)
    (WORK / f"results_{name}.json").write_text(text)
    (WORK / "results.json").write_text(text)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
