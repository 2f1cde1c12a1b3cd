"""Lake paths: raw/<entity>/ingest_date=YYYY-MM-DD/<batch_id>.<ext> (bronze, immutable)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

RAW_PREFIX = "raw/"
GROUND_TRUTH_PREFIX = "ground_truth/"  # beside raw/, never loaded
FORMAT_EXT = {"parquet": "parquet", "csv": "csv", "json": "jsonl"}
EXT_FORMAT = {v: k for k, v in FORMAT_EXT.items()}
MAX_FILE_BYTES = 128 * 1024 * 1024  # split larger batches (AWS: files of similar size for parallel COPY)

_BATCH_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_RAW = re.compile(
    r"^raw/(?P<entity>[a-z_][a-z0-9_]*)/ingest_date=(?P<date>\d{4}-\d{2}-\d{2})/(?P<batch>[^/]+)\.(?P<ext>[a-z]+)$"
)


@dataclass(frozen=True)
class RawPath:
    entity: str
    ingest_date: date
    batch_id: str
    fmt: str  # parquet | csv | json

    @property
    def path(self) -> str:
        return raw_path(self.entity, self.ingest_date, self.batch_id, self.fmt)


def raw_path(entity: str, ingest_date: date, batch_id: str, fmt: str = "parquet") -> str:
    if not _BATCH_ID.match(batch_id):
        raise ValueError(f"batch id {batch_id!r} must be letters, digits, '_', '-', '.' (at most 128)")
    if fmt not in FORMAT_EXT:
        raise ValueError(f"format {fmt!r} is not one of {', '.join(FORMAT_EXT)}")
    return f"{RAW_PREFIX}{entity}/ingest_date={ingest_date.isoformat()}/{batch_id}.{FORMAT_EXT[fmt]}"


def parse_raw_path(path: str) -> RawPath:
    """Parse a lake-relative path; ValueError says what is wrong with it."""
    m = _RAW.match(path)
    if not m:
        raise ValueError(f"{path}: not a raw lake path; expected raw/<entity>/ingest_date=YYYY-MM-DD/<batch_id>.<ext>")
    ext = m["ext"]
    if ext not in EXT_FORMAT:
        raise ValueError(f"{path}: unknown file extension .{ext}; expected one of .parquet, .csv, .jsonl")
    try:
        d = date.fromisoformat(m["date"])
    except ValueError:
        raise ValueError(f"{path}: ingest_date={m['date']} is not a valid date") from None
    if not _BATCH_ID.match(m["batch"]):
        raise ValueError(f"{path}: batch id {m['batch']!r} has characters outside [A-Za-z0-9_.-]")
    return RawPath(m["entity"], d, m["batch"], EXT_FORMAT[ext])
