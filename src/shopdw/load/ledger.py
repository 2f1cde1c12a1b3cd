"""The load ledger and the quarantine: their schemas (as Arrow, so every target creates the
same tables) and how a run reads what is already loaded.

meta.load_ledger has one row per (path, content_hash) ever seen: status loaded, rejected or
duplicate. A file's ledger row commits in the same transaction as its rows, so a (path,
hash) in the ledger means "done", and nothing is ever loaded twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from shopdw.contracts import LOAD_ORDER, TS, raw_arrow_schema

LEDGER_SCHEMA = pa.schema(
    [
        ("path", pa.string()),
        ("size", pa.int64()),
        ("content_hash", pa.string()),
        ("entity", pa.string()),
        ("batch_id", pa.string()),
        ("ingest_date", pa.date32()),
        ("rows_in_file", pa.int64()),
        ("rows_loaded", pa.int64()),
        ("rows_quarantined", pa.int64()),
        ("status", pa.string()),
        ("reason", pa.string()),
        ("schema_drift", pa.string()),
        ("loaded_at", TS),
        ("run_id", pa.string()),
    ]
)

QUARANTINE_SCHEMA = pa.schema(
    [
        ("entity", pa.string()),
        ("source_file", pa.string()),
        ("row_number", pa.int64()),
        ("reason", pa.string()),
        ("row", pa.string()),
        ("run_id", pa.string()),
        ("quarantined_at", TS),
    ]
)

# Text columns that may be long (Redshift sizes VARCHAR columns; the rest fit in 256).
LONG_TEXT = {"review_comment_message", "review_comment_title", "reason", "row", "schema_drift", "path",
             "source_file", "_source_file"}  # fmt: skip


def all_tables() -> dict[tuple[str, str], pa.Schema]:
    """Every table the loader owns: meta.load_ledger, meta.quarantine and raw.<entity> for all entities."""
    tables = {("meta", "load_ledger"): LEDGER_SCHEMA, ("meta", "quarantine"): QUARANTINE_SCHEMA}
    for entity in LOAD_ORDER:
        tables[("raw", entity)] = raw_arrow_schema(entity)
    return tables


@dataclass
class LedgerState:
    """What the ledger already knows: (path, hash) pairs done, the sizes recorded per path, and where
    each hash was loaded."""

    done: set[tuple[str, str]] = field(default_factory=set)
    hashes_by_path: dict[str, set[str]] = field(default_factory=dict)
    sizes_by_path: dict[str, set[int]] = field(default_factory=dict)
    loaded_hash_path: dict[str, str] = field(default_factory=dict)

    def add(self, path: str, content_hash: str, status: str, size: int | None = None) -> None:
        self.done.add((path, content_hash))
        self.hashes_by_path.setdefault(path, set()).add(content_hash)
        if size is not None:
            self.sizes_by_path.setdefault(path, set()).add(size)
        if status == "loaded":
            self.loaded_hash_path.setdefault(content_hash, path)

    def seen(self, path: str, size: int) -> bool:
        """Whether a file of this path and size is already recorded: lake files are immutable (the lake
        refuses to overwrite one), so it is not read or hashed again. A file changed in place to another
        size is read, hashed and rejected; one changed to the same size is not noticed."""
        return size in self.sizes_by_path.get(path, ())


def read_ledger(wh) -> LedgerState:
    state = LedgerState()
    for path, content_hash, status, size in wh.query(
        "select path, content_hash, status, size from meta.load_ledger order by loaded_at, path"
    ):
        state.add(path, content_hash, status, size)
    return state


def is_done(wh, path: str, content_hash: str) -> bool:
    """Whether this exact file has a ledger row (used after a dropped connection: did the commit land?)."""
    ph = "?" if wh.dialect == "duckdb" else "%s"
    return bool(
        wh.query(f"select 1 from meta.load_ledger where path = {ph} and content_hash = {ph}", (path, content_hash))
    )
