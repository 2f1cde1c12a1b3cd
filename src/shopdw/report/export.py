"""BI exports: the dashboard marts and customer_360 as files for Tableau, Power BI or Excel.

`export(settings, fmt="csv"|"parquet", out_dir=None) -> list[Path]` writes one file per
table (`analytics.mart_*` and `analytics.customer_360`), rows in a fixed order, plus a
`manifest.json` naming each file's table, row count, columns with their types and
SHA-256, so a BI tool (or a test) can read the files back with the right types.

CSV: UTF-8 with a byte-order mark (Excel then reads accents right), comma-separated, a
header row, decimal point, ISO dates and timestamps, an empty unquoted field for NULL and
`""` for an empty string. Parquet: Snappy-compressed, the warehouse's column types kept
(decimals stay decimals). Files are written atomically; the same warehouse gives the
same bytes.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from shopdw.config import Settings
from shopdw.errors import ConfigError, DataError
from shopdw.report.dashboard import MART_TABLES
from shopdw.report.source import Source, open_source

FORMATS = ("csv", "parquet")
BOM = b"\xef\xbb\xbf"
MANIFEST = "manifest.json"


def export_tables(src: Source) -> list[str]:
    """The tables exported: every analytics.mart_* and customer_360, sorted by name.

    All the contract's marts must be there: a half-built set would feed BI tools figures
    that do not add up.
    """
    names = sorted(t for s, t in src.tables() if s == "analytics" and (t.startswith("mart_") or t == "customer_360"))
    missing = [t for t in MART_TABLES if t not in names]
    if missing:
        raise DataError(
            f"{src.describe}: the marts are not built (missing {', '.join('analytics.' + t for t in missing)}); "
            "run `shopdw transform` (or `shopdw run`) first"
        )
    return names


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _encode(table: pa.Table, fmt: str) -> bytes:
    buf = io.BytesIO()
    if fmt == "csv":
        buf.write(BOM)
        pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=True, quoting_style="needed"))
    else:
        pq.write_table(table, buf, compression="snappy")
    return buf.getvalue()


def read_export(path: str | os.PathLike[str], schema: pa.Schema | None = None) -> pa.Table:
    """Read an exported file back (CSV with the manifest's column types when given)."""
    path = Path(path)
    if path.suffix == ".parquet":
        return pq.read_table(path)
    convert = pacsv.ConvertOptions(
        column_types=schema, strings_can_be_null=True, quoted_strings_can_be_null=False, null_values=[""]
    )
    return pacsv.read_csv(path, convert_options=convert)


def manifest_schema(entry: dict[str, Any]) -> pa.Schema:
    """The Arrow schema recorded for one manifest entry."""
    return pa.schema([pa.field(c["name"], _type_from_string(c["type"])) for c in entry["columns"]])


def _type_from_string(t: str) -> pa.DataType:
    simple = {
        "string": pa.string(), "large_string": pa.large_string(), "bool": pa.bool_(), "int8": pa.int8(),
        "int16": pa.int16(), "int32": pa.int32(), "int64": pa.int64(), "uint8": pa.uint8(), "uint16": pa.uint16(),
        "uint32": pa.uint32(), "uint64": pa.uint64(), "float": pa.float32(), "double": pa.float64(),
        "date32[day]": pa.date32(), "null": pa.null(),
    }  # fmt: skip
    if t in simple:
        return simple[t]
    if t.startswith("decimal128("):
        p, s = t[len("decimal128(") : -1].split(",")
        return pa.decimal128(int(p), int(s))
    if t.startswith("timestamp["):
        inner = t[len("timestamp[") : -1]
        unit, _, tz = inner.partition(", tz=")
        return pa.timestamp(unit, tz or None)
    raise ValueError(f"manifest column type {t!r} is not supported")


def export(
    settings: Settings,
    fmt: str = "csv",
    out_dir: str | os.PathLike[str] | None = None,
    progress: bool = False,
) -> list[Path]:
    """Write the marts and customer_360 to out_dir (default settings.export_dir); returns the files written.

    The last path is the manifest. Raises ConfigError for an unknown format and DataError
    when the marts are not built yet.
    """
    if fmt not in FORMATS:
        raise ConfigError(f"export format {fmt!r} is not one of {', '.join(FORMATS)}")
    out = Path(out_dir or settings.export_dir)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"export folder {out} exists and is not a folder; pass another --out")
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    entries = []
    with open_source(settings) as src:
        names = export_tables(src)
        with _progress(progress, len(names)) as advance:
            for name in names:
                table = src.query(f"select * from {src.table('analytics', name)} order by {_all_columns(src, name)}")
                data = _encode(table, fmt)
                path = out / f"{name}.{fmt}"
                _write_atomic(path, data)
                written.append(path)
                entries.append(
                    {
                        "table": f"analytics.{name}",
                        "file": path.name,
                        "rows": table.num_rows,
                        "sha256": hashlib.sha256(data).hexdigest(),
                        "columns": [{"name": f.name, "type": str(f.type)} for f in table.schema],
                    }
                )
                advance(name)
    manifest = {"format": fmt, "source": settings.target, "tables": entries}
    mpath = out / MANIFEST
    _write_atomic(mpath, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
    written.append(mpath)
    return written


def _all_columns(src: Source, name: str) -> str:
    """`1, 2, ..., n`: order by every column, so the files are the same bytes on every export."""
    n = src.query(f"select * from {src.table('analytics', name)} limit 0").num_columns
    return ", ".join(str(i) for i in range(1, n + 1))


class _progress:
    """A rich progress bar over the tables (or nothing)."""

    def __init__(self, enabled: bool, total: int):
        self.enabled, self.total = enabled, total

    def __enter__(self):
        if not self.enabled:
            return lambda _name: None
        from rich.progress import Progress

        self._p = Progress(transient=True)
        self._p.__enter__()
        task = self._p.add_task("exporting", total=self.total)
        return lambda name: self._p.update(task, advance=1, description=f"exported {name}")

    def __exit__(self, *exc: Any) -> None:
        if self.enabled:
            self._p.__exit__(*exc)
