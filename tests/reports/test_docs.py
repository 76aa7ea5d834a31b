"""The data dictionary: complete, current, and with example queries that really run."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from quotewire.publish import schemas
from quotewire.reports.dictionary import (
    EXAMPLE_QUERIES,
    REGENERATE_COMMAND,
    built_model_columns,
    command_docs,
    data_dictionary_markdown,
    documentation_gaps,
)
from quotewire.models.build import model_docs, query

ROOT = Path(__file__).resolve().parents[2]
SQL_DIR = ROOT / "sql"
COMMITTED_DICTIONARY = ROOT / "docs" / "tables.md"

# Enough for every example query to have an answer: three outlets, one dated article, a quote in a
# paragraph naming the Justice Department, one quote nobody can be named for, one quote printed
# twice, one quote naming an organisation.
ARTICLES = {
    "daily-ledger/judges.txt": (
        "Sessions tells judges to move faster\n\n"
        "Attorney General Jeff Sessions spoke to new immigration judges on Friday.\n\n"
        '"Your job is to apply the law," Sessions said, adding that the Justice Department would back them.\n\n'
        '"Nobody asked us," one judge was heard to complain.\n'
    ),
    "harbour.md": (
        "---\nheadline: Harbour wall repaired\noutlet: Coast Weekly\npublished_at: 2026-05-02\n---\n\n"
        "Harbour wall repaired\n\n"
        'Engineers finished the repairs on Friday. "The wall will last another century," said engineer Ruth Adeyemi.\n\n'
        'Jeff Sessions, visiting the harbour, said the Justice Department had "no view on walls".\n'
    ),
    "valley-courier/wall.txt": (
        "Wall engineer repeats her promise\n\n"
        '"The wall will last another century," engineer Ruth Adeyemi told the Valley Courier on Monday.\n\n'
        '"The Justice Department paid for every stone of it," Adeyemi said.\n'
    ),
}


def build_warehouse(root: Path, articles: dict[str, str]) -> Path:
    """A real warehouse (ingest without Prefect, then the SQL models); returns the database path."""
    from quotewire.publish.ingest import ingest_serially
    from quotewire.models.build import build_models
    from quotewire.settings import Settings
    from quotewire.publish.store import Warehouse

    for relative, text in articles.items():
        (root / "raw" / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / "raw" / relative).write_text(text, encoding="utf-8")
    settings = Settings().with_overrides(raw_dir=root / "raw", warehouse_dir=root / "warehouse", sql_dir=SQL_DIR)
    ingest_serially(settings)
    build_models(Warehouse(settings.warehouse_dir).parquet_link, settings.database_path, settings.marts_dir, SQL_DIR)
    return settings.database_path


@pytest.fixture(scope="module")
def database(tmp_path_factory) -> Path:
    return build_warehouse(tmp_path_factory.mktemp("docs"), ARTICLES)


def test_every_table_and_column_has_a_description():
    missing = [name for name, schema in schemas.TABLES.items() if not schemas.describe(schema).strip()]
    missing += [f"{name}.{field.name}" for name, schema in schemas.TABLES.items()
                for field in schema if not schemas.column_description(field).strip()]
    assert missing == [], f"add a description in flows/schemas.py for: {', '.join(missing)}"


@pytest.mark.slow
def test_every_built_model_column_is_documented_in_its_sql_header(database):
    documented = {name: list(doc.columns) for name, doc in model_docs(SQL_DIR).items()}
    gaps = documentation_gaps(documented, built_model_columns(database))
    assert gaps == [], "SQL model headers out of step with the built models:\n" + "\n".join(gaps)


def test_every_model_has_a_description():
    undescribed = [name for name, doc in model_docs(SQL_DIR).items() if not doc.description.strip()]
    assert undescribed == [], f"these models have no description in their comment block: {undescribed}"


def test_documentation_gaps_names_undocumented_and_phantom_columns():
    documented = {"marts_a": ["speaker", "n_quotes", "gone"]}
    actual = {"marts_a": ["speaker", "n_quotes", "n_articles"], "marts_b": ["x"]}
    assert documentation_gaps(documented, actual) == [
        "marts_a.n_articles: built but has no '-- n_articles: ...' line",
        "marts_a.gone: documented but the model has no such column",
        "marts_b.x: built but has no '-- x: ...' line",
    ]
    assert documentation_gaps(actual, actual) == []


@pytest.mark.slow
@pytest.mark.parametrize("example", EXAMPLE_QUERIES, ids=lambda example: example.title)
def test_example_query_runs_and_answers(database, example):
    columns, rows = query(database, example.sql)
    assert columns and rows, f"example {example.title!r} returned nothing on a warehouse built to answer it"


@pytest.mark.slow
def test_example_queries_answer_what_they_promise(database):
    by_title = {example.title: example for example in EXAMPLE_QUERIES}
    _, unattributed = query(database, by_title["Unattributed quotes"].sql)
    assert [row[-1] for row in unattributed] == ["Nobody asked us,"]
    _, over_time = query(database, by_title["A speaker's quotes over time"].sql)
    assert [row[-1] for row in over_time] == ["no view on walls", "Your job is to apply the law,"]  # dated first
    _, per_outlet = query(database, by_title["Top speakers per outlet"].sql)
    assert {(outlet, speaker) for outlet, speaker, _ in per_outlet} == {
        ("Coast Weekly", "Jeff Sessions"), ("Coast Weekly", "Ruth Adeyemi"), ("daily-ledger", "Jeff Sessions"),
        ("valley-courier", "Ruth Adeyemi")}
    _, reused = query(database, by_title["Quotes reused across articles"].sql)
    assert {(row[0], row[1], row[2], row[4]) for row in reused} == {
        ("The wall will last another century,", "Ruth Adeyemi", 2, "Coast Weekly")} and len(reused) == 2
    _, targets = query(database, by_title["Whom a speaker talks about"].sql)
    assert [row[:4] for row in targets] == [("Ruth Adeyemi", "Justice Department", "ORG", 1)]


def test_dictionary_covers_every_table_model_and_column():
    markdown = data_dictionary_markdown(SQL_DIR)
    for name, schema in schemas.TABLES.items():
        assert f"### {name}\n" in markdown
        for field in schema:
            assert f"| `{field.name}` | {field.type} | {'yes' if field.nullable else 'no'} |" in markdown
    for name, doc in model_docs(SQL_DIR).items():
        section = markdown.rsplit(f"### {name}\n", 1)[1].split("\n### ", 1)[0]  # a table view shares its table's name
        assert doc.description in section
        for column in doc.columns:
            assert f"| `{column}` |" in section
    for example in EXAMPLE_QUERIES:
        assert f"```sql\n{example.sql}\n```" in markdown


def test_marts_and_staging_views_are_listed_under_their_own_headings():
    markdown = data_dictionary_markdown(SQL_DIR)
    staging, marts = markdown.split("## Staging views", 1)[1].split("## Marts", 1)
    assert "### stg_quotes" in staging and "### quotes_per_speaker" not in staging
    assert "### quotes_per_speaker" in marts.split("## Example queries")[0] and "### stg_quotes" not in marts


def test_pipes_in_descriptions_do_not_break_the_table(tmp_path):
    (tmp_path / "marts").mkdir(parents=True)
    (tmp_path / "marts" / "kinds.sql").write_text(
        "-- Kinds.\n--\n-- kind: direct | partial.\n\nselect 'direct' as kind\n", encoding="utf-8")
    assert "| `kind` | direct \\| partial. |" in data_dictionary_markdown(tmp_path)


def test_committed_dictionary_is_current():
    assert COMMITTED_DICTIONARY.read_text(encoding="utf-8") == data_dictionary_markdown(SQL_DIR), (
        f"docs/tables.md is out of date: regenerate it with `.venv/bin/{REGENERATE_COMMAND}`")


def test_docs_command_writes_the_dictionary_to_out(tmp_path):
    out = tmp_path / "nested" / "tables.md"
    assert command_docs(argparse.Namespace(out=out)) == 0
    assert out.read_text(encoding="utf-8") == data_dictionary_markdown(SQL_DIR)


def test_docs_command_prints_without_out(capsys):
    assert command_docs(argparse.Namespace(out=None)) == 0
    assert capsys.readouterr().out == data_dictionary_markdown(SQL_DIR)


def test_queries_on_one_connection_answer_as_one_query_each(database):
    from quotewire.models.build import queries

    sqls = [example.sql for example in EXAMPLE_QUERIES]
    assert queries(database, sqls) == [query(database, sql) for sql in sqls]
