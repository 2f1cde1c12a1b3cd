"""The Airflow DAGs for real: a DagBag with no import errors and the expected graphs; `dag.test()`
of both DAGs for two consecutive days (and a rerun of the first) on the embedded default (local
lake + DuckDB), whose warehouse must equal what `shopdw run` builds from the same lake; a backfill
dry run; a forced quality-gate failure that fails the DAG run, is not retried and calls the
notification hook (a real HTTP server); a warehouse that is down, retried with backoff and then
notified once.

Airflow reads its configuration when first imported, so every Airflow step runs in a
subprocess with its own AIRFLOW_HOME (a sqlite metadata DB migrated once per module and
copied per test); the pytest process itself never imports Airflow.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest

from shopdw.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags"
BIN = Path(sys.executable).parent
DAY1, DAY2 = date(2025, 3, 3), date(2025, 3, 4)
# A manual run (dag.test) with logical date X covers the last whole day before X: [X - 1 day, X),
# the same interval as the scheduled run that fires at X. So these logical dates cover DAY1, DAY2.
LOGICAL1, LOGICAL2 = "2025-03-04", "2025-03-05"
SOURCE_OPTS = {"orders_per_day": 30, "seed": 11, "late_rate": 0.05, "defect_rate": 0.0, "fmt": "parquet"}

# Runs inside the Airflow subprocess: describe the DagBag, or dag.test() a list of (dag_id, day).
DRIVER = r"""
import json, sys
from datetime import datetime, timezone

mode, arg = sys.argv[1], json.loads(sys.argv[2])
from airflow.dag_processing.dagbag import DagBag

bag = DagBag(dag_folder=arg["dags"])
out = {"import_errors": {str(k): str(v) for k, v in bag.import_errors.items()}, "dags": {}}
if mode == "describe":
    heavy = [m for m in ("duckdb", "dbt", "pyarrow", "shopdw.pipeline", "shopdw.sources.simulator") if m in sys.modules]
    out["heavy_modules_after_parse"] = heavy
    from airflow.sdk import RetryAction
    import shopdw.errors as E
    for dag_id, dag in bag.dags.items():
        tt = dag.timetable
        tasks = {}
        for t in dag.tasks:
            policy = t.retry_policy
            decisions = {}
            if policy is not None:
                for exc in (E.GateFailed("gate"), E.DataError("bad row"), E.ConfigError("bad setting"),
                            E.TransientError("dropped"), ConnectionResetError("reset"), RuntimeError("bug")):
                    decisions[type(exc).__name__] = policy.evaluate(exc, 1, t.retries + 1).action.value
            tasks[t.task_id] = {
                "upstream": sorted(t.upstream_task_ids),
                "retries": t.retries,
                "retry_exponential_backoff": float(t.retry_exponential_backoff or 0),
                "retry_delay_s": t.retry_delay.total_seconds(),
                "max_retry_delay_s": t.max_retry_delay.total_seconds() if t.max_retry_delay else None,
                "execution_timeout_s": t.execution_timeout.total_seconds() if t.execution_timeout else None,
                "depends_on_past": t.depends_on_past,
                "has_failure_callback": bool(t.on_failure_callback),
                "retry_decisions": decisions,
                "mode": getattr(t, "mode", None),
                "timeout_s": getattr(t, "timeout", None),
            }
        out["dags"][dag_id] = {
            "timetable": type(tt).__name__,
            "summary": getattr(tt, "expression", None),
            "timezone": str(getattr(tt, "timezone", "")),
            "catchup": dag.catchup,
            "max_active_runs": dag.max_active_runs,
            "start_date": dag.start_date.isoformat(),
            "fileloc": dag.fileloc,
            "tasks": tasks,
        }
else:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    from datetime import timedelta

    runs = []
    for dag_id, logical_day in arg["runs"]:
        dag = bag.dags[dag_id]
        # same retries and backoff, seconds instead of minutes: an unexpected retry must not stall the test
        for t in dag.tasks:
            t.retry_delay, t.max_retry_delay = timedelta(seconds=1), timedelta(seconds=2)
        logical = datetime.fromisoformat(logical_day).replace(tzinfo=timezone.utc)
        dr = dag.test(logical_date=logical)
        with create_session() as s:
            tis = s.scalars(select(TaskInstance).where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == dr.run_id))
            states = {ti.task_id: {"state": str(ti.state), "try_number": ti.try_number} for ti in tis}
        runs.append({"dag_id": dag_id, "logical_date": logical_day, "state": str(dr.state), "tasks": states,
                     "data_interval": [dr.data_interval_start.isoformat(), dr.data_interval_end.isoformat()]})
    out["runs"] = runs
print("RESULT:" + json.dumps(out))
"""


def _clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHOPDW_", "AIRFLOW"))}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
            "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        }
    )
    return env


@pytest.fixture(scope="module")
def migrated_db(tmp_path_factory) -> Path:
    """An Airflow metadata DB (sqlite) migrated once for the module; tests copy it."""
    home = tmp_path_factory.mktemp("airflow-template")
    proc = subprocess.run(
        [str(BIN / "airflow"), "db", "migrate"], env=_clean_env(home), cwd=home, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return home / "airflow.db"


@pytest.fixture
def airflow_env(migrated_db, tmp_path) -> dict[str, str]:
    """A fresh AIRFLOW_HOME with the migrated DB, and the embedded default shopdw settings under tmp_path."""
    home = tmp_path / "airflow"
    home.mkdir()
    shutil.copy(migrated_db, home / "airflow.db")
    env = _clean_env(home)
    env.update(
        {
            "SHOPDW_LAKE": str(tmp_path / "lake"),
            "SHOPDW_TARGET": "duckdb",
            "SHOPDW_DUCKDB_PATH": str(tmp_path / "warehouse" / "airflow.duckdb"),
            "SHOPDW_SITE": str(tmp_path / "site" / "index.html"),
            "SHOPDW_EXPORT_DIR": str(tmp_path / "exports"),
            "SHOPDW_DBT_THREADS": "2",
            "AIRFLOW_VAR_SHOPDW_SOURCE": json.dumps(SOURCE_OPTS),
        }
    )
    return env


def _airflow(env: dict[str, str], mode: str, arg: dict, cwd: Path, timeout: int = 1500) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, mode, json.dumps(arg)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT:")]
    assert proc.returncode == 0 and lines, (
        f"airflow driver failed ({proc.returncode}):\n{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}"
    )
    return json.loads(lines[-1][len("RESULT:") :])


# ---- the DagBag and the graphs -------------------------------------------------------------------


def test_dagbag_loads_both_dags_with_the_expected_graphs(airflow_env, tmp_path):
    out = _airflow(airflow_env, "describe", {"dags": str(DAGS)}, tmp_path)
    assert out["import_errors"] == {}
    assert set(out["dags"]) == {"shopdw_source", "shopdw_elt"}
    # DAG files declare the graph only: parsing them imports neither DuckDB, dbt, pyarrow nor the pipeline
    assert out["heavy_modules_after_parse"] == []

    for dag_id in ("shopdw_source", "shopdw_elt"):
        d = out["dags"][dag_id]
        assert (
            d["timetable"] == "CronDataIntervalTimetable" and d["summary"] == "0 0 * * *" and d["timezone"] == "UTC"
        ), d
        assert d["catchup"] is True
        assert d["start_date"].startswith("2025-01-01")
        for task_id, t in d["tasks"].items():
            assert t["has_failure_callback"], task_id
            assert t["execution_timeout_s"] and t["execution_timeout_s"] <= 3 * 3600, task_id
            # terminal errors fail at once, transient ones retry, unknown ones keep Airflow's default
            assert t["retry_decisions"] == {
                "GateFailed": "fail",
                "DataError": "fail",
                "ConfigError": "fail",
                "TransientError": "retry",
                "ConnectionResetError": "retry",
                "RuntimeError": "default",
            }, task_id
            assert t["retries"] == 3 and t["retry_exponential_backoff"] > 0 and t["max_retry_delay_s"] == 1800

    src = out["dags"]["shopdw_source"]["tasks"]
    assert {k: v["upstream"] for k, v in src.items()} == {"generate_batch": []}

    elt = out["dags"]["shopdw_elt"]
    assert elt["max_active_runs"] == 1
    order = ["wait_for_files", "start_run", "load", "transform", "quality_gate", "publish", "finish_run"]
    assert set(elt["tasks"]) == set(order)
    for prev, task_id in zip(order, order[1:], strict=False):
        assert prev in elt["tasks"][task_id]["upstream"], (prev, task_id)
    assert elt["tasks"]["wait_for_files"]["upstream"] == []
    assert elt["tasks"]["wait_for_files"]["mode"] == "reschedule"
    assert elt["tasks"]["wait_for_files"]["timeout_s"] == 12 * 3600
    assert all(t["depends_on_past"] for t in elt["tasks"].values())


def test_backfill_is_accepted_day_by_day(airflow_env, tmp_path):
    """`airflow backfill create` (dry run) plans one shopdw_elt run per day, in order."""
    airflow = [str(BIN / "airflow")]
    proc = subprocess.run(
        [*airflow, "dags", "reserialize"], env=airflow_env, cwd=tmp_path, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    cmd = [*airflow, "backfill", "create", "--dag-id", "shopdw_elt", "--from-date", "2025-03-03",
           "--to-date", "2025-03-05", "--reprocess-behavior", "failed", "--dry-run"]  # fmt: skip
    proc = subprocess.run(cmd, env=airflow_env, cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    planned = re.findall(r"^\| (\d{4}-\d\d-\d\d) 00:00:00\+00:00", proc.stdout, flags=re.M)
    assert planned == ["2025-03-03", "2025-03-04", "2025-03-05"], proc.stdout[-3000:]


# ---- the settings glue (pure: no Airflow needed) ---------------------------------------------------


def _conn(**kw):
    base = {"conn_id": "c", "conn_type": "http", "host": None, "port": None, "schema": None, "login": None,
            "password": None, "extra_dejson": {}}  # fmt: skip
    return SimpleNamespace(**{**base, **kw})


def test_settings_from_connections_and_variable():
    from shopdw.config import load_settings
    from shopdw.orchestration import settings_overrides

    flags = settings_overrides(
        {"target": "redshift", "dq_validity": 99},
        postgres=_conn(conn_type="postgres", host="db.internal", port=5433, schema="shop", login="etl", password="p@ss/w"),
        redshift=_conn(conn_type="redshift", host="wg.123.us-east-1.redshift-serverless.amazonaws.com", port=5439,
                       schema="dev", login="admin", password="s3cret",
                       extra_dejson={"iam_role_arn": "arn:aws:iam::1:role/r", "region": "us-east-1"}),
        notify=_conn(host="127.0.0.1", port=8080, schema="hooks/shopdw"),
    )  # fmt: skip
    s = load_settings(flags, env={})
    assert s.target == "redshift" and s.dq_validity == 99.0
    assert s.postgres_dsn.reveal() == "postgresql://etl:p%40ss%2Fw@db.internal:5433/shop"
    assert s.redshift_password.reveal() == "s3cret" and "s3cret" not in repr(s) and "s3cret" not in str(s.redacted())
    assert s.redshift_iam_role_arn == "arn:aws:iam::1:role/r" and s.redshift_port == 5439
    assert s.notify_webhook_url.reveal() == "http://127.0.0.1:8080/hooks/shopdw"
    # a full URL kept in the password (e.g. a Slack webhook) wins over host/port
    hook = _conn(conn_type="https", host="ignored", password="https://hooks.example.com/services/T/B/X")
    assert settings_overrides({}, notify=hook)["notify_webhook_url"] == "https://hooks.example.com/services/T/B/X"


def test_secrets_in_the_variable_and_bad_source_options_are_refused():
    from shopdw.orchestration import settings_overrides, source_options

    with pytest.raises(ConfigError, match="postgres_dsn.*connection"):
        settings_overrides({"postgres_dsn": "postgresql://u:pw@h/db"})
    with pytest.raises(ConfigError, match="unknown keys orders"):
        source_options({"orders": 5})
    with pytest.raises(ConfigError, match="fmt must be"):
        source_options({"fmt": "xml"})
    assert source_options({"orders_per_day": "30"})["orders_per_day"] == 30


# ---- dag.test(): two days, then the same warehouse as `shopdw run` ----------------------------------


def _wh(duckdb_path: str):
    from shopdw.config import Settings
    from shopdw.warehouse import open_warehouse

    return open_warehouse(Settings(duckdb_path=duckdb_path))


def _canonical(row: tuple) -> tuple:
    """Floats rounded to 9 decimals: DuckDB's parallel float aggregates (avg of lat/lng) may differ in
    the last bits between two builds of the same rows; every other value must match exactly."""
    return tuple(round(v, 9) if isinstance(v, float) else v for v in row)


def _table_digests(duckdb_path: str) -> dict[str, tuple[int, str]]:
    """Every analytics.* table: (row count, sha256 of its sorted rows), wall-clock columns excluded."""
    out = {}
    with _wh(duckdb_path) as wh:
        tables = [r[0] for r in wh.query(
            "select table_name from information_schema.tables where table_schema = 'analytics' order by 1"
        )]  # fmt: skip
        for t in tables:
            cols = [r[0] for r in wh.query(
                "select column_name from information_schema.columns where table_schema = 'analytics' "
                f"and table_name = '{t}' order by ordinal_position"
            )]  # fmt: skip
            select = ", ".join(wh.quote_ident(c) for c in cols if c not in VOLATILE_COLUMNS)
            rows = sorted(repr(_canonical(r)) for r in wh.query(f"select {select} from analytics.{wh.quote_ident(t)}"))
            out[t] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return out


# Lineage columns that record when a row was loaded, not what it says: they differ between any two
# loads of the same files, so the comparison leaves them out (every other column must match).
VOLATILE_COLUMNS = {"_loaded_at"}


def _states(run: dict) -> dict[str, str]:
    return {k: v["state"] for k, v in run["tasks"].items()}


def test_dag_test_two_days_equals_shopdw_run(airflow_env, tmp_path):
    from shopdw import pipeline
    from shopdw.config import load_settings

    # two consecutive days, then day 1 again: a rerun writes the same bytes and loads nothing new
    runs = [
        ["shopdw_source", LOGICAL1],
        ["shopdw_elt", LOGICAL1],
        ["shopdw_source", LOGICAL2],
        ["shopdw_elt", LOGICAL2],
        ["shopdw_source", LOGICAL1],
        ["shopdw_elt", LOGICAL1],
    ]
    out = _airflow(airflow_env, "test", {"dags": str(DAGS), "runs": runs}, tmp_path)
    assert out["import_errors"] == {}
    for run in out["runs"]:
        assert run["state"] == "success", run
        assert set(_states(run).values()) == {"success"}, run
    # keyed to the data interval, never to "now"
    intervals = [(r["dag_id"], r["data_interval"][0][:10], r["data_interval"][1][:10]) for r in out["runs"]]
    assert intervals == [
        ("shopdw_source", "2025-03-03", "2025-03-04"),
        ("shopdw_elt", "2025-03-03", "2025-03-04"),
        ("shopdw_source", "2025-03-04", "2025-03-05"),
        ("shopdw_elt", "2025-03-04", "2025-03-05"),
        ("shopdw_source", "2025-03-03", "2025-03-04"),
        ("shopdw_elt", "2025-03-03", "2025-03-04"),
    ]

    lake = Path(airflow_env["SHOPDW_LAKE"])
    daily = {p.name for p in lake.glob("raw/orders/ingest_date=*")}  # reference data sits under its own date
    assert daily == {f"ingest_date={DAY1}", f"ingest_date={DAY2}"}
    assert Path(airflow_env["SHOPDW_SITE"]).exists()

    af_db = airflow_env["SHOPDW_DUCKDB_PATH"]
    with _wh(af_db) as wh:
        runs_rows = wh.query(
            "select run_date, command, status, rows from meta.runs where step = 'run' order by started_at, run_id"
        )
    assert [r[:3] for r in runs_rows] == [(DAY1, "airflow", "success"), (DAY2, "airflow", "success"),
                                          (DAY1, "airflow", "success")]  # fmt: skip
    assert runs_rows[0][3] > 0 and runs_rows[1][3] > 0 and runs_rows[2][3] == 0, runs_rows

    # the same lake through `shopdw run --start DAY1 --end DAY2` into a fresh warehouse: the
    # warehouse the three Airflow runs left must equal it
    local_db = str(tmp_path / "warehouse" / "local.duckdb")
    env = {k: v for k, v in airflow_env.items() if k.startswith("SHOPDW_")}
    env.update({"SHOPDW_DUCKDB_PATH": local_db, "SHOPDW_SITE": str(tmp_path / "site2" / "index.html"),
                "SHOPDW_EXPORT_DIR": str(tmp_path / "exports2")})  # fmt: skip
    settings = load_settings(env=env, config_file=tmp_path / "absent.toml")
    result = pipeline.run(settings, start=DAY1, end=DAY2)
    assert result.status == "success", result.to_dict()

    af, local = _table_digests(af_db), _table_digests(local_db)
    assert len(af) >= 5 and any(n > 0 for n, _ in af.values()), af
    assert af == local


# ---- a forced gate failure: the DAG run fails, no retry, the hook is called ------------------------


class _Hook(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self):  # noqa: N802 (http.server API)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).received.append({"path": self.path, "body": json.loads(body)})
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    _Hook.received = []
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], _Hook.received
    server.shutdown()
    server.server_close()


def test_forced_gate_failure_fails_the_run_and_notifies(airflow_env, tmp_path, webhook):
    port, received = webhook
    env = dict(airflow_env)
    # an impossible validity threshold (through the Airflow variable) and the hook (through a connection)
    env["AIRFLOW_VAR_SHOPDW_SETTINGS"] = json.dumps({"dq_validity": 101})
    env["AIRFLOW_CONN_SHOPDW_NOTIFY"] = f"http://127.0.0.1:{port}/hooks/shopdw"
    runs = [["shopdw_source", LOGICAL1], ["shopdw_elt", LOGICAL1]]
    out = _airflow(env, "test", {"dags": str(DAGS), "runs": runs}, tmp_path)
    src, elt = out["runs"]
    assert src["state"] == "success"
    assert elt["state"] == "failed", elt
    states = _states(elt)
    assert states["quality_gate"] == "failed"
    assert elt["tasks"]["quality_gate"]["try_number"] == 1  # terminal: not retried
    assert states["publish"] == "upstream_failed" and states["finish_run"] == "upstream_failed"
    assert all(states[t] == "success" for t in ("wait_for_files", "start_run", "load", "transform"))

    assert len(received) == 1, received
    note = received[0]
    assert note["path"] == "/hooks/shopdw"
    assert "shopdw_elt.quality_gate failed for 2025-03-03" in note["body"]["subject"]
    assert "GateFailed" in note["body"]["text"] and "quarantined_rows_validity" in note["body"]["text"]

    with _wh(env["SHOPDW_DUCKDB_PATH"]) as wh:
        status = wh.query("select status, error from meta.runs where step = 'run'")
    assert len(status) == 1 and status[0][0] == "blocked" and "GateFailed" in status[0][1]
    assert not Path(env["SHOPDW_SITE"]).exists()  # nothing published


def test_transient_failure_is_retried_then_notified_once(airflow_env, tmp_path, webhook):
    """A warehouse that is down (PostgreSQL via the shopdw_postgres connection, nothing listening):
    the task is retried with backoff up to its retries, then fails; the hook is called once."""
    import socket

    port, received = webhook
    with socket.socket() as s:  # a loopback port with nothing listening on it
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    env = dict(airflow_env)
    env["AIRFLOW_VAR_SHOPDW_SETTINGS"] = json.dumps({"target": "postgres"})
    env["AIRFLOW_CONN_SHOPDW_POSTGRES"] = f"postgres://shopdw:pw@127.0.0.1:{dead_port}/shop"
    env["AIRFLOW_CONN_SHOPDW_NOTIFY"] = f"http://127.0.0.1:{port}/hooks/shopdw"
    runs = [["shopdw_source", LOGICAL1], ["shopdw_elt", LOGICAL1]]
    out = _airflow(env, "test", {"dags": str(DAGS), "runs": runs}, tmp_path)
    src, elt = out["runs"]
    assert src["state"] == "success"
    assert elt["state"] == "failed", elt
    assert elt["tasks"]["wait_for_files"]["state"] == "success"
    assert elt["tasks"]["start_run"] == {"state": "failed", "try_number": 4}  # 1 try + 3 retries
    assert elt["tasks"]["load"]["state"] == "upstream_failed"

    assert len(received) == 1, received  # the final failure only, not every retry
    text = received[0]["body"]["text"]
    assert "shopdw_elt.start_run failed" in received[0]["body"]["subject"]
    assert "TransientError" in text and "try: 4" in text
    assert "pw@" not in text  # the DSN's password never reaches the notification
