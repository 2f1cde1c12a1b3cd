"""The Redshift target against a recording connection (no Redshift here) and a real S3 API server.

Every statement it issues (DDL, lock, ledger, COPY, quarantine and ledger inserts) is produced by
the code under test and parsed with sqlfluff's Redshift grammar; the manifests and staged Parquet
files it writes to S3 are read back and checked; the password never appears in a statement, a
message or the output.
"""

from __future__ import annotations

import io
import json
import re

import pyarrow.parquet as pq
import pytest
from test_load_support import ground_truth, parquet_rows, simulate

import shopdw.warehouse.redshift as rs
from shopdw.config import Secret, Settings
from shopdw.contracts import raw_arrow_schema
from shopdw.errors import ConfigError, TransientError
from shopdw.lake.store import lake_from_settings
from shopdw.load import load

PASSWORD = "Pw-n0t-in-logs-7f3a"
ROLE = "arn:aws:iam::123456789012:role/shopdw-redshift-copy"


class FakeCursor:
    def __init__(self, conn):
        self.conn = conn
        self.description = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def execute(self, sql, params=None):
        self.conn.log.append((self.conn.name, sql, list(params) if params is not None else None))
        self.description = [("x",)] if sql.lstrip().lower().startswith("select") else None

    def fetchall(self):
        return []


class FakeConnection:
    """Records statements; answers every query with no rows (an empty warehouse)."""

    def __init__(self, log, name):
        self.log, self.name, self.closed = log, name, False

    def cursor(self):
        return FakeCursor(self)

    def close(self):
        self.closed = True


@pytest.fixture
def recorder(monkeypatch):
    log: list[tuple[str, str, list | None]] = []
    connects: list[dict] = []

    def connect(**kw):
        connects.append(kw)
        return FakeConnection(log, f"conn{len(connects)}")

    monkeypatch.setattr(rs, "_driver_connect", connect)
    return log, connects


def _settings(lake: str, endpoint: str | None) -> Settings:
    return Settings(lake=lake, s3_endpoint=endpoint, target="redshift",
                    redshift_host="shopdw.123456789012.us-east-1.redshift-serverless.amazonaws.com",
                    redshift_user="admin", redshift_password=Secret(PASSWORD), redshift_database="dev",
                    redshift_iam_role_arn=ROLE, redshift_region="us-east-1")  # fmt: skip


def render(sql: str, params: list | None) -> str:
    if not params:
        return sql
    it = iter(params)
    return re.sub(r"%s", lambda _m: rs.sql_literal(next(it)), sql)


def test_redshift_statements_manifests_and_staged_rows(recorder, s3_endpoint, s3_bucket, capsys, caplog):
    from sqlfluff.core import FluffConfig, Linter

    log, connects = recorder
    settings = _settings(f"s3://{s3_bucket}/lake", s3_endpoint)
    lake = lake_from_settings(settings)
    simulate(lake, days=2, orders_per_day=12, defect_rate=0.03)
    result = load(settings, progress=False, run_id="run-rs-1")
    d = result.to_dict()
    assert d["exit_code"] == 0 and d["files_loaded"] == len(lake.list("raw/"))

    statements = [(c, render(sql, p)) for c, sql, p in log]
    texts = [s.lower() for _, s in statements]
    # the run lock: its own connection, a transaction holding LOCK meta.run_lock until the end
    lock_conn = next(c for c, s in statements if s == "lock meta.run_lock")
    lock_stmts = [s for c, s in statements if c == lock_conn]
    assert lock_stmts[2:4] == ["begin", "set statement_timeout to 600000"] and lock_stmts[-1] == "commit"
    # the load transaction: begin, lock the ledger, re-check it, one COPY per entity, inserts, commit
    main = [s for c, s in statements if c != lock_conn]
    begin = main.index("begin")
    assert main[begin + 1] == 'lock "meta"."load_ledger"' and main[-1] == "commit"
    copies = [s for s in main if s.startswith("copy ")]
    loaded_entities = [e for e, c in result.rows_by_entity.items() if c["rows_loaded"]]
    assert sorted(re.search(r'"raw"\."(\w+)"', s).group(1) for s in copies) == sorted(loaded_entities)
    for s in copies:
        assert f"iam_role '{ROLE}' format as parquet manifest region 'us-east-1'" in s
    # every table exists before loading, even for entities without files
    for entity in raw_arrow_schema.__globals__["LOAD_ORDER"]:
        assert any(t.startswith(f'create table if not exists "raw"."{entity}"') for t in texts)
    assert any('"review_comment_message" varchar(65535)' in t for t in texts)

    # every statement parses with a Redshift grammar
    linter = Linter(config=FluffConfig(overrides={"dialect": "redshift"}))
    for sql in sorted({s for _, s in statements}):
        parsed = linter.parse_string(sql + ";\n")
        assert not parsed.violations, (sql[:200], parsed.violations[:1])

    # manifests list exactly the staged files, with their sizes; staged rows = loaded rows
    for s in copies:
        entity = re.search(r'"raw"\."(\w+)"', s).group(1)
        url = re.search(r"from '([^']+)'", s).group(1)
        manifest = json.loads(lake.get(url.split(f"s3://{s3_bucket}/lake/", 1)[1]))
        n = 0
        for entry in manifest["entries"]:
            key = entry["url"].split(f"s3://{s3_bucket}/lake/", 1)[1]
            body = lake.get(key)
            assert entry["mandatory"] is True and entry["meta"]["content_length"] == len(body)
            table = pq.read_table(io.BytesIO(body))
            assert table.schema.names == raw_arrow_schema(entity).names
            assert set(table["_run_id"].to_pylist()) == {"run-rs-1"}
            n += table.num_rows
        assert n == result.rows_by_entity[entity]["rows_loaded"]
    assert sum(c["rows_loaded"] + c["rows_quarantined"] for c in result.rows_by_entity.values()) == sum(
        parquet_rows(lake).values())  # fmt: skip

    # quarantined rows and ledger rows go in through the same transaction
    q_rows = sum(len(p) // 7 for _, sql, p in log if sql.startswith('insert into "meta"."quarantine"'))
    assert q_rows == len(ground_truth(lake)) == d["rows_quarantined"]
    l_rows = sum(len(p) // 14 for _, sql, p in log if sql.startswith('insert into "meta"."load_ledger"'))
    assert l_rows == d["files_loaded"]

    # the password reaches the driver and nothing else
    assert all(c["password"] == PASSWORD and c["sslmode"] == "require" for c in connects)
    out = capsys.readouterr()
    assert PASSWORD not in "".join(s for _, s in statements) + out.out + out.err + caplog.text
    assert PASSWORD not in repr(settings) and PASSWORD not in json.dumps(settings.redacted())


def test_redshift_needs_an_s3_lake(recorder, tmp_path):
    settings = _settings(str(tmp_path / "lake"), None)
    simulate(lake_from_settings(settings), days=1, orders_per_day=2)
    with pytest.raises(ConfigError, match="s3://"):
        load(settings, progress=False)


def test_missing_redshift_settings_are_named():
    settings = Settings(target="redshift", lake="s3://b/x")
    with pytest.raises(ConfigError, match="redshift_host \\(SHOPDW_REDSHIFT_HOST\\)"):
        load(settings, progress=False)


def test_driver_errors_are_classified_and_redacted(monkeypatch, s3_endpoint, s3_bucket):
    import psycopg

    calls = []

    def refuse(**kw):
        calls.append(kw)
        raise psycopg.OperationalError(f"connection failed: server closed the connection (password={PASSWORD})")

    monkeypatch.setattr(rs, "_driver_connect", refuse)
    monkeypatch.setattr("time.sleep", lambda _s: None)
    with pytest.raises(TransientError) as e:
        load(_settings(f"s3://{s3_bucket}/lake", s3_endpoint), progress=False)
    assert PASSWORD not in str(e.value) and "gave up after 5 attempts" in str(e.value) and len(calls) == 5

    def bad_password(**kw):
        raise psycopg.OperationalError(f'password authentication failed for user "admin" ({PASSWORD})')

    monkeypatch.setattr(rs, "_driver_connect", bad_password)
    with pytest.raises(ConfigError) as e:
        load(_settings(f"s3://{s3_bucket}/lake", s3_endpoint), progress=False)
    assert PASSWORD not in str(e.value) and "check the DSN / user / password" in str(e.value)
