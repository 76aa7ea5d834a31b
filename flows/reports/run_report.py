"""The run report: row counts, rejected files and top speakers, as Markdown (Prefect artifact)
and as a terminal table (CLI summary)."""

from __future__ import annotations

from pathlib import Path

from quotewire.models.build import query

TABLE_COUNTS_SQL = """
select 'articles' as table_name, count(*) as n_rows from stg_articles
union all select 'paragraphs', count(*) from stg_paragraphs
union all select 'quotes', count(*) from stg_quotes
union all select 'entities', count(*) from stg_entities
union all select 'rejects', count(*) from stg_rejects
"""
TOP_SPEAKERS_SQL = "select speaker, n_quotes, n_articles from quotes_per_speaker order by n_quotes desc, speaker limit 10"


def warehouse_facts(database_path: Path) -> dict:
    _, counts = query(database_path, TABLE_COUNTS_SQL)
    _, speakers = query(database_path, TOP_SPEAKERS_SQL)
    return {"table_rows": dict(counts), "top_speakers": speakers}


def run_report_markdown(ingested: dict, built: dict, database_path: Path) -> str:
    facts = warehouse_facts(database_path)
    lines = [
        f"# quotewire run {ingested['run_id']}",
        "",
        f"Files seen: {ingested['files_seen']} · new articles: {ingested['articles_new']} · "
        f"unchanged: {ingested['articles_unchanged']} · removed: {ingested['articles_removed']} · "
        f"ingest {ingested['seconds']:.1f} s · models {built.get('seconds', 0):.1f} s",
        "",
        "## Rows in the warehouse",
        "",
        "| table | rows |",
        "|---|---:|",
        *(f"| {name} | {n} |" for name, n in facts["table_rows"].items()),
        "",
        "## Rejected files by reason",
        "",
    ]
    rejects = ingested.get("rejects_by_reason") or {}
    if rejects:
        lines += ["| reason | files |", "|---|---:|", *(f"| {r} | {n} |" for r, n in sorted(rejects.items()))]
    else:
        lines.append("None.")
    lines += ["", "## Top speakers", "", "| speaker | quotes | articles |", "|---|---:|---:|"]
    lines += [f"| {speaker} | {n} | {a} |" for speaker, n, a in facts["top_speakers"]]
    return "\n".join(lines) + "\n"
