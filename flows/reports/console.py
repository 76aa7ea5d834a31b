"""Terminal output: query results and the end-of-run summary, as rich tables."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Sequence, TextIO

from rich.cells import cell_len
from rich.console import Console
from rich.table import Column, Table

from quotewire.models.build import query
from quotewire.reports.run_report import warehouse_facts


def print_rows(columns: Sequence[str], rows: Sequence[tuple], console: Console | None = None) -> None:
    """A rich table; on a terminal it fits the width, elsewhere (a pipe, a file) every value is
    printed whole on one line, newlines shown as \\n, so grep and cut see one row per line."""
    console = console or Console()
    if console.is_terminal:
        table = Table(*columns, show_lines=False)
        for row in rows:
            table.add_row(*(cell_text(value) for value in row))
    else:
        cells = [[cell_text(value).replace("\n", "\\n") for value in row] for row in rows]
        widths = [max([cell_len(column)] + [cell_len(row[i]) for row in cells]) for i, column in enumerate(columns)]
        table = Table(*(Column(column, no_wrap=True, overflow="ignore") for column in columns), show_lines=False)
        for row in cells:
            table.add_row(*row)
        # as wide as the widest row needs (borders and padding: 3 per column + 1), so nothing wraps
        console.width = max(console.width, sum(widths) + 3 * len(columns) + 1)
    console.print(table)
    console.print(f"{len(rows)} row{'s' if len(rows) != 1 else ''}")


FORMATS = ("table", "csv", "tsv", "json", "markdown")


def cell_text(value: object) -> str:
    """A value as text in a cell: null empty, lists and structs as JSON, the rest as str()."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, default=str, ensure_ascii=False)
    return str(value)


def write_rows(columns: Sequence[str], rows: Sequence[tuple], output_format: str, stream: TextIO) -> None:
    """Rows as csv / tsv (header first), JSON Lines (one object per row) or a Markdown table;
    values are never cut or wrapped."""
    if output_format == "json":
        for row in rows:
            stream.write(json.dumps(dict(zip(columns, row)), default=str, ensure_ascii=False) + "\n")
    elif output_format in ("csv", "tsv"):
        writer = csv.writer(stream, delimiter="," if output_format == "csv" else "\t", lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([cell_text(value) for value in row] for row in rows)
    elif output_format == "markdown":
        def line(cells: Sequence[str]) -> str:
            return "| " + " | ".join(cell.replace("|", "\\|").replace("\n", "<br>") for cell in cells) + " |\n"

        stream.write(line(columns) + "|" + "---|" * len(columns) + "\n")
        for row in rows:
            stream.write(line([cell_text(value) for value in row]))
    else:
        raise ValueError(f"unknown output format {output_format!r}: one of {', '.join(FORMATS)}")


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
