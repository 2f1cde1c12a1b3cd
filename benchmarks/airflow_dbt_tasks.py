"""Benchmark: dbt inside Airflow as ONE task (shopdw_elt's `transform`, a single in-process
`dbt build`) against the baseline the issue names, a task per model through astronomer-cosmos
(DbtTaskGroup, ExecutionMode.LOCAL, InvocationMode.DBT_RUNNER, TestBehavior.BUILD: each model
built with its tests in its own task, the fastest cosmos set-up available here).

Both run with `dag.test()` on their own copy of the same loaded DuckDB warehouse (N days of
simulated data, loaded but not yet transformed), in a fresh AIRFLOW_HOME each; the script
reports wall time, the number of Airflow tasks, and checks that both leave identical
analytics.* tables.

    .venv/bin/python benchmarks/airflow_dbt_tasks.py [--days 7] [--orders-per-day 200]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

BIN = Path(sys.executable).parent

ONE_TASK_DAG = '''"""airflow dag: dbt build as one task (what shopdw_elt does)."""
from datetime import datetime, timezone
from airflow.sdk import DAG, task

with DAG("bench_one_task", schedule=None, start_date=datetime(2025, 1, 1, tzinfo=timezone.utc), catchup=False):
    @task
    def transform():
        from shopdw.config import load_settings
        from shopdw.transform import transform as run

        r = run(load_settings())
        bad = [n.name for n in r.nodes if n.status in ("error", "fail")]
        assert not bad, bad

    transform()
'''

COSMOS_DAG = '''"""airflow dag: a task per dbt model through astronomer-cosmos."""
import json, os
from datetime import datetime, timezone
from airflow.sdk import DAG
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior, TestIndirectSelection

with DAG("bench_cosmos", schedule=None, start_date=datetime(2025, 1, 1, tzinfo=timezone.utc), catchup=False):
    DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(os.environ["BENCH_PROJECT_DIR"], dbt_vars=json.loads(os.environ["BENCH_DBT_VARS"]),
                                     install_dbt_deps=False),
        profile_config=ProfileConfig(profile_name="shopdw", target_name="duckdb",
                                     profiles_yml_filepath=os.environ["BENCH_PROFILES"]),
        # tests with several parents (relationships) run in their own task once every parent is built;
        # with the default (eager) selection they run inside the first parent's build and fail
        execution_config=ExecutionConfig(execution_mode=ExecutionMode.LOCAL, invocation_mode=InvocationMode.DBT_RUNNER,
                                         test_indirect_selection=TestIndirectSelection.CAUTIOUS),
        render_config=RenderConfig(load_method=LoadMode.DBT_LS, test_behavior=TestBehavior.BUILD,
                                   should_detach_multiple_parents_tests=True),
    )
'''

DRIVER = r"""
import json, sys, time
from datetime import datetime, timezone
from airflow.dag_processing.dagbag import DagBag
from airflow.models.taskinstance import TaskInstance
from airflow.utils.session import create_session
from sqlalchemy import select

dag_id = sys.argv[1]
t0 = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[2])
assert not bag.import_errors, bag.import_errors
parse_s = time.perf_counter() - t0
dag = bag.dags[dag_id]
t1 = time.perf_counter()
dr = dag.test(logical_date=datetime(2025, 1, 2, tzinfo=timezone.utc))
run_s = time.perf_counter() - t1
with create_session() as s:
    tis = list(s.scalars(select(TaskInstance).where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == dr.run_id)))
    states = sorted({str(ti.state) for ti in tis})
    failed = sorted(ti.task_id for ti in tis if str(ti.state) == "failed")
print("RESULT:" + json.dumps({"state": str(dr.state), "tasks": len(tis), "states": states, "failed": failed,
                              "parse_s": parse_s, "run_s": run_s}))
"""


def _digests(duckdb_path: str) -> dict[str, str]:
    from shopdw.config import Settings
    from shopdw.warehouse import open_warehouse

    out = {}
    with open_warehouse(Settings(duckdb_path=duckdb_path)) as wh:
        for (t,) in wh.query(
            "select table_name from information_schema.tables where table_schema = 'analytics' order by 1"
        ):
            cols = [c for (c,) in wh.query(
                "select column_name from information_schema.columns where table_schema = 'analytics' "
                f"and table_name = '{t}' order by ordinal_position") if c != "_loaded_at"]  # fmt: skip
            rows = sorted(repr(tuple(round(v, 9) if isinstance(v, float) else v for v in r)) for r in wh.query(
                f"select {', '.join(wh.quote_ident(c) for c in cols)} from analytics.{wh.quote_ident(t)}"))  # fmt: skip
            out[t] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return out


def _variant(name: str, dag_src: str, dag_id: str, root: Path, db: Path, base_env: dict[str, str]) -> dict:
    home = root / f"airflow-{name}"
    dags = home / "dags"
    dags.mkdir(parents=True)
    (dags / f"{dag_id}.py").write_text(dag_src)
    env = dict(base_env)
    env.update({
        "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "300",
        "SHOPDW_DUCKDB_PATH": str(db),
    })  # fmt: skip
    if name == "cosmos":
        import yaml

        from shopdw.config import Settings
        from shopdw.transform import PROJECT_DIR, _vars, profile_for

        settings = Settings(duckdb_path=str(db))
        profile, _ = profile_for(settings)
        (home / "profiles.yml").write_text(yaml.safe_dump(profile))
        env.update({"BENCH_PROJECT_DIR": str(PROJECT_DIR), "BENCH_PROFILES": str(home / "profiles.yml"),
                    "BENCH_DBT_VARS": json.dumps(_vars(settings))})  # fmt: skip
    subprocess.run([str(BIN / "airflow"), "db", "migrate"], env=env, cwd=home, check=True, capture_output=True)
    proc = subprocess.run([sys.executable, "-c", DRIVER, dag_id, str(dags)], env=env, cwd=home,
                          capture_output=True, text=True)  # fmt: skip
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT:")]
    if proc.returncode or not lines:
        sys.exit(f"{name} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    result = json.loads(lines[-1][7:])
    if result["failed"]:
        keys = ("Database Error", "Runtime Error", "Compilation Error", "does not exist", "Failure in", "[error")
        errors = [ln[:400] for ln in (proc.stdout + proc.stderr).splitlines() if any(k in ln for k in keys)]
        print(f"{name}: failed tasks {result['failed']}; first errors:\n" + "\n".join(errors[:15]), file=sys.stderr)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--orders-per-day", type=int, default=200)
    args = ap.parse_args()

    from shopdw import pipeline
    from shopdw.config import Settings
    from shopdw.lake.store import lake_from_settings
    from shopdw.sources.simulator import SimulatorConfig, generate

    root = Path(tempfile.mkdtemp(prefix="shopdw-bench-airflow-"))
    try:
        base = root / "base.duckdb"
        settings = Settings(lake=str(root / "lake"), duckdb_path=str(base))
        start = date(2025, 3, 3)
        generate(lake_from_settings(settings), SimulatorConfig(start=start, days=args.days,
                 orders_per_day=args.orders_per_day, seed=42), progress=False)  # fmt: skip
        run_id = pipeline.start_run(settings, None, command="bench")
        pipeline.step_load(settings, run_id, None)
        base_env = {k: v for k, v in os.environ.items() if not k.startswith(("SHOPDW_", "AIRFLOW"))}
        base_env["SHOPDW_LAKE"] = settings.lake
        base_env["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"  # cosmos runs `dbt ls` to render
        results = {}
        for name, src, dag_id in (("one_task", ONE_TASK_DAG, "bench_one_task"), ("cosmos", COSMOS_DAG, "bench_cosmos")):
            db = root / f"{name}.duckdb"
            shutil.copy(base, db)
            results[name] = _variant(name, src, dag_id, root, db, base_env)
            results[name]["digests"] = _digests(str(db))
        same = results["one_task"]["digests"] == results["cosmos"]["digests"]
        print(f"data: {args.days} days x {args.orders_per_day} orders/day; identical analytics tables: {same}")
        print("| variant | Airflow tasks | DAG parse (s) | dag.test() wall (s) | run state |")
        print("|---|---|---|---|---|")
        for name, r in results.items():
            print(f"| {name} | {r['tasks']} | {r['parse_s']:.1f} | {r['run_s']:.1f} | {r['state']} |")
        if not same:
            sys.exit("the two variants left different analytics tables")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    t = time.perf_counter()
    main()
    print(f"total {time.perf_counter() - t:.0f}s")
