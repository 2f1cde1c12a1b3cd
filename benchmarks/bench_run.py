"""Benchmark: `shopdw run` end to end (load -> dbt build -> quality gate -> publish) on DuckDB.

Two datasets, each in a fresh folder: 1M simulated orders (30 days) and the real Olist data
(../shared/data/olist, imported first). Each `shopdw` command runs as a child process so its
wall time and peak RSS (ru_maxrss of the child) are its own. Goal (issue 5): 1M orders in at
most 60 s and 2 GiB on 2 cores.

    .venv/bin/python benchmarks/bench_run.py [--orders 1000000] [--skip-olist] [--write-readme]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHOPDW = str(Path(sys.executable).parent / "shopdw")
OLIST = REPO.parent / "shared" / "data" / "olist"


def _rss_mib(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def timed(cwd: Path, *args: str, samples: list | None = None) -> tuple[float, float, int]:
    """(seconds, peak RSS MiB, exit code) of one shopdw command in a child process. With samples,
    the child's RSS is also sampled every 0.2 s as (UTC time, MiB) to attribute it to run steps."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPDW_")}
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # child: exec shopdw with output to a log file
        with open(cwd / f"{args[0]}.log", "ab") as log:
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
        os.chdir(cwd)
        os.execve(SHOPDW, [SHOPDW, *args], env)
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            break
        if samples is not None:
            rss = _rss_mib(pid)
            if rss is not None:
                samples.append((datetime.now(timezone.utc).replace(tzinfo=None), rss))
        time.sleep(0.2)
    seconds = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):  # 1 is a blocked gate; anything else is an error: show it before the folder goes
        lines = (cwd / f"{args[0]}.log").read_text(errors="replace").splitlines()
        print(f"`shopdw {' '.join(args)}` exited {code}; the end of its output:", *lines[-40:], sep="\n", flush=True)
    return seconds, usage.ru_maxrss / 1024, code


def step_peaks(db: Path, samples: list) -> list[tuple[str, float, float]]:
    """(step, seconds, peak sampled RSS MiB) for each step of the newest run in meta.runs."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "select step, started_at, ended_at from meta.runs where run_id = "
            "(select run_id from meta.runs where step = 'run' order by started_at desc limit 1) "
            "and step <> 'run' order by started_at"
        ).fetchall()
    finally:
        con.close()
    out = []
    for step, start, end in rows:
        end = end or datetime.max
        inside = [mib for t, mib in samples if start <= t.replace(microsecond=0) <= end]
        out.append((step, (end - start).total_seconds(), max(inside, default=0.0)))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders", type=int, default=1_000_000, help="simulated orders in total (30 days)")
    ap.add_argument("--skip-olist", action="store_true")
    ap.add_argument("--write-readme", action="store_true", help="replace the results table in benchmarks/README.md")
    ns = ap.parse_args()
    rows = []
    work = Path(tempfile.mkdtemp(prefix="shopdw-bench-run-"))
    try:
        sim = work / "sim"
        sim.mkdir()
        per_day = -(-ns.orders // 30)
        s, mem, code = timed(sim, "generate", "--start", "2025-01-01", "--days", "30", "--orders-per-day",
                             str(per_day), "--no-progress")  # fmt: skip
        rows.append((f"generate {ns.orders:,} orders (30 days)", s, mem, code))
        samples: list = []
        s, mem, code = timed(sim, "run", "--no-progress", samples=samples)
        rows.append((f"`shopdw run` on {ns.orders:,} orders: load + dbt build + gate + publish", s, mem, code))
        steps = step_peaks(sim / "warehouse" / "shopdw.duckdb", samples)
        rows += [(f"- its step `{step}` (RSS sampled every 0.2 s)", sec, mib, "") for step, sec, mib in steps]
        s, mem, code = timed(sim, "run", "--date", "2025-01-30", "--no-progress")
        rows.append(("rerun of the last day (nothing new: incremental dbt, gate, publish)", s, mem, code))
        if not ns.skip_olist and OLIST.exists():
            ol = work / "olist"
            ol.mkdir()
            s, mem, code = timed(ol, "import-olist", str(OLIST), "--no-progress")
            rows.append(("import-olist (full Olist data)", s, mem, code))
            s, mem, code = timed(ol, "run", "--no-progress")
            rows.append(("`shopdw run` on the full Olist data (99,441 orders)", s, mem, code))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ncpu = os.cpu_count()
    lines = [
        f"Machine: {ncpu} cores; DuckDB target; each command a child process (peak RSS = its ru_maxrss).",
        "",
        "| step | seconds | peak RSS (MiB) | exit code |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {name} | {s:.1f} | {mem:.0f} | {code} |" for name, s, mem, code in rows]
    lines += ["", f"Load average (1, 5, 15 min) at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}."]
    lines += ["", f"Reproduce: `.venv/bin/python benchmarks/bench_run.py --orders {ns.orders}`"]
    table = "\n".join(lines)
    print(table)
    if ns.write_readme:
        readme = REPO / "benchmarks" / "README.md"
        text = readme.read_text()
        head = "## The pipeline end to end (`shopdw run`)"
        start = text.index(head) + len(head)
        nxt = text.find("\n## ", start)
        body = "\n\nGoal (issue 5): 1M orders end to end in at most 60 s and 2 GiB on 2 cores.\n\n" + table + "\n"
        text = text[:start] + body + (text[nxt:] if nxt != -1 else "")
        readme.write_text(text)
    return 0 if all(code in (0, 1, "") for *_, code in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
