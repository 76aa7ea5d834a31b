"""Incremental ingest and atomic publishing, without Prefect (plain functions of ingest.py/store.py)."""

from __future__ import annotations

import os

import pyarrow.compute as pc
import pytest

from quotewire.publish import ingest
from quotewire.publish.ingest import ingest_serially, plan_ingest
from quotewire.settings import Settings
from quotewire.publish.store import Warehouse, WarehouseBusy

BODY = '"We will open the new school in September," said Clara Mendes, the head teacher.\n'


def article(headline: str, extra: str = "") -> str:
    return f"{headline}\n\n{BODY}{extra}"


@pytest.fixture
def raw(tmp_path):
    root = tmp_path / "raw"
    (root / "daily").mkdir(parents=True)
    (root / "daily" / "school.txt").write_text(article("School to open"))
    (root / "daily" / "pool.txt").write_text(article("Pool to reopen", "\nThe pool shut in May.\n"))
    (root / "notes.pdf").write_bytes(b"%PDF-1.4 binary")
    return root


@pytest.fixture
def settings(raw, tmp_path):
    return Settings().with_overrides(raw_dir=raw, warehouse_dir=tmp_path / "warehouse", batch_size=1)


def table(settings, name):
    return Warehouse(settings.warehouse_dir).read_table(name)


def test_every_file_is_an_article_or_a_reject(settings):
    summary = ingest_serially(settings)
    assert summary.files_seen == 3
    assert summary.articles_new == 2
    assert sorted(table(settings, "article_sources").column("source_path").to_pylist()) == \
        ["daily/pool.txt", "daily/school.txt"]
    rejects = table(settings, "rejects")
    assert rejects.column("source_path").to_pylist() == ["notes.pdf"]
    assert summary.rejects_by_reason == {rejects.column("reason")[0].as_py(): 1}


def test_the_summary_says_where_the_batches_spent_their_time(settings):
    summary = ingest_serially(settings)
    stages = summary.stage_seconds
    inside = {name: seconds for name, seconds in stages.items() if name.startswith("batch_")}
    assert set(inside) == {"batch_read", "batch_structure", "batch_ner", "batch_entities", "batch_quotes",
                           "batch_tables", "batch_write"}
    assert all(seconds > 0 for seconds in inside.values())
    assert sum(inside.values()) <= stages["batches_busy"]  # the stages lie inside the batches


def test_ids_and_rows_do_not_depend_on_batch_or_chunk_size(settings, tmp_path, monkeypatch):
    ingest_serially(settings)
    other = settings.with_overrides(warehouse_dir=tmp_path / "other", batch_size=50)
    monkeypatch.setattr(ingest, "TABULATE_CHUNK_ARTICLES", 1)  # one batch of two articles, in two chunks
    ingest_serially(other)
    for name, key in [("articles", "article_id"), ("paragraphs", "paragraph_id"), ("quotes", "quote_id"),
                      ("entities", "mention_id")]:
        one, two = without_run_columns(table(settings, name)), without_run_columns(table(other, name))
        assert one.num_rows > 0, name
        assert one.sort_by(key).equals(two.sort_by(key)), name


def without_run_columns(rows):
    """ingested_at and run_id say when a row was made; everything else must be reproducible."""
    return rows.drop_columns([c for c in ("ingested_at", "run_id") if c in rows.column_names])


def test_unchanged_raw_dir_publishes_nothing_new(settings):
    ingest_serially(settings)
    snapshot = Warehouse(settings.warehouse_dir).current_snapshot()
    again = ingest_serially(settings)
    assert again.published is False and again.articles_new == 0 and again.articles_unchanged == 2
    assert Warehouse(settings.warehouse_dir).current_snapshot() == snapshot


def test_edit_replaces_and_deletion_removes_rows(settings, raw):
    ingest_serially(settings)
    (raw / "daily" / "pool.txt").write_text(article("Pool to reopen in June"))
    os.remove(raw / "daily" / "school.txt")
    summary = ingest_serially(settings.with_overrides(allow_deletions=True))  # one of two articles goes
    assert summary.articles_new == 1 and summary.articles_removed == 2
    articles = table(settings, "articles")
    assert articles.column("headline").to_pylist() == ["Pool to reopen in June"]
    article_id = articles.column("article_id")[0].as_py()
    for name in ("paragraphs", "quotes", "entities"):
        assert set(table(settings, name).column("article_id").to_pylist()) == {article_id}, name


def test_fixed_reject_is_picked_up_next_run(settings, raw):
    (raw / "daily" / "blank.txt").write_text("   \n\n")
    ingest_serially(settings)
    assert "daily/blank.txt" in table(settings, "rejects").column("source_path").to_pylist()
    (raw / "daily" / "blank.txt").write_text(article("Blank no more"))
    ingest_serially(settings)
    assert "daily/blank.txt" not in table(settings, "rejects").column("source_path").to_pylist()
    assert "daily/blank.txt" in table(settings, "article_sources").column("source_path").to_pylist()


def test_staging_left_by_a_killed_run_is_swept_and_never_read(settings):
    ingest_serially(settings)
    warehouse = Warehouse(settings.warehouse_dir)
    leftover = warehouse.snapshots_dir / "20990101T000000-dead00.staging" / "articles"
    leftover.mkdir(parents=True)
    (leftover / "part-junk.parquet").write_bytes(b"not parquet")
    assert table(settings, "articles").num_rows == 2  # readers only see the published snapshot
    (settings.raw_dir / "daily" / "new.txt").write_text(article("Another story"))
    ingest_serially(settings)
    assert not leftover.exists()
    assert table(settings, "articles").num_rows == 3


def test_a_second_run_on_a_locked_warehouse_exits_at_once(settings):
    warehouse = Warehouse(settings.warehouse_dir)
    import multiprocessing

    ready, release = multiprocessing.Event(), multiprocessing.Event()
    holder = multiprocessing.get_context("fork").Process(target=_hold_lock, args=(warehouse, ready, release))
    holder.start()
    try:
        assert ready.wait(10)
        with pytest.raises(WarehouseBusy, match="in use"):
            ingest_serially(settings)
    finally:
        release.set()
        holder.join(10)
    assert ingest_serially(settings).articles_new == 2


def test_a_second_run_in_the_same_process_is_refused_while_the_first_holds_the_lock(settings):
    warehouse = Warehouse(settings.warehouse_dir)
    with warehouse.lock():  # what a flow run holds from its start to its end
        with pytest.raises(WarehouseBusy, match=f"in use by pid {os.getpid()}"):
            ingest_serially(settings)
        with pytest.raises(WarehouseBusy):
            warehouse.check_free()
        with pytest.raises(WarehouseBusy):
            with warehouse.lock():
                pass
    assert warehouse.current_snapshot() is None  # the refused run wrote nothing
    warehouse.check_free()  # only looks: the lock is free again afterwards
    assert ingest_serially(settings).articles_new == 2


def _hold_lock(warehouse, ready, release):
    with warehouse.lock():
        ready.set()
        release.wait(10)


def test_plan_finds_new_content_only(settings, raw):
    ingest_serially(settings)
    # A copy that sorts after the original, which stays the article's primary path.
    (raw / "daily" / "school2.txt").write_text(article("School to open"))
    plan = plan_ingest(settings, Warehouse(settings.warehouse_dir))
    assert plan.batches == []  # same bytes as an ingested file: nothing to analyse
    assert plan.has_changes  # but a new path to record
    ingest_serially(settings)
    sources = table(settings, "article_sources")
    ids = pc.unique(sources.column("article_id")).to_pylist()
    assert sources.num_rows == 3 and len(ids) == 2


def test_html_jsonl_and_gzip_sources_become_articles(settings, raw):
    import gzip
    import json

    page = ("<html><head><title>Tram line approved</title>"
            '<link rel="canonical" href="https://example.org/tram"></head><body><nav>Home | News</nav>'
            "<article><h1>Tram line approved</h1>"
            "<p>The regional assembly approved the new tram line on Tuesday after a long debate.</p>"
            '<p>"This will change how the valley travels," said Ana Duarte, the transport minister.</p>'
            "<p>Construction is expected to start next spring and to last three years.</p></article>"
            "<footer>Copyright</footer></body></html>")
    (raw / "web").mkdir()
    (raw / "web" / "tram.html.gz").write_bytes(gzip.compress(page.encode()))
    lines = [json.dumps({"title": "Dock strike ends", "text": BODY, "source": "Wire"}), "", "{not json",
             json.dumps({"title": "No body here"})]
    (raw / "dump.jsonl").write_text("\n".join(lines) + "\n")
    (raw / "daily" / "zipped.txt.gz").write_bytes(gzip.compress(article("Zipped story").encode()))

    ingest_serially(settings)
    sources = set(table(settings, "article_sources").column("source_path").to_pylist())
    assert {"web/tram.html.gz", "dump.jsonl#L1", "daily/zipped.txt.gz"} <= sources
    rejects = dict(zip(table(settings, "rejects").column("source_path").to_pylist(),
                       table(settings, "rejects").column("reason").to_pylist()))
    assert rejects["dump.jsonl#L3"] == "bad_json" and rejects["dump.jsonl#L4"] == "no_text"
    articles = table(settings, "articles")
    by_path = dict(zip(articles.column("source_path").to_pylist(), articles.column("headline").to_pylist()))
    assert by_path["web/tram.html.gz"] == "Tram line approved"
    assert by_path["dump.jsonl#L1"] == "Dock strike ends"
    quotes = table(settings, "quotes")
    assert "Ana Duarte" in quotes.column("speaker").to_pylist()

    assert ingest_serially(settings).published is False  # and all of it is incremental


def test_an_empty_raw_dir_still_publishes_empty_tables_for_the_models(tmp_path):
    from quotewire.models.build import build_models

    (tmp_path / "raw").mkdir()
    settings = Settings().with_overrides(raw_dir=tmp_path / "raw", warehouse_dir=tmp_path / "warehouse")
    assert ingest_serially(settings).published is True
    warehouse = Warehouse(settings.warehouse_dir)
    result = build_models(warehouse.parquet_link, settings.database_path, settings.marts_dir, settings.sql_dir)
    assert result.row_counts["quotes_per_speaker"] == 0
    assert ingest_serially(settings).published is False


def test_a_json_escape_for_half_a_surrogate_pair_does_not_stop_the_run(settings, raw):
    (raw / "dump.jsonl").write_text('{"title": "Half \\ud800 pair", "text": "' + BODY.strip().replace('"', '\\"') + '"}\n')
    summary = ingest_serially(settings)
    assert summary.articles_new == 3
    headlines = table(settings, "articles").column("headline").to_pylist()
    assert "Half \ufffd pair" in headlines


def test_an_article_that_breaks_a_stage_is_rejected_and_the_rest_published(settings, raw, monkeypatch):
    import quotewire.publish.ingest as ingest_module

    real_tables = ingest_module.article_tables

    def tables_failing_on_the_pool_story(analysed, run_id, ingested_at):
        if any(a.structure.headline == "Pool to reopen" for a in analysed):
            raise ValueError("a stage failed on this article")
        return real_tables(analysed, run_id, ingested_at)

    monkeypatch.setattr(ingest_module, "article_tables", tables_failing_on_the_pool_story)
    summary = ingest_serially(settings.with_overrides(batch_size=10))
    assert summary.articles_new == 1 and summary.rejects_by_reason.get("analysis_error") == 1
    rejects = dict(zip(table(settings, "rejects").column("source_path").to_pylist(),
                       table(settings, "rejects").column("detail").to_pylist()))
    assert "a stage failed on this article" in rejects["daily/pool.txt"]
    assert table(settings, "articles").column("source_path").to_pylist() == ["daily/school.txt"]
