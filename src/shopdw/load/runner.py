"""`shopdw load`: every new lake file into raw.<entity>, exactly once.

For each file under raw/ (parents first, in LOAD_ORDER, then by date and path): a path and
size the ledger already has is done (lake files are immutable, so it is not read again);
otherwise read its bytes once, hash them, and decide from the ledger: already done (skip),
same path with other content (rejected: lake files are immutable), same content under another
name (duplicate), or new (validate, then load). Files are validated one by one, except that
consecutive small files of one entity are validated together (one DuckDB scan screens them all:
a small file's cost is mostly per-statement overhead; see `Validator.prepare_many`, which gives
the same result for each file). They are committed in batches (one entity's files, up to
BATCH_MAX_*): the batch's raw rows, quarantined rows and ledger rows commit in one
transaction, under the warehouse's run lock. A rejected file is
decided before anything is written, so it is recorded in its batch without holding back the
others; a crash at any point leaves whole batches or nothing, and a rerun picks up where it
stopped.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pyarrow as pa

from shopdw.config import Settings
from shopdw.contracts import CONTRACTS, LOAD_ORDER
from shopdw.errors import TransientError
from shopdw.lake.layout import RAW_PREFIX, parse_raw_path
from shopdw.lake.store import Lake, LakeFile, lake_from_settings, sha256
from shopdw.load.ledger import LEDGER_SCHEMA, QUARANTINE_SCHEMA, all_tables, is_done, read_ledger
from shopdw.load.validate import FileRejected, Prepared, Validator

COMMIT_ATTEMPTS = 5
# A batch of files commits in one transaction; a new batch starts with each entity, or when one
# of these is reached (rows validated, bytes read, files).
BATCH_MAX_ROWS = 2_000_000
BATCH_MAX_BYTES = 512 * 1024 * 1024
BATCH_MAX_FILES = 200
# Small files of one entity are validated together (`Validator.prepare_many`): a file joins the group
# when it is at most GROUP_FILE_MAX_BYTES and the group stays within these.
GROUP_FILE_MAX_BYTES = 1024 * 1024
GROUP_MAX_BYTES = 16 * 1024 * 1024
GROUP_MAX_FILES = 100


@dataclass
class FileOutcome:
    path: str
    status: str  # loaded | rejected | duplicate
    entity: str | None = None
    rows_in_file: int | None = None
    rows_loaded: int = 0
    rows_quarantined: int = 0
    reason: str | None = None
    schema_drift: str | None = None


@dataclass
class LoadResult:
    run_id: str
    target: str
    files: list[FileOutcome] = field(default_factory=list)
    files_seen: int = 0
    files_already_done: int = 0
    seconds: float = 0.0

    def _count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def rows_by_entity(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for f in self.files:
            if f.entity and f.status == "loaded":
                e = out.setdefault(f.entity, {"files": 0, "rows_loaded": 0, "rows_quarantined": 0})
                e["files"] += 1
                e["rows_loaded"] += f.rows_loaded
                e["rows_quarantined"] += f.rows_quarantined
        return {k: out[k] for k in sorted(out, key=lambda e: LOAD_ORDER.index(e) if e in LOAD_ORDER else 99)}

    @property
    def exit_code(self) -> int:
        return 1 if self._count("rejected") else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "target": self.target,
            "files_seen": self.files_seen,
            "files_already_loaded": self.files_already_done,
            "files_loaded": self._count("loaded"),
            "files_rejected": self._count("rejected"),
            "files_duplicate": self._count("duplicate"),
            "rows_loaded": sum(f.rows_loaded for f in self.files),
            "rows_quarantined": sum(f.rows_quarantined for f in self.files),
            "rows_by_entity": self.rows_by_entity,
            "seconds": round(self.seconds, 3),
            "exit_code": self.exit_code,
            "files": [asdict(f) for f in self.files],
        }

    def render(self, console=None) -> None:
        from rich.console import Console
        from rich.table import Table

        console = console or Console()
        d = self.to_dict()
        t = Table(title=f"shopdw load → {self.target} (run {self.run_id})")
        for col in ("entity", "files", "rows loaded", "rows quarantined"):
            t.add_column(col, justify="left" if col == "entity" else "right")
        for entity, c in d["rows_by_entity"].items():
            t.add_row(entity, str(c["files"]), f"{c['rows_loaded']:,}", f"{c['rows_quarantined']:,}")
        if d["rows_by_entity"]:
            console.print(t)
        console.print(
            f"{d['files_loaded']} file(s) loaded, {d['files_duplicate']} duplicate, {d['files_rejected']} rejected, "
            f"{d['files_already_loaded']} already loaded before; {d['rows_loaded']:,} rows loaded, "
            f"{d['rows_quarantined']:,} quarantined in {d['seconds']:.1f}s"
        )
        for f in self.files:
            if f.status == "rejected":
                console.print(f"[red]rejected[/] {f.path}: {f.reason}", highlight=False)
            elif f.status == "duplicate":
                console.print(f"[yellow]duplicate[/] {f.path}: {f.reason}", highlight=False)
            if f.schema_drift:
                console.print(f"[yellow]schema drift[/] {f.path}: {f.schema_drift}", highlight=False)
        if d["rows_quarantined"]:
            console.print("Quarantined rows (with reasons) are in meta.quarantine.")


def new_run_id() -> str:
    return f"load-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


def _sort_key(f: LakeFile) -> tuple:
    try:
        rp = parse_raw_path(f.path)
        rank = LOAD_ORDER.index(rp.entity) if rp.entity in CONTRACTS else -1
        return (rank, rp.ingest_date.isoformat(), f.path)
    except ValueError:
        return (-1, "", f.path)


def load_stamp(newest: datetime | None, now: datetime | None = None) -> datetime:
    """This run's `_loaded_at`: taken under the run lock and always after every earlier run's stamp
    (whole seconds; one second past the newest when the clock has not moved on or went back), so an
    incremental dbt build that read everything up to its watermark never misses a later load."""
    stamp = (now or datetime.now(timezone.utc)).replace(tzinfo=None, microsecond=0)
    if newest is not None:
        newest = newest.replace(tzinfo=None)
        if stamp <= newest:
            stamp = newest.replace(microsecond=0) + timedelta(seconds=1)
    return stamp


def _lineage(path: str, batch_id: str, ingest_date: date, loaded_at: datetime, run_id: str) -> dict[str, Any]:
    return {"_source_file": path, "_batch_id": batch_id, "_ingest_date": ingest_date, "_loaded_at": loaded_at,
            "_run_id": run_id}  # fmt: skip


def _open(settings: Settings, lake: Lake):
    from shopdw.warehouse import open_warehouse

    if settings.target == "redshift":
        from shopdw.warehouse.redshift import RedshiftWarehouse

        return RedshiftWarehouse.from_settings(settings, lake=lake)
    return open_warehouse(settings)


@dataclass
class _Batch:
    """Files validated but not committed yet: they commit together, in one transaction."""

    entity: str | None = None
    files: list[tuple[list, dict[str, Any]]] = field(default_factory=list)
    prepared: list[Prepared] = field(default_factory=list)
    rows: int = 0
    bytes: int = 0
    last: tuple[str, str] | None = None  # (path, hash) of the last file: in the ledger once committed

    def full(self) -> bool:
        return self.rows >= BATCH_MAX_ROWS or self.bytes >= BATCH_MAX_BYTES or len(self.files) >= BATCH_MAX_FILES


def load(
    settings: Settings,
    run_id: str | None = None,
    progress: bool = True,
    until: date | None = None,
    lock_timeout: float = 600.0,
) -> LoadResult:
    """Load every new lake file (ingest_date <= until, if given) into the warehouse, exactly once.

    Rejected files are recorded, not raised: `result.exit_code` is 1 if any file was rejected.
    Raises ConfigError / TransientError (after retries) / LakeError for problems that stop a run.
    """
    t0 = time.monotonic()
    run_id = run_id or new_run_id()
    lake = lake_from_settings(settings)
    result = LoadResult(run_id=run_id, target=settings.target)
    validator = Validator()
    try:
        wh = _open(settings, lake)
    except BaseException:
        validator.close()
        raise
    batch = _Batch()
    committer = _Committer(wh, validator)
    try:
        with wh.run_lock(timeout=lock_timeout):
            try:
                wh.ensure_tables(all_tables())
                wh.begin_load()
                state = read_ledger(wh)
                newest = wh.query("select max(loaded_at) from meta.load_ledger")
                loaded_at = load_stamp(newest[0][0] if newest else None)
                files = sorted(lake.list(RAW_PREFIX), key=_sort_key)
                if until is not None:
                    files = [f for f in files if _sort_key(f)[1] == "" or _sort_key(f)[1] <= until.isoformat()]
                result.files_seen = len(files)
                seeded: set[str] = set()
                group: list[tuple[LakeFile, bytes, str]] = []  # read and hashed, to be validated together

                def flush() -> None:
                    nonlocal batch
                    if not group:
                        return
                    first = _entity(group[0][0].path)
                    if batch.files and (first != batch.entity or batch.full()):  # commits while the group is checked
                        committer.submit(batch)
                        batch = _Batch()
                    if not seeded and any(_entity(f.path) in CONTRACTS for f, _, _ in group):
                        committer.wait()  # the first files to check: before any commit
                        _seed_parent_keys(validator, wh, seeded)
                    done = _process_group(group, state, validator, wh, loaded_at, run_id)
                    for (f, data, h), (outcome, writes, prepared) in zip(group, done):
                        entity = _entity(f.path)
                        if batch.files and (entity != batch.entity or batch.full()):
                            committer.submit(batch)
                            batch = _Batch()
                        state.add(f.path, h, outcome.status, len(data))
                        if prepared is not None:
                            batch.prepared.append(prepared)
                            validator.add_file_keys(prepared)  # later files (same batch or not) resolve against them
                        lineage = _lineage(f.path, outcome_batch(f.path), _ingest(f.path), loaded_at, run_id)
                        batch.entity = entity
                        batch.files.append((writes, lineage))
                        batch.rows += outcome.rows_in_file or 0
                        batch.bytes += len(data)
                        batch.last = (f.path, h)
                        result.files.append(outcome)
                    group.clear()

                with _progress(progress, len(files)) as advance:
                    for f in files:
                        advance(f.path)
                        if state.seen(f.path, f.size):  # immutable: recorded before, not read again
                            result.files_already_done += 1
                            continue
                        data = lake.get(f.path)
                        h = sha256(data)
                        if (f.path, h) in state.done:
                            result.files_already_done += 1
                            continue
                        if group and not _joins(group, f, data, h):
                            flush()
                        group.append((f, data, h))
                    flush()
                    committer.submit(batch)
                    batch = _Batch()
                    committer.wait()
                wh.finish_load()
            finally:
                committer.shutdown()  # a commit in flight ends before the run lock is released
    finally:
        for p in batch.prepared:
            validator.release(p)
        validator.close()
        wh.close()
    result.seconds = time.monotonic() - t0
    return result


def _entity(path: str) -> str | None:
    try:
        return parse_raw_path(path).entity
    except ValueError:
        return None


def _groupable(entity: str | None) -> bool:
    """Whether files of this entity may be validated together: a known entity with no foreign key to
    itself (a file's foreign keys are probed against the parent keys known before its group)."""
    contract = CONTRACTS.get(entity or "")
    return contract is not None and all(fk.parent != entity for fk in contract.foreign_keys)


def _joins(group: list[tuple[LakeFile, bytes, str]], f: LakeFile, data: bytes, h: str) -> bool:
    """Whether file f joins the group of files to validate together: small files of one entity, none
    with the same content as another (the second is then a duplicate of the first, if that one loads)."""
    entity = _entity(f.path)
    return (
        _groupable(entity)
        and entity == _entity(group[0][0].path)
        and len(group) < GROUP_MAX_FILES
        and len(data) <= GROUP_FILE_MAX_BYTES
        and len(group[0][1]) <= GROUP_FILE_MAX_BYTES
        and sum(len(d) for _, d, _ in group) + len(data) <= GROUP_MAX_BYTES
        and all(h != g for _, _, g in group)
    )


def _process_group(group: list[tuple[LakeFile, bytes, str]], state, validator: Validator, wh, loaded_at: datetime,
                   run_id: str) -> list[tuple[FileOutcome, list, Prepared | None]]:  # fmt: skip
    """Decide the fate of files (of one entity, when there are several: see `_joins`); for each, return its
    outcome, the rows to commit and (if it loads) its Prepared rows."""
    admitted: list[tuple[int, Any]] = []
    done: list[Any] = [None] * len(group)
    for k, (f, data, h) in enumerate(group):
        try:
            rp = _admit(f, h, state)
        except FileRejected as e:
            done[k] = _finish(f, data, h, FileOutcome(f.path, "rejected", _entity(f.path), reason=str(e)),
                              None, None, loaded_at, run_id)  # fmt: skip
            continue
        if h in state.loaded_hash_path:
            outcome = FileOutcome(f.path, "duplicate", rp.entity, reason=f"same content as {state.loaded_hash_path[h]}")
            done[k] = _finish(f, data, h, outcome, None, None, loaded_at, run_id)
            continue
        admitted.append((k, rp))
    if admitted:
        entity = admitted[0][1].entity
        files = [(rp.fmt, group[k][1], rp.ingest_date) for k, rp in admitted]
        prepared = validator.prepare_many(entity, files)
        for (k, rp), p in zip(admitted, prepared):
            f, data, h = group[k]
            done[k] = _loaded(f, data, h, rp.entity, p, validator, wh, loaded_at, run_id)
    return done


def _admit(f: LakeFile, h: str, state):
    """The file's parsed raw path, or FileRejected: a bad path, an unknown entity, or a changed file."""
    try:
        rp = parse_raw_path(f.path)
    except ValueError as e:
        raise FileRejected(f"{e}; move it to a valid raw path") from None
    if rp.entity not in CONTRACTS:
        raise FileRejected(f"unknown entity folder {rp.entity!r}; known entities: {', '.join(LOAD_ORDER)}")
    if f.path in state.hashes_by_path:
        raise FileRejected(
            f"immutable file changed: {f.path} was already recorded with sha256 "
            f"{sorted(state.hashes_by_path[f.path])[0][:12]}, now {h[:12]}; lake files are immutable: "
            "write the correction as a new batch id"
        )
    return rp


def _loaded(f: LakeFile, data: bytes, h: str, entity: str, prepared: Prepared | FileRejected, validator: Validator,
            wh, loaded_at: datetime, run_id: str):  # fmt: skip
    """A validated file's outcome and writes (or a rejected one's, when prepared is the FileRejected)."""
    if isinstance(prepared, FileRejected):
        return _finish(f, data, h, FileOutcome(f.path, "rejected", entity, reason=str(prepared)), None, None,
                       loaded_at, run_id)  # fmt: skip
    good = prepared.rows() if wh.inserts_file_rows else validator.good_arrow(prepared)
    nbad = prepared.bad.num_rows
    outcome = FileOutcome(f.path, "loaded", entity, prepared.rows_in_file, prepared.rows_good, nbad,
                          schema_drift=prepared.drift)  # fmt: skip
    quarantine = None
    if nbad:
        bad = prepared.bad
        quarantine = pa.table(
            [
                pa.repeat(pa.scalar(entity, pa.string()), nbad),
                pa.repeat(pa.scalar(f.path, pa.string()), nbad),
                bad["row_number"],
                bad["reason"],
                bad["row"],
                pa.repeat(pa.scalar(run_id, pa.string()), nbad),
                pa.repeat(pa.scalar(loaded_at, pa.timestamp("us")), nbad),
            ],
            schema=QUARANTINE_SCHEMA,
        )
    return _finish(f, data, h, outcome, good, quarantine, loaded_at, run_id, prepared)


def _finish(f: LakeFile, data: bytes, h: str, outcome: FileOutcome, good, quarantine: pa.Table | None,
            loaded_at: datetime, run_id: str, prepared: Prepared | None = None):  # fmt: skip
    """The file's outcome, its writes (good rows, quarantined rows, its ledger row) and its Prepared."""
    ledger = pa.Table.from_pylist(
        [
            {
                "path": f.path, "size": len(data), "content_hash": h, "entity": outcome.entity,
                "batch_id": outcome_batch(f.path), "ingest_date": _ingest(f.path),
                "rows_in_file": outcome.rows_in_file, "rows_loaded": outcome.rows_loaded,
                "rows_quarantined": outcome.rows_quarantined, "status": outcome.status, "reason": outcome.reason,
                "schema_drift": outcome.schema_drift, "loaded_at": loaded_at, "run_id": run_id,
            }
        ],
        schema=LEDGER_SCHEMA,
    )  # fmt: skip
    writes = []
    if good is not None:
        writes.append(("raw", outcome.entity, good))
    if quarantine is not None:
        writes.append(("meta", "quarantine", quarantine))
    writes.append(("meta", "load_ledger", ledger))
    return outcome, writes, prepared


def _seed_parent_keys(validator: Validator, wh, seeded: set[str]) -> None:
    """Once per run, before this run commits anything: every parent's keys already in raw.* (the keys
    of this run's own files are added as they are validated)."""
    for parent in sorted({fk.parent for c in CONTRACTS.values() for fk in c.foreign_keys}):
        for column in sorted(
            {fk.parent_column for c in CONTRACTS.values() for fk in c.foreign_keys if fk.parent == parent}
        ):
            col = wh.quote_ident(column)
            keys = wh.query_arrow(f"select distinct {col} from {wh.qualified('raw', parent)} where {col} is not null")
            if keys.num_rows:
                validator.add_keys(parent, keys.rename_columns([column]).cast(pa.schema([(column, pa.string())])))
        seeded.add(parent)


def outcome_batch(path: str) -> str | None:
    try:
        return parse_raw_path(path).batch_id
    except ValueError:
        return None


def _ingest(path: str) -> date | None:
    try:
        return parse_raw_path(path).ingest_date
    except ValueError:
        return None


class _Committer:
    """Commits batches on one background thread while the main thread reads and validates the next
    batch (DuckDB and the drivers release the GIL). One batch in flight: `submit` waits for the
    previous one first, and re-raises its error; the main thread never uses the warehouse connection
    while a commit runs (it calls `wait` first). A batch's temporary files are released once it is done."""

    def __init__(self, wh, validator: Validator):
        from concurrent.futures import ThreadPoolExecutor

        self.wh, self.validator = wh, validator
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shopdw-commit")
        self.pending: tuple[Any, _Batch] | None = None

    def submit(self, batch: _Batch) -> None:
        self.wait()
        if batch.files:
            self.pending = (self.pool.submit(_commit, self.wh, batch.files, *batch.last), batch)
        else:
            self._release(batch)

    def wait(self) -> None:
        """Wait for the batch in flight; raise its error."""
        if self.pending is None:
            return
        future, batch = self.pending
        self.pending = None
        try:
            future.result()
        finally:
            self._release(batch)

    def shutdown(self) -> None:
        """Wait for a batch in flight without raising (another error is on its way up), then stop."""
        try:
            self.wait()
        except BaseException:  # noqa: S110 - the error that stopped the run is the one to report
            pass
        finally:
            self.pool.shutdown(wait=True)

    def _release(self, batch: _Batch) -> None:
        for p in batch.prepared:
            self.validator.release(p)
        batch.prepared.clear()


def _commit(wh, files, path: str, h: str) -> None:
    """Commit files; on a dropped connection reconnect, check whether the commit landed, retry.

    A DuckDB file is local and the loader holds it: an error there is not a dropped connection,
    and reconnecting would lose nothing worth retrying for, so it is raised as is."""
    if wh.dialect == "duckdb":
        wh.commit_batch(files)
        return
    for attempt in range(1, COMMIT_ATTEMPTS + 1):
        try:
            wh.commit_batch(files)
            return
        except TransientError:
            if attempt == COMMIT_ATTEMPTS:
                raise
            time.sleep(min(8.0, 0.25 * 2 ** (attempt - 1)))
            wh.reconnect()
            if is_done(wh, path, h):  # the batch commits whole: its last file says whether it landed
                return


class _progress:
    """A rich progress bar over files (or nothing when progress is off)."""

    def __init__(self, enabled: bool, total: int):
        self.enabled, self.total = enabled, total
        self.bar = None

    def __enter__(self):
        if not self.enabled:
            return lambda _path: None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(TextColumn("load {task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), transient=True)  # fmt: skip
        self.bar.__enter__()
        task = self.bar.add_task("", total=self.total)

        def advance(path: str) -> None:
            self.bar.update(task, advance=1, description=path.split("/")[1] if "/" in path else path)

        return advance

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)
