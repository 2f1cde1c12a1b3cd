"""The lake: immutable, atomically written batch files under raw/<entity>/ingest_date=.../."""

from shopdw.lake.layout import RawPath, parse_raw_path, raw_path
from shopdw.lake.store import Lake, LakeFile, LocalLake, S3Lake, lake_from_settings, open_lake, sha256

__all__ = [
    "Lake",
    "LakeFile",
    "LocalLake",
    "RawPath",
    "S3Lake",
    "lake_from_settings",
    "open_lake",
    "parse_raw_path",
    "raw_path",
    "sha256",
]
