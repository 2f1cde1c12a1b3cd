"""Run the dbt project shipped in the package (src/shopdw/dbt) in-process with dbtRunner.

profiles.yml is generated from shopdw's Settings into a temp dir for each invocation (no
hand-edited ~/.dbt); passwords reach dbt through an environment variable read by env_var(),
so they never land on disk or in logs. dbt's target/ and logs/ go to the same temp dir.

Public API:
    transform(settings, full_refresh=False, select=None, progress=False) -> TransformResult
    scv(settings, customer_unique_id) -> dict | None
    build_docs(settings, out_dir) -> Path
    parse_project(settings) -> manifest      (no connection needed; used for the redshift target)
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import yaml

from shopdw.config import Settings, check_memory_limit, require
from shopdw.errors import ConfigError, DataError, ShopdwError, TransientError

PROJECT_DIR = Path(__file__).resolve().parent / "dbt"
PROFILE = "shopdw"
PASSWORD_ENV = "SHOPDW_DBT_PASSWORD"  # read by env_var() in the generated profile
LOOKBACK_MINUTES = 15  # dbt var lookback_minutes: see loaded_since in macros/incremental.sql
RUN_LOCK_TIMEOUT = 600.0  # seconds a build waits for a load (or another run) to finish
ANALYTICS_SCHEMA = "analytics"
# The incremental models: (schema, table). Each holds _loaded_at, its watermark.
INCREMENTAL_MODELS = (
    ("intermediate", "int_orders_current"), ("intermediate", "int_customer_versions"),
    ("intermediate", "int_product_versions"), ("intermediate", "int_seller_versions"),
    ("intermediate", "int_customer_metrics"),
    ("analytics", "dim_customer"), ("analytics", "fct_orders"), ("analytics", "fct_order_items"),
    ("analytics", "fct_payments"), ("analytics", "fct_reviews"), ("analytics", "fct_web_events"),
)  # fmt: skip

# An incremental build's watermarks, read by the data tests (macros/incremental.sql).
WATERMARKS = ("meta", "dbt_watermarks")
# Not run by an incremental build (by selection, so dbt's saved parse stays valid): the staging
# tests (each ranks every raw version of its entity; the same rules are checked on the
# fact/SCD2 rows written from them), the intermediate tests (the SCD2 version histories and the
# SCV metrics/RFM: every rule they check is checked again, every build, on the model built from
# them: dim_customer / dim_product / dim_seller and customer_360; 33 test nodes, ~25 ms of dbt's
# own work each) and, unless asked for, the unit tests (fixed inputs: they test the SQL, not
# the data; every full build and the test suite run them).
STAGING_TESTS = "path:models/staging,resource_type:test"
INTERMEDIATE_TESTS = "path:models/intermediate,resource_type:test"
UNIT_TESTS = "resource_type:unit_test"
# Nodes whose relation holds no data derived from raw, so that rebuilding them with the same
# project gives the same relation: the views (staging, int_customer_rfm) and the seed (with its
# tests). An incremental build leaves them out when the warehouse's last complete build was
# made from byte-identical project, profile and vars and each of their relations still exists
# (meta.dbt_build_state); any other build recreates them.
REFERENCE_NODES = ("config.materialized:view", "resource_type:seed")
BUILD_STATE = ("meta", "dbt_build_state")
JINJA_CODE_MAX = 20000  # compiled dbt templates kept between processes (an incremental build compiles ~500)

_LOCK = threading.Lock()  # dbtRunner is not re-entrant: one invocation at a time per process


# ---------------------------------------------------------------- results


@dataclass
class NodeResult:
    """One dbt node's outcome: a model, seed, test or unit test."""

    unique_id: str
    name: str
    resource_type: str  # model | seed | test | unit_test | snapshot
    status: str  # success | error | fail | warn | pass | skipped
    seconds: float
    rows_affected: int | None = None
    failures: int | None = None
    message: str | None = None
    model: str | None = None  # for tests and unit tests: the model they check

    @property
    def ok(self) -> bool:
        return self.status in ("success", "pass", "warn")


@dataclass
class TransformResult:
    target: str
    command: str
    full_refresh: bool
    select: list[str] | None
    seconds: float
    nodes: list[NodeResult] = field(default_factory=list)
    error: str | None = None
    threads: int | None = None  # dbt threads the build ran with (see build_threads)

    @property
    def ok(self) -> bool:
        return self.error is None and all(n.ok for n in self.nodes)

    @property
    def failed(self) -> list[NodeResult]:
        return [n for n in self.nodes if not n.ok]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for n in self.nodes:
            out[n.status] = out.get(n.status, 0) + 1
        return out

    def node(self, name: str) -> NodeResult:
        for n in self.nodes:
            if n.name == name or n.unique_id == name:
                return n
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "target": self.target,
            "command": self.command,
            "full_refresh": self.full_refresh,
            "select": self.select,
            "seconds": round(self.seconds, 3),
            "threads": self.threads,
            "counts": self.counts(),
            "error": self.error,
            "nodes": [asdict(n) for n in self.nodes],
        }

    def render(self, console: Any = None) -> None:
        from rich.console import Console
        from rich.table import Table

        console = console or Console()
        by_type: dict[str, dict[str, int]] = {}
        for n in self.nodes:
            by_type.setdefault(n.resource_type, {}).setdefault(n.status, 0)
            by_type[n.resource_type][n.status] += 1
        table = Table(title=f"dbt {self.command} on {self.target}" + (" (full refresh)" if self.full_refresh else ""))
        table.add_column("kind")
        table.add_column("results")
        for kind, counts in sorted(by_type.items()):
            table.add_row(kind, ", ".join(f"{s} {c}" for s, c in sorted(counts.items())))
        console.print(table)
        for n in self.failed:
            detail = f" ({n.failures} failing rows)" if n.failures else ""
            console.print(f"[red]{n.status}[/red] {n.resource_type} {n.name}{detail}: {n.message or ''}")
        if self.error:
            console.print(f"[red]error[/red]: {self.error}")
        verdict = "[green]ok[/green]" if self.ok else "[red]failed[/red]"
        threads = f" on {self.threads} thread{'s' if self.threads != 1 else ''}" if self.threads else ""
        console.print(f"{verdict}: {len(self.nodes)} nodes in {self.seconds:.1f}s{threads}")


# ---------------------------------------------------------------- profiles


def _postgres_output(dsn: str, threads: int) -> tuple[dict[str, Any], str | None]:
    from psycopg.conninfo import conninfo_to_dict

    try:
        info = conninfo_to_dict(dsn)
    except Exception:
        raise ConfigError(
            "postgres_dsn (SHOPDW_POSTGRES_DSN) is not a valid PostgreSQL DSN; use postgresql://user:pass@host:port/db"
        ) from None
    missing = [k for k in ("host", "dbname") if not info.get(k)]
    if missing:
        raise ConfigError(
            f"postgres_dsn (SHOPDW_POSTGRES_DSN) lacks {', '.join(missing)}; use postgresql://user@host:port/db"
        )
    password = info.get("password")
    out = {
        "type": "postgres",
        "host": str(info["host"]),
        "port": int(info.get("port") or 5432),
        "user": str(info.get("user") or "postgres"),
        "password": "{{ env_var('" + PASSWORD_ENV + "', '') }}",
        "dbname": str(info["dbname"]),
        "schema": "public",
        "threads": threads,
        "connect_timeout": 10,
    }
    return out, (str(password) if password else None)


def profile_for(settings: Settings) -> tuple[dict[str, Any], str | None]:
    """The profiles.yml content for settings.target, and the password to pass in the environment."""
    threads = max(1, int(settings.dbt_threads))
    if settings.target == "duckdb":
        path = Path(settings.duckdb_path).expanduser().resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        output: dict[str, Any] = {"type": "duckdb", "path": str(path), "schema": "main", "threads": threads}
        # DuckDB need not keep a CTAS's or INSERT's rows in the order of its SELECT (no model relies
        # on the physical order: every reader sorts), so it does not buffer out-of-order batches.
        # It did not stop the out-of-memory errors of some 1M full builds under the 1 GB limit
        # (benchmarks/README.md, "The pipeline end to end")
        # Both are database-wide, so they go to duckdb.connect's config (once per build), not to
        # dbt-duckdb's `settings`, which it re-applies with a SET on every cursor, i.e. every node:
        # at 1M orders under the 1 GB limit those SETs took ~0.4 s of a one-day incremental build
        # (benchmarks/README.md, "Transforming (dbt)").
        # Row-group merges are deferred (shopdw.warehouse.duckdb.settle_vacuum, at the end of the build).
        from shopdw.warehouse.duckdb import DEFERRED_VACUUM

        output["config_options"] = {"preserve_insertion_order": False, **DEFERRED_VACUUM}
        limit = check_memory_limit(settings.duckdb_memory_limit)
        if limit:
            output["config_options"]["memory_limit"] = limit
        password = None
    elif settings.target == "postgres":
        require(settings, "postgres_dsn")
        assert settings.postgres_dsn is not None
        output, password = _postgres_output(settings.postgres_dsn.reveal(), threads)
    elif settings.target == "redshift":
        require(settings, "redshift_host")
        output = {
            "type": "redshift",
            "host": settings.redshift_host,
            "port": int(settings.redshift_port),
            "dbname": settings.redshift_database,
            "schema": "public",
            "threads": threads,
            "sslmode": "prefer",
        }
        password = None
        if settings.redshift_password is not None:
            require(settings, "redshift_user")
            output.update(method="database", user=settings.redshift_user)
            output["password"] = "{{ env_var('" + PASSWORD_ENV + "', '') }}"
            password = settings.redshift_password.reveal()
        else:  # IAM: temporary credentials from the AWS credential chain
            output.update(method="iam", region=settings.redshift_region or "us-east-1")
            if settings.redshift_user:
                output["user"] = settings.redshift_user
            if settings.redshift_workgroup:
                output["is_serverless"] = True
                output["serverless_work_group"] = settings.redshift_workgroup
    else:  # load_settings already refuses this
        raise ConfigError(f"target {settings.target!r} is not duckdb, postgres or redshift")
    return {PROFILE: {"target": settings.target, "outputs": {settings.target: output}}}, password


def _vars(settings: Settings) -> dict[str, Any]:
    """dbt's --vars: the same on every build of a warehouse (a change would make dbt re-parse the
    whole project; an incremental build's watermarks reach dbt through meta.dbt_watermarks)."""
    prefix = settings.redshift_schema_prefix if settings.target == "redshift" else ""
    if prefix and not prefix.replace("_", "").isalnum():
        raise ConfigError(
            f"redshift_schema_prefix {prefix!r} (SHOPDW_REDSHIFT_SCHEMA_PREFIX) may hold only letters, digits and '_'"
        )
    return {"lookback_minutes": LOOKBACK_MINUTES, "schema_prefix": prefix}


def _parse_state_file(settings: Settings, profile_text: str, vars_text: str) -> Path:
    """Where dbt's parsed project (partial_parse.msgpack) is kept between builds of this warehouse.

    dbt reuses a saved parse only when its vars, profile and target match; its target/ is a temp
    dir per invocation here, so without a saved copy every build parsed all ~250 files (about 5 s
    of a small incremental build). The name holds a hash of the profile, the vars and every file
    of the project, so a saved parse is only reused for byte-identical inputs (an upgrade of
    shopdw or a new setting starts a fresh one). DuckDB: beside the database file
    (<dir>/.shopdw-dbt/); PostgreSQL/Redshift: ~/.cache/shopdw/dbt (XDG_CACHE_HOME)."""
    import hashlib

    digest = _project_digest(profile_text, vars_text)
    if settings.target == "duckdb":
        db = Path(settings.duckdb_path).expanduser().resolve()
        folder, stem = db.parent / ".shopdw-dbt", db.name
    else:
        folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "shopdw" / "dbt"
        stem = settings.target + "-" + hashlib.sha256(profile_text.encode()).hexdigest()[:12]
    return folder / f"{stem}.{digest[:16]}.msgpack"


def _project_digest(profile_text: str, vars_text: str) -> str:
    """sha256 of the profile, the vars and every file of the dbt project."""
    import hashlib

    digest = hashlib.sha256()
    for part in (profile_text, vars_text):
        digest.update(part.encode() + b"\0")
    for f in sorted(PROJECT_DIR.rglob("*")):
        rel = f.relative_to(PROJECT_DIR)
        if f.is_file() and rel.parts[0] not in ("target", "logs", "dbt_packages"):
            digest.update(str(rel).encode() + b"\0" + f.read_bytes() + b"\0")
    return digest.hexdigest()


def _settings_digest(settings: Settings) -> str:
    """_project_digest of the profile and vars _dbt_env gives dbt for these settings."""
    profile, _ = profile_for(settings)
    return _project_digest(yaml.safe_dump(profile, sort_keys=True), json.dumps(_vars(settings), sort_keys=True))


def _save_parse_state(parsed: Path, state: Path, copied_in_ns: int | None) -> None:
    """Keep dbt's new partial_parse.msgpack (atomically: a concurrent reader sees the old or the
    new file); drop this warehouse's older ones. Best effort: a build never fails for it."""
    try:
        if not parsed.exists() or parsed.stat().st_mtime_ns == copied_in_ns:
            return  # dbt reused the saved parse unchanged
        state.parent.mkdir(parents=True, exist_ok=True)
        tmp = state.with_name(f"{state.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        shutil.copyfile(parsed, tmp)
        os.replace(tmp, state)
        stem = state.name.rsplit(".", 2)[0]
        week_ago = time.time() - 7 * 86400
        for old in state.parent.glob("*.msgpack"):
            if old != state and (old.name.rsplit(".", 2)[0] == stem or old.stat().st_mtime < week_ago):
                old.unlink(missing_ok=True)
    except OSError:
        pass


# ---------------------------------------------------------------- dbt's compiled templates

_JINJA_CODE: dict[str, Any] = {}
_JINJA_CODE_STATE: dict[str, Any] = {"file": None, "dirty": False}


def _jinja_code_file(settings: Settings) -> Path:
    """Where the Python code jinja compiled for dbt's templates is kept between processes: beside
    the saved parse (_parse_state_file), one file per version of Python, jinja2, dbt-core and
    dbt-common (the code depends on them and on the template's text only)."""
    import hashlib
    from importlib.metadata import version

    parts = [sys.version, *(version(p) for p in ("jinja2", "dbt-core", "dbt-common"))]
    tag = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]
    if settings.target == "duckdb":
        folder = Path(settings.duckdb_path).expanduser().resolve().parent / ".shopdw-dbt"
    else:
        folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "shopdw" / "dbt"
    return folder / f"jinja-code.{tag}.marshal"


def _install_jinja_code_cache(settings: Settings) -> None:
    """Reuse the Python code jinja compiles from dbt's templates (its macros, the materializations,
    each model's and test's SQL) across processes. dbt compiles every template again in each new
    process (about 500 in an incremental build, ~0.7 s of CPU before and between the nodes) and
    keeps them in memory only. The code of a template depends on its text, its name, the
    environment class (dbt's text or native environment, whose extensions and filters are fixed)
    and the versions in the file name, so it is keyed by exactly those; anything else (an AST
    instead of text, raw=True) goes to jinja as before. Best effort: an unreadable file is
    ignored and rewritten."""
    import hashlib
    import marshal

    from dbt_common.clients import jinja as dbt_jinja

    path = _jinja_code_file(settings)
    if _JINJA_CODE_STATE["file"] != path:
        _JINJA_CODE.clear()
        try:
            with open(path, "rb") as f:
                loaded = marshal.load(f)
            if isinstance(loaded, dict):
                _JINJA_CODE.update(loaded)
        except (OSError, EOFError, ValueError, TypeError):
            pass
        _JINJA_CODE_STATE.update(file=path, dirty=False)
    for cls in (dbt_jinja.MacroFuzzEnvironment, dbt_jinja.NativeSandboxEnvironment):
        if "_shopdw_compile" in cls.__dict__:
            continue
        original = cls.compile

        def compile(self, source, name=None, filename=None, raw=False, defer_init=False, _original=original,  # type: ignore[no-untyped-def]
                    _cls=cls.__qualname__):  # fmt: skip
            if raw or not isinstance(source, str):
                return _original(self, source, name, filename, raw, defer_init)
            key = hashlib.sha256(f"{_cls}\0{name}\0{filename}\0{defer_init}\0{source}".encode()).hexdigest()
            code = _JINJA_CODE.get(key)
            if code is None:
                code = _original(self, source, name, filename, raw, defer_init)
                if len(_JINJA_CODE) >= JINJA_CODE_MAX:  # templates made from changing text: start again
                    _JINJA_CODE.clear()
                _JINJA_CODE[key] = code
                _JINJA_CODE_STATE["dirty"] = True
            return code

        cls._shopdw_compile = True
        cls.compile = compile


_JSON_SCHEMAS: dict[str, Any] = {}
_JSON_SCHEMA_STATE: dict[str, Any] = {"file": None, "dirty": False}
_JSON_SCHEMA_PACKAGES = ("dbt-core", "dbt-common", "dbt-adapters", "mashumaro", "dbt-duckdb", "dbt-postgres",
                         "dbt-redshift")  # fmt: skip


def _json_schema_file(settings: Settings) -> Path:
    """Beside the compiled templates: the JSON schemas of dbt's config classes, one file per
    version of Python and of the packages that define those classes and build their schemas."""
    import hashlib
    from importlib.metadata import PackageNotFoundError, version

    parts = [sys.version]
    for package in _JSON_SCHEMA_PACKAGES:
        try:
            parts.append(f"{package}={version(package)}")
        except PackageNotFoundError:
            parts.append(f"{package}=-")
    tag = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]
    return _jinja_code_file(settings).with_name(f"json-schemas.{tag}.json")


def _install_json_schema_cache(settings: Settings) -> None:
    """Reuse the JSON schemas dbt validates its project, profile and flags against across
    processes. dbt builds each one from its dataclass with mashumaro in every new process (about
    0.35 s of CPU before the first node, measured in an incremental build) and keeps it in memory
    only. A schema depends on the class's definition alone, so it is kept only for classes
    defined at the top level of a dbt module (the same name always names the same class) and
    keyed by the class's module and name within the versions in the file name. Best effort: an
    unreadable file is ignored and rewritten."""
    from dbt_common.dataclass_schema import dbtClassMixin

    path = _json_schema_file(settings)
    if _JSON_SCHEMA_STATE["file"] != path:
        _JSON_SCHEMAS.clear()
        try:
            loaded = json.loads(path.read_text())
            if isinstance(loaded, dict):
                _JSON_SCHEMAS.update(loaded)
        except (OSError, ValueError):
            pass
        _JSON_SCHEMA_STATE.update(file=path, dirty=False)
    if "_shopdw_json_schema" in dbtClassMixin.__dict__:
        return
    original = dbtClassMixin.json_schema.__func__  # dbt's: lru_cache-d per class

    def json_schema(cls):  # type: ignore[no-untyped-def]
        module = sys.modules.get(cls.__module__)
        static = cls.__module__.startswith("dbt") and getattr(module, cls.__qualname__, None) is cls
        key = f"{cls.__module__}:{cls.__qualname__}"
        if static and key in _JSON_SCHEMAS:
            return _JSON_SCHEMAS[key]
        schema = original(cls)
        if static:
            _JSON_SCHEMAS[key] = schema
            _JSON_SCHEMA_STATE["dirty"] = True
        return schema

    dbtClassMixin._shopdw_json_schema = True
    dbtClassMixin.json_schema = classmethod(json_schema)


def _save_cache(state: dict[str, Any], dump: Callable[[], bytes]) -> None:
    """Write a between-processes cache back when this process added to it: atomically (a temp
    name, then a rename), best effort (a failure leaves the old file, or none)."""
    path = state["file"]
    if path is None or not state["dirty"]:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_bytes(dump())
        os.replace(tmp, path)
        state["dirty"] = False
    except (OSError, TypeError, ValueError):
        pass


def _save_json_schema_cache() -> None:
    """Write the schemas back when this process built new ones."""
    _save_cache(_JSON_SCHEMA_STATE, lambda: json.dumps(_JSON_SCHEMAS, sort_keys=True).encode())


def _save_jinja_code_cache() -> None:
    """Write the compiled templates back when this build compiled new ones."""
    import marshal

    _save_cache(_JINJA_CODE_STATE, lambda: marshal.dumps(dict(_JINJA_CODE)))


@contextmanager
def _dbt_env(settings: Settings) -> Iterator[tuple[Path, list[str]]]:
    """A temp dir with profiles.yml (and dbt's target/ and logs/); yields it and the common flags.

    The parse of the project is kept between invocations (_parse_state_file): it is copied into
    the temp target/ before dbt runs and saved back when dbt wrote a new one; so is the code jinja
    compiled from dbt's templates (_install_jinja_code_cache) and the JSON schemas of dbt's config
    classes (_install_json_schema_cache)."""
    _defer_dbt_serializers()
    profile, password = profile_for(settings)
    profile_text = yaml.safe_dump(profile, sort_keys=True)
    vars_text = json.dumps(_vars(settings), sort_keys=True)
    state = _parse_state_file(settings, profile_text, vars_text)
    with tempfile.TemporaryDirectory(prefix="shopdw-dbt-") as tmp:
        tmpdir = Path(tmp)
        (tmpdir / "profiles.yml").write_text(profile_text)
        parsed = tmpdir / "target" / "partial_parse.msgpack"
        copied_in_ns = None
        if state.exists():
            try:
                parsed.parent.mkdir()
                shutil.copyfile(state, parsed)
                copied_in_ns = parsed.stat().st_mtime_ns
            except OSError:
                pass
        flags = [
            "--project-dir", str(PROJECT_DIR),
            "--profiles-dir", str(tmpdir),
            "--target-path", str(tmpdir / "target"),
            "--log-path", str(tmpdir / "logs"),
            "--vars", vars_text,
            # no usage events to dbt Labs from a user's pipeline (and no HTTP attempts offline)
            "--no-send-anonymous-usage-stats",
        ]  # fmt: skip
        old = os.environ.get(PASSWORD_ENV)
        os.environ[PASSWORD_ENV] = password or ""
        _install_jinja_code_cache(settings)
        _install_json_schema_cache(settings)
        try:
            yield tmpdir, flags
        finally:
            if old is None:
                os.environ.pop(PASSWORD_ENV, None)
            else:
                os.environ[PASSWORD_ENV] = old
        _save_parse_state(parsed, state, copied_in_ns)
        _save_jinja_code_cache()
        _save_json_schema_cache()


def _release_duckdb() -> None:
    """dbt-duckdb keeps its database open in a process-wide environment
    (DuckDBConnectionManager._ENV) after dbt returns: the file stays locked against other
    processes and the build's last writes stay in the write-ahead log until this process exits
    (a copy of the .duckdb file alone then lacks them, and the next process to open it replays
    them). Close it, so the build ends with its checkpoint, inside the time it is measured by."""
    if "dbt.adapters.duckdb.connections" in sys.modules:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager

        with DuckDBConnectionManager._LOCK:
            env, DuckDBConnectionManager._ENV = DuckDBConnectionManager._ENV, None
        if env is not None:
            from shopdw.warehouse.duckdb import settle_vacuum

            try:  # let the closing checkpoint merge row groups if they are due
                cursor = env.handle().cursor()
                try:
                    settle_vacuum(cursor)
                finally:
                    cursor.close()
            except Exception:  # noqa: S110 - a failed check leaves the merge to a later close
                pass
            env.close()
    try:
        from dbt.adapters.factory import reset_adapters

        reset_adapters()
    except Exception:  # pragma: no cover
        pass
    import gc

    gc.collect()


_PRELOAD: threading.Thread | None = None


def _defer_dbt_serializers() -> None:
    """Have mashumaro write a dataclass's from_dict/to_dict code when it is first called, not
    when the class is defined (mashumaro's own `lazy_compilation` option, made the default).

    Importing dbt defines some 330 such classes (dbt's nodes, configs, artifacts, events, and
    mashumaro's JSON-schema models) and mashumaro generated the code of ~45 of them as they were
    defined (the others already wait for their forward references): ~0.3 s of the ~1.4 s import,
    which no build overlaps with anything. A build calls few of those methods. Set before dbt is
    imported (classes defined earlier keep their code); it applies to every class defined later
    in this process, which in a shopdw process are dbt's and mashumaro's own."""
    from mashumaro.config import BaseConfig

    BaseConfig.lazy_compilation = True


def preload_dbt() -> None:
    """Start importing dbt (~1.6 s of Python imports) in a background thread, so it overlaps with
    work that does not need it: the load step of `shopdw run`, and the warehouse queries a build
    makes before dbt starts. Safe to call more than once; _invoke imports dbt the normal way,
    which waits for a preload in progress (Python's per-module import locks). A failed preload is
    silent: the same import in _invoke then raises where it is reported."""
    global _PRELOAD
    if _PRELOAD is not None or "dbt.cli.main" in sys.modules:
        return
    _defer_dbt_serializers()

    def _import() -> None:
        try:
            import dbt.cli.main  # noqa: F401
        except Exception:  # noqa: S110 - reported by the import in _invoke
            pass

    _PRELOAD = threading.Thread(target=_import, name="shopdw-preload-dbt", daemon=True)
    _PRELOAD.start()


def _critical_path_order() -> None:
    """Make dbt start, among the nodes ready to run, the one with the longest chain of nodes
    still to run after it (models and tests; critical-path list scheduling). dbt orders them by
    their depth in the graph and then by name, so on 2 threads an incremental build started
    fct_payments, fct_reviews and fct_web_events (depth 0, and 'f' < 'i') before
    int_customer_versions, the head of its longest chain (dim_customer, fct_orders,
    int_customer_metrics, customer_360, mart_top_customers): that chain started ~0.9 s late.
    Only the order in which ready nodes are picked changes, never what runs or what waits."""
    from dbt.graph.queue import GraphQueue

    if "_shopdw_order" in GraphQueue.__dict__:
        return

    def _get_scores(self: Any, graph: Any) -> dict[str, int]:
        import networkx as nx

        chain: dict[str, int] = {}
        for node in reversed(list(nx.topological_sort(graph))):
            chain[node] = 1 + max((chain[child] for child in graph.successors(node)), default=0)
        return {node: -length for node, length in chain.items()}  # lower is picked first

    GraphQueue._get_scores = _get_scores  # type: ignore[method-assign]
    GraphQueue._shopdw_order = True  # type: ignore[attr-defined]

    # dbt's main loop takes every node from that queue as soon as it is ready and hands it to
    # its thread pool, whose own queue is first in, first out: the order above would only apply
    # among nodes that become ready together. So a node is taken only when a thread is free.
    from dbt.task.build import BuildTask

    original = BuildTask.handle_job_queue

    def handle_job_queue(self: Any, pool: Any, callback: Any) -> None:
        slots = self.__dict__.get("_shopdw_slots")
        if slots is None:
            slots = self._shopdw_slots = threading.Semaphore(max(1, int(self.config.threads)))
        slots.acquire()

        def done(result: Any) -> None:
            try:
                callback(result)
            finally:
                slots.release()

        try:
            original(self, pool, done)
        except BaseException:
            slots.release()
            raise

    BuildTask.handle_job_queue = handle_job_queue  # type: ignore[method-assign]


def _invoke(args: list[str]) -> Any:
    from dbt.cli.main import dbtRunner

    _critical_path_order()
    with _LOCK:
        try:
            return dbtRunner().invoke(args)
        finally:
            _release_duckdb()


def _first_lines(text: str, n: int = 6) -> str:
    """The first n non-blank lines of a dbt error, joined: its first line names the node, the next
    ones say what is wrong (a compilation error's reason is on its second line)."""
    return "\n  ".join([line.strip() for line in text.splitlines() if line.strip()][:n])


def _classify(exc: BaseException, settings: Settings) -> ShopdwError:
    text = str(exc)
    low = text.lower()
    if any(s in low for s in ("could not connect", "connection refused", "timeout", "could not translate host")):
        return TransientError(
            f"dbt could not reach the {settings.target} warehouse: {text.splitlines()[0]}; check it is up"
        )
    if "lock" in low and settings.target == "duckdb":
        return TransientError(
            f"the DuckDB file {settings.duckdb_path} is locked by another process ({text.splitlines()[0]}); retry when it is free"
        )
    if "does not exist" in low or "catalog error" in low:
        return DataError(
            f"dbt could not find a table it reads ({text.splitlines()[0]}); run `shopdw load` first so raw.* exists"
        )
    return ConfigError(f"dbt failed on target {settings.target}: {_first_lines(text) if text else type(exc).__name__}")


# ---------------------------------------------------------------- public API


def transform(
    settings: Settings,
    full_refresh: bool = False,
    select: Sequence[str] | str | None = None,
    progress: bool = False,
    unit_tests: bool | None = None,
) -> TransformResult:
    """`dbt build` (seeds, models, tests, unit tests) on settings.target; per-node results.

    A failing test does not raise: check `.ok` / `.failed`. A dbt error that stops the run
    (no connection, missing raw tables, broken SQL) raises a ShopdwError subclass.

    Without full_refresh, when every incremental model already holds rows, the build is
    incremental: those models re-derive only the keys loaded since their watermark, their data
    tests check only the rows loaded since that watermark (recorded in meta.dbt_watermarks
    before dbt starts), and neither the staging tests (which rank every raw version), the
    intermediate tests (their rules are checked on the dimensions and customer_360) nor the unit
    tests (fixed inputs: they test the SQL, not the data) run. A full refresh, or a build where
    any incremental model is missing or empty, runs every test on every row, and the unit tests.
    unit_tests=True / False runs / leaves out the unit tests whatever the kind of build.
    """
    if isinstance(select, str):
        select = select.split()
    select_list = [s for s in (select or []) if s]
    # --no-write-json: nothing reads dbt's manifest.json / run_results.json / graph.gpickle from the
    # temp target/ (results come from the invocation); writing them took ~1 s of a profiled small build
    args = ["build", "--log-level", "none", "--no-write-json"]
    if full_refresh:
        args.append("--full-refresh")
    if select_list:
        args += ["--select", *select_list]
    start = time.perf_counter()
    preload_dbt()
    with _progress(progress, f"dbt build on {settings.target}"):
        _ensure_raw_schema(settings)
        # no load commits while dbt runs: rows stamped at a model's watermark were all there
        with _run_lock(settings):
            since = None if full_refresh else incremental_since(settings)
            digest = _settings_digest(settings)
            with _warehouse(settings) as wh:  # one connection for both
                _record_watermarks(settings, since, wh)
                keep_reference = _reference_nodes_current(settings, digest, bool(since) and not select_list, wh)
            exclude = [STAGING_TESTS, INTERMEDIATE_TESTS] if since else []
            if keep_reference:
                exclude += REFERENCE_NODES
            if not (unit_tests if unit_tests is not None else not since):
                exclude.append(UNIT_TESTS)
            if exclude:
                args += ["--exclude", *exclude]
            threads = build_threads(settings, incremental=bool(since))
            args += ["--threads", str(threads)]
            with _dbt_env(settings) as (tmpdir, flags):
                res = _invoke(args + flags)
            if res.success and not select_list and res.result is not None and hasattr(res.result, "results"):
                _save_build_state(settings, digest, res.result.results, keep_reference)
    seconds = time.perf_counter() - start
    result = TransformResult(settings.target, "build", full_refresh, select_list or None, seconds, threads=threads)
    if res.result is not None and hasattr(res.result, "results"):
        result.nodes = [_node_result(r) for r in res.result.results]
        result.threads = int((getattr(res.result, "args", None) or {}).get("threads") or threads)  # dbt's own record
    if res.exception is not None:
        raise _classify(res.exception, settings)
    if not res.success and not result.nodes:
        raise ConfigError(f"dbt build failed on target {settings.target} before running any node")
    return result


def build_threads(settings: Settings, incremental: bool) -> int:
    """dbt threads for a build: settings.dbt_threads, except one for a full (not incremental)
    build on DuckDB under a memory limit.

    DuckDB runs each query on all cores itself. In a full build at 1M orders, two dbt threads
    meant two large queries at once (staging tests ranking every raw version, the facts) sharing
    one buffer pool that both fill; DuckDB then sometimes could not allocate a block
    ("Out of Memory Error ... 953.4 MiB/953.6 MiB used") and the facts failed one after another
    (3 of 8 builds under the 1 GB limit). One query at a time has the whole pool, spills less
    and was faster: 149.8 s against 176.2 s (benchmarks/README.md, "The pipeline end to end").
    An incremental build's queries are small; there two threads overlap dbt's own per-node work.
    """
    threads = max(1, int(settings.dbt_threads))
    if settings.target == "duckdb" and settings.duckdb_memory_limit and not incremental:
        return 1
    return threads


@contextmanager
def _run_lock(settings: Settings) -> Iterator[None]:
    """Hold the warehouse's run lock (the loader's; re-entrant, so inside `shopdw run` it is the
    run's own) while dbt runs, with no connection left open (dbt opens the warehouse itself)."""
    from shopdw.warehouse import open_warehouse

    wh = open_warehouse(settings)
    try:
        lock = wh.run_lock(timeout=RUN_LOCK_TIMEOUT)
        lock.__enter__()
    finally:
        wh.close()
    try:
        yield
    finally:
        lock.__exit__(None, None, None)


@functools.cache
def documented_columns() -> dict[str, frozenset[str]]:
    """{model: the columns its YAML lists} for every model of the dbt project that lists any."""
    out: dict[str, frozenset[str]] = {}
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~0.01 s for the project, not ~0.1 s
    for path in sorted((PROJECT_DIR / "models").rglob("*.yml")):
        for model in (yaml.load(path.read_text(), Loader=loader) or {}).get("models") or []:  # noqa: S506 - a safe loader
            names = frozenset(str(c["name"]).lower() for c in model.get("columns") or [])
            if names:
                out[str(model["name"])] = names
    return out


def incremental_since(settings: Settings) -> dict[str, datetime] | None:
    """Each incremental model's watermark, {model: the newest _loaded_at it holds} (its
    incremental run reads the raw rows loaded after it, and those stamped in the
    LOOKBACK_MINUTES before it: loaded_since in macros/incremental.sql). None when any of them
    does not exist or is empty: that build is a full one for it, and every row is tested.

    A table left by another version of the project is dropped: one in which the model was not
    incremental (no _loaded_at column), or whose columns differ from those the model's YAML lists
    (an incremental run cannot fill a new column for the rows it does not rewrite; dbt would stop
    on the schema change). It is derived from raw and the build recreates it in full."""
    from shopdw.warehouse import open_warehouse

    ph = "?" if settings.target == "duckdb" else "%s"
    prefix = _vars(settings)["schema_prefix"]
    newest: dict[str, datetime | None] = {}
    with open_warehouse(settings) as wh:
        for schema, table in INCREMENTAL_MODELS:
            cols = {
                r[0]
                for r in wh.query(
                    f"select column_name from information_schema.columns where table_schema = {ph} and table_name = {ph}",
                    (prefix + schema, table),
                )
            }
            if not cols:
                newest[table] = None
                continue
            relation = f'{_schema(settings, schema)}."{table}"'
            documented = documented_columns().get(table)
            if "_loaded_at" not in cols or (documented and {c.lower() for c in cols} != documented):
                # cascade: on PostgreSQL/Redshift a view (int_customer_rfm) may depend on it; the
                # build recreates the views whose relation is gone (_reference_nodes_current)
                wh.execute(f"drop table {relation} cascade")
                newest[table] = None
                continue
            newest[table] = wh.query(f"select max(_loaded_at) from {relation}")[0][0]  # noqa: S608
    if any(n is None for n in newest.values()):
        return None
    return {m: n for m, n in newest.items() if n is not None}


@contextmanager
def _warehouse(settings: Settings, wh: Any = None) -> Iterator[Any]:
    """The given open warehouse, or one opened (and closed) here."""
    if wh is not None:
        yield wh
        return
    from shopdw.warehouse import open_warehouse

    with open_warehouse(settings) as opened:
        yield opened


def _record_watermarks(settings: Settings, since: dict[str, datetime] | None, wh: Any = None) -> None:
    """Write an incremental build's watermarks to meta.dbt_watermarks (one row per incremental
    model: its schema, table and newest _loaded_at before the build), or clear them for a full
    build. The tests of an incremental model read them at execution time (get_where_subquery in
    macros/incremental.sql); passing them as dbt --vars, which change every build, made dbt
    re-parse the whole project every time. Only this warehouse's (schema-prefixed) rows change."""
    import pyarrow as pa

    schema, table = WATERMARKS
    prefix = _vars(settings)["schema_prefix"]
    rows = [(prefix + s, t, since[t]) for s, t in INCREMENTAL_MODELS if since and since.get(t) is not None]
    with _warehouse(settings, wh) as wh:
        wh.ensure_tables({WATERMARKS: pa.schema([("schema_name", pa.string()), ("table_name", pa.string()),
                                                 ("since", pa.timestamp("us"))])})  # fmt: skip
        ph = "?" if settings.target == "duckdb" else "%s"
        relation = wh.qualified(schema, table)
        with wh.transaction():
            schemas = sorted({prefix + s for s, _ in INCREMENTAL_MODELS})
            wh.execute(
                f"delete from {relation} where schema_name in ({', '.join([ph] * len(schemas))})", tuple(schemas)
            )  # noqa: S608
            if rows:
                values = ", ".join([f"({ph}, {ph}, {ph})"] * len(rows))
                wh.execute(f"insert into {relation} (schema_name, table_name, since) values {values}",  # noqa: S608
                           tuple(v for row in rows for v in row))  # fmt: skip


_BUILD_STATE_SCHEMA = (("schema_prefix", "string"), ("project_digest", "string"), ("relations", "string"),
                       ("built_at", "timestamp"))  # fmt: skip


def _build_state_table(wh: Any) -> str:
    import pyarrow as pa

    types = {"string": pa.string(), "timestamp": pa.timestamp("us")}
    wh.ensure_tables({BUILD_STATE: pa.schema([(n, types[t]) for n, t in _BUILD_STATE_SCHEMA])})
    return wh.qualified(*BUILD_STATE)


def _reference_nodes_current(settings: Settings, digest: str, usable: bool, wh: Any = None) -> bool:
    """True when this build may leave out REFERENCE_NODES: it is `usable` (an incremental build of
    every node) and this warehouse's last complete build (its schema prefix) was made from the
    project, profile and vars with this digest, and every view and seed relation it made still
    exists. Otherwise the recorded state is removed before the build recreates any of them, so
    that a build that stops half way (or a --select build) never leaves a state that a later
    build with the old project would trust."""
    prefix = _vars(settings)["schema_prefix"]
    ph = "?" if settings.target == "duckdb" else "%s"
    with _warehouse(settings, wh) as wh:
        table = _build_state_table(wh)
        rows = wh.query(f"select project_digest, relations from {table} where schema_prefix = {ph}", (prefix,))  # noqa: S608
        current = False
        if usable and len(rows) == 1 and rows[0][0] == digest:
            wanted = {tuple(r) for r in json.loads(rows[0][1])}
            schemas = sorted({s for s, _ in wanted})
            present = set()
            if schemas:
                present = {
                    (str(a), str(b))
                    for a, b in wh.query(
                        "select table_schema, table_name from information_schema.tables "  # noqa: S608
                        f"where table_schema in ({', '.join([ph] * len(schemas))})",
                        tuple(schemas),
                    )
                }
            current = bool(wanted) and wanted <= present
        if not current and rows:
            with wh.transaction():
                wh.execute(f"delete from {table} where schema_prefix = {ph}", (prefix,))  # noqa: S608
    return current


def _save_build_state(settings: Settings, digest: str, results: Any, kept_reference: bool) -> None:
    """After a complete, successful build: record the digest it was made from and the view and
    seed relations it (or, when it left them out, the build before it) made."""
    from shopdw.warehouse import open_warehouse

    if any(str(getattr(r.status, "value", r.status)) not in ("success", "pass") for r in results):
        return
    prefix = _vars(settings)["schema_prefix"]
    ph = "?" if settings.target == "duckdb" else "%s"
    with open_warehouse(settings) as wh:
        table = _build_state_table(wh)
        relations: set[tuple[str, str]] = set()
        if kept_reference:
            old = wh.query(f"select relations from {table} where schema_prefix = {ph}", (prefix,))  # noqa: S608
            relations = {tuple(r) for r in json.loads(old[0][0])} if old else set()
        for r in results:
            node = r.node
            kind = str(getattr(node.resource_type, "value", node.resource_type))
            materialized = getattr(getattr(node, "config", None), "materialized", None)
            if kind == "seed" or (kind == "model" and materialized == "view"):
                relations.add((str(node.schema), str(node.alias or node.name)))
        if not relations:
            return
        with wh.transaction():
            wh.execute(f"delete from {table} where schema_prefix = {ph}", (prefix,))  # noqa: S608
            wh.execute(
                f"insert into {table} (schema_prefix, project_digest, relations, built_at) values ({ph}, {ph}, {ph}, {ph})",  # noqa: S608
                (prefix, digest, json.dumps(sorted(relations)), datetime.now(timezone.utc).replace(tzinfo=None)),
            )


def _ensure_raw_schema(settings: Settings) -> None:
    """dbt reads every raw.<entity>. Nothing loaded yet is a DataError that says so; an entity
    that never had a file gets its empty table (the loader's schema), so a build still runs."""
    from shopdw.contracts import LOAD_ORDER, raw_arrow_schema
    from shopdw.warehouse import open_warehouse

    if settings.target == "duckdb" and not Path(settings.duckdb_path).exists():
        raise DataError(f"no DuckDB warehouse at {settings.duckdb_path}: nothing loaded yet; run `shopdw load` first")
    with open_warehouse(settings) as wh:
        ph = "?" if settings.target == "duckdb" else "%s"
        present = {
            r[0]
            for r in wh.query(f"select table_name from information_schema.tables where table_schema = {ph}", ("raw",))
        }
        if not present:
            raise DataError(
                f"the {settings.target} warehouse has no raw.* tables: nothing loaded yet; run `shopdw load` first"
            )
        missing = [e for e in LOAD_ORDER if e not in present]
        if missing:
            wh.ensure_tables({("raw", e): raw_arrow_schema(e) for e in missing})


def _node_result(r: Any) -> NodeResult:
    node = r.node
    rows = None
    resp = getattr(r, "adapter_response", None) or {}
    if isinstance(resp, dict) and resp.get("rows_affected") not in (None, -1):
        rows = int(resp["rows_affected"])
    status = str(getattr(r.status, "value", r.status))
    model = None
    attached = getattr(node, "attached_node", None) or getattr(node, "model", None)
    if attached:
        model = str(attached).split(".")[-1]
    elif str(getattr(node.resource_type, "value", node.resource_type)) in ("test", "unit_test"):
        models = [n for n in getattr(getattr(node, "depends_on", None), "nodes", []) if n.startswith("model.")]
        model = models[0].split(".")[-1] if models else None
    return NodeResult(
        unique_id=node.unique_id,
        name=node.name,
        resource_type=str(getattr(node.resource_type, "value", node.resource_type)),
        status=status,
        seconds=round(float(r.execution_time or 0.0), 3),
        rows_affected=rows,
        failures=int(r.failures) if r.failures is not None else None,
        message=(str(r.message)[:500] if r.message and status not in ("success", "pass") else None),
        model=model,
    )


@contextmanager
def _progress(enabled: bool, label: str) -> Iterator[None]:
    if not enabled:
        yield
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn(label), TimeElapsedColumn(), transient=True) as p:
        p.add_task(label, total=None)
        yield


def parse_project(settings: Settings) -> Any:
    """`dbt parse` for settings.target (no connection needed); returns the manifest."""
    with _dbt_env(settings) as (tmpdir, flags):
        res = _invoke(["parse", "--log-level", "none", *flags])
    if not res.success:
        raise ConfigError(f"dbt parse failed for target {settings.target}: {res.exception}")
    return res.result


def build_docs(settings: Settings, out_dir: str | os.PathLike[str]) -> Path:
    """`dbt docs generate --static`; copies the single-page site (index.html) and the
    manifest/catalog JSON into out_dir. Returns the path of index.html."""
    out = Path(out_dir)
    with _dbt_env(settings) as (tmpdir, flags):
        res = _invoke(["docs", "generate", "--static", "--log-level", "none", *flags])
        if not res.success:
            raise _classify(res.exception or RuntimeError("dbt docs generate failed"), settings)
        target = tmpdir / "target"
        out.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(target / "static_index.html", out / "index.html")
        for name in ("manifest.json", "catalog.json"):
            if (target / name).exists():
                shutil.copyfile(target / name, out / name)
    return out / "index.html"


SCV_COLUMNS = (
    "customer_unique_id", "customer_zip_code_prefix", "customer_city", "customer_state",
    "first_order_at", "last_order_at", "orders", "items", "lifetime_value", "avg_order_value",
    "freight_paid", "favourite_category", "preferred_payment_type", "avg_installments",
    "avg_review_score", "late_delivery_rate", "days_since_last_order", "recency_score",
    "frequency_score", "monetary_score", "rfm_segment", "web_sessions", "converted_sessions",
    "conversion_rate",
)  # fmt: skip


def scv(settings: Settings, customer_unique_id: str) -> dict[str, Any] | None:
    """One person's Single Customer View row (analytics.customer_360), or None if unknown."""
    schema = _schema(settings, ANALYTICS_SCHEMA)
    sql = f"select {', '.join(SCV_COLUMNS)} from {schema}.customer_360 where customer_unique_id = %s"  # noqa: S608
    rows = _query(settings, sql, (customer_unique_id,))
    if not rows:
        return None
    return {k: _plain(v) for k, v in zip(SCV_COLUMNS, rows[0], strict=True)}


def _schema(settings: Settings, name: str) -> str:
    prefix = _vars(settings)["schema_prefix"]
    return f'"{prefix}{name}"'


def _plain(v: Any) -> Any:
    if isinstance(v, Decimal):
        return float(v) if v != v.to_integral_value() else int(v) if abs(v) < 2**53 else str(v)
    if isinstance(v, (datetime, date)):
        return v.isoformat()
    return v


def _query(settings: Settings, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """One query through the shared warehouse interface (same connection settings as the loader's)."""
    from shopdw.warehouse import open_warehouse

    if settings.target == "duckdb" and not Path(settings.duckdb_path).exists():
        raise DataError(
            f"no DuckDB warehouse at {settings.duckdb_path}; run `shopdw load` and `shopdw transform` first"
        )
    if settings.target == "duckdb":
        sql = sql.replace("%s", "?")
    with open_warehouse(settings) as wh:
        try:
            return wh.query(sql, params)
        except Exception as e:
            text = str(e).lower()
            if "customer_360" in text and ("does not exist" in text or "catalog error" in text or "undefined" in text):
                raise DataError(
                    f"{ANALYTICS_SCHEMA}.customer_360 does not exist on {settings.target}; run `shopdw transform` first"
                ) from None
            raise
