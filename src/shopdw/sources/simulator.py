"""`shopdw generate`: a vectorized, deterministic simulator of the shop's OLTP system.

It writes, per simulated day D, one batch per entity into the lake
(`raw/<entity>/ingest_date=D/sim-YYYYMMDD.<ext>`) in the exact Arrow schemas of
`shopdw.contracts`, plus a ground-truth list of every injected defect
(`ground_truth/defects/ingest_date=D/sim-YYYYMMDD.csv`, never under raw/).

Determinism across call partitions. Day D's batch is a pure function of (seed, D, knobs):
generating D1..Dn in one call writes byte-identical files to generating each day alone.
 * Orders placed on day d are drawn from random streams keyed by (seed, d); their whole
   future (approval, shipping, delivery or cancellation, review, late item/payment rows) is
   drawn at once. Day D looks back over the last LOOKBACK_DAYS (32) purchase days and
   recomputes them (cached within a call), so it never depends on the run's --start.
 * Products, sellers and persons are hashes of (seed, number, version): a product's
   price/category version changes on days fixed by its own period and phase.
 * Parents are (re-)emitted with the children that reference them, with identical content:
   day D's `orders` holds every order whose status changed on D plus the current version of
   every order referenced by D's item, payment or review rows; `customers` holds the accounts
   of those orders (their current version) plus accounts whose person moved on D; `products`
   and `sellers` hold those referenced by D's items plus those that change on D. A row may
   therefore appear again, byte-identical, in a later day's file: staging keeps one version
   per (key, updated_at). This keeps every foreign key resolvable whatever day a lake starts.
 * Reference data (category translations, geolocation of every zip prefix the simulator
   uses) is fixed content, independent of seed, days and knobs, written once under the
   reference date REFERENCE_DATE (2016-01-01) as batch `sim-reference`: every call writes
   the same bytes (the lake reports them unchanged), so nothing is counted twice.
 * A person who moves updates the accounts (customer_ids) of their orders inside the
   look-back window; accounts older than that keep their old address (a documented simplification).
 * Within a process, the next days are computed on the main thread while pool threads encode and
   write the previous ones (pyarrow releases the GIL); the look-back window's purchase days are computed on the pool
   before the first day. Big runs on machines with 4+ cores spread consecutive days over worker
   processes (`workers`, auto: one per two cores for >= 200k orders): each recomputes its own
   look-back window, so the bytes are the same as in one process.
 * Volume per order: about 4.4 order rows (one per status-change day, plus re-emissions for
   later reviews and late rows), as many customer rows, ~1.15 items, ~1.03 payments, ~0.97
   reviews and ~8 web events (every order's purchase session plus one browse-only session per
   order on average: a compromise between a realistic conversion rate and data volume).

Defects (`--defect-rate`): for each entity and day, each clean row independently gets, with
that probability, one EXTRA defective row placed right after it (a copy with one thing
broken, or an exact duplicate). Removing the ground-truth rows gives exactly the clean data.
Null keys and unparseable values are only possible in CSV/JSON (Parquet columns are typed
and the contract's key columns are declared non-nullable), so they are not injected in Parquet.
Reference files carry no defects. Day files are encoded with `formats.encode` (the bytes
`formats.write_batch` would write) and put atomically with `lake.put`; the simulator splits
batches over 128 MB itself so that an exact duplicate never lands in another part than its
original, and the ground truth's row numbers count within each part.
"""

from __future__ import annotations

import io
import math
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from shopdw.contracts import CONTRACTS, LOAD_ORDER, MONEY, TS
from shopdw.errors import ConfigError, LakeError
from shopdw.lake.formats import encode, write_batch
from shopdw.lake.layout import GROUND_TRUTH_PREFIX, MAX_FILE_BYTES, raw_path
from shopdw.lake.store import Lake
from shopdw.sources import sim_reference as ref
from shopdw.sources.sim_core import DAY_US, day_start_us, hex_ids
from shopdw.sources.sim_model import LOOKBACK_DAYS, PurchaseCache, make_world
from shopdw.sources.sim_tables import DICTIONARY_COLUMNS, emit_day, prepare_day

__all__ = [
    "DEFECT_KINDS",
    "FORMATS",
    "REFERENCE_BATCH_ID",
    "REFERENCE_DATE",
    "GenerateResult",
    "SimulatorConfig",
    "batch_id_for",
    "generate",
    "ground_truth_path",
]

FORMATS = ("parquet", "csv", "json")
REFERENCE_DATE = date(2016, 1, 1)
REFERENCE_BATCH_ID = "sim-reference"
MAX_ORDERS_PER_DAY = 500_000
DEFECT_KINDS = (
    "duplicate_row",
    "null_key",
    "negative_price",
    "unknown_state",
    "orphan_fk",
    "future_timestamp",
    "unparseable_value",
)
GROUND_TRUTH_COLUMNS = ("file", "entity", "row_number", "defect", "column", "key")
DATED_ENTITIES = tuple(e for e in LOAD_ORDER if not CONTRACTS[e].reference)
# Days computed ahead of the oldest day still being encoded and written, and the threads encoding and
# writing them: a two-day pipeline keeps both sides busy when one is briefly slower (each day in flight
# holds its tables); encoding is the larger half of the work, so it gets more threads than cores' worth.
DAYS_IN_FLIGHT = 2
ENCODE_THREADS = 3
SPLIT_BYTES = MAX_FILE_BYTES  # a batch over this becomes <batch_id>-pNNN parts (tests lower it)
# Random 32-hex ids: Parquet min/max statistics on them prune nothing, and cost encoding time.
ID_COLUMNS = frozenset(("order_id", "customer_id", "customer_unique_id", "product_id", "seller_id", "review_id",
                        "event_id", "session_id"))  # fmt: skip

# Where each defect kind can go (columns per entity).
_NEGATIVE = {"order_items": ("price", "freight_value"), "order_payments": ("payment_value",)}
_STATE = {"customers": ("customer_state",), "sellers": ("seller_state",)}
_ORPHAN = {"order_items": ("order_id",), "order_payments": ("order_id",), "order_reviews": ("order_id",),
           "orders": ("customer_id",)}  # fmt: skip
_FUTURE = {
    "customers": ("updated_at",),
    "sellers": ("updated_at",),
    "products": ("updated_at",),
    "orders": ("order_purchase_timestamp", "updated_at"),
    "order_reviews": ("review_creation_date",),
    "web_events": ("event_timestamp",),
}
_UNPARSEABLE = {
    "customers": ("updated_at",),
    "sellers": ("updated_at",),
    "products": ("list_price", "product_weight_g", "updated_at"),
    "orders": ("order_purchase_timestamp", "updated_at"),
    "order_items": ("price", "freight_value", "shipping_limit_date"),
    "order_payments": ("payment_value", "payment_installments"),
    "order_reviews": ("review_score", "review_creation_date"),
    "web_events": ("event_timestamp",),
}
_UNPARSEABLE_TEXT = ("n/a", "12,3.4", "N/D", "--")
# Sentinels put into a typed column and replaced by text after encoding (CSV/JSON only).
_SENTINEL_CENTS = 999_999_999_999  # 9999999999.99
_SENTINEL_INT = -2_147_483_647
_SENTINEL_US = int(day_start_us(date(1901, 1, 1).toordinal()))
_SENTINEL_PATTERNS = {
    "money": re.compile(rb"9999999999\.99"),
    "int": re.compile(rb"-2147483647"),
    "ts": re.compile(rb'"1901-01-01[ T]00:00:00[^"]*"'),
}


def applicable_defects(entity: str, fmt: str) -> dict[str, tuple[str, ...]]:
    """Defect kind -> the columns it may hit, for one entity and format ('' = the whole row)."""
    # a repeated row is only a defect where the entity has a business key (not geolocation)
    kinds: dict[str, tuple[str, ...]] = {"duplicate_row": ("",)} if CONTRACTS[entity].key else {}
    if fmt != "parquet":
        kinds["null_key"] = CONTRACTS[entity].required_not_null
    for kind, table in (("negative_price", _NEGATIVE), ("unknown_state", _STATE), ("orphan_fk", _ORPHAN),
                        ("future_timestamp", _FUTURE)):  # fmt: skip
        if entity in table:
            kinds[kind] = table[entity]
    if fmt != "parquet" and entity in _UNPARSEABLE:
        kinds["unparseable_value"] = _UNPARSEABLE[entity]
    return kinds


@dataclass(frozen=True)
class SimulatorConfig:
    """The knobs of one generate call. Each day's files depend on (seed, day, knobs), never on start."""

    start: date
    days: int
    orders_per_day: int = 200
    seed: int = 42
    defect_rate: float = 0.0
    late_rate: float = 0.05
    fmt: str = "parquet"

    def __post_init__(self) -> None:
        if self.days < 1:
            raise ConfigError(f"--days must be at least 1, got {self.days}")
        if not 1 <= self.orders_per_day <= MAX_ORDERS_PER_DAY:
            raise ConfigError(
                f"--orders-per-day must be between 1 and {MAX_ORDERS_PER_DAY:,}, got {self.orders_per_day}"
            )
        if not 0 <= self.seed < 2**63:
            raise ConfigError(f"--seed must be between 0 and 2**63-1, got {self.seed}")
        for name, v in (("--defect-rate", self.defect_rate), ("--late-rate", self.late_rate)):
            if not 0.0 <= v <= 1.0:
                raise ConfigError(f"{name} must be a share between 0 and 1, got {v}")
        if self.fmt not in FORMATS:
            raise ConfigError(f"--format must be one of {', '.join(FORMATS)}, got {self.fmt!r}")
        try:
            self.start + timedelta(days=self.days + 60)
            date.fromordinal(self.start.toordinal() - 500)
        except (OverflowError, ValueError):
            raise ConfigError(f"--start {self.start} with --days {self.days} leaves the supported calendar") from None

    @property
    def dates(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.days)]


def batch_id_for(day: date) -> str:
    return f"sim-{day:%Y%m%d}"


def ground_truth_path(day: date) -> str:
    return f"{GROUND_TRUTH_PREFIX}defects/ingest_date={day.isoformat()}/{batch_id_for(day)}.csv"


@dataclass
class GenerateResult:
    lake_uri: str
    start: date
    days: int
    fmt: str
    seed: int
    files_written: int = 0
    files_unchanged: int = 0
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LOAD_ORDER, 0))
    defects: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DEFECT_KINDS, 0))
    files: list[str] = field(default_factory=list)
    seconds: float = 0.0
    new_orders: int = 0

    def to_dict(self) -> dict:
        return {
            "lake": self.lake_uri,
            "start": self.start.isoformat(),
            "days": self.days,
            "format": self.fmt,
            "seed": self.seed,
            "files_written": self.files_written,
            "files_unchanged": self.files_unchanged,
            "new_orders": self.new_orders,
            "rows": dict(self.rows),
            "defects_injected": dict(self.defects),
            "seconds": round(self.seconds, 3),
        }

    def render(self, console=None) -> None:
        from rich.console import Console
        from rich.table import Table

        console = console or Console()
        end = self.start + timedelta(days=self.days - 1)
        t = Table(title=f"generated {self.start}..{end} ({self.days} days, {self.fmt}, seed {self.seed})")
        t.add_column("entity")
        t.add_column("rows", justify="right")
        for e in LOAD_ORDER:
            t.add_row(e, f"{self.rows[e]:,}")
        console.print(t)
        injected = {k: v for k, v in self.defects.items() if v}
        console.print(
            f"{self.new_orders:,} new orders; files: {self.files_written} written, "
            f"{self.files_unchanged} unchanged, in {self.lake_uri} ({self.seconds:.1f}s)"
        )
        if injected:
            console.print("defects injected: " + ", ".join(f"{k} {v:,}" for k, v in injected.items())
                          + "  (listed under ground_truth/defects/)")  # fmt: skip
        else:
            console.print("defects injected: none")


# ---------------------------------------------------------------- defects


def _money_cents(arr: pa.Array) -> np.ndarray:
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    raw = np.frombuffer(arr.buffers()[1], dtype="<i8").reshape(-1, 2)
    return raw[arr.offset : arr.offset + len(arr), 0].copy()


def _plain(table: pa.Table) -> pa.Table:
    """The table with its dictionary columns decoded to their value type."""
    if not any(pa.types.is_dictionary(f.type) for f in table.schema):
        return table
    schema = pa.schema([f.with_type(f.type.value_type) if pa.types.is_dictionary(f.type) else f for f in table.schema])
    return table.cast(schema)


def _replace(arr: pa.Array, rows: np.ndarray, values: pa.Array) -> pa.Array:
    mask = np.zeros(len(arr), dtype=bool)
    mask[rows] = True
    return pc.replace_with_mask(arr, pa.array(mask), values)


@dataclass
class _Defects:
    table: pa.Table  # clean rows with defect rows interleaved
    rows: np.ndarray  # 0-based row index of each defect row in table
    kinds: list[str]
    columns: list[str]
    keys: list[str]
    patches: list[tuple[int, str, str]]  # (row index, sentinel kind, replacement text)

    @property
    def duplicate_rows(self) -> np.ndarray:
        """Rows of exact duplicates: a file split must keep each right after its original."""
        return self.rows[np.array([k == "duplicate_row" for k in self.kinds], dtype=bool)] if self.kinds else self.rows


def inject_defects(table: pa.Table, entity: str, day: int, seed: int, rate: float, fmt: str) -> _Defects:
    """Add one defective copy after each row picked with probability `rate` (vectorized per kind/column)."""
    n = table.num_rows
    contract = CONTRACTS[entity]
    rng = np.random.default_rng([seed & 0xFFFFFFFF, seed >> 32, 7, day, LOAD_ORDER.index(entity)])
    if rate <= 0 or n == 0:
        return _Defects(table, np.zeros(0, np.int64), [], [], [], [])
    chosen = np.nonzero(rng.random(n) < rate)[0]
    m = len(chosen)
    if m == 0:
        return _Defects(table, np.zeros(0, np.int64), [], [], [], [])
    options = applicable_defects(entity, fmt)
    if not options:
        return _Defects(table, np.zeros(0, np.int64), [], [], [], [])
    table = _plain(table)  # defects replace single values: dictionary columns as plain strings
    kind_names = list(options)
    kind_of = rng.integers(0, len(kind_names), m)
    col_pick = rng.random(m)
    extra = rng.random(m)
    bad = table.take(pa.array(chosen)).combine_chunks()
    cols = {name: bad.column(name).chunk(0) if bad.column(name).num_chunks else bad.column(name).combine_chunks()
            for name in bad.column_names}  # fmt: skip
    column_of = np.array([""] * m, dtype=object)
    patches: list[tuple[int, str, str]] = []
    end_us = int(day_start_us(day + 1))
    for ki, kind in enumerate(kind_names):
        targets = options[kind]
        sel_kind = kind_of == ki
        which = np.minimum((col_pick * len(targets)).astype(np.int64), len(targets) - 1)
        for ci, col in enumerate(targets):
            rows = np.nonzero(sel_kind & (which == ci))[0]
            if not len(rows):
                continue
            column_of[rows] = col
            if kind == "duplicate_row":
                continue
            arr = cols[col]
            k = len(rows)
            if kind == "null_key":
                new = pa.nulls(k, arr.type)
            elif kind == "negative_price":
                new = _money_array_neg(_money_cents(arr)[rows])
            elif kind == "unknown_state":
                new = pa.array(["XX"] * k)
            elif kind == "orphan_fk":
                new = hex_ids(seed, f"orphan.{entity}.{col}", day, chosen[rows])
            elif kind == "future_timestamp":
                offs = ((30 + 370 * extra[rows]) * DAY_US).astype(np.int64)
                new = pa.array(end_us + offs, type=TS)
            elif kind == "unparseable_value":
                if arr.type == MONEY:
                    new, sk = pa.array([Decimal(_SENTINEL_CENTS) / 100] * k, type=MONEY), "money"
                elif pa.types.is_timestamp(arr.type):
                    new, sk = pa.array([_SENTINEL_US] * k, type=TS), "ts"
                else:
                    new, sk = pa.array([_SENTINEL_INT] * k, type=arr.type), "int"
                texts = [_UNPARSEABLE_TEXT[int(x * len(_UNPARSEABLE_TEXT))] for x in extra[rows]]
                patches.extend(zip(rows.tolist(), [sk] * k, texts))
            else:  # pragma: no cover
                raise AssertionError(kind)
            cols[col] = _replace(arr, rows, new)

    schema = table.schema
    order = np.argsort(np.concatenate([np.arange(n) * 2, chosen * 2 + 1]), kind="stable")
    position = np.empty(n + m, dtype=np.int64)
    position[order] = np.arange(n + m)
    defect_rows = position[n:]
    take = pa.array(order)
    merged = []
    for f in schema:
        clean = table.column(f.name).combine_chunks()
        merged.append(pa.concat_arrays([clean, cols[f.name]]).take(take))
    out = pa.Table.from_arrays(merged, schema=schema)
    # business key of each defect row, '|'-joined, '' for a null part
    key_parts = [cols[c].cast(pa.string()).to_pylist() for c in contract.key]
    keys = ["|".join("" if v is None else v for v in vals) for vals in zip(*key_parts)]
    patches = [(int(defect_rows[r]), sk, text) for r, sk, text in patches]
    return _Defects(out, defect_rows, [kind_names[i] for i in kind_of], column_of.tolist(), keys, patches)


def _money_array_neg(cents: np.ndarray) -> pa.Array:
    from shopdw.sources.sim_core import money_array

    return money_array(-np.abs(cents) - 1)


def _patch(data: bytes, fmt: str, patches: list[tuple[int, str, str]], first_row: int) -> bytes:
    """Replace each sentinel (in its row's line only) by unparseable text; rows are 0-based in the file."""
    if not patches:
        return data
    lines = data.split(b"\n")
    header = 1 if fmt == "csv" else 0
    for row, sk, text in patches:
        li = row - first_row + header
        line = lines[li]
        found = _SENTINEL_PATTERNS[sk].findall(line)
        if len(found) != 1:  # pragma: no cover - a bug, not bad input
            raise AssertionError(f"sentinel {sk} found {len(found)} times in row {row}")
        lines[li] = _SENTINEL_PATTERNS[sk].sub(b'"' + text.encode() + b'"', line, count=1)
    return b"\n".join(lines)


def _encode_parts(table: pa.Table, fmt: str, keep_with_previous: np.ndarray) -> list[tuple[int, int, bytes]]:
    """(first row, row count, bytes) per file part, each at most SPLIT_BYTES, like formats.encode_split,
    except that a part never starts at a row in keep_with_previous (a duplicate stays in its original's file)."""
    stats = [c for c in table.column_names if c not in ID_COLUMNS]
    data = encode(table, fmt, DICTIONARY_COLUMNS, stats)
    n = table.num_rows
    if len(data) <= SPLIT_BYTES or n <= 1:
        return [(0, n, data)]
    stick = set(keep_with_previous.tolist())
    parts = math.ceil(len(data) / SPLIT_BYTES) + 1
    while True:
        size = math.ceil(n / parts)
        cuts = []
        for b in range(0, n, size):
            while b in stick:
                b += 1
            if b < n and (not cuts or b > cuts[-1]):
                cuts.append(b)
        bounds = list(zip(cuts, cuts[1:] + [n]))
        chunks = [(a, b - a, encode(table.slice(a, b - a), fmt, DICTIONARY_COLUMNS, stats)) for a, b in bounds]
        if all(len(c[2]) <= SPLIT_BYTES for c in chunks) or size <= 2:
            return chunks
        parts *= 2


def _write(
    lake: Lake, entity: str, day: date, table: pa.Table, fmt: str, patches, keep_with_previous: np.ndarray
) -> list[tuple[str, str, int, int]]:
    """Write one batch; returns (path, outcome, first row, row count) per file part."""
    try:
        return _write_parts(lake, entity, day, table, fmt, patches, keep_with_previous)
    except LakeError as e:
        raise LakeError(
            f"{e}. The lake already holds simulator files for {day} made with other knobs (seed, "
            "orders per day, defect or late rate): generate into another lake, or repeat the same knobs"
        ) from None


def _write_parts(lake: Lake, entity: str, day: date, table: pa.Table, fmt: str, patches, keep_with_previous):
    """Encode (same bytes as formats.write_batch for a single file), patch, and put each part atomically."""
    bid = batch_id_for(day)
    chunks = _encode_parts(table, fmt, keep_with_previous)
    names = [bid] if len(chunks) == 1 else [f"{bid}-p{i:03d}" for i in range(1, len(chunks) + 1)]
    parts = []
    for name, (first, cnt, data) in zip(names, chunks):
        mine = [p for p in patches if first <= p[0] < first + cnt]
        path = raw_path(entity, day, name, fmt)
        parts.append((path, lake.put(path, _patch(data, fmt, mine, first)), first, cnt))
    return parts


def _ground_truth_csv(rows: list[tuple]) -> bytes:
    cols = list(zip(*rows)) if rows else [[] for _ in GROUND_TRUTH_COLUMNS]
    t = pa.table(
        {
            "file": pa.array(cols[0], pa.string()),
            "entity": pa.array(cols[1], pa.string()),
            "row_number": pa.array(cols[2], pa.int64()),
            "defect": pa.array(cols[3], pa.string()),
            "column": pa.array(cols[4], pa.string()),
            "key": pa.array(cols[5], pa.string()),
        }
    )
    buf = io.BytesIO()
    pacsv.write_csv(t, buf, pacsv.WriteOptions(include_header=True, quoting_style="needed"))
    return buf.getvalue()


# ---------------------------------------------------------------- reference data


def reference_tables() -> dict[str, pa.Table]:
    cats, geo = ref.reference_tables()
    out = {}
    for entity, cols in (("product_category_translation", cats), ("geolocation", geo)):
        schema = CONTRACTS[entity].arrow_schema()
        out[entity] = pa.Table.from_arrays([pa.array(cols[f.name], type=f.type) for f in schema], schema=schema)
    return out


# ---------------------------------------------------------------- generate


def _record(result: GenerateResult, parts) -> None:
    for path, outcome, _first, _cnt in parts:
        result.files.append(path)
        if outcome == "written":
            result.files_written += 1
        else:
            result.files_unchanged += 1


def _run_days(lake: Lake, cfg: SimulatorConfig, days: list[date], result: GenerateResult, on_day) -> None:
    """Compute and write the given consecutive days (their batches and ground truth) into result."""
    world = make_world(cfg.seed, cfg.orders_per_day, cfg.late_rate)
    cache = PurchaseCache(world)

    def finish(day: date, pending: list) -> None:
        """Wait for a day's file writes (in entity order), then write its ground truth."""
        gt_rows: list[tuple] = []
        for entity, d, fut in pending:
            parts = fut.result()
            _record(result, parts)
            result.rows[entity] += d.table.num_rows
            for r, kind, col, key in zip(d.rows.tolist(), d.kinds, d.columns, d.keys):
                path, _o, first, _cnt = next(p for p in parts if p[2] <= r < p[2] + p[3])
                gt_rows.append((path, entity, r - first + 1, kind, col, key))
                result.defects[kind] += 1
        gt_rows.sort(key=lambda x: (x[0], x[2]))
        try:
            outcome = lake.put(ground_truth_path(day), _ground_truth_csv(gt_rows))
        except LakeError as e:
            raise LakeError(f"{e}. The lake already holds a ground truth for {day} from another format or other "
                            "knobs: generate into another lake, or repeat the same knobs") from None  # fmt: skip
        _record(result, [(ground_truth_path(day), outcome, 0, 0)])
        on_day(day)

    # Encoding and writing run on ENCODE_THREADS threads (pyarrow releases the GIL) while the next days
    # are computed; results are collected in day and entity order, so output does not depend on timing.
    in_flight: list[tuple[date, list]] = []
    with ThreadPoolExecutor(max_workers=ENCODE_THREADS, thread_name_prefix="shopdw-write") as pool:
        first = days[0].toordinal()
        cache.prefetch(range(first - LOOKBACK_DAYS, first + 1), pool, prepare_day)  # the look-back window
        try:
            for day in days:
                D = day.toordinal()
                cache.drop_before(D - LOOKBACK_DAYS)
                tables = emit_day(world, cache, D, dictionary=cfg.fmt == "parquet")
                result.new_orders += cache.get(D).n
                pending = []
                for entity in DATED_ENTITIES:
                    d = inject_defects(tables[entity], entity, D, cfg.seed, cfg.defect_rate, cfg.fmt)
                    pending.append(
                        (
                            entity,
                            d,
                            pool.submit(_write, lake, entity, day, d.table, cfg.fmt, d.patches, d.duplicate_rows),
                        )
                    )
                del tables
                in_flight.append((day, pending))
                while len(in_flight) > DAYS_IN_FLIGHT:
                    finish(*in_flight.pop(0))
            while in_flight:
                finish(*in_flight.pop(0))
        finally:
            for _day, pending in in_flight:
                for _e, _d, fut in pending:
                    fut.cancel()


def _lake_spec(lake: Lake) -> tuple[str, str | None, str | None] | None:
    """How a worker process reopens the same lake (None: this lake cannot be shared)."""
    from shopdw.lake.store import LocalLake, S3Lake

    if isinstance(lake, LocalLake):
        return (str(lake.root), None, None)
    if isinstance(lake, S3Lake):
        return (f"s3://{lake.bucket}/{lake.prefix}", lake.client.meta.endpoint_url, lake.client.meta.region_name)
    return None


def _worker_main() -> None:
    """Entry of a worker process (python -c ...): pickled (spec, cfg, days) on stdin; one line per
    finished day on stdout, then the pickled GenerateResult (or the pickled ShopdwError)."""
    import base64
    import pickle
    import sys

    from shopdw.errors import ShopdwError
    from shopdw.lake.store import open_lake

    spec, cfg, days = pickle.loads(sys.stdin.buffer.read())
    out = sys.stdout
    try:
        lake = open_lake(spec[0], endpoint_url=spec[1], region=spec[2])
        result = GenerateResult(lake.uri, days[0], len(days), cfg.fmt, cfg.seed)
        result.rows = dict.fromkeys(LOAD_ORDER, 0)

        def day_done(_d) -> None:
            out.write("DAY\n")
            out.flush()

        _run_days(lake, cfg, days, result, day_done)
        out.write("RESULT " + base64.b64encode(pickle.dumps(result)).decode() + "\n")
    except ShopdwError as e:
        out.write("ERROR " + base64.b64encode(pickle.dumps(e)).decode() + "\n")
    out.flush()


def auto_workers(lake: Lake, cfg: SimulatorConfig) -> int:
    """Processes worth using: one per two cores (at most 4) for big runs. A process keeps about two cores
    busy by itself (days are computed on its main thread while its pool threads encode and write the
    previous day), and each extra process pays its own 32-day warm-up and holds its own look-back
    window in memory, so on two cores one process is both faster and half the memory."""
    if cfg.orders_per_day * cfg.days < 200_000 or _lake_spec(lake) is None:
        return 1
    return max(1, min((os.cpu_count() or 1) // 2, 4, cfg.days // 8))


def _check_one_format(lake: Lake, cfg: SimulatorConfig) -> None:
    """One simulator format per lake: another format's reference or day files would double count."""
    for other in FORMATS:
        if other == cfg.fmt:
            continue
        probes = [raw_path("geolocation", REFERENCE_DATE, REFERENCE_BATCH_ID, other)]
        probes += [raw_path("orders", d, batch_id_for(d), other) for d in (cfg.dates[0], cfg.dates[-1])]
        for path in probes:
            if lake.exists(path):
                raise ConfigError(
                    f"{lake.url(path)} shows this lake already holds simulated {other} files; a lake holds one "
                    f"format (mixing would count rows twice): use --format {other} or another --lake"
                )


def generate(lake: Lake, cfg: SimulatorConfig, progress: bool = False, workers: int | None = None) -> GenerateResult:
    """Write cfg.days daily batches (every entity + ground truth) and the reference batch into the lake.

    workers: processes to spread the days over (None = auto_workers). Each day's bytes are the same
    whatever the number of workers, since a day is a pure function of (seed, day, knobs).
    """
    t_start = time.perf_counter()
    _check_one_format(lake, cfg)
    result = GenerateResult(lake.uri, cfg.start, cfg.days, cfg.fmt, cfg.seed)
    for entity, table in reference_tables().items():
        _record(result, [(p, o, 0, 0) for p, o in write_batch(lake, entity, REFERENCE_DATE, REFERENCE_BATCH_ID,
                                                               table, cfg.fmt, dictionary_columns=DICTIONARY_COLUMNS)])  # fmt: skip
        result.rows[entity] += table.num_rows
    workers = auto_workers(lake, cfg) if workers is None else max(1, min(int(workers), cfg.days))
    if workers > 1 and _lake_spec(lake) is None:
        raise ConfigError(f"lake {lake.uri} cannot be shared with worker processes; use workers=1")

    bar = None
    if progress:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        bar = Progress(TextColumn("generate"), BarColumn(), MofNCompleteColumn(), TextColumn("days"),
                       TimeElapsedColumn(), transient=False)  # fmt: skip
        bar.start()
        task = bar.add_task("days", total=cfg.days)

    def tick(_day=None, n: int = 1) -> None:
        if bar is not None:
            bar.update(task, advance=n)

    try:
        if workers == 1:
            _run_days(lake, cfg, cfg.dates, result, tick)
        else:
            _run_workers(lake, cfg, workers, result, tick)
    finally:
        if bar is not None:
            bar.stop()
    result.seconds = time.perf_counter() - t_start
    return result


def _run_workers(lake: Lake, cfg: SimulatorConfig, workers: int, result: GenerateResult, tick) -> None:
    """Spread consecutive runs of days over worker processes (fresh interpreters, so no fork of a
    process holding pyarrow/boto3 threads, and no re-import of the caller's script)."""
    import base64
    import pickle
    import queue
    import subprocess
    import sys
    import threading

    dates = cfg.dates
    bounds = np.linspace(0, len(dates), workers + 1).round().astype(int)
    chunks = [dates[a:b] for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
    events: queue.Queue = queue.Queue()
    procs = []
    code = "from shopdw.sources.simulator import _worker_main; _worker_main()"
    for i, chunk in enumerate(chunks):
        p = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)  # fmt: skip
        p.stdin.write(pickle.dumps((_lake_spec(lake), cfg, chunk)))
        p.stdin.close()

        def pump(i=i, p=p) -> None:
            for line in p.stdout:
                events.put((i, line.decode().rstrip("\n")))
            events.put((i, None))

        threading.Thread(target=pump, daemon=True).start()
        procs.append(p)
    parts: dict[int, object] = {}
    running = len(procs)
    try:
        while running:
            i, line = events.get()
            if line is None:
                running -= 1
            elif line == "DAY":
                tick()
            elif line.startswith("RESULT "):
                parts[i] = pickle.loads(base64.b64decode(line[7:]))
            elif line.startswith("ERROR "):
                parts[i] = pickle.loads(base64.b64decode(line[6:]))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()
    for i, p in enumerate(procs):
        part = parts.get(i)
        if isinstance(part, Exception):
            raise part
        if part is None:
            err = p.stderr.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"simulator worker {i} exited with code {p.returncode}:\n{err}")
    for i in range(len(procs)):  # in day order, so files are listed as a single process lists them
        part = parts[i]
        result.files.extend(part.files)
        result.files_written += part.files_written
        result.files_unchanged += part.files_unchanged
        result.new_orders += part.new_orders
        for k, v in part.rows.items():
            result.rows[k] += v
        for k, v in part.defects.items():
            result.defects[k] += v
