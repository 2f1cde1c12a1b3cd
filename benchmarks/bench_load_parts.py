"""Where `shopdw load` (DuckDB) spends its time beside the floor: its parts measured one by one.

On the lake benchmarks/bench_load.py generates (reused), in one process, `--rounds` times in turn:
  floor     DuckDB's CREATE TABLE AS SELECT * FROM read_parquet([...]) per entity (bench_load's floor)
  insert    the loader's own insert path and nothing else: every file's rows with lineage into the
            pre-created raw.* tables through DuckDBWarehouse.commit_batch, in the loader's batches
            (one entity's files, up to runner.BATCH_MAX_*), the default memory cap, close included;
            no reading/hashing, validation, ledger or quarantine
  validate  the loader's main-thread work and nothing else: read and hash each file, Validator.prepare
            (scratch copy, the decode-and-check pass, counts and key values), the parent-key sets
  shopdw    the whole `shopdw load` (the two above overlap there: batches commit on a thread)
Each line: wall seconds and this process's CPU seconds (DuckDB's threads included), load average.

  --prototypes: also two prototypes of decoding each file once (see decode_once)

Usage: .venv/bin/python benchmarks/bench_load_parts.py [--orders 1000000] [--days 30] [--rounds 2] [--prototypes]
        [--parts floor,insert,validate,shopdw]
Writes benchmarks/_work/load/parts_<orders>_<days>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_load  # noqa: E402


def insert_only(files: dict[str, list[str]], db: Path) -> None:
    from datetime import datetime

    from shopdw.config import Settings
    from shopdw.contracts import CONTRACTS
    from shopdw.lake.layout import parse_raw_path
    from shopdw.load.ledger import all_tables
    from shopdw.load.runner import BATCH_MAX_BYTES, BATCH_MAX_FILES, BATCH_MAX_ROWS
    from shopdw.load.validate import q
    from shopdw.warehouse.base import FileRows
    from shopdw.warehouse.duckdb import DuckDBWarehouse

    wh = DuckDBWarehouse(str(db), memory_limit=Settings().duckdb_memory_limit)
    wh.ensure_tables(all_tables())
    stamp = datetime(2025, 1, 1)
    for entity, fs in files.items():
        columns = CONTRACTS[entity].column_names
        batch: list = []
        rows = size = 0
        for f in fs + [None]:
            if batch and (
                f is None or rows >= BATCH_MAX_ROWS or size >= BATCH_MAX_BYTES or len(batch) >= BATCH_MAX_FILES
            ):
                wh.commit_batch(batch)
                batch, rows, size = [], 0, 0
            if f is None:
                break
            n = pq.read_metadata(f).num_rows
            rp = parse_raw_path("raw/" + f.split("/raw/", 1)[1])
            data = FileRows(columns=columns, selects=[f"s.{q(c)} as {q(c)}" for c in columns], parquet_path=f,
                            arrow=None, keep=None, num_rows=n)  # fmt: skip
            lineage = {"_source_file": rp.path, "_batch_id": rp.batch_id, "_ingest_date": rp.ingest_date,
                       "_loaded_at": stamp, "_run_id": "bench-parts"}  # fmt: skip
            batch.append(([("raw", entity, data)], lineage))
            rows += n
            size += os.path.getsize(f)
    wh.close()


def validate_only(files: dict[str, list[str]]) -> None:
    from shopdw.lake.layout import parse_raw_path
    from shopdw.lake.store import sha256
    from shopdw.load.validate import Validator

    v = Validator()
    try:
        for entity, fs in files.items():
            for f in fs:
                data = Path(f).read_bytes()
                sha256(data)
                p = v.prepare(entity, "parquet", data, parse_raw_path("raw/" + f.split("/raw/", 1)[1]).ingest_date)
                v.add_file_keys(p)
                v.release(p)
    finally:
        v.close()


def decode_once(files: dict[str, list[str]], db: Path, how: str) -> None:
    """Prototypes of "decode each file once" (no ledger, quarantine or parent-key sets): per entity, in one
    transaction, either `raw` (insert the rows with lineage, then run the validator's checks, row hash,
    per-file counts, hash collisions and distinct foreign-key values over the rows just inserted) or
    `temp` (decode the files into a temp table, run the same over it, then insert from it)."""
    from datetime import date

    from shopdw.config import Settings
    from shopdw.contracts import CONTRACTS
    from shopdw.load.ledger import all_tables
    from shopdw.load.validate import Validator, lit, q
    from shopdw.warehouse.duckdb import DuckDBWarehouse

    wh = DuckDBWarehouse(str(db), memory_limit=Settings().duckdb_memory_limit)
    wh.ensure_tables(all_tables())
    con, v = wh.con, Validator()
    lineage = "_source_file, _batch_id, _ingest_date, _loaded_at, _run_id"
    consts = "'b', date '2025-01-05', timestamp '2025-01-01 00:00:00', 'run'"
    try:
        for entity, fs in files.items():
            c = CONTRACTS[entity]
            names = ", ".join(q(n) for n in c.column_names)
            checks = v._checks(c, pq.read_schema(fs[0]), False, date(2025, 1, 5))
            failed = " or ".join(f"({cond})" for cond, _ in checks) or "false"
            cols = ", ".join(f"s.{q(n)}" for n in c.column_names)
            fks = "".join(f", s.{q(fk.column)} as f{i}" for i, fk in enumerate(c.foreign_keys))
            listing = ", ".join(lit(f) for f in fs)
            src = f"read_parquet([{listing}], filename = true)"
            con.execute("begin")
            if how == "raw":
                con.execute(
                    f"insert into raw.{entity} ({names}, {lineage}) select {names}, filename, {consts} from {src}"
                )
                rows = f"(select *, _source_file as f from raw.{entity} where _source_file in ({listing}))"
            else:
                con.execute(f"create or replace temp table b as select filename as f, {names} from {src}")
                rows = "b"
            con.execute(f"create or replace temp table v as select f, hash({cols}) as h, "
                        f"coalesce({failed}, false) as bad{fks} from {rows} s")  # fmt: skip
            con.sql("select f, count(*), count(*) filter (where bad) from v group by f").fetchall()
            con.sql("select count(*) from (select h from v group by h having count(*) > 1)").fetchall()
            for i in range(len(c.foreign_keys)):
                con.sql(f"select distinct cast(f{i} as varchar) as k from v").to_arrow_table()
            if how == "temp":
                con.execute(f"insert into raw.{entity} ({names}, {lineage}) select {names}, f, {consts} from b")
            con.execute("commit")
    finally:
        v.close()
        wh.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--prototypes", action="store_true", help="also time the two decode-once prototypes")
    ap.add_argument("--parts", default="floor,insert,validate,shopdw", help="which of the four parts to time")
    args = ap.parse_args()

    from shopdw.config import Settings

    lake_dir = bench_load.generate(args.orders, args.days)
    files = bench_load.files_by_entity(lake_dir)
    run = bench_load.WORK / "parts"
    out: list[dict] = []

    def timed(name: str, fn) -> None:
        shutil.rmtree(run, ignore_errors=True)
        run.mkdir(parents=True)
        c, w = time.process_time(), time.perf_counter()
        fn()
        rec = {"part": name, "wall": round(time.perf_counter() - w, 2), "cpu": round(time.process_time() - c, 2),
               "load_average_1min": round(os.getloadavg()[0], 2)}  # fmt: skip
        out.append(rec)
        print(json.dumps(rec), flush=True)

    for _ in range(args.rounds):
        parts = {
            "floor": lambda: bench_load.bench_floor(files, run / "floor.duckdb"),
            "insert": lambda: insert_only(files, run / "insert.duckdb"),
            "validate": lambda: validate_only(files),
            "shopdw": lambda: bench_load.bench_shopdw(Settings(lake=str(lake_dir), duckdb_path=str(run / "s.duckdb"))),
        }
        for name in args.parts.split(","):
            timed(name, parts[name])
        if args.prototypes:
            timed("decode once: insert, then check raw", lambda: decode_once(files, run / "once_raw.duckdb", "raw"))
            timed("decode once: temp table", lambda: decode_once(files, run / "once_temp.duckdb", "temp"))
    (bench_load.WORK / f"parts_{args.orders}_{args.days}.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
