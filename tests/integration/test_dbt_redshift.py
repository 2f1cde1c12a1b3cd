"""The redshift target without a cluster: `dbt parse` with a generated redshift profile (fake
host), dist/sort keys configured for it, and every model's redshift SQL (first build and
incremental run) parsed with sqlglot's Redshift grammar.

dbt compile needs a connection only for introspection (the relation cache and
is_incremental()'s relation lookup); the tests answer those lookups without a connection so
the real dbt renderer produces the SQL dbt would send to Redshift.
"""

from __future__ import annotations

import glob
from pathlib import Path

import pytest
import sqlglot
from sqlglot.errors import ParseError

from shopdw.config import Secret, Settings
from shopdw.transform import INCREMENTAL_MODELS, PROJECT_DIR, _dbt_env, _invoke, parse_project

REDSHIFT = Settings(target="redshift", redshift_host="example.invalid", redshift_user="shopdw",
                    redshift_password=Secret("not-a-real-password"))  # fmt: skip


def _compile(monkeypatch, incremental: bool) -> tuple[dict[str, str], dict[str, str]]:
    """Compiled redshift SQL of the models (and, separately, of their data tests)."""
    from dbt.adapters.redshift.impl import RedshiftAdapter

    def get_relation(self, database, schema, identifier, needs_information=False):
        if not incremental:
            return None
        return self.Relation.create(database=database, schema=schema, identifier=identifier, type="table")

    monkeypatch.setattr(RedshiftAdapter, "get_relation", get_relation)
    monkeypatch.setattr(RedshiftAdapter, "list_relations_without_caching", lambda self, schema_relation: [])
    select = "config.materialized:incremental" if incremental else "resource_type:model"
    with _dbt_env(REDSHIFT) as (tmp, flags):
        res = _invoke(["compile", "--no-populate-cache", "--select", select, *flags])
        assert res.success, res.exception
        files = glob.glob(str(tmp / "target" / "compiled" / "shopdw" / "models" / "**" / "*.sql"), recursive=True)
        models = {Path(f).stem: Path(f).read_text() for f in files if not Path(f).parent.name.endswith(".yml")}
        tests = {Path(f).stem: Path(f).read_text() for f in files if Path(f).parent.name.endswith(".yml")}
        return models, tests


def test_dbt_parse_succeeds_for_redshift_and_configures_dist_and_sort_keys():
    manifest = parse_project(REDSHIFT)
    models = {n.name: n for n in manifest.nodes.values() if n.resource_type == "model"}
    assert len(models) == 32
    for name, node in models.items():
        extra = node.config.extra
        if name.startswith(("dim_", "mart_")):
            assert extra.get("dist") == "all", name
        if name.startswith("fct_"):
            assert extra.get("dist") in ("order_id", "session_id"), name
            assert extra.get("sort"), name
            assert node.config.materialized == "incremental" and node.config.unique_key, name
        if name == "customer_360":
            assert extra.get("dist") == "customer_unique_id"
        assert node.schema in ("staging", "intermediate", "analytics"), (name, node.schema)


def test_schema_prefix_applies_to_redshift_only():
    prefixed = Settings(**{**REDSHIFT.__dict__, "redshift_schema_prefix": "dev_"})
    manifest = parse_project(prefixed)
    schemas = {n.schema for n in manifest.nodes.values() if n.resource_type == "model"}
    assert schemas == {"dev_staging", "dev_intermediate", "dev_analytics"}


@pytest.mark.parametrize("incremental", [False, True], ids=["first-build", "incremental"])
def test_every_model_renders_sql_that_parses_with_a_redshift_grammar(monkeypatch, incremental):
    compiled, tests = _compile(monkeypatch, incremental)
    # incremental: transform's watermarked models (int_customer_metrics among them)
    expected = len(list(Path(PROJECT_DIR, "models").rglob("*.sql"))) if not incremental else len(INCREMENTAL_MODELS)
    assert len(compiled) == expected, sorted(compiled)
    # every data test of the models' yml files on a selected model (dbt's eager indirect selection)
    nodes = parse_project(REDSHIFT).nodes
    selected = {uid for uid, n in nodes.items() if n.resource_type == "model"
                and (not incremental or n.config.materialized == "incremental")}  # fmt: skip

    def of_selected_models(n) -> bool:
        return any(d in selected for d in n.depends_on.nodes)

    expected_tests = {Path(n.path).stem for n in nodes.values()
                      if n.resource_type == "test" and n.original_file_path.endswith(".yml") and of_selected_models(n)}  # fmt: skip
    assert set(tests) == expected_tests and len(tests) > (100 if not incremental else 40)
    failures = {}
    for name, sql in {**compiled, **tests}.items():
        try:
            statements = [s for s in sqlglot.parse(sql, read="redshift") if s is not None]
            assert len(statements) == 1
        except (ParseError, AssertionError) as e:
            failures[name] = str(e)[:300]
    assert not failures, failures
    if incremental:
        # the incremental branch really rendered: facts read only the touched keys
        assert "_loaded_at >" in compiled["fct_orders"] and "dateadd(" in compiled["fct_orders"].lower()
        assert "_loaded_at >" in compiled["int_customer_versions"]
        assert "_loaded_at >" in compiled["int_customer_metrics"]  # only the people touched since
        # the incremental models' tests read the build's watermark from meta.dbt_watermarks
        test_sql = tests["unique_fct_orders_order_id"]
        assert "_loaded_at > (select since from meta.dbt_watermarks where schema_name = 'analytics'" in test_sql
        assert "dateadd(" in test_sql.lower()
    else:
        assert "_loaded_at >" not in compiled["fct_orders"]
        assert "date_part(dow" in compiled["dim_date"]  # the redshift__ dispatch, not the default


def test_the_grammar_check_can_fail():
    with pytest.raises(ParseError):
        sqlglot.parse("select a from from t where", read="redshift")
