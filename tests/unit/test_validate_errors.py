"""Driver errors -> the two error families, retries with backoff, and no secret in any message."""

from __future__ import annotations

import psycopg
import pytest

from shopdw.config import Secret
from shopdw.errors import ConfigError, TerminalError, TransientError
from shopdw.warehouse.base import check_ident, redact
from shopdw.warehouse.errors import classify, with_retries


def test_classify_psycopg_errors():
    dropped = classify(psycopg.OperationalError("server closed the connection unexpectedly"), "PostgreSQL")
    assert isinstance(dropped, TransientError) and "check that the server is up" in str(dropped)
    auth = classify(psycopg.OperationalError('password authentication failed for user "x"'), "PostgreSQL")
    assert isinstance(auth, ConfigError) and "check the DSN" in str(auth)
    bad_sql = classify(psycopg.errors.UndefinedTable('relation "raw.x" does not exist'), "PostgreSQL")
    assert isinstance(bad_sql, TerminalError) and not isinstance(bad_sql, TransientError)
    other = ValueError("a bug")
    assert classify(other, "x") is other


def test_classify_duckdb_lock_is_transient():
    import duckdb

    err = classify(duckdb.IOException('Could not set lock on file "w.duckdb": Conflicting lock is held'), "DuckDB")
    assert isinstance(err, TransientError) and "in use by another process" in str(err)


def test_secrets_are_redacted_from_messages():
    secret = Secret("s3cr3t-pw")
    err = classify(psycopg.OperationalError("connection to postgresql://me:s3cr3t-pw@h/db failed"), "PG", (secret,))
    assert "s3cr3t-pw" not in str(err)
    assert redact("postgresql://me:other@h:5432/db") == "postgresql://me:***@h:5432/db"


def test_retries_back_off_then_give_up():
    sleeps, calls = [], []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise TransientError("dropped")
        return "ok"

    assert with_retries(flaky, sleep=sleeps.append) == "ok" and sleeps == [0.5, 1.0]

    def always():
        raise TransientError("dropped")

    with pytest.raises(TransientError, match="gave up after 4 attempts"):
        with_retries(always, attempts=4, sleep=sleeps.append)
    assert sleeps[2:] == [0.5, 1.0, 2.0]

    def terminal():
        calls.append(1)
        raise ConfigError("bad setting")

    n = len(calls)
    with pytest.raises(ConfigError):
        with_retries(terminal, sleep=sleeps.append)
    assert len(calls) == n + 1  # terminal errors stop at once


def test_identifiers_are_validated():
    assert check_ident("order_items") == "order_items"
    for bad in ['x"; drop table raw.orders; --', "a b", "", "1abc"]:
        with pytest.raises(ConfigError, match="not allowed in SQL"):
            check_ident(bad)
