"""Shared fixtures: the tiers, the throwaway servers and the Olist data path."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from servers import postgres_server, s3_server  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
OLIST_DIR = REPO.parent / "shared" / "data" / "olist"


def pytest_collection_modifyitems(items):
    """Each test's tier is its folder: tests/unit, tests/integration, tests/e2e."""
    for item in items:
        for tier in ("unit", "integration", "e2e"):
            if f"{os.sep}{tier}{os.sep}" in str(item.fspath):
                item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture(scope="session")
def pg_server_dsn():
    """DSN of a throwaway PostgreSQL server shared by the session."""
    with postgres_server() as dsn:
        yield dsn


@pytest.fixture
def pg_dsn(pg_server_dsn):
    """A fresh, empty database on the shared server, dropped afterwards."""
    import psycopg

    name = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(pg_server_dsn, autocommit=True) as con:
        con.execute(f'create database "{name}"')
    base = pg_server_dsn.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(pg_server_dsn, autocommit=True) as con:
        con.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture(scope="session")
def s3_endpoint():
    """Endpoint of moto's S3 API server on 127.0.0.1, with dummy credentials in the environment."""
    mp = pytest.MonkeyPatch()
    mp.setenv("AWS_ACCESS_KEY_ID", "testing")
    mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with s3_server() as endpoint:
        yield endpoint
    mp.undo()


@pytest.fixture
def s3_bucket(s3_endpoint):
    """A new empty bucket on the S3 API server; yields its name."""
    import boto3

    name = f"lake-{secrets.token_hex(4)}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="session")
def olist_dir():
    """The real Olist CSVs in ../shared/data/olist; tests that need them skip when absent (CI has them)."""
    if not (OLIST_DIR / "olist_orders_dataset.csv").exists():
        pytest.skip(f"Olist data not present at {OLIST_DIR}")
    return OLIST_DIR
