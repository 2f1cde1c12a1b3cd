"""The `shopdw` command line: a thin layer over plain functions (the Airflow DAGs call the same ones).

Exit codes: 0 success (warnings may be printed); 1 the work finished but a blocking check
failed (a rejected file counts); 2 usage or configuration error; 3 an unexpected error.
"""

from __future__ import annotations

import functools
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any, Callable

import click

from shopdw import __version__
from shopdw.config import Settings, load_settings
from shopdw.errors import EXIT_UNEXPECTED, ShopdwError

EXIT_CODES_HELP = (
    "\b\nExit codes: 0 success (warnings may be printed); 1 the work finished but a "
    "blocking check failed (a rejected file counts); 2 usage or configuration error; "
    "3 an unexpected error."
)


def _common_options(fn: Callable) -> Callable:
    """--lake, --target, --duckdb-path, --config on every command; builds Settings into ctx.obj."""

    @click.option("--lake", help="Lake URI: a folder or s3://bucket/prefix. [env SHOPDW_LAKE; default ./lake]")
    @click.option(
        "--target",
        type=click.Choice(["duckdb", "postgres", "redshift"]),
        help="Warehouse target. [env SHOPDW_TARGET; default duckdb]",
    )
    @click.option("--duckdb-path", help="DuckDB file. [env SHOPDW_DUCKDB_PATH; default ./warehouse/shopdw.duckdb]")
    @click.option(
        "--config",
        "config_file",
        type=click.Path(dir_okay=False),
        help="Settings file. [env SHOPDW_CONFIG; default ./shopdw.toml if present]",
    )
    @functools.wraps(fn)
    def wrapper(*args: Any, lake: str | None, target: str | None, duckdb_path: str | None, config_file, **kw: Any):
        settings = load_settings({"lake": lake, "target": target, "duckdb_path": duckdb_path}, config_file=config_file)
        return fn(settings, *args, **kw)

    return wrapper


def _parse_date(_ctx, _param, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD") from None


def _emit(result: Any, as_json: bool) -> None:
    """Print a result: its JSON form for machines, or its human rendering."""
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, default=str))
    else:
        result.render()


class ShopdwGroup(click.Group):
    """Turns expected failures into one-line messages and exit codes; bugs keep their traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ShopdwError as e:
            click.secho(f"error: {e}", fg="red", err=True)
            sys.exit(e.exit_code)
        except KeyboardInterrupt:
            click.secho("interrupted", fg="red", err=True)
            sys.exit(EXIT_UNEXPECTED)


@click.group(cls=ShopdwGroup, epilog=EXIT_CODES_HELP)
@click.version_option(__version__, prog_name="shopdw")
def main() -> None:
    """shopdw: e-commerce sales data from a lake of daily files into a warehouse you can trust.

    Settings come from flags, then SHOPDW_* environment variables, then ./shopdw.toml.
    Secrets only from the environment.
    """


@main.command(epilog=EXIT_CODES_HELP)
@click.option("--start", required=True, callback=_parse_date, help="First day to generate (YYYY-MM-DD).")
@click.option("--days", type=click.IntRange(1), required=True, help="Number of daily batches to write.")
@click.option(
    "--orders-per-day",
    type=click.IntRange(1),
    default=200,
    show_default=True,
    help="Mean new orders per day; weekdays and seasons (Black Friday) move it around this mean.",
)
@click.option("--seed", type=int, default=42, show_default=True, help="Random seed: same seed and dates, same bytes.")
@click.option(
    "--defect-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Share of rows, per entity and day, that get an EXTRA defective copy (exact duplicates, null keys, "
    "negative prices, unknown states, orphan keys, future timestamps; in csv/json also null keys and "
    "unparseable values). Each is listed in the lake's ground_truth/defects/, never under raw/.",
)
@click.option(
    "--late-rate",
    type=click.FloatRange(0, 1),
    default=0.05,
    show_default=True,
    help="Share of order items and payments that arrive 1-5 days after their order.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["parquet", "csv", "json"]), default="parquet", show_default=True,
    help="File format (json = JSON Lines).",
)  # fmt: skip
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@_common_options
def generate(settings: Settings, start: date, days: int, orders_per_day: int, seed: int, defect_rate: float,
             late_rate: float, fmt: str, no_progress: bool, as_json: bool) -> None:  # fmt: skip
    """Simulate the shop's OLTP system: write daily batches of every entity into the lake.

    Each day D becomes raw/<entity>/ingest_date=D/sim-YYYYMMDD.<ext> for customers, sellers,
    products, orders (a new version on each status change), order_items, order_payments,
    order_reviews and web_events; reference data (category translations, geolocation) goes
    once under ingest_date=2016-01-01 as sim-reference. A day's files depend only on the seed,
    the day and the knobs, so generating days one at a time writes the same bytes as one call.
    """
    from shopdw.lake.store import lake_from_settings
    from shopdw.sources.simulator import SimulatorConfig
    from shopdw.sources.simulator import generate as run_generate

    cfg = SimulatorConfig(
        start=start, days=days, orders_per_day=orders_per_day, seed=seed,
        defect_rate=defect_rate, late_rate=late_rate, fmt=fmt,
    )  # fmt: skip
    result = run_generate(lake_from_settings(settings), cfg, progress=not (no_progress or as_json))
    _emit(result, as_json)


@main.command("import-olist", epilog=EXIT_CODES_HELP)
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(["parquet", "csv", "json"]), default="parquet", show_default=True,
    help="File format of the lake files (json = JSON Lines).",
)  # fmt: skip
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (implies --no-progress).")
@_common_options
def import_olist(settings: Settings, directory: Path, fmt: str, no_progress: bool, as_json: bool) -> None:
    """Import the real Olist CSVs from DIRECTORY into the lake as daily batches by event date.

    Orders arrive on their purchase day and again on each recorded status change; items and
    payments with their order; reviews on their creation day; customers, sellers and products
    on their first order's day; geolocation and category translations as one reference batch.
    Importing the same files again writes nothing.
    """
    from shopdw.lake.store import lake_from_settings
    from shopdw.sources.olist import import_olist as run_import

    result = run_import(lake_from_settings(settings), directory, fmt=fmt, progress=not (no_progress or as_json))
    _emit(result, as_json)


# ---- run, status, quality (the pipeline command and its history) ---------------------------


@main.command("run", epilog=EXIT_CODES_HELP)
@click.option("--date", "run_date", callback=_parse_date, help="Run for this day: load files with ingest_date <= DATE.")
@click.option("--start", callback=_parse_date, help="Backfill from this day (with --end), one run per day.")
@click.option("--end", callback=_parse_date, help="Last day of the backfill.")
@click.option("--full-refresh", is_flag=True, help="Rebuild incremental models from raw.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--no-progress", is_flag=True, help="Hide progress bars.")
@_common_options
def run_cmd(settings: Settings, run_date: date | None, start: date | None, end: date | None, full_refresh: bool,
            as_json: bool, no_progress: bool) -> None:  # fmt: skip
    """Discover and load new lake files, transform (dbt), check quality, publish the dashboard.

    Without a date, everything new in the lake is loaded. A failing blocking check stops
    the run before publishing (exit 1) and says which check, how many rows and where to look.
    """
    from shopdw import pipeline

    result = pipeline.run(settings, date=run_date, start=start, end=end, full_refresh=full_refresh,
                          progress=not (no_progress or as_json))  # fmt: skip
    _emit(result, as_json)
    sys.exit(result.exit_code)


@main.command(epilog=EXIT_CODES_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.option("--limit", type=click.IntRange(1), default=10, show_default=True, help="How many recent runs to list.")
@_common_options
def status(settings: Settings, as_json: bool, limit: int) -> None:
    """Recent runs, load-ledger counts per entity, quarantine counts and freshness."""
    from shopdw.quality.status import status as get_status

    _emit(get_status(settings, limit=limit), as_json)


@main.command(epilog=EXIT_CODES_HELP)
@click.option("--run", "run_id", help="The run whose scorecard to show (default: the latest).")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@_common_options
def quality(settings: Settings, run_id: str | None, as_json: bool) -> None:
    """The data-quality scorecard of a run: every check, its score, threshold and status."""
    from shopdw.quality.status import quality as get_quality

    _emit(get_quality(settings, run_id), as_json)


# ---- dashboard, export (the published page and the BI files) --------------------------------


@main.command(epilog=EXIT_CODES_HELP)
@click.option(
    "--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the page. [env SHOPDW_SITE; default ./site/index.html]",
)  # fmt: skip
@click.option("--no-progress", is_flag=True, help="Hide the progress spinner.")
@_common_options
def dashboard(settings: Settings, out_path: Path | None, no_progress: bool) -> None:
    """Build the dashboard from the marts: one self-contained HTML page (data and charts inlined, no network).

    Sales and delivery trends, top customers, RFM segments and data health, with date and
    state filters. Money is shown as R$ with Brazilian separators (R$ 1.234,56).
    """
    import contextlib

    from rich.console import Console

    from shopdw.report.dashboard import build_dashboard

    spinner = contextlib.nullcontext() if no_progress else Console(stderr=True).status("building the dashboard")
    with spinner:
        page = build_dashboard(settings, out_path)
    click.echo(f"dashboard written: {page} ({page.stat().st_size:,} bytes)")
    click.echo(f"open it in a browser: {page.as_uri()}")


@main.command("export", epilog=EXIT_CODES_HELP)
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv", show_default=True,
              help="csv: UTF-8 with BOM (Excel, Power BI, Tableau); parquet: typed columns.")  # fmt: skip
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the files. [env SHOPDW_EXPORT_DIR; default ./exports]",
)  # fmt: skip
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
@_common_options
def export_cmd(settings: Settings, fmt: str, out_dir: Path | None, no_progress: bool) -> None:
    """Export the marts and customer_360 as files for Tableau, Power BI or Excel, with a manifest.json."""
    from shopdw.report.export import export

    files = export(settings, fmt=fmt, out_dir=out_dir, progress=not no_progress)
    for f in files:
        click.echo(str(f))
    click.echo(f"{len(files) - 1} tables exported as {fmt} to {files[-1].parent}")


# ---- load (issue 3) -------------------------------------------------------------------------------
@main.command("load", epilog=EXIT_CODES_HELP)
@click.option("--until", callback=_parse_date, help="Only files with ingest_date up to this day (YYYY-MM-DD).")
@click.option(
    "--wait",
    type=click.FloatRange(0),
    default=600,
    show_default=True,
    help="Seconds to wait for another run holding the warehouse's run lock (0: fail at once).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
@_common_options
def load_cmd(settings: Settings, until: date | None, wait: float, as_json: bool, no_progress: bool) -> None:
    """Load every new lake file into raw.<entity>, exactly once.

    Each file is checked against its entity's contract: bad rows go to meta.quarantine, a
    broken file is rejected (exit 1) and recorded in meta.load_ledger while the others load.
    """
    from shopdw.load import load

    result = load(settings, progress=not (no_progress or as_json), until=until, lock_timeout=wait)
    _emit(result, as_json)
    sys.exit(result.exit_code)


# ---- transform, scv, docs (issue 4: the dbt project) ------------------------------------------
@main.command("transform", epilog=EXIT_CODES_HELP)
@click.option("--full-refresh", is_flag=True, help="Rebuild incremental facts from scratch.")
@click.option(
    "--select", "select", multiple=True,
    help="dbt node selection (repeatable), e.g. --select marts.facts --select customer_360+.",
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print per-node results as JSON.")
@click.option("--no-progress", is_flag=True, help="Hide the progress spinner.")
@_common_options
def transform_cmd(
    settings: Settings, full_refresh: bool, select: tuple[str, ...], as_json: bool, no_progress: bool
) -> None:
    """dbt build: staging -> SCD2 dimensions -> incremental facts -> customer_360 and marts, with tests.

    Exit 1 when a model, test or unit test failed (listed); 2 on a configuration error.
    """
    from shopdw.transform import transform

    result = transform(settings, full_refresh=full_refresh, select=list(select) or None,
                       progress=not (no_progress or as_json))  # fmt: skip
    _emit(result, as_json)
    sys.exit(0 if result.ok else 1)


@main.command("scv", epilog=EXIT_CODES_HELP)
@click.argument("customer_unique_id")
@click.option("--json", "as_json", is_flag=True, help="Print the row as JSON.")
@_common_options
def scv_cmd(settings: Settings, customer_unique_id: str, as_json: bool) -> None:
    """Print one person's Single Customer View (analytics.customer_360). Exit 1 if unknown."""
    from shopdw.transform import scv

    row = scv(settings, customer_unique_id)
    if row is None:
        click.secho(
            f"no customer with customer_unique_id {customer_unique_id!r} in analytics.customer_360", fg="red", err=True
        )
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(row, indent=2, default=str))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Customer {customer_unique_id}", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    for k, v in row.items():
        table.add_row(k, "" if v is None else str(v))
    Console().print(table)


@main.command("docs", epilog=EXIT_CODES_HELP)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("site/dbt-docs"),
              show_default=True, help="Folder for the dbt docs site (index.html, manifest.json, catalog.json).")  # fmt: skip
@_common_options
def docs_cmd(settings: Settings, out_dir: Path) -> None:
    """Build the dbt docs (models, columns, tests, lineage) as a single static page."""
    from shopdw.transform import build_docs

    index = build_docs(settings, out_dir)
    click.echo(f"dbt docs written to {index}")


# ---- demo: the whole spine on the embedded default --------------------------------------
DEMO_START = date(2025, 1, 1)
DEMO_DAYS = 30
DEMO_ORDERS_PER_DAY = 200
DEMO_SEED = 42


@main.command("demo", epilog=EXIT_CODES_HELP)
@click.option("--no-progress", is_flag=True, help="Hide the progress bars.")
@_common_options
def demo(settings: Settings, no_progress: bool) -> None:
    """Generate a month of shop data (30 days from 2025-01-01, ~200 orders/day, seed 42), then run
    the pipeline on it (load, dbt, quality gate, dashboard) and print the scorecard and the page to open.

    Running it again is safe: the lake files are identical, nothing loads twice.
    """
    from shopdw import pipeline
    from shopdw.lake.store import lake_from_settings
    from shopdw.quality.status import quality as get_quality
    from shopdw.sources.simulator import SimulatorConfig
    from shopdw.sources.simulator import generate as run_generate

    cfg = SimulatorConfig(start=DEMO_START, days=DEMO_DAYS, orders_per_day=DEMO_ORDERS_PER_DAY, seed=DEMO_SEED)
    run_generate(lake_from_settings(settings), cfg, progress=not no_progress).render()
    click.echo("\nRunning the pipeline: load -> dbt build -> quality gate -> publish ...")
    result = pipeline.run(settings, progress=not no_progress, command="demo")
    day = result.days[-1]
    get_quality(settings, day.run_id).render()
    if day.publish:
        page = Path(day.publish["dashboard"]).resolve()
        click.secho(f"\nDashboard: {page}\nOpen it in a browser: file://{page}", fg="green")
    else:
        click.secho(f"\nRun {day.run_id} ended {day.status}: {day.error}", fg="red", err=True)
    sys.exit(result.exit_code)
