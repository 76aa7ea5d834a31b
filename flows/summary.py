"""Terminal output: query results and the end-of-run summary, as rich tables."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from rich.console import Console
from rich.table import Table

from quotewire.report import warehouse_facts


def print_rows(columns: Sequence[str], rows: Sequence[tuple], console: Console | None = None) -> None:
    console = console or Console()
    table = Table(*columns, show_lines=False)
    for row in rows:
        table.add_row(*("" if value is None else str(value) for value in row))
    console.print(table)
    console.print(f"{len(rows)} row{'s' if len(rows) != 1 else ''}")


def print_summary(result: dict, database_path: Path, console: Console | None = None) -> None:
    console = console or Console()
    ingested, built = result["ingest"], result["models"]
    facts = warehouse_facts(database_path)
    table = Table("", "", title=f"quotewire run {ingested['run_id']}", show_header=False)
    table.add_row("files seen", str(ingested["files_seen"]))
    table.add_row("articles new / unchanged / removed",
                  f"{ingested['articles_new']} / {ingested['articles_unchanged']} / {ingested['articles_removed']}")
    rejects = ingested.get("rejects_by_reason") or {}
    table.add_row("rejected", ", ".join(f"{r}: {n}" for r, n in sorted(rejects.items())) or "0")
    for name, n in facts["table_rows"].items():
        table.add_row(f"{name} in warehouse", str(n))
    table.add_row("time", f"ingest {ingested['seconds']:.1f} s, models {built.get('seconds', 0):.1f} s")
    console.print(table)
    if facts["top_speakers"]:
        print_rows(["speaker", "quotes", "articles"], facts["top_speakers"], console)
