"""Benchmark: `shopdw generate` (vectorized) against a Faker row-loop generator of the same schema.

One run, same machine, side by side:
  (a) baseline: a per-row Python loop with Faker producing the same ten entities (contract
      schemas) for a sample of orders, written through the same lake writer (Parquet);
  (b) candidate: `shopdw generate` as a user runs it (a child process) for ~1M orders over
      30 days, Parquet, into a temp lake; wall time, CPU time and the peak resident memory of
      its whole process tree (sampled from /proc every 20 ms);
  (c) with --floor: the floor of any generator that writes these files on this machine: the
      lake's own tables, read back into memory first, only encoded and written again (the
      generator's encoding settings, three threads, each file fsynced and linked into place as
      LocalLake.put does), once with zstd (the lake's files) and once uncompressed.

    .venv/bin/python benchmarks/bench_generate.py --floor --write-readme

Targets (issue 2): >= 100x the Faker loop's rows per second, 1M orders in <= 20 s on 2 cores,
peak memory <= 2 GiB. The machine's load average is printed with the results: other work on
the same cores slows the wall clock, while the CPU seconds stay comparable.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import OrderedDict
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
from readme_section import README, replace_section  # benchmarks/readme_section.py, beside this script

from shopdw.contracts import BR_STATES, CONTRACTS, PAYMENT_TYPES, WEB_EVENT_TYPES
from shopdw.lake.formats import encode, write_batch
from shopdw.lake.store import LocalLake

SECTION = "## Generating data (`shopdw generate`)"
SCORES = OrderedDict([(5, 0.58), (4, 0.19), (3, 0.08), (2, 0.03), (1, 0.12)])
COMMAND = ".venv/bin/python benchmarks/bench_generate.py --floor --write-readme"


# ---------------------------------------------------------------- (a) the Faker row loop


def faker_generate(n_orders: int, start: date, seed: int, lake_dir: str) -> dict:
    """The obvious way: one Python dict per row, a Faker provider for every value, then the same writer."""
    from faker import Faker

    fake = Faker("pt_BR")
    Faker.seed(seed)
    rows: dict[str, list[dict]] = {e: [] for e in CONTRACTS}
    cats = ["cama_mesa_banho", "beleza_saude", "esporte_lazer", "informatica_acessorios", "moveis_decoracao"]
    t0, c0 = time.perf_counter(), time.process_time()
    lo, hi = start - timedelta(days=300), start

    def money(low: int, high: int) -> Decimal:
        return fake.pydecimal(min_value=low, max_value=high, right_digits=2)

    for cat in cats:
        rows["product_category_translation"].append({"product_category_name": cat,
                                                     "product_category_name_english": fake.word()})  # fmt: skip
    products, sellers = [], []
    for _ in range(max(50, n_orders // 5)):
        pid = fake.md5()
        products.append(pid)
        rows["products"].append({
            "product_id": pid, "product_category_name": fake.random_element(cats),
            "product_name_lenght": fake.random_int(20, 76), "product_description_lenght": fake.random_int(80, 3000),
            "product_photos_qty": fake.random_int(1, 6), "product_weight_g": fake.random_int(50, 20000),
            "product_length_cm": fake.random_int(11, 100), "product_height_cm": fake.random_int(2, 100),
            "product_width_cm": fake.random_int(8, 100), "list_price": money(5, 500),
            "updated_at": fake.date_time_between(lo, hi),
        })  # fmt: skip
    for _ in range(max(10, n_orders // 20)):
        sid = fake.md5()
        sellers.append(sid)
        zip_ = fake.numerify("#####")
        state = fake.random_element(BR_STATES)
        rows["sellers"].append({"seller_id": sid, "seller_zip_code_prefix": zip_, "seller_city": fake.city(),
                                "seller_state": state, "updated_at": fake.date_time_between(lo, hi)})  # fmt: skip
        rows["geolocation"].append({"geolocation_zip_code_prefix": zip_, "geolocation_lat": float(fake.latitude()),
                                    "geolocation_lng": float(fake.longitude()), "geolocation_city": fake.city(),
                                    "geolocation_state": state})  # fmt: skip
    day_end = datetime.combine(start + timedelta(days=30), datetime.min.time())
    day0 = datetime.combine(start, datetime.min.time())
    for _ in range(n_orders):
        ts = fake.date_time_between(day0, day_end)
        cid, uid, oid = fake.md5(), fake.md5(), fake.md5()
        rows["customers"].append({"customer_id": cid, "customer_unique_id": uid,
                                  "customer_zip_code_prefix": fake.numerify("#####"), "customer_city": fake.city(),
                                  "customer_state": fake.random_element(BR_STATES), "updated_at": ts})  # fmt: skip
        for status, lag in (("created", 0), ("approved", 1), ("shipped", 3), ("delivered", 9)):
            rows["orders"].append({"order_id": oid, "customer_id": cid, "order_status": status,
                                   "order_purchase_timestamp": ts,
                                   "order_approved_at": ts + timedelta(hours=1) if lag >= 1 else None,
                                   "order_delivered_carrier_date": ts + timedelta(days=3) if lag >= 3 else None,
                                   "order_delivered_customer_date": ts + timedelta(days=9) if lag >= 9 else None,
                                   "order_estimated_delivery_date": ts + timedelta(days=15),
                                   "updated_at": ts + timedelta(days=lag, hours=1)})  # fmt: skip
        total = Decimal(0)
        n_items = fake.random_element(OrderedDict([(1, 0.9), (2, 0.07), (3, 0.03)]))
        for n in range(1, n_items + 1):
            price, freight = money(5, 500), money(5, 50)
            total += price + freight
            rows["order_items"].append({"order_id": oid, "order_item_id": n,
                                        "product_id": fake.random_element(products),
                                        "seller_id": fake.random_element(sellers),
                                        "shipping_limit_date": ts + timedelta(days=6), "price": price,
                                        "freight_value": freight})  # fmt: skip
        rows["order_payments"].append({"order_id": oid, "payment_sequential": 1,
                                       "payment_type": fake.random_element(PAYMENT_TYPES[:4]),
                                       "payment_installments": fake.random_int(1, 10), "payment_value": total})  # fmt: skip
        rows["order_reviews"].append({"review_id": fake.md5(), "order_id": oid,
                                      "review_score": fake.random_element(SCORES),
                                      "review_comment_title": None, "review_comment_message": fake.sentence(),
                                      "review_creation_date": ts + timedelta(days=10),
                                      "review_answer_timestamp": ts + timedelta(days=12)})  # fmt: skip
        session = fake.md5()
        for e in range(8):
            etype = WEB_EVENT_TYPES[min(e // 2, 4)]
            rows["web_events"].append({"event_id": fake.md5(), "session_id": session,
                                       "customer_unique_id": uid if fake.boolean() else None,
                                       "event_type": etype, "product_id": fake.random_element(products),
                                       "order_id": oid if etype == "purchase" else None,
                                       "event_timestamp": ts - timedelta(minutes=8 - e),
                                       "device_type": fake.random_element(["desktop", "mobile", "tablet"]),
                                       "traffic_source": fake.random_element(["direct", "organic", "social"])})  # fmt: skip
    lake = LocalLake(lake_dir)
    n_rows = 0
    for entity, rs in rows.items():
        table = pa.Table.from_pylist(rs, schema=CONTRACTS[entity].arrow_schema())
        write_batch(lake, entity, start, "faker", table, "parquet")
        n_rows += table.num_rows
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"orders": n_orders, "rows": n_rows, "seconds": seconds, "rows_per_s": n_rows / seconds,
            "cpu_seconds": cpu}  # fmt: skip


# ---------------------------------------------------------------- (b) shopdw generate, as a child process


def _tree_rss_kib(root_pid: int) -> int:
    """Resident KiB of a process and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{d}/status") as fh:
                m = re.search(r"VmRSS:\s+(\d+)", fh.read())
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(d))
        rss[int(d)] = int(m.group(1)) if m else 0
    total, stack = 0, [root_pid]
    while stack:
        p = stack.pop()
        total += rss.get(p, 0)
        stack.extend(children.get(p, []))
    return total


def shopdw_generate(days: int, orders_per_day: int, start: date, seed: int, lake_dir: str) -> dict:
    exe = str(Path(sys.executable).parent / "shopdw")
    cmd = [exe, "generate", "--start", start.isoformat(), "--days", str(days), "--orders-per-day",
           str(orders_per_day), "--seed", str(seed), "--format", "parquet", "--json", "--lake", lake_dir]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss_kib(proc.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    seconds = time.perf_counter() - t0
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"shopdw generate failed ({proc.returncode}):\n{err}")
    summary = json.loads(out)
    rows = sum(summary["rows"].values())
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"orders": summary["new_orders"], "rows": rows, "seconds": seconds, "rows_per_s": rows / seconds,
            "cpu_seconds": cpu, "peak_rss_mib": peak[0] / 1024, "rows_by_entity": summary["rows"],
            "files": summary["files_written"]}  # fmt: skip


# ---------------------------------------------------------------- (c) the floor: encode and write only


def encoding_floor(lake_dir: str, out_dir: str, compression: str, threads: int = 3) -> dict:
    """Encode and write the lake's files again from their tables, already in memory (not timed):
    what any generator of these files pays on top of computing the rows. Columns the generator hands
    to the writer as Arrow dictionaries come back as dictionaries, the others plain, so the encoder
    does the same work; the bytes differ from the lake's by the dictionaries' order (reported)."""
    import glob
    from concurrent.futures import ThreadPoolExecutor

    import pyarrow.parquet as pq

    from shopdw.sources.sim_tables import DICTIONARY_COLUMNS
    from shopdw.sources.simulator import ID_COLUMNS

    root = Path(lake_dir)
    tables = []
    lake_bytes = 0
    for f in sorted(glob.glob(str(root / "raw" / "**" / "*.parquet"), recursive=True)):
        pf = pq.ParquetFile(f)
        names = pf.schema_arrow.names
        given = set()
        for rg in range(pf.metadata.num_row_groups):
            for i, name in enumerate(names):
                if name not in DICTIONARY_COLUMNS and any(
                    "DICT" in e for e in pf.metadata.row_group(rg).column(i).encodings
                ):
                    given.add(name)
        tables.append((str(Path(f).relative_to(root)), pq.read_table(f, read_dictionary=sorted(given))))
        lake_bytes += os.path.getsize(f)
    out = LocalLake(out_dir)

    def one(item: tuple[str, pa.Table]) -> int:
        path, table = item
        stats = [c for c in table.column_names if c not in ID_COLUMNS]
        data = encode(table, "parquet", DICTIONARY_COLUMNS, stats, compression=compression)
        out.put(path, data)
        return len(data)

    before = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(threads) as ex:
        written = sum(ex.map(one, tables))
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"compression": compression, "files": len(tables), "rows": sum(t.num_rows for _, t in tables),
            "seconds": seconds, "cpu_seconds": cpu, "bytes": written, "lake_bytes": lake_bytes}  # fmt: skip


# ---------------------------------------------------------------- report


def _floor_lines(faker: dict, sim: dict, floors: list[dict]) -> tuple[list[str], list[str]]:
    """Table rows and bullets for the encode-and-write floor (empty without --floor)."""
    if not floors:
        return [], []
    rows, notes = [], []
    budget = sim["rows"] / (100 * faker["rows_per_s"])
    for f in floors:
        what = "zstd, as the lake's files" if f["compression"] == "zstd" else "uncompressed"
        rows.append(
            f"| floor: the same files encoded and written again from tables in memory ({what}, 3 threads) "
            f"| - | {f['rows']:,} | {f['seconds']:.1f} | {f['rows'] / f['seconds']:,.0f} | {f['cpu_seconds']:.1f} | - |"
        )
    parts = [
        f"{f['seconds']:.1f} s ({f['compression']}: {f['bytes'] / 2**20:,.0f} MiB written, the lake's files "
        f"{f['lake_bytes'] / 2**20:,.0f} MiB; {f['cpu_seconds']:.1f} s of CPU; alone "
        f"{f['rows'] / f['seconds'] / faker['rows_per_s']:.0f}x the Faker loop)"
        for f in floors
    ]
    ncpu = os.cpu_count() or 1
    cpu_budget = ncpu * budget
    zstd = next((f for f in floors if f["compression"] == "zstd"), None)
    verdict = ""
    if zstd is not None:
        verdict = (
            f". On {ncpu} cores that budget is at most {cpu_budget:.1f} s of CPU; the lake's files (zstd) take "
            f"{zstd['cpu_seconds']:.1f} s of CPU to encode and write"
            + (
                ", more than the whole budget before a single row is computed: on this machine no generator "
                "of these files reaches 100x"
                if zstd["cpu_seconds"] > cpu_budget
                else f", leaving {cpu_budget - zstd['cpu_seconds']:.1f} s of CPU to compute every row"
            )
        )
    notes.append(
        f"- the floor: 100x the Faker loop means these {sim['rows']:,} rows in at most **{budget:.1f} s** of wall "
        "time; encoding and writing the files alone, with every row already computed, takes "
        + " and ".join(parts)
        + verdict
    )
    return rows, notes


def _table(faker: dict, sim: dict, days: int, opd: int, load: tuple[float, float], floors: list[dict]) -> str:
    floor_rows, floor_notes = _floor_lines(faker, sim, floors)
    ratio = sim["rows_per_s"] / faker["rows_per_s"]
    cpu_ratio = (sim["rows"] / sim["cpu_seconds"]) / (faker["rows"] / faker["cpu_seconds"])
    ok = lambda b: "met" if b else "**missed**"  # noqa: E731
    lines = [
        "| generator | orders | rows (all entities) | wall s | rows/s | CPU s | peak RSS |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| Faker row loop (baseline, same schema) | {faker['orders']:,} | {faker['rows']:,} | {faker['seconds']:.1f} "
        f"| {faker['rows_per_s']:,.0f} | {faker['cpu_seconds']:.1f} | - |",
        f"| `shopdw generate` ({days} days x {opd:,}/day, parquet) | {sim['orders']:,} | {sim['rows']:,} "
        f"| {sim['seconds']:.1f} | {sim['rows_per_s']:,.0f} | {sim['cpu_seconds']:.1f} | {sim['peak_rss_mib']:,.0f} MiB |",
        *floor_rows,
        "",
        f"- speed-up in rows per wall second: **{ratio:,.0f}x** (target >= 100x: {ok(ratio >= 100)}); "
        f"in rows per CPU second: {cpu_ratio:,.0f}x",
        f"- 1M orders wall time: **{sim['seconds']:.1f} s** (target <= 20 s: {ok(sim['seconds'] <= 20)}); "
        f"CPU time {sim['cpu_seconds']:.1f} s over the 2 cores",
        f"- peak memory (generate's whole process tree): **{sim['peak_rss_mib']:,.0f} MiB** "
        f"(target <= 2048 MiB: {ok(sim['peak_rss_mib'] <= 2048)})",
        f"- machine load average (1 min) before / after: {load[0]:.1f} / {load[1]:.1f} on {os.cpu_count()} cores "
        "(the cores are shared with other work; a load above 2 stretches the wall time, not the CPU time)",
        "- rows by entity: " + ", ".join(f"{k} {v:,}" for k, v in sim["rows_by_entity"].items()),
        *floor_notes,
        "",
        "What the numbers say. The Faker loop spends "
        f"{1e6 * faker['cpu_seconds'] / faker['rows']:.0f} µs of CPU per row; `shopdw generate` spends "
        f"{1e6 * sim['cpu_seconds'] / sim['rows']:.2f} µs of CPU per row, "
        f"{1e6 * sim['seconds'] / sim['rows']:.2f} µs of wall time (on two cores one process: its main thread "
        "computes the next days while three threads Parquet-encode and write the previous ones). Measured per "
        "33k-order day (714k rows) in one process (2026-12-06): computing the day's tables about 0.14 s once "
        "the 32-day look-back window is warm (0.2 µs per row; ids hashed once per order, product and seller, "
        "then gathered as fixed-width bytes), Parquet encoding 0.23-0.30 s (0.33-0.42 µs per row), of which "
        "zstd on the 32-hex id columns is about 0.13 s (random hex shrinks only by entropy coding: 41 bytes "
        "per row with it, about 99 without), plus the 32 look-back purchase days once per run (about 1.3 s of CPU, "
        "on the encoding threads). "
        f"A 100x ratio needs {1e6 / (100 * faker['rows'] / faker['seconds']):.2f} µs of wall time per row, "
        "that is, on two cores, about twice that in CPU per row: less than computing and encoding cost "
        "per row today (about 0.55-0.6 µs)"
        + (": the ratio target is missed." if ratio < 100 else ".")
        + (
            " The wall-time target is met on this run."
            if sim["seconds"] <= 20
            else " The wall-time target is missed on this run; a load average above 2 stretches wall time."
        ),
    ]
    return "\n".join(lines)


def _write_readme(body: str) -> None:
    intro = (
        "The vectorized simulator against a Faker per-row loop of the same ten-entity schema, side by side "
        "in one run (`benchmarks/bench_generate.py`). Rows count every entity the run writes (order status "
        "versions, re-emitted parents, web events included). Reproduce with:\n\n"
        f"```sh\n{COMMAND}\n```\n\n"
    )
    replace_section(SECTION, intro + body)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders", type=int, default=1_000_000, help="orders for shopdw generate (about)")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument(
        "--faker-orders",
        type=int,
        default=20000,
        help="orders for the Faker loop sample (20,000: ~10 s of baseline; a 2-second sample moved its speed 25k-61k rows/s)",
    )
    ap.add_argument("--start", default="2025-03-03", help="first day (no Black Friday in the default month)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--write-readme", action="store_true", help="write the results table into benchmarks/README.md")
    ap.add_argument(
        "--floor",
        action="store_true",
        help="also encode and write the generated files again from memory (zstd and uncompressed): the floor",
    )
    args = ap.parse_args()
    start = date.fromisoformat(args.start)
    opd = -(-args.orders // args.days)
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        faker = faker_generate(args.faker_orders, start, args.seed, os.path.join(tmp, "faker"))
        print(f"faker:  {faker['rows']:,} rows in {faker['seconds']:.1f}s = {faker['rows_per_s']:,.0f} rows/s",
              flush=True)  # fmt: skip
        sim = shopdw_generate(args.days, opd, start, args.seed, os.path.join(tmp, "lake"))
        print(f"shopdw: {sim['rows']:,} rows in {sim['seconds']:.1f}s = {sim['rows_per_s']:,.0f} rows/s, "
              f"cpu {sim['cpu_seconds']:.1f}s, peak {sim['peak_rss_mib']:,.0f} MiB", flush=True)  # fmt: skip
        floors = []
        if args.floor:
            for compression in ("zstd", "none"):
                floors.append(encoding_floor(os.path.join(tmp, "lake"), os.path.join(tmp, f"floor-{compression}"),
                                             compression))  # fmt: skip
                f = floors[-1]
                print(f"floor ({compression}): {f['rows']:,} rows in {f['seconds']:.1f}s, cpu {f['cpu_seconds']:.1f}s, "
                      f"{f['bytes'] / 2**20:,.0f} MiB", flush=True)  # fmt: skip
    body = _table(faker, sim, args.days, opd, (load0, os.getloadavg()[0]), floors)
    print(body)
    if args.write_readme:
        _write_readme(body)
        print(f"written to {README}")


if __name__ == "__main__":
    main()
