"""dbt's fixed cost per build: incremental `dbt build`s with nothing new to read, each in a fresh
process as `shopdw transform` runs it, on a small warehouse (data work negligible).

Uses bench_transform's small lake (DAYS x ORDERS_PER_DAY, default 30 x 200), loads it, runs one
full build (which also saves dbt's parse), then REPEAT incremental builds with nothing loaded in
between. Prints wall and CPU seconds (the whole child process: dbt's Python and DuckDB's
threads) per build, the node count, and the load average.

Usage:  .venv/bin/python benchmarks/bench_dbt_fixed_cost.py [--orders-per-day 200] [--days 30] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_transform import WORK, build_in_child, generate  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders-per-day", type=int, default=200)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    from shopdw.config import Settings
    from shopdw.load import load

    lake = generate(args.days, args.orders_per_day)
    wh_dir = WORK / f"fixed_cost_{args.orders_per_day}_{args.days}"
    shutil.rmtree(wh_dir, ignore_errors=True)
    settings = Settings(lake=str(lake), duckdb_path=str(wh_dir / "bench.duckdb"), dbt_threads=2)
    load(settings, progress=False)
    builds = [("full", build_in_child(settings, True, None))]
    builds += [(f"incremental {i + 1}", build_in_child(settings, False, None)) for i in range(args.repeat)]
    rows = []
    for name, r in builds:
        assert r["ok"], [
            (n["name"], n["message"]) for n in r["nodes"] if n["status"] not in ("success", "pass", "warn")
        ]
        rows.append({"build": name, "wall_s": round(r["seconds"], 2), "cpu_s": r["cpu_s"], "nodes": len(r["nodes"]),
                     "counts_by_type": {t: sum(1 for n in r["nodes"] if n["resource_type"] == t)
                                        for t in sorted({n["resource_type"] for n in r["nodes"]})},
                     "load_1min": [r["load_before"], r["load_after"]]})  # fmt: skip
    print(json.dumps(rows, indent=1))
    print("uptime load average:", os.getloadavg())


if __name__ == "__main__":
    sys.exit(main())
