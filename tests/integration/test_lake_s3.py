from datetime import date

import pyarrow as pa
import pytest

from shopdw.errors import LakeError
from shopdw.lake import open_lake
from shopdw.lake.formats import write_batch


def test_s3_lake_against_real_s3_api_server(s3_endpoint, s3_bucket):
    lake = open_lake(f"s3://{s3_bucket}/shop", endpoint_url=s3_endpoint)
    t = pa.table({"order_id": ["a", "b"]})
    [(path, outcome)] = write_batch(lake, "orders", date(2025, 1, 1), "b1", t)
    assert outcome == "written" and path == "raw/orders/ingest_date=2025-01-01/b1.parquet"
    assert write_batch(lake, "orders", date(2025, 1, 1), "b1", t) == [(path, "unchanged")]
    with pytest.raises(LakeError, match="immutable"):
        write_batch(lake, "orders", date(2025, 1, 1), "b1", pa.table({"order_id": ["c"]}))
    files = lake.list()
    assert [f.path for f in files] == [path] and files[0].size == len(lake.get(path))
    assert lake.url(path) == f"s3://{s3_bucket}/shop/{path}"


def test_postgres_fixture_is_a_real_server(pg_dsn):
    import psycopg

    with psycopg.connect(pg_dsn) as con:
        assert con.execute("select current_setting('server_version_num')::int").fetchone()[0] >= 150000
