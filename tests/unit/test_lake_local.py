import io
import os
import signal
import subprocess
import sys
import textwrap
from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shopdw.errors import LakeError
from shopdw.lake import LocalLake, parse_raw_path, raw_path
from shopdw.lake.formats import encode, write_batch


def test_layout_round_trip_and_errors():
    p = raw_path("orders", date(2025, 1, 2), "sim-20250102-000", "json")
    assert p == "raw/orders/ingest_date=2025-01-02/sim-20250102-000.jsonl"
    rp = parse_raw_path(p)
    assert (rp.entity, rp.ingest_date, rp.batch_id, rp.fmt) == ("orders", date(2025, 1, 2), "sim-20250102-000", "json")
    with pytest.raises(ValueError, match="ingest_date=2025-13-01"):
        parse_raw_path("raw/orders/ingest_date=2025-13-01/b.parquet")
    with pytest.raises(ValueError, match="unknown file extension .xlsx"):
        parse_raw_path("raw/orders/ingest_date=2025-01-01/b.xlsx")
    with pytest.raises(ValueError, match="batch id"):
        raw_path("orders", date(2025, 1, 1), "../evil")


def test_immutable_and_idempotent(tmp_path):
    lake = LocalLake(tmp_path)
    assert lake.put("raw/a/ingest_date=2025-01-01/b.csv", b"x,y\n") == "written"
    assert lake.put("raw/a/ingest_date=2025-01-01/b.csv", b"x,y\n") == "unchanged"
    with pytest.raises(LakeError, match="immutable"):
        lake.put("raw/a/ingest_date=2025-01-01/b.csv", b"x,z\n")
    assert lake.get("raw/a/ingest_date=2025-01-01/b.csv") == b"x,y\n"
    assert [f.path for f in lake.list()] == ["raw/a/ingest_date=2025-01-01/b.csv"]
    with pytest.raises(ValueError):
        lake.put("../outside", b"")


def test_writer_killed_mid_file_leaves_no_final_name(tmp_path):
    """A writer SIGKILLed while writing leaves only a hidden temp file, never the final name."""
    script = textwrap.dedent(
        f"""
        import os, sys
        import shopdw.lake.store as st
        real_fsync = os.fsync
        def stall(fd):
            sys.stdout.write("writing\\n"); sys.stdout.flush()
            import time; time.sleep(60)
        st.os.fsync = stall
        st.LocalLake({str(tmp_path)!r}).put("raw/x/ingest_date=2025-01-01/big.parquet", b"0" * 10_000_000)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    assert proc.stdout.readline().strip() == b"writing"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    lake = LocalLake(tmp_path)
    assert lake.list() == []
    assert not (tmp_path / "raw/x/ingest_date=2025-01-01/big.parquet").exists()
    leftovers = list((tmp_path / "raw/x/ingest_date=2025-01-01").iterdir())
    assert leftovers and all(p.name.startswith(".") for p in leftovers)
    # a rerun writes the file normally
    assert lake.put("raw/x/ingest_date=2025-01-01/big.parquet", b"0" * 10) == "written"


@pytest.mark.parametrize("fmt", ["parquet", "csv", "json"])
def test_encode_deterministic_and_split(tmp_path, fmt):
    t = pa.table(
        {
            "a": list(range(5000)),
            "b": [f"v{i}" for i in range(5000)],
            "ts": pa.array([1_600_000_000_000_000 + i for i in range(5000)], pa.timestamp("us")),
        }
    )
    assert encode(t, fmt) == encode(t, fmt)
    lake = LocalLake(tmp_path)
    out = write_batch(lake, "orders", date(2025, 1, 1), "b1", t, fmt, max_bytes=20_000)
    assert len(out) > 1 and all(o == "written" for _, o in out)
    assert all(f.size <= 20_000 for f in lake.list())
    assert write_batch(lake, "orders", date(2025, 1, 1), "b1", t, fmt, max_bytes=20_000) == [
        (p, "unchanged") for p, _ in out
    ]


def test_parquet_is_zstd_unless_told_otherwise():
    t = pa.table({"id": [f"{i:032x}" for i in range(1000)], "n": list(range(1000))})

    def codecs(data: bytes) -> set[str]:
        md = pq.ParquetFile(io.BytesIO(data)).metadata
        return {md.row_group(0).column(i).compression for i in range(md.num_columns)}

    assert codecs(encode(t, "parquet")) == {"ZSTD"}  # the lake's files
    plain = encode(t, "parquet", compression="none")  # what bench_generate.py --floor also measures
    assert codecs(plain) == {"UNCOMPRESSED"}
    assert pq.read_table(io.BytesIO(plain)).equals(t)
