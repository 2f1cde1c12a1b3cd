"""Helpers shared by the test_load* modules (no tests here): simulated lakes, warehouse snapshots,
ground truth."""

from __future__ import annotations

import csv
import io
from datetime import date

import pyarrow.parquet as pq

from shopdw.config import Settings
from shopdw.contracts import LOAD_ORDER
from shopdw.lake.store import Lake
from shopdw.warehouse import open_warehouse

START = date(2025, 3, 1)


def simulate(lake: Lake, days: int = 3, orders_per_day: int = 20, defect_rate: float = 0.0, fmt: str = "parquet",
             seed: int = 11, start: date = START):  # fmt: skip
    from shopdw.sources.simulator import SimulatorConfig, generate

    cfg = SimulatorConfig(start=start, days=days, orders_per_day=orders_per_day, seed=seed,
                          defect_rate=defect_rate, late_rate=0.1, fmt=fmt)  # fmt: skip
    return generate(lake, cfg, progress=False)


def ground_truth(lake: Lake) -> dict[tuple[str, int], str]:
    out = {}
    for f in lake.list("ground_truth/"):
        for r in csv.DictReader(io.StringIO(lake.get(f.path).decode())):
            out[(r["file"], int(r["row_number"]))] = r["defect"]
    return out


def parquet_rows(lake: Lake) -> dict[str, int]:
    """Rows per entity in the lake's Parquet files (read independently of the loader)."""
    out = {e: 0 for e in LOAD_ORDER}
    for f in lake.list("raw/"):
        out[f.path.split("/")[1]] += pq.read_metadata(io.BytesIO(lake.get(f.path))).num_rows
    return out


def raw_counts(settings: Settings) -> dict[str, int]:
    with open_warehouse(settings) as wh:
        return {e: wh.query(f"select count(*) from raw.{e}")[0][0] for e in LOAD_ORDER}


def snapshot(settings: Settings) -> dict[str, list[tuple]]:
    """Every raw table (without _loaded_at/_run_id, which name the run), the ledger and the quarantine,
    sorted: equal snapshots mean equal warehouses."""
    from shopdw.contracts import raw_arrow_schema

    out = {}
    with open_warehouse(settings) as wh:
        for e in LOAD_ORDER:
            cols = [n for n in raw_arrow_schema(e).names if n not in ("_loaded_at", "_run_id")]
            sel = ", ".join(cols)
            out[e] = sorted(wh.query(f"select {sel} from raw.{e}"), key=repr)
        out["ledger"] = sorted(
            wh.query("select path, content_hash, status, rows_in_file, rows_loaded, rows_quarantined, reason "
                     "from meta.load_ledger"), key=repr)  # fmt: skip
        out["quarantine"] = sorted(wh.query("select source_file, row_number, reason from meta.quarantine"), key=repr)
    return out


def ledger(settings: Settings) -> list[dict]:
    with open_warehouse(settings) as wh:
        cols = ["path", "content_hash", "entity", "status", "reason", "rows_in_file", "rows_loaded",
                "rows_quarantined", "schema_drift"]  # fmt: skip
        return [dict(zip(cols, r)) for r in wh.query(f"select {', '.join(cols)} from meta.load_ledger order by path")]


def assert_ledger_consistent(settings: Settings) -> None:
    """Each (path, hash) once; each loaded file's rows balance and match raw.* and meta.quarantine."""
    rows = ledger(settings)
    keys = [(r["path"], r["content_hash"]) for r in rows]
    assert len(keys) == len(set(keys)), "a file appears twice in the ledger"
    with open_warehouse(settings) as wh:
        for r in rows:
            if r["status"] != "loaded":
                continue
            assert r["rows_in_file"] == r["rows_loaded"] + r["rows_quarantined"], r
            ph = "?" if wh.dialect == "duckdb" else "%s"
            n = wh.query(f"select count(*) from raw.{r['entity']} where _source_file = {ph}", (r["path"],))[0][0]
            assert n == r["rows_loaded"], (r["path"], n, r["rows_loaded"])
            nq = wh.query(f"select count(*) from meta.quarantine where source_file = {ph}", (r["path"],))[0][0]
            assert nq == r["rows_quarantined"], (r["path"], nq, r["rows_quarantined"])
