"""Run every benchmark one after the other, each in its own process, as benchmarks/README.md lists them.

    .venv/bin/python benchmarks/run_all.py                 # all, at the sizes the README reports (about 40 min)
    .venv/bin/python benchmarks/run_all.py --only load dbt  # a subset, by name
    .venv/bin/python benchmarks/run_all.py --list          # the commands, without running them

The benchmarks are run one at a time on purpose: each compares a candidate with its baseline in
one run, and two benchmarks sharing the two cores would stretch each other's wall times. A failing
benchmark is reported and the others still run; the exit code is 1 when any failed.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable

# name -> arguments after the interpreter; the README section each one feeds is in its docstring.
BENCHMARKS: dict[str, list[str]] = {
    "generate": ["benchmarks/bench_generate.py"],
    "load": ["benchmarks/bench_load.py"],
    "dbt": ["benchmarks/bench_transform.py", "--reuse-history", "--memory-limit", ""],
    "dbt-fixed-cost": ["benchmarks/bench_dbt_fixed_cost.py"],
    "run": ["benchmarks/bench_run.py"],
    "dashboard": ["benchmarks/bench_dashboard.py"],
    "airflow": ["benchmarks/airflow_dbt_tasks.py"],
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), metavar="NAME",
                    help=f"run only these ({', '.join(BENCHMARKS)})")  # fmt: skip
    ap.add_argument("--list", action="store_true", help="print the commands and exit")
    args = ap.parse_args(argv)
    names = args.only or list(BENCHMARKS)
    if args.list:
        for name in names:
            print(f"{name:15} {shlex.join([PY, *BENCHMARKS[name]])}")
        return 0
    failed = []
    for name in names:
        cmd = [PY, *BENCHMARKS[name]]
        print(f"== {name}: {shlex.join(cmd)}", flush=True)
        t = time.perf_counter()
        rc = subprocess.call(cmd, cwd=ROOT)
        print(f"== {name}: exit {rc} after {time.perf_counter() - t:.0f} s", flush=True)
        if rc != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
