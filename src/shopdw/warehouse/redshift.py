"""Amazon Redshift (Serverless) target: PostgreSQL's wire protocol, but rows go in with COPY from S3.

AWS's advice, followed here: stage the validated rows of every file as Parquet in the lake
(`_staging/redshift/<run_id>/<entity>/NNNNN.parquet`, lineage columns included), list them in
one manifest per entity per run, and load each entity with a single
`COPY ... FROM '<manifest>' IAM_ROLE '<arn>' FORMAT AS PARQUET MANIFEST`. The COPYs, the
quarantined rows and the ledger rows of the whole run commit in one transaction, taken under
`LOCK meta.load_ledger`. The run lock is `LOCK meta.run_lock` held in a transaction on a
connection of its own. Connection settings: redshift_host (the workgroup endpoint),
redshift_port, redshift_database, redshift_user, redshift_password (a Secret, never logged),
redshift_iam_role_arn, redshift_region. See docs/redshift.md.
"""

from __future__ import annotations

import io
import json
from typing import Any, Callable

import pyarrow as pa
import pyarrow.parquet as pq

from shopdw.config import Settings, require
from shopdw.errors import ConfigError, TransientError
from shopdw.load.ledger import LONG_TEXT
from shopdw.warehouse.base import with_lineage
from shopdw.warehouse.postgres import PostgresWarehouse

STAGING_PREFIX = "_staging/redshift"
INSERT_BATCH_ROWS = 200
VARCHAR_DEFAULT = 256
VARCHAR_LONG = 65535


def _driver_connect(**kw: Any) -> Any:
    import psycopg

    return psycopg.connect(**kw)


def arrow_to_redshift_type(field: pa.Field) -> str:
    t = field.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return f"varchar({VARCHAR_LONG if field.name in LONG_TEXT else VARCHAR_DEFAULT})"
    if pa.types.is_decimal(t):
        return f"decimal({t.precision},{t.scale})"
    if pa.types.is_timestamp(t):
        return "timestamp"
    if pa.types.is_int32(t):
        return "integer"
    if pa.types.is_int64(t):
        return "bigint"
    if pa.types.is_float64(t):
        return "double precision"
    if pa.types.is_date32(t):
        return "date"
    if pa.types.is_boolean(t):
        return "boolean"
    raise TypeError(f"no Redshift column type for Arrow type {t}")


def sql_literal(value: Any) -> str:
    """A Redshift literal (used only to render recorded statements for the grammar check and docs)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value).replace("\\", "\\\\").replace("'", "''")
    return f"'{text}'"


class RedshiftWarehouse(PostgresWarehouse):
    dialect = "redshift"

    def __init__(self, settings: Settings, lake: Any = None, connect: Callable[..., Any] | None = None):
        require(settings, "redshift_host", "redshift_user", "redshift_password")
        self.settings = settings
        self.lake = lake
        self._staged: dict[str, list[tuple[str, int]]] = {}  # entity -> [(s3 url, bytes)]
        self._pending: list[tuple[str, str, pa.Table]] = []  # quarantine and ledger rows of this run
        self._pending_files: list[tuple[str, str]] = []
        self._seq = 0
        super().__init__(settings.redshift_password, connect=connect or _driver_connect)

    @classmethod
    def from_settings(cls, settings: Settings, lake: Any = None) -> RedshiftWarehouse:
        return cls(settings, lake=lake)

    # ---- connection ---------------------------------------------------------------------------
    def _secrets(self) -> tuple[Any, ...]:
        return (self.settings.redshift_password,)

    def _where(self) -> str:
        return (
            f"Redshift ({self.settings.redshift_host}:{self.settings.redshift_port}/{self.settings.redshift_database})"
        )

    def _raw_connect(self) -> Any:
        s = self.settings
        return self._connect_fn(
            host=s.redshift_host, port=int(s.redshift_port), dbname=s.redshift_database, user=s.redshift_user,
            password=s.redshift_password.reveal(), sslmode="require", autocommit=True, connect_timeout=10,
        )  # fmt: skip

    def _begin(self) -> None:
        self.execute("begin")

    def _end(self, exc: BaseException | None) -> None:
        if exc is None:
            self.execute("commit")
        else:
            try:
                self.execute("rollback")
            except Exception:  # noqa: S110 - a dead connection cannot roll back; the original error matters
                pass

    def query_arrow(self, sql: str) -> pa.Table:
        def go():
            with self.conn.cursor() as cur:
                cur.execute(sql)
                if not cur.description:
                    return pa.table({})
                names = [d.name if hasattr(d, "name") else d[0] for d in cur.description]
                rows = cur.fetchall()
            cols = list(zip(*rows)) if rows else [[] for _ in names]
            return pa.table({n: pa.array(list(c)) for n, c in zip(names, cols)})

        return self._run(go)

    # ---- lock ----------------------------------------------------------------------------------
    def lock_key(self) -> str:
        s = self.settings
        return f"redshift:{s.redshift_host}:{s.redshift_port}/{s.redshift_database}"

    def _acquire_run_lock(self, timeout: float) -> Callable[[], None]:
        """`LOCK meta.run_lock` in a transaction on its own connection; waits at most timeout seconds."""
        lock_conn = self._open()

        def run(sql: str) -> None:
            def go():
                with lock_conn.cursor() as cur:
                    cur.execute(sql)

            self._run(go)

        run("create schema if not exists meta")
        run("create table if not exists meta.run_lock (holder varchar(256))")
        run("begin")
        run(f"set statement_timeout to {max(1, int(timeout * 1000))}")
        try:
            run("lock meta.run_lock")
        except TransientError:
            raise
        except Exception as e:  # statement timeout: another run holds the lock
            lock_conn.close()
            raise TransientError(
                f"another shopdw run holds the Redshift run lock (meta.run_lock); waited {timeout:g}s ({e}). "
                "Wait for it to finish, then run again"
            ) from None
        run("set statement_timeout to 0")

        def release() -> None:
            try:
                run("commit")
            finally:
                lock_conn.close()

        return release

    # ---- loading ---------------------------------------------------------------------------------
    def column_type(self, field: pa.Field) -> str:
        return arrow_to_redshift_type(field)

    def append_arrow(self, schema: str, table: str, data: pa.Table) -> None:
        """Small tables (quarantine, ledger) as multi-row INSERTs; raw rows never come this way."""
        cols = ", ".join(self.quote_ident(n) for n in data.column_names)
        rows = data.to_pylist()
        for i in range(0, len(rows), INSERT_BATCH_ROWS):
            chunk = rows[i : i + INSERT_BATCH_ROWS]
            one = "(" + ", ".join(["%s"] * len(data.column_names)) + ")"
            params = [None if v is None else v for r in chunk for v in r.values()]
            self.execute(
                f"insert into {self.qualified(schema, table)} ({cols}) values {', '.join([one] * len(chunk))}",
                params,
            )

    def _require_s3_lake(self) -> Any:
        from shopdw.lake.store import S3Lake

        if not isinstance(self.lake, S3Lake):
            raise ConfigError(
                "the redshift target loads through S3 (COPY ... FROM 's3://...'): set SHOPDW_LAKE to s3://bucket/prefix"
            )
        require(self.settings, "redshift_iam_role_arn")
        return self.lake

    def commit_file(self, writes: list[tuple[str, str, pa.Table]], lineage: dict[str, Any] | None = None) -> None:
        """Stage the file's validated rows as Parquet in the lake; its COPY happens in finish_load."""
        lake = self._require_s3_lake()
        ledger = next(data for schema, table, data in writes if (schema, table) == ("meta", "load_ledger"))
        key = (ledger["path"][0].as_py(), ledger["content_hash"][0].as_py())
        if key in self._pending_files:  # a retry after a transient S3 error: already staged
            return
        self._run_id = ledger["run_id"][0].as_py()
        for schema, table, data in writes:
            if schema == "raw":
                if not data.num_rows:
                    continue
                self._seq += 1
                path = f"{STAGING_PREFIX}/{self._run_id}/{table}/{self._seq:05d}.parquet"
                if lineage is not None:
                    data = with_lineage(data, lineage)
                buf = io.BytesIO()
                pq.write_table(data, buf, compression="snappy", coerce_timestamps="us")
                body = buf.getvalue()
                lake.put(path, body)
                self._staged.setdefault(table, []).append((lake.url(path), len(body)))
            elif data.num_rows:
                self._pending.append((schema, table, data))
        self._pending_files.append(key)

    def commit_batch(self, files: list[tuple[list[tuple[str, str, Any]], dict[str, Any] | None]]) -> None:
        """Stage each file (see commit_file); they all commit in finish_load's one transaction."""
        for writes, lineage in files:
            self.commit_file(writes, lineage)

    def manifest(self, entity: str) -> bytes:
        entries = [
            {"url": url, "mandatory": True, "meta": {"content_length": size}} for url, size in self._staged[entity]
        ]
        return json.dumps({"entries": entries}, indent=1, sort_keys=True).encode()

    def copy_sql(self, entity: str, manifest_url: str) -> str:
        s = self.settings
        region = f" region {sql_literal(s.redshift_region)}" if s.redshift_region else ""
        return (
            f"copy {self.qualified('raw', entity)} from {sql_literal(manifest_url)} "
            f"iam_role {sql_literal(s.redshift_iam_role_arn)} format as parquet manifest{region}"
        )

    def finish_load(self) -> None:
        """One transaction: lock the ledger, make sure no staged file was loaded meanwhile, one COPY per
        entity through its manifest, then the quarantine and ledger rows."""
        if not self._pending_files:
            return
        lake = self._require_s3_lake()
        manifests = {}
        for entity in self._staged:
            path = f"{STAGING_PREFIX}/{self._run_id}/{entity}.manifest"
            lake.put(path, self.manifest(entity))
            manifests[entity] = lake.url(path)
        with self.transaction():
            self.execute(f"lock {self.qualified('meta', 'load_ledger')}")
            paths = sorted({p for p, _ in self._pending_files})
            done = set()
            for i in range(0, len(paths), INSERT_BATCH_ROWS):
                chunk = paths[i : i + INSERT_BATCH_ROWS]
                done |= {
                    (p, h)
                    for p, h in self.query(
                        f"select path, content_hash from {self.qualified('meta', 'load_ledger')} "
                        f"where path in ({', '.join(['%s'] * len(chunk))})",
                        chunk,
                    )
                }
            clash = done & set(self._pending_files)
            if clash:
                raise TransientError(
                    f"{len(clash)} file(s) of this run were loaded by another run meanwhile "
                    f"(e.g. {sorted(clash)[0][0]}); nothing was committed: run the load again"
                )
            for entity in sorted(manifests):
                self.execute(self.copy_sql(entity, manifests[entity]))
            for schema, table, data in self._pending:
                self.append_arrow(schema, table, data)
        self._staged.clear()
        self._pending.clear()
        self._pending_files.clear()
