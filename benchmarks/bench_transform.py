"""Benchmark the dbt project on DuckDB: a full build at ~1M orders, then a one-day incremental run.

Data: the simulator's Parquet lake, DAYS + 1 days x ORDERS_PER_DAY orders (default 365 + 1 days
x 2,740 = ~1.0M orders over the year of history), generated once into
benchmarks/_work/transform/lake (reused when present) and loaded by the loader.

1. load the first DAYS days, `dbt build --full-refresh` (seeds, models, every test): the full build;
2. load day DAYS + 1, `dbt build` (incremental facts re-read only the touched keys): the one-day run.
Both also reported without tests (models + seeds only) when --models-only is given.

--reuse-history skips the history load (about 50 minutes at 1M orders): the first run with it
keeps a copy of the warehouse right after the history load
(benchmarks/_work/transform/history_<orders>_<days>.duckdb) and later runs copy that file instead of
loading again; step 2 then loads day DAYS + 1 through the loader as usual and checks that the load
took exactly that day's lake files (and, when recorded, exactly the rows the history copy lacks).

--history-from DB derives that copy from a warehouse that already holds all DAYS + 1 days (the
last benchmark's warehouse/bench.duckdb) without touching DB: it copies DB, deletes the rows of
day DAYS + 1 (ingest date START + DAYS, i.e. 2018-01-01 by default) from every raw.* table
(`_ingest_date`), from meta.load_ledger (`ingest_date`) and from meta.quarantine (by source file),
drops the staging/intermediate/analytics schemas dbt built, and records the deleted row counts
per table next to the copy (history_<orders>_<days>.json), which the next --reuse-history run
compares with what the loader loads for that day.

--keep-full keeps a copy of the warehouse right after the full build
(benchmarks/_work/transform/full_<orders>_<days>.duckdb) with a hash of the dbt project
(src/shopdw/dbt) stored in it (table bench_meta.dbt_project); --incremental-only then skips the
history and the full build: it copies that file, refuses it when the hash differs from the
current project's (the full build was made by other model code), loads day DAYS + 1 and runs the
incremental build only, reporting the full build's figures recorded with the copy. dbt's saved
parse from the full build (.shopdw-dbt beside the warehouse) is kept and restored with the copy, so
the incremental build reuses it exactly as it does right after the full build in one run.

--incremental-runs N (default 3) runs the incremental build N times, each in a fresh process from
the same state (the warehouse and dbt's saved parse as the day's load left them, copied before the
first build and put back before each later one); the median build is the result, and every run's
time is reported. One build's time moves by 15-25% between runs on the 2-core machine. Runs 2..N
keep the compiled-template and JSON-schema caches the runs before them saved (they are keyed by
content, not by the data), as every daily build after the first incremental one finds them: run 1,
the first incremental build after a full one, compiles the templates of the incremental path.

Usage:  .venv/bin/python benchmarks/bench_transform.py [--orders-per-day 2740] [--days 365] [--models-only]
                                                       [--reuse-history] [--history-from DB]
                                                       [--keep-full | --incremental-only]
                                                       [--incremental-runs 3]
Results: benchmarks/_work/transform/results.json (and printed).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import shutil
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "_work" / "transform"
START = date(2017, 1, 1)


def generate(days: int, orders_per_day: int) -> Path:
    from shopdw.lake.store import open_lake
    from shopdw.sources.simulator import SimulatorConfig, generate

    lake_dir = WORK / f"lake_{orders_per_day}_{days}"
    marker = lake_dir / ".complete"
    if not marker.exists():
        shutil.rmtree(lake_dir, ignore_errors=True)
        lake_dir.mkdir(parents=True)
        t = time.perf_counter()
        cfg = SimulatorConfig(start=START, days=days, orders_per_day=orders_per_day, seed=42, late_rate=0.05)
        generate(open_lake(str(lake_dir)), cfg, progress=True)
        marker.write_text(f"{time.perf_counter() - t:.1f}s\n")
    return lake_dir


RAW_TABLES = (
    "customers",
    "sellers",
    "products",
    "product_category_translation",
    "geolocation",
    "orders",
    "order_items",
    "order_payments",
    "order_reviews",
    "web_events",
)
DBT_SCHEMAS = ("staging", "intermediate", "analytics")


def history_paths(days: int, orders_per_day: int) -> tuple[Path, Path]:
    stem = WORK / f"history_{orders_per_day}_{days}"
    return stem.with_suffix(".duckdb"), stem.with_suffix(".json")


def derive_history(source: Path, days: int, orders_per_day: int) -> Path:
    """history.duckdb from a warehouse holding DAYS + 1 days: a copy without the last day (see the docstring)."""
    import duckdb

    db, record = history_paths(days, orders_per_day)
    last_day = START + timedelta(days=days)
    tmp = db.with_suffix(".tmp")
    print(f"copying {source} -> {tmp}", flush=True)
    shutil.copyfile(source, tmp)
    con = duckdb.connect(str(tmp))
    try:
        removed: dict[str, int] = {}
        con.execute("begin")
        files = [
            r[0] for r in con.execute("select path from meta.load_ledger where ingest_date = ?", [last_day]).fetchall()
        ]
        if not files:
            raise SystemExit(f"{source}: meta.load_ledger has no file of {last_day}; nothing to remove")
        for t in RAW_TABLES:
            removed[t] = con.execute(f"delete from raw.{t} where _ingest_date = ?", [last_day]).fetchone()[0]
        removed["meta.load_ledger"] = con.execute(
            "delete from meta.load_ledger where ingest_date = ?", [last_day]
        ).fetchone()[0]
        removed["meta.quarantine"] = con.execute(
            "delete from meta.quarantine where source_file in (select unnest(?))", [files]
        ).fetchone()[0]
        for schema in DBT_SCHEMAS:
            con.execute(f"drop schema if exists {schema} cascade")
        con.execute("commit")
        con.execute("checkpoint")
        left = con.execute("select max(ingest_date) from meta.load_ledger").fetchone()[0]
        newest_raw = max(
            con.execute(f"select max(_ingest_date) from raw.{t}").fetchone()[0] or START for t in RAW_TABLES
        )
    finally:
        con.close()
    assert left < last_day and newest_raw < last_day, (left, newest_raw)
    tmp.rename(db)
    record.write_text(
        json.dumps(
            {"source": str(source), "day": last_day.isoformat(), "files": len(files), "removed_rows": removed}, indent=2
        )
    )
    print(f"{db}: removed {removed} ({len(files)} files of {last_day})", flush=True)
    return db


def check_day_load(result, day: date, lake: Path, record: Path) -> None:
    """The one-day load after a reused history took exactly that day's files (and rows)."""
    from shopdw.lake.layout import RAW_PREFIX
    from shopdw.lake.store import open_lake

    want = sorted(f.path for f in open_lake(str(lake)).list(RAW_PREFIX) if f"ingest_date={day.isoformat()}/" in f.path)
    got = sorted(f.path for f in result.files)
    assert got == want and all(f.status == "loaded" for f in result.files), (
        f"the day-{day} load after the history copy took {got}, expected exactly {want}, all loaded"
    )
    if record.exists():
        removed = json.loads(record.read_text())["removed_rows"]
        loaded = {e: v["rows_loaded"] for e, v in result.rows_by_entity.items()}
        expect = {t: n for t, n in removed.items() if t in RAW_TABLES and n}
        assert loaded == expect, f"day {day}: loaded {loaded}, the history copy lacks {expect}"
    print(f"day {day}: loaded exactly its {len(got)} lake files", flush=True)


OK = ("success", "pass", "warn")
PROJECT = ROOT / "src" / "shopdw" / "dbt"
SKIP_DIRS = {"target", "logs", "dbt_packages", ".shopdw-dbt"}


def project_hash() -> str:
    """sha256 over the dbt project's files (relative path and bytes), dbt's own output dirs aside."""
    h = hashlib.sha256()
    for f in sorted(PROJECT.rglob("*")):
        rel = f.relative_to(PROJECT)
        if f.is_file() and not (set(rel.parts[:-1]) & SKIP_DIRS) and "__pycache__" not in rel.parts:
            h.update(str(rel).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def full_copy_path(days: int, orders_per_day: int) -> Path:
    return WORK / f"full_{orders_per_day}_{days}.duckdb"


def parse_copy_path(days: int, orders_per_day: int) -> Path:
    """dbt's saved parse (.shopdw-dbt) kept with the full copy; its file name holds the warehouse
    path and the project hash, so it only serves a build of the same path and project."""
    return WORK / f"full_{orders_per_day}_{days}.shopdw-dbt"


def keep_full_copy(settings, full: dict, days: int, orders_per_day: int) -> None:
    """Copy the warehouse right after the full build, with the project hash and the full build's
    result stored in it (schema bench_meta, which nothing else reads)."""
    import duckdb

    dest = full_copy_path(days, orders_per_day)
    shutil.copyfile(settings.duckdb_path, dest)
    # dbt's saved parse of the full build, which the next build of this warehouse reuses (as a
    # daily `shopdw transform` reuses the previous day's): without it the incremental build would
    # pay a full parse (~5 s at 1M) that the combined run does not
    parse_dir = Path(settings.duckdb_path).parent / ".shopdw-dbt"
    shutil.rmtree(parse_copy_path(days, orders_per_day), ignore_errors=True)
    if parse_dir.is_dir():
        shutil.copytree(parse_dir, parse_copy_path(days, orders_per_day))
    con = duckdb.connect(str(dest))
    try:
        con.execute("create schema if not exists bench_meta")
        con.execute("create or replace table bench_meta.dbt_project (project_hash varchar, full_result varchar)")
        con.execute("insert into bench_meta.dbt_project values (?, ?)", [project_hash(), json.dumps(full)])
    finally:
        con.close()
    print(f"kept the warehouse after the full build: {dest}", flush=True)


def reuse_full_copy(settings, days: int, orders_per_day: int) -> dict:
    """Copy the kept post-full-build warehouse into place; its full build's result. Refuses a copy
    built by other dbt model code (or one without the hash)."""
    import duckdb

    src = full_copy_path(days, orders_per_day)
    if not src.exists():
        sys.exit(f"no kept full build at {src}: run once with --keep-full first")
    Path(settings.duckdb_path).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, settings.duckdb_path)
    if parse_copy_path(days, orders_per_day).is_dir():
        shutil.copytree(parse_copy_path(days, orders_per_day), Path(settings.duckdb_path).parent / ".shopdw-dbt")
    con = duckdb.connect(str(settings.duckdb_path))
    try:
        rows = con.execute("select project_hash, full_result from bench_meta.dbt_project").fetchall()
        con.execute("drop schema bench_meta cascade")
    except duckdb.Error:
        rows = []
    finally:
        con.close()
    if len(rows) != 1 or rows[0][0] != project_hash():
        os.remove(settings.duckdb_path)
        sys.exit(
            f"{src} was built by other dbt model code than src/shopdw/dbt now (project hash differs); "
            "rerun with --keep-full to make a new one"
        )
    return json.loads(rows[0][1])


def _build(settings, full_refresh: bool, select) -> dict:
    """In the child process: one `dbt build` through shopdw.transform; its result, CPU seconds
    (the whole process: dbt's Python and DuckDB's threads) and the load average around it."""
    from shopdw.transform import transform

    load_before = os.getloadavg()[0]
    cpu = time.process_time()
    result = transform(settings, full_refresh=full_refresh, select=select)
    out = result.to_dict()
    out["cpu_s"] = round(time.process_time() - cpu, 1)
    out["load_before"], out["load_after"] = round(load_before, 2), round(os.getloadavg()[0], 2)
    return out


def build_in_child(settings, full_refresh: bool, select) -> dict:
    """Each build in a fresh process, as `shopdw transform` runs it, so its CPU time is its own."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(_build, (settings, full_refresh, select))


KEPT_CACHES = ("jinja-code.", "json-schemas.")


def incremental_runs(settings, select, n: int) -> list[dict]:
    """n incremental builds of the loaded day, each in a fresh process and each from the same state:
    a copy of the warehouse file and of dbt's saved parse (.shopdw-dbt) taken before the first is
    put back before each later one. The last build's warehouse stays in place."""
    db = Path(settings.duckdb_path)
    parse_dir = db.parent / ".shopdw-dbt"
    saved_db, saved_parse = db.parent / "before_incremental.duckdb", db.parent / "before_incremental.shopdw-dbt"
    if n > 1:
        shutil.copyfile(db, saved_db)
        shutil.rmtree(saved_parse, ignore_errors=True)
        if parse_dir.is_dir():
            shutil.copytree(parse_dir, saved_parse)
    runs = []
    try:
        for i in range(n):
            if i:
                # the compiled-template and JSON-schema caches (keyed by content, not by the
                # warehouse's data) stay as the builds before left them, as they are for every
                # daily build after the first incremental one; the first incremental build after
                # a full build compiles the incremental path's templates (run 1)
                caches = {f.name: f.read_bytes() for f in parse_dir.glob("*") if f.name.startswith(KEPT_CACHES)}
                shutil.copyfile(saved_db, db)
                shutil.rmtree(parse_dir, ignore_errors=True)
                if saved_parse.is_dir():
                    shutil.copytree(saved_parse, parse_dir)
                for name, data in caches.items():
                    (parse_dir / name).write_bytes(data)
            run = build_in_child(settings, full_refresh=False, select=select)
            assert run["ok"], [(x["name"], x["message"]) for x in run["nodes"] if x["status"] not in OK]
            print(f"incremental build {i + 1}/{n}: {run['seconds']:.1f} s (CPU {run['cpu_s']} s)", flush=True)
            runs.append(run)
    finally:
        saved_db.unlink(missing_ok=True)
        shutil.rmtree(saved_parse, ignore_errors=True)
    return runs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders-per-day", type=int, default=2740)
    ap.add_argument("--days", type=int, default=365, help="days of history before the incremental day")
    ap.add_argument("--models-only", action="store_true", help="dbt build of models and seeds only (no tests)")
    ap.add_argument(
        "--reuse-history", action="store_true", help="copy the saved post-history warehouse instead of loading"
    )
    ap.add_argument(
        "--history-from", type=Path, help="derive the saved post-history warehouse from this DAYS+1 warehouse"
    )
    ap.add_argument("--keep-full", action="store_true", help="keep a copy of the warehouse after the full build")
    ap.add_argument(
        "--incremental-only", action="store_true", help="start from the --keep-full copy: the incremental build only"
    )
    ap.add_argument(
        "--incremental-runs", type=int, default=3,
        help="incremental builds of the same day, each from a copy of the warehouse as the day's load left it "
        "(default 3; the median is the result: one build's time moves by 15-25%% between runs on this machine)",
    )  # fmt: skip
    ap.add_argument("--dbt-threads", type=int, default=2, help="settings.dbt_threads for both builds (default 2)")
    ap.add_argument(
        "--memory-limit", default="1GB",
        help="settings.duckdb_memory_limit for the loads and both builds ('' = DuckDB's default, 80%% of RAM)",
    )  # fmt: skip
    args = ap.parse_args()
    if args.keep_full and args.incremental_only:
        ap.error("--keep-full and --incremental-only exclude each other")
    if args.history_from:
        derive_history(args.history_from.resolve(), args.days, args.orders_per_day)
        if not args.reuse_history:
            return

    from shopdw.config import Settings
    from shopdw.load import load
    from shopdw.warehouse import open_warehouse

    lake = generate(args.days + 1, args.orders_per_day)
    wh_dir = WORK / f"warehouse_{args.orders_per_day}_{args.days}"  # one per scale: a small run keeps the 1M one
    shutil.rmtree(wh_dir, ignore_errors=True)
    settings = Settings(lake=str(lake), duckdb_path=str(wh_dir / "bench.duckdb"), dbt_threads=args.dbt_threads,
                        duckdb_memory_limit=args.memory_limit)  # fmt: skip
    print(f"DuckDB memory_limit: {args.memory_limit or 'DuckDB default (80% of RAM)'}; dbt threads: {args.dbt_threads} "
          "(a full build under a memory limit: 1)", flush=True)  # fmt: skip
    select = ["resource_type:model", "resource_type:seed"] if args.models_only else None
    last_history_day = START + timedelta(days=args.days - 1)

    history_db, history_record = history_paths(args.days, args.orders_per_day)
    t = time.perf_counter()
    if args.incremental_only:
        full = reuse_full_copy(settings, args.days, args.orders_per_day)
        history_reused = True
    elif args.reuse_history and history_db.exists():
        wh_dir.mkdir(parents=True)
        shutil.copyfile(history_db, wh_dir / "bench.duckdb")
        history_reused = True
    else:
        load(settings, progress=True, until=last_history_day)
        history_reused = False
        if args.reuse_history:
            shutil.copyfile(wh_dir / "bench.duckdb", history_db)
    load_history_s = time.perf_counter() - t
    with open_warehouse(settings) as wh:
        orders = wh.query("select count(distinct order_id) from raw.orders")[0][0]

    if not args.incremental_only:
        full = build_in_child(settings, full_refresh=True, select=select)
        assert full["ok"], [(n["name"], n["message"]) for n in full["nodes"] if n["status"] not in OK]
        if args.keep_full:
            keep_full_copy(settings, full, args.days, args.orders_per_day)

    t = time.perf_counter()
    day_result = load(settings, progress=True, until=last_history_day + timedelta(days=1))
    load_day_s = time.perf_counter() - t
    if history_reused:
        check_day_load(day_result, last_history_day + timedelta(days=1), lake, history_record)
    runs = incremental_runs(settings, select, max(1, args.incremental_runs))
    inc = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]  # the median run (the middle one of an odd count)
    with open_warehouse(settings) as wh:
        orders_after = wh.query("select count(*) from analytics.fct_orders")[0][0]

    def top(result, n=8):
        return [(x["name"], x["seconds"]) for x in sorted(result["nodes"], key=lambda x: -x["seconds"])[:n]]

    def by_type(result):
        out: dict[str, float] = {}
        for x in result["nodes"]:
            out[x["resource_type"]] = round(out.get(x["resource_type"], 0.0) + x["seconds"], 1)
        return out

    results = {
        "date": date.today().isoformat(),
        "orders_per_day": args.orders_per_day,
        "history_days": args.days,
        "orders_in_history": orders,
        "orders_after_incremental_day": orders_after,
        "models_only": args.models_only,
        "duckdb_memory_limit": args.memory_limit,
        "dbt_threads": args.dbt_threads,
        # what dbt ran with: a full build under a memory limit runs on one thread (build_threads)
        "full_build_threads": full.get("threads"),
        "incremental_threads": inc.get("threads"),
        "history_reused": history_reused,
        "full_build_from_kept_copy": args.incremental_only,
        "load_history_s": round(load_history_s, 1),
        "load_one_day_s": round(load_day_s, 1),
        "full_build_s": round(full["seconds"], 1),
        "incremental_day_s": round(inc["seconds"], 1),
        "incremental_runs_s": [round(r["seconds"], 1) for r in runs],
        "incremental_runs_cpu_s": [r["cpu_s"] for r in runs],
        "incremental_share": round(inc["seconds"] / full["seconds"], 3),
        "full_build_cpu_s": full["cpu_s"],
        "incremental_day_cpu_s": inc["cpu_s"],
        "incremental_cpu_share": round(inc["cpu_s"] / full["cpu_s"], 3),
        "load_average_1min": {
            "before_full": full["load_before"],
            "after_full": full["load_after"],
            "before_incremental": inc["load_before"],
            "after_incremental": inc["load_after"],
        },
        "full_node_seconds_by_type": by_type(full),
        "incremental_node_seconds_by_type": by_type(inc),
        "full_slowest_nodes": top(full),
        "incremental_slowest_nodes": top(inc),
        "nodes": len(full["nodes"]),
        "incremental_nodes": len(inc["nodes"]),
        # every node of the incremental build, slowest first: where its time goes
        "incremental_node_seconds": [
            (x["name"], x["resource_type"], x["seconds"]) for x in sorted(inc["nodes"], key=lambda x: -x["seconds"])
        ],
    }
    WORK.mkdir(parents=True, exist_ok=True)
    name = "results_models_only.json" if args.models_only else "results.json"
    (WORK / name).write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    sys.exit(main())
