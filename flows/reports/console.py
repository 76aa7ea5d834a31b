"""Terminal output: query results and the end-of-run summary, as rich tables."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from rich.console import Console
from rich.table import Table

from quotewire.models.build import query
from quotewire.reports.run_report import warehouse_facts


def print_rows(columns: Sequence[str], rows: Sequence[tuple], console: Console | None = None) -> None:
    console = console or Console()
    table = Table(*columns, show_lines=False)
    for row in rows:
        table.add_row(*("" if value is None else str(value) for value in row))
    console.print(table)
    console.print(f"{len(rows)} row{'s' if len(rows) != 1 else ''}")


DISTINCT_COUNTS_SQL = "select (select count(*) from quotes_per_speaker), (select count(*) from entity_mentions)"


def summary_rows(ingested: dict, built: dict, table_rows: dict[str, int], n_speakers: int, n_entities: int) -> list[tuple[str, str]]:
    """The end-of-run table as (what, value) rows: what changed in this run, then what the warehouse holds."""
    rejects = ingested.get("rejects_by_reason") or {}
    n_rejected = sum(rejects.values())
    rows = [
        ("files seen", str(ingested["files_seen"])),
        ("articles new / unchanged / removed / rejected",
         f"{ingested['articles_new']} / {ingested['articles_unchanged']} / {ingested['articles_removed']} / {n_rejected}"),
    ]
    if rejects:
        rows.append(("rejected by reason", ", ".join(f"{r}: {n}" for r, n in sorted(rejects.items()))))
    rows += [(f"{name} in warehouse", str(n)) for name, n in table_rows.items()]
    rows += [("named speakers", str(n_speakers)), ("distinct entities", str(n_entities))]
    ingest_seconds, model_seconds = ingested["seconds"], built.get("seconds", 0)
    rows.append(("time", f"{ingest_seconds + model_seconds:.1f} s (ingest {ingest_seconds:.1f} s, models {model_seconds:.1f} s)"))
    return rows


def print_summary(result: dict, database_path: Path, console: Console | None = None) -> None:
    console = console or Console()
    ingested, built = result["ingest"], result["models"]
    facts = warehouse_facts(database_path)
    (n_speakers, n_entities), = query(database_path, DISTINCT_COUNTS_SQL)[1]
    table = Table("", "", title=f"quotewire run {ingested['run_id']}", show_header=False)
    for what, value in summary_rows(ingested, built, facts["table_rows"], n_speakers, n_entities):
        table.add_row(what, value)
    console.print(table)
    if facts["top_speakers"]:
        print_rows(["speaker", "quotes", "articles"], facts["top_speakers"], console)
