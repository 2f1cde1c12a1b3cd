"""One settings object, filled in order: defaults, `shopdw.toml`, `SHOPDW_*` environment, flags.

Secrets (DSNs with passwords, Redshift password, webhook URL) come only from the
environment or flags, never from a file, and print as `***`.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

from shopdw.errors import ConfigError

TARGETS = ("duckdb", "postgres", "redshift")


class Secret(str):
    """A string that never shows its value in repr/str formatting of settings or logs."""

    def __repr__(self) -> str:
        return "Secret('***')"

    def reveal(self) -> str:
        return str.__str__(self)

    def __str__(self) -> str:  # f-strings and print() show the mask, .reveal() the value
        return "***"


@dataclass
class Settings:
    lake: str = "./lake"
    target: str = "duckdb"
    duckdb_path: str = "./warehouse/shopdw.duckdb"
    # DuckDB's buffer pool per connection (loader, dbt, gate, publish): DuckDB spills to a temp folder
    # beside the file beyond it. DuckDB's own default is 80 % of RAM; "" keeps that.
    duckdb_memory_limit: str = "1GB"
    postgres_dsn: Secret | None = None
    s3_endpoint: str | None = None
    s3_region: str | None = None
    redshift_host: str | None = None
    redshift_port: int = 5439
    redshift_database: str = "dev"
    redshift_user: str | None = None
    redshift_password: Secret | None = None
    redshift_iam_role_arn: str | None = None
    redshift_region: str | None = None
    redshift_workgroup: str | None = None
    redshift_schema_prefix: str = ""
    site: str = "./site/index.html"
    export_dir: str = "./exports"
    dbt_threads: int = 2
    dq_completeness: float = 95.0
    dq_accuracy: float = 98.0
    dq_consistency: float = 99.0
    dq_validity: float = 97.0
    dq_freshness_days: int = 0  # allowed lag (days) between the run date and the newest loaded batch
    notify_webhook_url: Secret | None = None
    notify_sns_topic_arn: str | None = None
    # When set (e.g. by scripts/terraform_env.py), each run publishes the CloudWatch metric
    # shopdw/HoursSinceLastLoad with dimension Environment=<environment> for the freshness alarm.
    environment: str | None = None
    source_file: str | None = field(default=None, metadata={"internal": True})

    # ---- derived helpers -------------------------------------------------
    def redacted(self) -> dict[str, Any]:
        """Settings as a dict safe to print or log."""
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = "***" if isinstance(v, Secret) else v
        return out

    def with_overrides(self, **kw: Any) -> Settings:
        clean = {k: v for k, v in kw.items() if v is not None}
        return _coerce(dataclasses.replace(self), clean, origin="flag")

    @property
    def is_s3_lake(self) -> bool:
        return self.lake.startswith("s3://")


SECRET_FIELDS = {f.name for f in fields(Settings) if "Secret" in str(f.type)}
_FIELD_TYPES = {f.name: f.type for f in fields(Settings)}


def _coerce(settings: Settings, values: Mapping[str, Any], origin: str) -> Settings:
    for key, raw in values.items():
        if key not in _FIELD_TYPES or key == "source_file":
            raise ConfigError(
                f"unknown setting {key!r} (from {origin}); known settings: {', '.join(sorted(_FIELD_TYPES))}"
            )
        ftype = str(_FIELD_TYPES[key])
        try:
            if key in SECRET_FIELDS:
                value: Any = Secret(str(raw))
            elif ftype.startswith("int"):
                value = int(raw)
            elif ftype.startswith("float"):
                value = float(raw)
            else:
                value = None if raw is None else str(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"setting {key!r} from {origin} must be {ftype.split(' ')[0]}, got {raw!r}") from None
        setattr(settings, key, value)
    if settings.target not in TARGETS:
        raise ConfigError(f"target {settings.target!r} (from {origin}) is not one of {', '.join(TARGETS)}")
    if "duckdb_memory_limit" in values:
        check_memory_limit(settings.duckdb_memory_limit, origin)
    return settings


_MEMORY_LIMIT = re.compile(r"(?i)^\s*(\d+(\.\d+)?\s*(b|kb|mb|gb|tb|kib|mib|gib|tib)|\d{1,2}(\.\d+)?\s*%)\s*$")


def check_memory_limit(value: str | None, origin: str = "settings") -> str:
    """A DuckDB memory_limit value ("1GB", "512MiB", "50%") or "" for DuckDB's default; ConfigError otherwise."""
    text = (value or "").strip()
    if text and not _MEMORY_LIMIT.match(text):
        raise ConfigError(
            f"setting 'duckdb_memory_limit' from {origin} must be a size like 1GB, 512MiB or 50%, got {value!r}"
        )
    return text


def load_settings(
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    config_file: str | os.PathLike[str] | None = None,
) -> Settings:
    """Build settings: defaults < shopdw.toml < SHOPDW_* environment < flags (None flags ignored)."""
    env = os.environ if env is None else env
    settings = Settings()
    path = Path(config_file or env.get("SHOPDW_CONFIG") or "shopdw.toml")
    if path.exists():
        try:
            data = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{path}: not valid TOML ({e}); fix the file or remove it") from None
        data = data.get("shopdw", data)
        leaked = SECRET_FIELDS & set(data)
        if leaked:
            raise ConfigError(
                f"{path}: {', '.join(sorted(leaked))} is a secret and may not be set in a file; "
                f"set it in the environment instead (e.g. SHOPDW_{sorted(leaked)[0].upper()})"
            )
        settings = _coerce(settings, data, origin=str(path))
        settings.source_file = str(path)
    env_values = {
        name: env[f"SHOPDW_{name.upper()}"]
        for name in _FIELD_TYPES
        if name != "source_file" and f"SHOPDW_{name.upper()}" in env
    }
    settings = _coerce(settings, env_values, origin="environment")
    if flags:
        settings = _coerce(settings, {k: v for k, v in flags.items() if v is not None}, origin="flag")
    return settings


def require(settings: Settings, *names: str) -> None:
    """Raise a ConfigError naming every missing setting and its environment variable."""
    missing = [n for n in names if getattr(settings, n) in (None, "")]
    if missing:
        hints = ", ".join(f"{n} (SHOPDW_{n.upper()})" for n in missing)
        raise ConfigError(f"target {settings.target!r} needs these settings: {hints}")
