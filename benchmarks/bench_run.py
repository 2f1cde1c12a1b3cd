"""Benchmark: `shopdw run` end to end (load -> dbt build -> quality gate -> publish) on DuckDB.

Two datasets, each in a fresh folder: 1M simulated orders (30 days) and the real Olist data
(../shared/data/olist, imported first). Each `shopdw` command runs as a child process so its
wall time, CPU time and peak RSS (ru_maxrss of the child) are its own. Goal (issue 5): 1M orders
in at most 60 s and 2 GiB on 2 cores.

With --floor, in the same run: what writing the pipeline's tables alone costs on this machine,
with none of its work around them (no validation, lineage, ledger, version ranking, join, test,
gate or export): DuckDB's own CREATE TABLE AS of the 1M lake's files, one raw table per entity,
and copies of every analytics table of the warehouse `shopdw run` built (the tables DESIGN.md
fixes), each into a fresh database file under the same memory limit (1 GB), with row-group
merges off (cheaper); and the pipeline's fixed cost, `shopdw run` on one day of 20 orders in a
fresh folder (imports, dbt's parse and its ~190 nodes, the gate, the dashboard and exports).

    .venv/bin/python benchmarks/bench_run.py [--orders 1000000] [--skip-olist] [--floor] [--write-readme]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from readme_section import replace_section  # benchmarks/readme_section.py, beside this script

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


def timed(cwd: Path, *args: str, samples: list | None = None) -> tuple[float, float, int, float]:
    """(seconds, peak RSS MiB, exit code, CPU seconds) of one shopdw command in a child process. With samples,
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
    return seconds, usage.ru_maxrss / 1024, code, usage.ru_utime + usage.ru_stime


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


def _cpu() -> float:
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def floor(lake: Path, built: Path, work: Path) -> list[tuple[str, float, float]]:
    """(what, seconds, CPU seconds): the raw tables by CTAS of the lake's files, then copies of the
    analytics tables of the built warehouse; each into a fresh database file (closed, checkpointed)."""
    import duckdb

    from shopdw.warehouse import check_ident

    out = []
    for name, schema in (("raw", "raw"), ("analytics", "analytics")):
        db = work / f"floor-{name}.duckdb"
        t, c = time.perf_counter(), _cpu()
        con = duckdb.connect(str(db))
        try:
            con.execute("set memory_limit = '1GB'")
            con.execute("set enable_progress_bar = false")
            con.execute("set max_vacuum_tasks = 0")
            con.execute(f"create schema {check_ident(schema)}")
            if name == "raw":
                for entity in sorted(p.name for p in (lake / "raw").iterdir()):
                    files = sorted(str(f) for f in (lake / "raw" / entity).glob("*/*.parquet"))
                    listing = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
                    con.execute(f'create table raw."{check_ident(entity)}" as select * from read_parquet([{listing}])')
                what = "floor: DuckDB's own CTAS of the lake's files into raw tables (no validation, no lineage)"
            else:
                con.execute("attach '" + str(built).replace("'", "''") + "' as built (read_only)")
                tables = [r[0] for r in con.execute(
                    "select table_name from duckdb_tables() where database_name = 'built' and schema_name = 'analytics' "
                    "order by 1").fetchall()]  # fmt: skip
                for table in tables:
                    name_sql = '"' + check_ident(table) + '"'
                    con.execute(f"create table analytics.{name_sql} as select * from built.analytics.{name_sql}")
                con.execute("detach built")
                what = f"floor: copies of the {len(tables)} analytics tables `shopdw run` built"
        finally:
            con.close()
        out.append((what, time.perf_counter() - t, _cpu() - c))
        db.unlink()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders", type=int, default=1_000_000, help="simulated orders in total (30 days)")
    ap.add_argument("--skip-olist", action="store_true")
    ap.add_argument("--write-readme", action="store_true", help="replace the results table in benchmarks/README.md")
    ap.add_argument("--floor", action="store_true", help="also measure the floor (see above) on the 1M lake")
    ns = ap.parse_args()
    rows = []
    work = Path(tempfile.mkdtemp(prefix="shopdw-bench-run-"))
    try:
        sim = work / "sim"
        sim.mkdir()
        per_day = -(-ns.orders // 30)
        s, mem, code, cpu = timed(sim, "generate", "--start", "2025-01-01", "--days", "30", "--orders-per-day",
                                  str(per_day), "--no-progress")  # fmt: skip
        rows.append((f"generate {ns.orders:,} orders (30 days)", s, mem, code, cpu))
        samples: list = []
        s, mem, code, cpu = timed(sim, "run", "--no-progress", samples=samples)
        rows.append((f"`shopdw run` on {ns.orders:,} orders: load + dbt build + gate + publish", s, mem, code, cpu))
        run_s, run_cpu = s, cpu
        steps = step_peaks(sim / "warehouse" / "shopdw.duckdb", samples)
        rows += [(f"- its step `{step}` (RSS sampled every 0.2 s)", sec, mib, "", None) for step, sec, mib in steps]
        s, mem, code, cpu = timed(sim, "run", "--date", "2025-01-30", "--no-progress")
        rows.append(("rerun of the last day (nothing new: incremental dbt, gate, publish)", s, mem, code, cpu))
        fixed: tuple[float, float] | None = None
        floors = floor(sim / "lake", sim / "warehouse" / "shopdw.duckdb", work) if ns.floor else []
        rows += [(what, s, None, "", cpu) for what, s, cpu in floors]
        if ns.floor:  # the fixed cost: the same command on almost no data
            tiny = work / "tiny"
            tiny.mkdir()
            timed(tiny, "generate", "--start", "2025-01-01", "--days", "1", "--orders-per-day", "20", "--no-progress")
            s, mem, code, cpu = timed(tiny, "run", "--no-progress")
            rows.append(
                ("floor: the fixed cost, `shopdw run` on one day of 20 orders in a fresh folder", s, mem, code, cpu)
            )
            fixed = (s, cpu)
        if not ns.skip_olist and OLIST.exists():
            ol = work / "olist"
            ol.mkdir()
            s, mem, code, cpu = timed(ol, "import-olist", str(OLIST), "--no-progress")
            rows.append(("import-olist (full Olist data)", s, mem, code, cpu))
            s, mem, code, cpu = timed(ol, "run", "--no-progress")
            rows.append(("`shopdw run` on the full Olist data (99,441 orders)", s, mem, code, cpu))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ncpu = os.cpu_count()
    rev = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"], capture_output=True, text=True)
    lines = [
        f"Machine: {ncpu} cores; DuckDB target; each command a child process (peak RSS = its ru_maxrss).",
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, code {rev.stdout.strip() or 'unknown'}.",
        "",
        "| step | seconds | CPU seconds | peak RSS (MiB) | exit code |",
        "|---|---:|---:|---:|---:|",
    ]
    dash = lambda v, fmt: "-" if v is None else format(v, fmt)  # noqa: E731
    lines += [
        f"| {name} | {s:.1f} | {dash(cpu, '.1f')} | {dash(mem, '.0f')} | {code} |" for name, s, mem, code, cpu in rows
    ]
    if floors:
        ncpu = ncpu or 1
        w_s, w_cpu = sum(x[1] for x in floors), sum(x[2] for x in floors)
        f_s, f_cpu = (w_s + fixed[0], w_cpu + fixed[1]) if fixed else (w_s, w_cpu)
        left = (f"leaving {60 - f_s:.1f} s for" if f_s < 60 else f"{f_s - 60:.1f} s more than the goal before") + (
            " the data work `shopdw run` does besides writing: validating every row, ranking versions, SCD2, "
            "joins and aggregates, the tests' queries, the gate's checks, the exports"
        )
        note = (
            f"The floor: writing the tables alone took {w_s:.1f} s ({w_cpu:.1f} s of CPU)"
            + (f", the fixed cost of a run {fixed[0]:.1f} s ({fixed[1]:.1f} s of CPU)" if fixed else "")
            + f": together {f_s:.1f} s ({f_cpu:.1f} s of CPU) of the goal's 60 s ({60 * ncpu} s of CPU on {ncpu} "
            f"cores), {left}. `shopdw run` on {ns.orders:,} orders took {run_s:.1f} s ({run_cpu:.1f} s of CPU)."
        )
        lines += ["", note]
    lines += ["", f"Load average (1, 5, 15 min) at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}."]
    lines += ["", f"Reproduce: `.venv/bin/python benchmarks/bench_run.py --orders {ns.orders}{' --floor' * ns.floor}`"]
    table = "\n".join(lines)
    print(table)
    if ns.write_readme:
        body = "Goal (issue 5): 1M orders end to end in at most 60 s and 2 GiB on 2 cores.\n\n" + table
        replace_section("## The pipeline end to end (`shopdw run`)", body)
    return 0 if all(code in (0, 1, "") for _, _, _, code, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
