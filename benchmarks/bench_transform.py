"""Benchmark the dbt project on DuckDB: a full build at ~1M orders, then a one-day incremental run.

Data: the simulator's Parquet lake, DAYS + 1 days x ORDERS_PER_DAY orders (default 365 + 1 days
x 2,740 = ~1.0M orders over the year of history), generated once into
benchmarks/_work/transform/lake (reused when present) and loaded by the loader.

1. load the first DAYS days, `dbt build --full-refresh` (seeds, models, every test): the full build;
2. load day DAYS + 1, `dbt build` (incremental facts re-read only the touched keys): the one-day run.
Both also reported without tests (models + seeds only) when --models-only is given.

Usage:  .venv/bin/python benchmarks/bench_transform.py [--orders-per-day 2740] [--days 365] [--models-only]
Results: benchmarks/_work/transform/results.json (and printed).
"""

from __future__ import annotations

import argparse
import json
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders-per-day", type=int, default=2740)
    ap.add_argument("--days", type=int, default=365, help="days of history before the incremental day")
    ap.add_argument("--models-only", action="store_true", help="dbt build of models and seeds only (no tests)")
    args = ap.parse_args()

    from shopdw.config import Settings
    from shopdw.load import load
    from shopdw.transform import transform
    from shopdw.warehouse import open_warehouse

    lake = generate(args.days + 1, args.orders_per_day)
    wh_dir = WORK / "warehouse"
    shutil.rmtree(wh_dir, ignore_errors=True)
    settings = Settings(lake=str(lake), duckdb_path=str(wh_dir / "bench.duckdb"), dbt_threads=2)
    select = ["resource_type:model", "resource_type:seed"] if args.models_only else None
    last_history_day = START + timedelta(days=args.days - 1)

    t = time.perf_counter()
    load(settings, progress=True, until=last_history_day)
    load_history_s = time.perf_counter() - t
    with open_warehouse(settings) as wh:
        orders = wh.query("select count(distinct order_id) from raw.orders")[0][0]

    full = transform(settings, full_refresh=True, select=select, progress=True)
    assert full.ok, [(n.name, n.message) for n in full.failed]

    t = time.perf_counter()
    load(settings, progress=True, until=last_history_day + timedelta(days=1))
    load_day_s = time.perf_counter() - t
    inc = transform(settings, select=select, progress=True)
    assert inc.ok, [(n.name, n.message) for n in inc.failed]
    with open_warehouse(settings) as wh:
        orders_after = wh.query("select count(*) from analytics.fct_orders")[0][0]

    def top(result, n=8):
        return [(x.name, x.seconds) for x in sorted(result.nodes, key=lambda x: -x.seconds)[:n]]

    def by_type(result):
        out: dict[str, float] = {}
        for x in result.nodes:
            out[x.resource_type] = round(out.get(x.resource_type, 0.0) + x.seconds, 1)
        return out

    results = {
        "date": date.today().isoformat(),
        "orders_per_day": args.orders_per_day,
        "history_days": args.days,
        "orders_in_history": orders,
        "orders_after_incremental_day": orders_after,
        "models_only": args.models_only,
        "load_history_s": round(load_history_s, 1),
        "load_one_day_s": round(load_day_s, 1),
        "full_build_s": round(full.seconds, 1),
        "incremental_day_s": round(inc.seconds, 1),
        "incremental_share": round(inc.seconds / full.seconds, 3),
        "full_node_seconds_by_type": by_type(full),
        "incremental_node_seconds_by_type": by_type(inc),
        "full_slowest_nodes": top(full),
        "incremental_slowest_nodes": top(inc),
        "nodes": len(full.nodes),
    }
    WORK.mkdir(parents=True, exist_ok=True)
    name = "results_models_only.json" if args.models_only else "results.json"
    (WORK / name).write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    sys.exit(main())
