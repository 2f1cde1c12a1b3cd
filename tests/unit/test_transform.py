"""transform.py without a warehouse: generated profiles, secrets, results, the holiday seed."""

from __future__ import annotations

import csv
import json
import os
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from dateutil.easter import easter
from rich.console import Console

from shopdw.config import Secret, Settings
from shopdw.errors import ConfigError
from shopdw.transform import PASSWORD_ENV, PROJECT_DIR, NodeResult, TransformResult, _classify, _dbt_env, profile_for


def test_duckdb_profile_points_at_the_settings_file(tmp_path):
    profile, password = profile_for(Settings(duckdb_path=str(tmp_path / "w" / "x.duckdb"), dbt_threads=3))
    out = profile["shopdw"]["outputs"]["duckdb"]
    assert profile["shopdw"]["target"] == "duckdb"
    assert out == {"type": "duckdb", "path": str(tmp_path / "w" / "x.duckdb"), "schema": "main", "threads": 3,
                   "config_options": {"preserve_insertion_order": False, "max_vacuum_tasks": 0,
                                      "memory_limit": "1GB"}}  # fmt: skip
    assert password is None and (tmp_path / "w").is_dir()
    unlimited, _ = profile_for(Settings(duckdb_path=str(tmp_path / "x.duckdb"), duckdb_memory_limit=""))
    assert unlimited["shopdw"]["outputs"]["duckdb"]["config_options"] == {
        "preserve_insertion_order": False,
        "max_vacuum_tasks": 0,
    }


def test_postgres_profile_parses_the_dsn_and_keeps_the_password_off_disk():
    s = Settings(target="postgres", postgres_dsn=Secret("postgresql://ana:s3cr%40t@db.example:6543/shop"))
    profile, password = profile_for(s)
    out = profile["shopdw"]["outputs"]["postgres"]
    assert (out["host"], out["port"], out["user"], out["dbname"]) == ("db.example", 6543, "ana", "shop")
    assert password == "s3cr@t"
    assert out["password"] == "{{ env_var('" + PASSWORD_ENV + "', '') }}"
    with _dbt_env(s) as (tmpdir, flags):
        text = (tmpdir / "profiles.yml").read_text()
        assert "s3cr" not in text and "env_var" in text
        assert os.environ[PASSWORD_ENV] == "s3cr@t"
        assert flags[flags.index("--profiles-dir") + 1] == str(tmpdir)
        assert str(tmpdir) in flags[flags.index("--log-path") + 1]  # dbt's logs stay out of the cwd
    assert PASSWORD_ENV not in os.environ or os.environ[PASSWORD_ENV] != "s3cr@t"


def test_postgres_without_dsn_names_the_setting():
    with pytest.raises(ConfigError, match="SHOPDW_POSTGRES_DSN"):
        profile_for(Settings(target="postgres"))


def test_a_dbt_compilation_error_says_what_is_wrong_not_only_where():
    exc = RuntimeError(
        "Compilation Error in model stg_shop__orders (models/staging/stg_shop__orders.sql)\n"
        "  'dict object' has no attribute 'version_rank'\n\n"
        "  > in macro latest_versions (macros/versions.sql)\n"
    )
    err = _classify(exc, Settings())
    assert isinstance(err, ConfigError)
    assert "in model stg_shop__orders" in str(err)
    assert "has no attribute 'version_rank'" in str(err)
    assert "in macro latest_versions" in str(err)


def test_postgres_dsn_without_host_is_a_config_error():
    with pytest.raises(ConfigError, match="postgres_dsn"):
        profile_for(Settings(target="postgres", postgres_dsn=Secret("dbname=shop")))


def test_redshift_profiles_password_and_iam():
    s = Settings(target="redshift", redshift_host="wg.123.us-east-1.redshift-serverless.amazonaws.com",
                 redshift_user="etl", redshift_password=Secret("pw"))  # fmt: skip
    profile, password = profile_for(s)
    out = profile["shopdw"]["outputs"]["redshift"]
    assert out["method"] == "database" and out["user"] == "etl" and password == "pw"
    assert "pw" not in yaml.safe_dump(profile)
    iam, pw = profile_for(Settings(target="redshift", redshift_host="h", redshift_region="eu-west-1",
                                   redshift_workgroup="shopdw"))  # fmt: skip
    out = iam["shopdw"]["outputs"]["redshift"]
    assert pw is None and out["method"] == "iam" and out["region"] == "eu-west-1" and out["is_serverless"]
    with pytest.raises(ConfigError, match="SHOPDW_REDSHIFT_HOST"):
        profile_for(Settings(target="redshift"))


def test_schema_prefix_is_validated_before_it_reaches_sql():
    s = Settings(target="redshift", redshift_host="h", redshift_schema_prefix='x"; drop table t; --')
    with pytest.raises(ConfigError, match="redshift_schema_prefix"), _dbt_env(s):
        pass


def _result() -> TransformResult:
    return TransformResult("duckdb", "build", False, None, 12.5, [
        NodeResult("model.shopdw.fct_orders", "fct_orders", "model", "success", 1.2, rows_affected=10),
        NodeResult("test.shopdw.unique_x", "unique_x", "test", "pass", 0.1, failures=0, model="fct_orders"),
        NodeResult("test.shopdw.not_null_y", "not_null_y", "test", "fail", 0.1, failures=3, message="Got 3 results",
                   model="dim_customer"),
    ])  # fmt: skip


def test_result_ok_counts_json_and_render():
    r = _result()
    assert not r.ok and [n.name for n in r.failed] == ["not_null_y"]
    d = json.loads(json.dumps(r.to_dict()))
    assert d["counts"] == {"success": 1, "pass": 1, "fail": 1} and d["ok"] is False
    assert d["nodes"][2]["failures"] == 3 and d["nodes"][2]["model"] == "dim_customer"
    console = Console(record=True, width=120)
    r.render(console)
    text = console.export_text()
    assert "not_null_y (3 failing rows)" in text and "failed" in text
    r.nodes.pop()
    assert r.ok and r.node("fct_orders").rows_affected == 10


def test_holiday_seed_matches_easter_and_the_fixed_dates():
    with open(PROJECT_DIR / "seeds" / "br_national_holidays.csv", encoding="utf-8") as fh:
        rows = {(date.fromisoformat(r["holiday_date"]), r["holiday_name"]) for r in csv.DictReader(fh)}
    for year in range(2016, 2031):
        e = easter(year)
        for d in (e - timedelta(days=48), e - timedelta(days=47), e - timedelta(days=2), e + timedelta(days=60)):
            assert any(day == d for day, _ in rows), (year, d)
        for m, dd in ((1, 1), (4, 21), (5, 1), (9, 7), (10, 12), (11, 2), (11, 15), (12, 25)):
            assert any(day == date(year, m, dd) for day, _ in rows), (year, m, dd)
        assert any(day == date(year, 11, 20) for day, _ in rows) == (year >= 2024)
    assert (date(2018, 2, 13), "Carnaval (terça-feira)") in rows
    assert len(rows) == 15 * 12 + 7


def test_every_model_has_a_yaml_with_its_grain_beside_it():
    models = sorted(PROJECT_DIR.glob("models/**/*.sql"))
    assert len(models) == 32
    for sql in models:
        spec = sql.with_suffix(".yml")
        assert spec.exists(), f"{sql.name} has no YAML beside it"
        doc = yaml.safe_load(spec.read_text())
        (model,) = [m for m in doc["models"] if m["name"] == sql.stem]
        assert "grain" in model["description"].lower(), sql.stem


def test_no_target_branch_inside_models():
    for sql in PROJECT_DIR.glob("models/**/*.sql"):
        text = sql.read_text()
        assert "target.type" not in text and "target.name" not in text, sql.name


def test_dbt_project_sets_materialization_per_folder():
    project = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())
    m = project["models"]["shopdw"]
    assert m["staging"]["+materialized"] == "view"
    assert m["marts"]["facts"]["+materialized"] == "incremental"
    assert Path(PROJECT_DIR / "macros" / "generate_schema_name.sql").exists()


def test_incremental_watermarks_per_model_and_an_old_plain_table_is_dropped(tmp_path):
    """incremental_since: None until every incremental model holds rows; then each model's newest
    _loaded_at (its watermark). A table from before a model became incremental (no
    _loaded_at) is dropped so the build recreates it in full."""
    import duckdb

    from shopdw.transform import (
        INCREMENTAL_MODELS,
        _record_watermarks,
        _vars,
        documented_columns,
        incremental_since,
    )

    path = tmp_path / "w.duckdb"
    s = Settings(duckdb_path=str(path))
    con = duckdb.connect(str(path))
    for schema in {sch for sch, _ in INCREMENTAL_MODELS}:
        con.execute(f"create schema {schema}")
    stamps = {}
    for i, (schema, table) in enumerate(INCREMENTAL_MODELS):
        stamps[table] = datetime(2026, 1, 1 + i, 8, 30)
        others = sorted(documented_columns()[table] - {"_loaded_at"})  # the columns its YAML lists
        con.execute(
            f"create table {schema}.{table} ({', '.join(c + ' varchar' for c in others)}, _loaded_at timestamp)"
        )
        con.execute(
            f"insert into {schema}.{table} (_loaded_at) values (?), (?)",
            [stamps[table] - timedelta(days=1), stamps[table]],
        )
    con.execute("delete from analytics.fct_reviews")
    con.close()
    assert incremental_since(s) is None  # an empty incremental model: a full build, every row tested
    con = duckdb.connect(str(path))
    con.execute("insert into analytics.fct_reviews (_loaded_at) values (?)", [stamps["fct_reviews"]])
    con.close()
    since = incremental_since(s)
    assert since == stamps
    # the watermarks reach dbt's tests through meta.dbt_watermarks, not through --vars (which would
    # change every build and make dbt re-parse the project)
    assert set(_vars(s)) == {"lookback_minutes", "schema_prefix"}
    _record_watermarks(s, since)
    _record_watermarks(s, since)  # replaced, not appended
    con = duckdb.connect(str(path))
    rows = con.execute("select schema_name, table_name, since from meta.dbt_watermarks order by 2").fetchall()
    con.close()
    assert rows == sorted(((sch, t, stamps[t]) for sch, t in INCREMENTAL_MODELS), key=lambda r: r[1])
    _record_watermarks(s, None)  # a full build: no watermark, every row tested
    con = duckdb.connect(str(path))
    assert con.execute("select count(*) from meta.dbt_watermarks").fetchone() == (0,)
    con.close()

    con = duckdb.connect(str(path))
    con.execute("drop table intermediate.int_seller_versions")
    con.execute("create table intermediate.int_seller_versions (seller_id varchar)")  # the old plain table
    con.execute("drop table intermediate.int_customer_metrics")
    con.execute("create table intermediate.int_customer_metrics (customer_unique_id varchar)")  # plain before
    con.execute("alter table analytics.fct_orders drop column customer_state")  # an older version's columns
    con.execute("create view intermediate.v_orders as select * from analytics.fct_orders")  # a dependent view
    con.close()
    assert incremental_since(s) is None
    con = duckdb.connect(str(path))
    left = con.execute(
        "select table_name from information_schema.tables "
        "where table_name in ('int_seller_versions', 'int_customer_metrics', 'fct_orders', 'fct_payments')"
    ).fetchall()
    con.close()
    assert left == [("fct_payments",)]  # the three dropped; a table with its documented columns is kept


def test_the_parse_is_kept_between_builds_and_redone_when_the_project_differs(tmp_path, monkeypatch):
    """dbt's target/ is a temp dir per invocation; the parse (partial_parse.msgpack) is kept
    beside the DuckDB file, so the next invocation (a fresh process in production) re-parses
    nothing. Its name hashes the profile, the vars and the project's files."""
    import shutil

    from shopdw import transform as t

    s = Settings(duckdb_path=str(tmp_path / "w" / "x.duckdb"))

    def parsed_files() -> int:
        with _dbt_env(s) as (tmpdir, flags):
            res = t._invoke(["parse", "--log-level", "none", *flags])
            assert res.success, res.exception
            return json.loads((tmpdir / "target" / "perf_info.json").read_text())["parsed_path_count"]

    assert parsed_files() > 50  # nothing saved yet: every file parsed
    saved = list((tmp_path / "w" / ".shopdw-dbt").glob("x.duckdb.*.msgpack"))
    assert len(saved) == 1
    assert parsed_files() == 0  # the saved parse was reused
    project = tmp_path / "project"
    shutil.copytree(PROJECT_DIR, project)
    (project / "models" / "staging" / "stg_shop__orders.sql").write_text(
        (PROJECT_DIR / "models" / "staging" / "stg_shop__orders.sql").read_text() + "\n-- changed\n"
    )
    monkeypatch.setattr(t, "PROJECT_DIR", project)
    with _dbt_env(s) as (tmpdir, flags):
        assert not (tmpdir / "target" / "partial_parse.msgpack").exists()  # another project: not reused
    assert parsed_files() > 50
    assert [p.name for p in (tmp_path / "w" / ".shopdw-dbt").glob("*.msgpack")] != [saved[0].name]
    assert len(list((tmp_path / "w" / ".shopdw-dbt").glob("*.msgpack"))) == 1  # the old one is dropped


def test_compiled_dbt_templates_are_kept_between_processes(tmp_path):
    """The code jinja compiles from dbt's templates is keyed by the template's text, name and
    environment class, saved beside the parse, and reused by the next process: the same code,
    not a recompilation; raw sources and an unreadable file go the normal way."""
    from dbt_common.clients.jinja import get_environment, get_template

    import shopdw.transform as T

    settings = Settings(duckdb_path=str(tmp_path / "w.duckdb"))
    T._JINJA_CODE_STATE.update(file=None, dirty=False)
    T._install_jinja_code_cache(settings)
    assert T._JINJA_CODE == {}
    source = "{% set greeting = 'hi' %}{{ greeting }} {{ name | upper }}"
    first = get_template(source, {})
    assert first.render({"name": "ana"}).strip() == "hi ANA" and len(T._JINJA_CODE) == 1
    code = next(iter(T._JINJA_CODE.values()))
    assert get_template(source, {}).render({"name": "bo"}).strip() == "hi BO" and len(T._JINJA_CODE) == 1
    native = get_template(source, {}, native=True)  # the other environment class: its own entry
    assert native.render({"name": "cy"}).strip() == "hi CY" and len(T._JINJA_CODE) == 2
    assert isinstance(get_environment().compile(source, raw=True), str)  # raw=True: jinja's own path
    T._save_jinja_code_cache()
    saved = T._jinja_code_file(settings)
    assert saved.parent == tmp_path / ".shopdw-dbt" and saved.exists()

    # a new process: the cache is read from the file, and the first template compiles nothing new
    T._JINJA_CODE.clear()
    T._JINJA_CODE_STATE.update(file=None, dirty=False)
    T._install_jinja_code_cache(settings)
    assert len(T._JINJA_CODE) == 2 and code in [c for c in T._JINJA_CODE.values() if c.co_code == code.co_code]
    assert get_template(source, {}).render({"name": "di"}).strip() == "hi DI" and not T._JINJA_CODE_STATE["dirty"]

    saved.write_bytes(b"not marshal data")
    T._JINJA_CODE_STATE.update(file=None, dirty=False)
    T._install_jinja_code_cache(settings)
    assert T._JINJA_CODE == {}
    assert get_template(source, {}).render({"name": "ed"}).strip() == "hi ED"
    T._JINJA_CODE_STATE.update(file=None, dirty=False)


def test_json_schemas_of_dbts_config_classes_are_kept_between_processes(tmp_path):
    """The JSON schema dbt validates its project against is saved beside the parse and served to
    the next process from the file, equal to the one mashumaro builds; dbt still rejects an
    invalid project with it; a class that is not a module's top-level dbt class is never kept;
    an unreadable file is ignored."""
    import dataclasses

    from dbt.contracts.project import Project
    from dbt_common.dataclass_schema import ValidationError, dbtClassMixin

    import shopdw.transform as T

    settings = Settings(duckdb_path=str(tmp_path / "w.duckdb"))
    T._JSON_SCHEMA_STATE.update(file=None, dirty=False)
    T._install_json_schema_cache(settings)
    T._JSON_SCHEMAS.clear()
    built = Project.json_schema()
    key = f"{Project.__module__}:{Project.__qualname__}"
    assert T._JSON_SCHEMAS[key] is built and T._JSON_SCHEMA_STATE["dirty"]

    @dataclasses.dataclass
    class Local(dbtClassMixin):  # defined here, not at a dbt module's top level
        x: int = 0

    Local.json_schema()
    assert all("Local" not in k for k in T._JSON_SCHEMAS)
    T._save_json_schema_cache()
    saved = T._json_schema_file(settings)
    assert saved.parent == tmp_path / ".shopdw-dbt" and saved.name.startswith("json-schemas.")

    # a new process: the schema comes from the file, equal to mashumaro's, and nothing is built
    T._JSON_SCHEMAS.clear()
    T._JSON_SCHEMA_STATE.update(file=None, dirty=False)
    T._install_json_schema_cache(settings)
    served = Project.json_schema()
    assert served is T._JSON_SCHEMAS[key] and served is not built and served == built
    assert not T._JSON_SCHEMA_STATE["dirty"]
    with pytest.raises(ValidationError):
        Project.validate({"name": "p", "version": 1, "profile": ["not", "a", "string"]})

    saved.write_text("{not json")
    T._JSON_SCHEMA_STATE.update(file=None, dirty=False)
    T._install_json_schema_cache(settings)
    assert T._JSON_SCHEMAS == {} and Project.json_schema() == built
    T._JSON_SCHEMA_STATE.update(file=None, dirty=False)


_SERIALIZER_PROBE = """
import json, sys
import shopdw.transform as T
if sys.argv[1] == "shopdw":
    T.preload_dbt()  # how a build imports dbt
    T._PRELOAD.join()
else:
    import dbt.cli.main  # noqa: F401  dbt imported directly, as before
from mashumaro.jsonschema.models import JSONObjectSchema
from dbt.contracts.project import Project
written = lambda: "CodeBuilder" not in JSONObjectSchema.__dict__["to_dict"].__code__.co_names
before = written()
schema = Project.json_schema()  # mashumaro's JSON-schema models serialize it
print(json.dumps({"before": before, "after": written(), "schema": schema}, sort_keys=True))
"""


def test_dbts_dataclasses_write_their_serializers_when_first_called():
    """Imported by a build, mashumaro's dataclasses (here the JSON-schema models dbt's config
    schemas are made of) get their to_dict code when it is first called, not at import; the
    schema it then serializes is the one an eager import gives. Fresh interpreters: the setting
    only applies to classes defined after it."""
    import subprocess
    import sys

    def probe(how: str) -> dict:
        out = subprocess.run([sys.executable, "-c", _SERIALIZER_PROBE, how], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    deferred, eager = probe("shopdw"), probe("plain")
    assert (deferred["before"], deferred["after"]) == (False, True)
    assert (eager["before"], eager["after"]) == (True, True)
    assert deferred["schema"] == eager["schema"] and deferred["schema"]["type"] == "object"


def test_dbt_takes_the_ready_node_with_the_longest_chain_after_it_first():
    import networkx as nx
    from dbt.graph.queue import GraphQueue
    from dbt.task.build import BuildTask

    from shopdw.transform import _critical_path_order

    _critical_path_order()
    graph = nx.DiGraph([("a", "b"), ("b", "c"), ("c", "d"), ("e", "d"), ("f", "g")])
    # lower is taken first: a (4 nodes from a to the end) before e and f (2), whatever the names
    assert GraphQueue._get_scores(None, graph) == {"a": -4, "b": -3, "c": -2, "d": -1, "e": -2, "f": -2, "g": -1}
    assert "_shopdw_order" in GraphQueue.__dict__ and BuildTask.handle_job_queue.__module__ == "shopdw.transform"
