"""`quotewire check`: the accounting rules (pure) and each table rule against a tampered snapshot."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from quotewire.models.check import accounting_problems, check_warehouse, command_check, file_of_entry
from quotewire.publish.ingest import ingest_serially
from quotewire.settings import Settings
from quotewire.publish.store import Warehouse

ARTICLE = ('Harbour wall repaired\n\n"The wall will last another century," said engineer Ruth Adeyemi.\n\n'
           'Ruth Adeyemi worked on it for Coast Council.\n')


def rules(problems) -> list[str]:
    return sorted(problem.rule for problem in problems)


# --- accounting -------------------------------------------------------------------------------


def test_each_path_in_exactly_one_ledger_is_clean():
    assert accounting_problems(["a.txt", "b.txt", "c.txt"], ["a.txt", "b.txt"], ["c.txt"]) == []


@pytest.mark.parametrize("sources, rejects, expected", [
    (["a.txt"], [], ["unaccounted"]),  # b.txt is nowhere
    (["a.txt", "b.txt", "b.txt"], [], ["listed_twice"]),
    (["a.txt", "b.txt"], ["b.txt"], ["article_and_reject"]),
    (["a.txt", "b.txt", "gone.txt"], [], ["not_in_raw_dir"]),
])
def test_accounting_names_each_broken_rule(sources, rejects, expected):
    assert rules(accounting_problems(["a.txt", "b.txt"], sources, rejects)) == expected


def test_jsonl_files_may_be_accounted_for_by_line_ids():
    raw = ["dump.jsonl", "a.txt"]
    assert accounting_problems(raw, ["a.txt", "dump.jsonl#L1", "dump.jsonl#L3"], ["dump.jsonl#L2"]) == []
    assert rules(accounting_problems(raw, ["a.txt", "dump.jsonl#L1", "dump.jsonl"], [])) == ["whole_file_and_lines"]
    assert file_of_entry("notes#L2", {"notes#L2", "notes"}) == "notes#L2"  # a real file name wins
    assert file_of_entry("other.jsonl#L2", {"dump.jsonl"}) is None


# --- the whole check over a real warehouse ----------------------------------------------------


@pytest.fixture
def settings(tmp_path):
    raw = tmp_path / "raw"
    (raw / "coast").mkdir(parents=True)
    (raw / "coast" / "wall.txt").write_text(ARTICLE)
    (raw / "copy.txt").write_text(ARTICLE)
    (raw / "other.txt").write_text(ARTICLE.replace("century", "decade"))
    (raw / "blank.txt").write_text("  \n")
    settings = Settings().with_overrides(raw_dir=raw, warehouse_dir=tmp_path / "warehouse", batch_size=1)
    ingest_serially(settings)
    return settings


def rewrite_published(settings: Settings, table: str, change) -> None:
    """Replace every part of a published table by ``change(part)`` — a corrupted warehouse."""
    snapshot = Warehouse(settings.warehouse_dir).current_snapshot()
    for part in (snapshot / table).glob("*.parquet"):
        original = pq.read_table(part)
        part.unlink()  # parts may be hard links shared with older snapshots
        pq.write_table(change(original), part)


def test_a_fresh_warehouse_passes(settings, capsys):
    assert check_warehouse(settings) == []
    args = type("Args", (), {"raw": settings.raw_dir, "warehouse": settings.warehouse_dir})()
    assert command_check(args) == 0
    assert capsys.readouterr().out.strip() == "ok: 4 files, 2 articles"


def test_a_new_and_an_edited_file_are_reported(settings, capsys):
    (settings.raw_dir / "late.txt").write_text(ARTICLE + "\nMore.\n")
    (settings.raw_dir / "other.txt").write_text(ARTICLE + "\nEdited.\n")
    problems = check_warehouse(settings)
    assert rules(problems) == ["stale", "unaccounted"]
    args = type("Args", (), {"raw": settings.raw_dir, "warehouse": settings.warehouse_dir})()
    assert command_check(args) == 1
    out = capsys.readouterr().out
    assert "'late.txt' is in neither" in out and "'other.txt' changed" in out


def test_no_snapshot_leaves_every_file_unaccounted(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.txt").write_text(ARTICLE)
    settings = Settings().with_overrides(raw_dir=raw, warehouse_dir=tmp_path / "none")
    assert rules(check_warehouse(settings)) == ["unaccounted"]


def test_duplicated_quote_rows_break_key_uniqueness(settings):
    rewrite_published(settings, "quotes", lambda t: pa.concat_tables([t, t]))
    assert "unique_not_null_quotes_quote_id" in rules(check_warehouse(settings))


def test_shifted_offsets_break_the_slice_rules(settings):
    def shift(table):
        return table.set_column(table.schema.get_field_index("start"), "start",
                                pc.add(table.column("start"), pa.scalar(1, pa.int32())))

    rewrite_published(settings, "paragraphs", shift)
    rewrite_published(settings, "entities", shift)
    found = rules(check_warehouse(settings))
    assert "paragraph_slices_match_article_text" in found
    assert "entities_slices_match_their_paragraph" in found


def test_quote_pointing_at_another_articles_paragraph_is_reported(settings):
    articles = Warehouse(settings.warehouse_dir).read_table("articles").column("article_id").to_pylist()

    def elsewhere(table):
        moved = [p.replace(a, next(x for x in articles if x != a))
                 for p, a in zip(table.column("paragraph_id").to_pylist(), table.column("article_id").to_pylist())]
        return table.set_column(table.schema.get_field_index("paragraph_id"), "paragraph_id", pa.array(moved))

    rewrite_published(settings, "quotes", elsewhere)
    assert "quotes_in_a_paragraph_of_their_article" in rules(check_warehouse(settings))


def test_article_without_source_path_is_reported(settings):
    rewrite_published(settings, "article_sources",
                      lambda t: t.filter(pc.invert(pc.starts_with(t.column("source_path"), "other"))))
    found = rules(check_warehouse(settings))
    assert "articles_have_a_source_path" in found and "unaccounted" in found
