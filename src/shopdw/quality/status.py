"""`shopdw status` and `shopdw quality`: readable terminal tables, or JSON for machines."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shopdw.config import Settings


def _existing(wh, schema: str, table: str) -> bool:
    from shopdw.quality.checks import _table_exists

    return _table_exists(wh, schema, table)


@dataclass
class StatusReport:
    runs: list[dict[str, Any]] = field(default_factory=list)
    ledger: list[dict[str, Any]] = field(default_factory=list)
    quarantine: list[dict[str, Any]] = field(default_factory=list)
    newest_ingest_date: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {"runs": self.runs, "ledger": self.ledger, "quarantine": self.quarantine,
                "newest_loaded_ingest_date": self.newest_ingest_date}  # fmt: skip

    def render(self) -> None:
        from rich.table import Table

        from shopdw.errors import wide_console

        c = wide_console()
        t = Table("run", "date", "command", "started", "ended", "status", "rows", "error", title="Recent runs")
        for r in self.runs:
            colour = {"success": "green", "blocked": "yellow", "running": "cyan"}.get(r["status"], "red")
            t.add_row(r["run_id"], str(r["run_date"] or ""), r["command"] or "", str(r["started_at"]),
                      str(r["ended_at"] or ""), f"[{colour}]{r['status']}[/]", str(r["rows"] or ""),
                      (r["error"] or "").splitlines()[0][:80] if r["error"] else "")  # fmt: skip
        c.print(t if self.runs else "no runs yet")
        t = Table("entity", "files loaded", "rejected", "duplicate", "rows loaded", "rows quarantined",
                  "newest batch", title="Load ledger")  # fmt: skip
        for r in self.ledger:
            t.add_row(r["entity"], str(r["loaded"]), str(r["rejected"]), str(r["duplicate"]), str(r["rows_loaded"]),
                      str(r["rows_quarantined"]), str(r["newest"] or ""))  # fmt: skip
        c.print(t if self.ledger else "nothing loaded yet")
        if self.quarantine:
            t = Table("entity", "reason", "rows", title="Quarantine")
            for r in self.quarantine:
                t.add_row(r["entity"], r["reason"], str(r["rows"]))
            c.print(t)
        c.print(f"Freshness: newest loaded batch {self.newest_ingest_date or 'none'}")


def _no_warehouse_yet(settings: Settings) -> bool:
    """The embedded DuckDB file does not exist yet: report emptiness instead of creating it."""
    from pathlib import Path

    return settings.target == "duckdb" and not Path(settings.duckdb_path).exists()


def status(settings: Settings, limit: int = 10) -> StatusReport:
    from shopdw.warehouse import open_warehouse

    rep = StatusReport()
    if _no_warehouse_yet(settings):
        return rep
    with open_warehouse(settings) as wh:
        if _existing(wh, "meta", "runs"):
            cols = ["run_id", "run_date", "command", "started_at", "ended_at", "status", "rows", "error"]
            rows = wh.query(f"select {', '.join(cols)} from meta.runs where step = 'run' "
                            f"order by started_at desc, run_id desc limit {int(limit)}")  # fmt: skip
            rep.runs = [dict(zip(cols, r)) for r in rows]
        if _existing(wh, "meta", "load_ledger"):
            rows = wh.query(
                "select entity, sum(case when status = 'loaded' then 1 else 0 end), "
                "sum(case when status = 'rejected' then 1 else 0 end), "
                "sum(case when status = 'duplicate' then 1 else 0 end), coalesce(sum(rows_loaded), 0), "
                "coalesce(sum(rows_quarantined), 0), max(case when status = 'loaded' then ingest_date end) "
                "from meta.load_ledger group by entity order by entity"
            )
            keys = ["entity", "loaded", "rejected", "duplicate", "rows_loaded", "rows_quarantined", "newest"]
            rep.ledger = [dict(zip(keys, r)) for r in rows]
            newest = [r["newest"] for r in rep.ledger if r["newest"] is not None]
            rep.newest_ingest_date = max(newest) if newest else None
        if _existing(wh, "meta", "quarantine"):
            rows = wh.query("select entity, reason, count(*) from meta.quarantine group by entity, reason "
                            "order by entity, count(*) desc, reason")  # fmt: skip
            rep.quarantine = [dict(zip(["entity", "reason", "rows"], r)) for r in rows]
    return rep


@dataclass
class QualityReport:
    run_id: str | None
    card: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        return self.card or {"run_id": self.run_id, "checks": []}

    def render(self) -> None:
        from rich.table import Table

        from shopdw.errors import wide_console

        c = wide_console()
        if not self.card:
            c.print("no quality results yet: run `shopdw run` first")
            return
        t = Table("check", "dimension", "table", "failed/checked", "score", "threshold", "status", "detail",
                  title=f"Quality scorecard, run {self.card['run_id']} (date {self.card['run_date'] or 'all'})")  # fmt: skip
        dbt_passed = [c for c in self.card["checks"] if c["dimension"] == "dbt_test" and c["status"] == "pass"]
        for ch in self.card["checks"]:
            if ch in dbt_passed:
                continue
            st = ch["status"]
            style = {"pass": "green", "warn": "yellow", "fail": "red"}[st]
            t.add_row(ch["check_name"], ch["dimension"], ch["table_name"] or "",
                      f"{ch['rows_failed']}/{ch['rows_checked']}", f"{ch['score']:.2f}",
                      "" if ch["threshold"] is None else f"{ch['threshold']:.2f}", f"[{style}]{st}[/]",
                      (ch["detail"] or ch["sample_keys"] or "")[:70])  # fmt: skip
        c.print(t)
        if dbt_passed:
            c.print(f"(and {len(dbt_passed)} dbt tests passed; `--json` lists every check)")
        c.print(
            f"{self.card['passed']} passed, {self.card['warnings']} warnings, {self.card['failed']} blocking failures"
        )


def quality(settings: Settings, run_id: str | None = None) -> QualityReport:
    from shopdw.quality.gate import scorecard_for_run
    from shopdw.warehouse import open_warehouse

    if _no_warehouse_yet(settings):
        return QualityReport(run_id, None)
    if run_id is None:
        with open_warehouse(settings) as wh:
            if not _existing(wh, "meta", "dq_results"):
                return QualityReport(None, None)
            run_id = wh.query("select run_id from meta.dq_results order by checked_at desc, run_id desc limit 1")
            run_id = run_id[0][0] if run_id else None
    if run_id is None:
        return QualityReport(None, None)
    card = scorecard_for_run(settings, run_id)
    if card is None:
        from shopdw.errors import ConfigError

        raise ConfigError(f"no quality results for run {run_id!r}; `shopdw status` lists the runs")
    return QualityReport(run_id, card)
