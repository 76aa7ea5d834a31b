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


QUOTED_PAGE = ("<html><head><title>Tram line approved</title></head><body><nav>Home | News</nav>"
               "<article><h1>Tram line approved</h1>"
               "<p>The regional assembly approved the new tram line on Tuesday after a long debate.</p>"
               '<p>"This will change how the valley travels," said Ana Duarte, the transport minister.</p>'
               "</article></body></html>")


def ids_by_path(settings):
    sources = table(settings, "article_sources")
    return dict(zip(sources.column("source_path").to_pylist(), sources.column("article_id").to_pylist()))


def test_a_page_and_its_gzip_copy_are_one_article_with_two_sources(settings, raw):
    import gzip

    (raw / "web").mkdir()
    (raw / "web" / "tram.html").write_text(QUOTED_PAGE)
    (raw / "web" / "tram.html.gz").write_bytes(gzip.compress(QUOTED_PAGE.encode()))
    summary = ingest_serially(settings)
    assert summary.articles_new == 3
    ids = ids_by_path(settings)
    assert ids["web/tram.html"] == ids["web/tram.html.gz"]
    articles = table(settings, "articles")
    assert articles.column("article_id").to_pylist().count(ids["web/tram.html"]) == 1
    speakers = table(settings, "quotes").column("speaker").to_pylist()
    assert speakers.count("Ana Duarte") == 1


def test_the_same_text_in_a_txt_file_and_a_jsonl_line_is_one_article(settings, raw):
    import json

    text = article("Dock strike ends")
    (raw / "daily" / "dock.txt").write_text(text.rstrip("\n"))  # no final newline: still the same text
    (raw / "dump.jsonl").write_text(json.dumps({"text": text}) + "\n")
    assert ingest_serially(settings).articles_new == 3
    ids = ids_by_path(settings)
    assert ids["daily/dock.txt"] == ids["dump.jsonl#L1"]
    assert table(settings, "articles").num_rows == 3


def test_cp1252_and_utf8_files_of_the_same_text_are_one_article(settings, raw):
    text = article("Caf\u00e9 owners \u201cwelcome\u201d the plan")
    (raw / "daily" / "cafe-utf8.txt").write_bytes(text.encode("utf-8"))
    (raw / "daily" / "cafe-windows.txt").write_bytes(text.replace("\n", "\r\n").encode("cp1252"))
    ingest_serially(settings)
    ids = ids_by_path(settings)
    assert ids["daily/cafe-utf8.txt"] == ids["daily/cafe-windows.txt"]
    headlines = table(settings, "articles").column("headline").to_pylist()
    assert headlines.count("Caf\u00e9 owners \u201cwelcome\u201d the plan") == 1


def test_a_re_encoded_file_with_the_same_text_is_not_analysed_again(settings, raw):
    from quotewire.models.check import check_warehouse
    from quotewire.read.decode import sha256_hex

    ingest_serially(settings)
    pool = raw / "daily" / "pool.txt"
    before = ids_by_path(settings)["daily/pool.txt"]
    data = b"\xef\xbb\xbf" + pool.read_bytes().replace(b"\n", b"\r\n")  # a BOM and CRLF line endings
    pool.write_bytes(data)
    plan = plan_ingest(settings, Warehouse(settings.warehouse_dir))
    assert plan.batches == [] and plan.has_changes
    summary = ingest_serially(settings)
    assert summary.articles_new == 0 and summary.articles_unchanged == 2
    assert ids_by_path(settings)["daily/pool.txt"] == before
    articles = table(settings, "articles").to_pylist()
    row = next(a for a in articles if a["article_id"] == before)
    assert row["content_sha256"] == sha256_hex(data) and row["encoding"] == "utf-8-sig"
    assert check_warehouse(settings) == []


def rewrite_with_raw_byte_ids(settings) -> None:
    """Make the published snapshot what the earlier rule made: an article per distinct file
    content (id from the sha256 of the raw bytes), so copies with other bytes are articles of
    their own with their own rows."""
    import pyarrow.parquet as pq

    from quotewire.publish.store import PART_TABLES, part_name_for
    from quotewire.publish.tables import ARTICLE_KEYED_COLUMNS, to_table

    warehouse = Warehouse(settings.warehouse_dir)
    snapshot = warehouse.current_snapshot()
    tables = {name: warehouse.read_table(name).to_pylist() for name in PART_TABLES}
    rows, ledger, old_ids = {name: [] for name in PART_TABLES}, [], []
    for source in sorted(warehouse.read_table("article_sources").to_pylist(), key=lambda s: s["source_path"]):
        old_id = source["content_sha256"][:16]
        ledger.append({**source, "article_id": old_id})
        if old_id in old_ids:
            continue
        old_ids.append(old_id)
        for name in PART_TABLES:
            for row in tables[name]:
                if row["article_id"] == source["article_id"]:
                    row = {key: old_id + value[16:] if key in ARTICLE_KEYED_COLUMNS else value
                           for key, value in row.items()}
                    if name == "articles":
                        row.update(source_path=source["source_path"], content_sha256=source["content_sha256"])
                    rows[name].append(row)
    for name in PART_TABLES:
        for part in (snapshot / name).glob("*.parquet"):
            part.unlink()
        pq.write_table(to_table(name, rows[name]), snapshot / name / part_name_for(old_ids))
    (snapshot / "article_sources" / "part-all.parquet").unlink()
    pq.write_table(to_table("article_sources", ledger), snapshot / "article_sources" / "part-all.parquet")


def test_a_warehouse_with_raw_byte_ids_is_re_keyed_once_without_duplicates(settings, raw):
    import gzip

    from quotewire.models.check import check_warehouse

    (raw / "web").mkdir()
    (raw / "web" / "tram.html").write_text(QUOTED_PAGE)
    (raw / "web" / "tram.html.gz").write_bytes(gzip.compress(QUOTED_PAGE.encode()))
    (raw / "daily" / "windows.txt").write_bytes(article("Ferry timetable changes").replace("\n", "\r\n").encode())
    first_run = ingest_serially(settings).run_id
    expected = {name: without_run_columns(table(settings, name)).sort_by(key)
                for name, key in [("articles", "article_id"), ("paragraphs", "paragraph_id"),
                                  ("quotes", "quote_id"), ("entities", "mention_id")]}
    new_ids = ids_by_path(settings)

    rewrite_with_raw_byte_ids(settings)
    old_ids = ids_by_path(settings)
    assert table(settings, "articles").num_rows == 5  # the page and its gzip copy were two articles
    assert table(settings, "quotes").column("speaker").to_pylist().count("Ana Duarte") == 2
    os.remove(raw / "daily" / "school.txt")  # and one real deletion in the same run

    plan = plan_ingest(settings, Warehouse(settings.warehouse_dir))
    changed = {path for path in old_ids if old_ids[path] != new_ids[path]}
    assert changed == {"web/tram.html", "web/tram.html.gz", "daily/windows.txt"}  # UTF-8 .txt ids stay
    assert plan.rekeyed_article_ids == {old_ids[path]: new_ids[path] for path in changed}
    assert plan.removed_article_ids == {old_ids["daily/school.txt"]}

    summary = ingest_serially(settings)
    assert summary.articles_rekeyed == 3 and summary.articles_removed == 1
    assert summary.articles_new == 0  # the rows made from the same bytes are kept, under the new ids
    assert set(table(settings, "articles").column("run_id").to_pylist()) == {first_run}
    assert ids_by_path(settings) == {path: new_ids[path] for path in new_ids if path != "daily/school.txt"}
    for name, rows in expected.items():
        kept = pc.invert(pc.equal(rows.column("article_id"), new_ids["daily/school.txt"]))
        key = rows.schema.names[0]
        assert without_run_columns(table(settings, name)).sort_by(key).equals(rows.filter(kept)), name
    assert check_warehouse(settings) == []  # unique keys, offsets, every ledger rule
    assert ingest_serially(settings).published is False  # re-keyed once


def test_a_navigation_page_is_rejected_but_a_one_line_text_file_is_an_article(settings, raw):
    (raw / "web").mkdir()
    (raw / "web" / "index.html").write_text("<html><head><title>Harbour Gazette</title></head>"
                                            "<body><main><p>Menu Search</p></main></body></html>")
    (raw / "daily" / "brief.txt").write_text("Harbour road closed\n")  # its producer's brief, kept
    ingest_serially(settings)
    rejects = dict(zip(table(settings, "rejects").column("source_path").to_pylist(),
                       table(settings, "rejects").column("reason").to_pylist()))
    assert rejects["web/index.html"] == "no_article_body"
    assert "daily/brief.txt" in ids_by_path(settings)


def test_an_unchanged_page_that_now_reads_differently_is_analysed_again(settings, raw, monkeypatch):
    from quotewire.read import sources

    (raw / "web").mkdir()
    (raw / "web" / "tram.html").write_text(QUOTED_PAGE)
    ingest_serially(settings)
    before = ids_by_path(settings)["web/tram.html"]
    extract = sources.html_to_article_text
    monkeypatch.setattr(sources, "html_to_article_text",  # as a new extraction rule would
                        lambda html, path: extract(html, path) + "\nWork starts in May.\n")
    plan = plan_ingest(settings, Warehouse(settings.warehouse_dir))
    assert before in plan.rekeyed_article_ids and not plan.removed_article_ids  # not a removal
    assert plan.renamed_article_ids == {}  # but its rows are not the new text's
    assert ingest_serially(settings).articles_new == 1
    texts = table(settings, "articles").column("text").to_pylist()
    assert sum("Work starts in May." in text for text in texts) == 1


def test_a_page_gzip_compressed_in_place_is_not_analysed_again(settings, raw):
    import gzip

    from quotewire.models.check import check_warehouse

    (raw / "web").mkdir()
    (raw / "web" / "tram.html").write_text(QUOTED_PAGE)
    ingest_serially(settings)
    before = ids_by_path(settings)["web/tram.html"]
    (raw / "web" / "tram.html.gz").write_bytes(gzip.compress(QUOTED_PAGE.encode()))
    os.remove(raw / "web" / "tram.html")
    plan = plan_ingest(settings, Warehouse(settings.warehouse_dir))
    assert plan.batches == [] and not plan.removed_article_ids
    summary = ingest_serially(settings)
    assert summary.articles_new == 0 and summary.articles_removed == 0
    assert ids_by_path(settings)["web/tram.html.gz"] == before
    paths = dict(zip(table(settings, "articles").column("article_id").to_pylist(),
                     table(settings, "articles").column("source_path").to_pylist()))
    assert paths[before] == "web/tram.html.gz"
    assert check_warehouse(settings) == []


def test_a_file_moved_to_another_outlet_folder_is_analysed_again_for_its_outlet(settings, raw):
    ingest_serially(settings)
    (raw / "weekly").mkdir()
    os.rename(raw / "daily" / "pool.txt", raw / "weekly" / "pool.txt")
    summary = ingest_serially(settings)
    assert summary.articles_new == 1 and summary.articles_removed == 0
    outlets = dict(zip(table(settings, "articles").column("source_path").to_pylist(),
                       table(settings, "articles").column("outlet").to_pylist()))
    assert outlets == {"daily/school.txt": "daily", "weekly/pool.txt": "weekly"}
