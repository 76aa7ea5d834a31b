"""The data dictionary: every Parquet table, staging view and mart, generated from the code.

Tables are described by their Arrow schemas (schemas.py, descriptions in field metadata) and
models by the comment block at the top of each SQL file (models.model_docs), so the dictionary
is rebuilt from the same source the pipeline runs on and cannot drift from it. The committed
copy, docs/tables.md, is checked against this output by the tests.

The example queries are part of the dictionary *and* are run by the tests against a freshly
built warehouse, so an example that stops working fails the build instead of misleading people.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from quotewire.publish import schemas
from quotewire.models.build import discover_models, model_docs, query
from quotewire.settings import Settings

REGENERATE_COMMAND = "quotewire docs --out docs/tables.md"

FOLDER_TITLES = {
    "staging": ("Staging views", "Views over the Parquet files: the tables above, renamed for SQL (`start`/`end` become "
                "`start_offset`/`end_offset`). Build marts on these, never on the files."),
    "tables": ("Table views", "Views named as the tables (`articles`, `quotes`, ...): the staging views, `quotes` with"
               " its cluster id added. Query these by the table's name."),
    "intermediate": ("Intermediate tables", "Tables the marts and views share; not exported."),
    "marts": ("Marts", "Tables built for analysts and dashboards; also exported as `warehouse/marts/<name>.parquet`."),
}


@dataclass(frozen=True)
class ExampleQuery:
    title: str
    explanation: str
    sql: str


# Names in the examples are ones the sample articles in raw/ contain, so they answer out of the box.
EXAMPLE_QUERIES: tuple[ExampleQuery, ...] = (
    ExampleQuery(
        "Top speakers per outlet",
        "The three most quoted named speakers of each outlet.",
        """\
select outlet, speaker, n_quotes
from (
    select
        articles.outlet,
        quotes.speaker,
        count(*) as n_quotes,
        row_number() over (partition by articles.outlet order by count(*) desc, quotes.speaker) as rank
    from stg_quotes as quotes
    join stg_articles as articles on quotes.article_id = articles.article_id
    where quotes.speaker is not null
    group by articles.outlet, quotes.speaker
)
where rank <= 3
order by outlet, n_quotes desc, speaker""",
    ),
    ExampleQuery(
        "Quotes mentioning an entity",
        "Every quote whose paragraph mentions an entity, here the Justice Department, with who said it.",
        """\
select distinct quotes.speaker, quotes.text as quote, articles.headline, quotes.paragraph_id
from stg_quotes as quotes
join stg_entities as entities on quotes.paragraph_id = entities.paragraph_id
join stg_articles as articles on quotes.article_id = articles.article_id
where entities.name = 'Justice Department'
order by quotes.paragraph_id""",
    ),
    ExampleQuery(
        "A speaker's quotes over time",
        "Everything one speaker said, oldest first (undated articles last).",
        """\
select articles.published_at, articles.outlet, articles.headline, quotes.kind, quotes.text as quote
from stg_quotes as quotes
join stg_articles as articles on quotes.article_id = articles.article_id
where quotes.speaker = 'Jeff Sessions'
order by articles.published_at nulls last, quotes.start_offset""",
    ),
    ExampleQuery(
        "Every name form of a speaker",
        "One row per person or organisation over all articles: the name forms its quotes carry, where and when.",
        """\
select speaker_id, name, speaker_type, aliases, n_quotes, n_articles, outlets, first_seen, last_seen
from speakers
order by n_quotes desc, name
limit 10""",
    ),
    ExampleQuery(
        "Quotes reused across articles",
        "The same words in more than one article (wire copy, follow-ups, a quote re-quoted), who first printed them,"
        " and every quote of the cluster through `quotes.cluster_id`.",
        """\
select clusters.canonical_text, speakers.name as speaker, clusters.n_articles, clusters.n_outlets,
       clusters.first_outlet, quotes.article_id, quotes.text as quote
from quote_clusters as clusters
left join speakers on clusters.speaker_id = speakers.speaker_id
join quotes on quotes.cluster_id = clusters.cluster_id
where clusters.n_articles > 1
order by clusters.n_articles desc, clusters.cluster_id, quotes.quote_id""",
    ),
    ExampleQuery(
        "Whom a speaker talks about",
        "The entities named inside each speaker's quotes (`speaker_targets`), with a quote that names them"
        " (`quote_mentions`).",
        """\
select targets.speaker, targets.entity_name, targets.label, targets.n_quotes, any_value(quotes.text) as a_quote
from speaker_targets as targets
join quote_mentions as mentions
    on targets.speaker_id = mentions.speaker_id and targets.entity_id = mentions.entity_id
join quotes on mentions.quote_id = quotes.quote_id
group by all
order by targets.n_quotes desc, targets.speaker, targets.entity_name""",
    ),
    ExampleQuery(
        "Rows by extraction rules",
        "How many quotes each version of the analysis rules made: rows of older rules are analysed again when"
        " their article is.",
        """\
select extractor_version, count(*) as n_quotes, count(speaker_id) as n_attributed
from quotes
group by extractor_version
order by extractor_version""",
    ),
    ExampleQuery(
        "Unattributed quotes",
        "Quotes nobody could be named for, with the words at the attribution if there were any: "
        "where to look for attribution errors.",
        """\
select articles.source_path, quotes.paragraph_id, quotes.speaker_mention, quotes.text as quote
from stg_quotes as quotes
join stg_articles as articles on quotes.article_id = articles.article_id
where quotes.speaker is null
order by articles.source_path, quotes.start_offset""",
    ),
)


# --- rendering ------------------------------------------------------------------------------


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell: pipes would split it, newlines would end the row."""
    return text.replace("|", "\\|").replace("\n", " ")


def table_section(name: str, schema: pa.Schema) -> list[str]:
    lines = [f"### {name}", "", schemas.describe(schema), "",
             "| column | type | nullable | description |", "|---|---|---|---|"]
    for field in schema:
        nullable = "yes" if field.nullable else "no"
        lines.append(f"| `{field.name}` | {field.type} | {nullable} | {_cell(schemas.column_description(field))} |")
    return lines + [""]


def model_section(name: str, description: str, columns: dict[str, str]) -> list[str]:
    lines = [f"### {name}", "", description, "", "| column | description |", "|---|---|"]
    lines += [f"| `{column}` | {_cell(text)} |" for column, text in columns.items()]
    return lines + [""]


def example_section(example: ExampleQuery) -> list[str]:
    return [f"### {example.title}", "", example.explanation, "", "```sql", example.sql, "```", ""]


def data_dictionary_markdown(sql_dir: Path) -> str:
    """The whole data dictionary as Markdown: tables, staging views, marts, example queries."""
    docs = model_docs(sql_dir)
    folder = {name: model.folder for name, model in discover_models(sql_dir).items()}
    lines = [
        "# quotewire data dictionary",
        "",
        f"Generated from the Arrow schemas (`flows/publish/schemas.py`) and the SQL models (`sql/`) by `{REGENERATE_COMMAND}`;"
        " edit those, not this file.",
        "",
        "Query the warehouse with `quotewire sql \"<query>\"` (read-only DuckDB) or open"
        " `warehouse/quotewire.duckdb` in any DuckDB client.",
        "",
        "## Tables (Parquet)",
        "",
        "Written by the pipeline under `warehouse/parquet/<table>/`; offsets are 0-based Unicode code points.",
        "",
    ]
    for name, schema in schemas.TABLES.items():
        lines += table_section(name, schema)
    for kind, (title, intro) in FOLDER_TITLES.items():
        lines += [f"## {title}", "", intro, ""]
        for name, doc in docs.items():
            if folder[name] == kind:
                lines += model_section(name, doc.description, doc.columns)
    lines += ["## Example queries", "", "Each runs as written (the tests run them on every build).", ""]
    for example in EXAMPLE_QUERIES:
        lines += example_section(example)
    return "\n".join(lines).rstrip("\n") + "\n"


# --- checking models against their documentation -------------------------------------------


def built_model_columns(database_path: Path) -> dict[str, list[str]]:
    """Model name -> its columns in order, as the built warehouse actually has them."""
    _, rows = query(database_path, """
        select table_name, column_name from information_schema.columns
        where table_catalog = current_database()
        order by table_name, ordinal_position""")
    columns: dict[str, list[str]] = {}
    for table, column in rows:
        columns.setdefault(table, []).append(column)
    return columns


def documentation_gaps(documented: dict[str, list[str]], actual: dict[str, list[str]]) -> list[str]:
    """One line per model column that is built but undocumented, or documented but not built."""
    gaps = []
    for model in sorted(documented.keys() | actual.keys()):
        built, described = actual.get(model, []), documented.get(model, [])
        gaps += [f"{model}.{column}: built but has no '-- {column}: ...' line" for column in built if column not in described]
        gaps += [f"{model}.{column}: documented but the model has no such column" for column in described if column not in built]
    return gaps


# --- command --------------------------------------------------------------------------------


def command_docs(args: argparse.Namespace) -> int:
    markdown = data_dictionary_markdown(Settings.from_args(args).sql_dir)
    if args.out is None:
        sys.stdout.write(markdown)
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(markdown, encoding="utf-8")
    return 0
