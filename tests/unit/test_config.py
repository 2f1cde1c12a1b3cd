import pytest

from shopdw.config import Secret, load_settings
from shopdw.errors import ConfigError


def test_precedence_defaults_file_env_flags(tmp_path):
    cfg = tmp_path / "shopdw.toml"
    cfg.write_text('lake = "from-file"\ndbt_threads = 4\ntarget = "postgres"\n')
    s = load_settings(env={"SHOPDW_LAKE": "from-env"}, config_file=cfg)
    assert s.lake == "from-env" and s.dbt_threads == 4 and s.target == "postgres"
    s = load_settings({"lake": "from-flag", "target": None}, env={"SHOPDW_LAKE": "from-env"}, config_file=cfg)
    assert s.lake == "from-flag" and s.target == "postgres"
    assert load_settings(env={}, config_file=tmp_path / "absent.toml").lake == "./lake"


def test_secret_never_from_file_and_never_printed(tmp_path):
    cfg = tmp_path / "shopdw.toml"
    cfg.write_text('postgres_dsn = "postgresql://u:hunter2@h/db"\n')
    with pytest.raises(ConfigError, match="secret.*SHOPDW_POSTGRES_DSN"):
        load_settings(env={}, config_file=cfg)
    s = load_settings(env={"SHOPDW_POSTGRES_DSN": "postgresql://u:hunter2@h/db"}, config_file=tmp_path / "x")
    assert isinstance(s.postgres_dsn, Secret)
    assert "hunter2" not in repr(s) and "hunter2" not in str(s.redacted()) and "hunter2" not in f"{s.postgres_dsn}"
    assert s.postgres_dsn.reveal().endswith("hunter2@h/db")


def test_bad_values_name_the_setting(tmp_path):
    with pytest.raises(ConfigError, match="target 'oracle'"):
        load_settings(env={"SHOPDW_TARGET": "oracle"}, config_file=tmp_path / "x")
    with pytest.raises(ConfigError, match="dbt_threads"):
        load_settings(env={"SHOPDW_DBT_THREADS": "many"}, config_file=tmp_path / "x")
    with pytest.raises(ConfigError, match="duckdb_memory_limit.*1GB"):
        load_settings(env={"SHOPDW_DUCKDB_MEMORY_LIMIT": "1; drop table x"}, config_file=tmp_path / "x")
    for ok in ("512MiB", "2 GB", "50%", ""):
        assert (
            load_settings(env={"SHOPDW_DUCKDB_MEMORY_LIMIT": ok}, config_file=tmp_path / "x").duckdb_memory_limit == ok
        )
    cfg = tmp_path / "shopdw.toml"
    cfg.write_text("lakee = 1\n")
    with pytest.raises(ConfigError, match="unknown setting 'lakee'"):
        load_settings(env={}, config_file=cfg)


def test_duckdb_memory_limit_reaches_the_connection(tmp_path):
    from shopdw.warehouse.duckdb import DuckDBWarehouse

    wh = DuckDBWarehouse(str(tmp_path / "w.duckdb"), memory_limit="300MiB")
    try:
        (limit,) = wh.query("select current_setting('memory_limit')")[0]
    finally:
        wh.close()
    assert limit in ("300.0 MiB", "314.5 MB"), limit
