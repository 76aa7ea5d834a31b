"""The bench's own machinery, batch planning, incremental parsing and the models-are-current
rule. No Prefect, no corpus: fixtures only (timings belong to `quotewire bench`, not here)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from functools import partial
from types import SimpleNamespace

import pytest

from quotewire.analyse import article as analyse
from quotewire.measure.bench import TreeMemory, _split_by_chars, corpus_files, median_repetition, ner_floor, stage_raw
from quotewire.read.discover import discover
from quotewire.publish.ingest import MIN_BATCH_ARTICLES, ingest_serially, plan_batches
from quotewire.settings import Settings

BODY = '"The bridge opens in May," said Joan Pike, the city engineer.\n'


def test_corpus_files_are_sorted_recursive_articles_and_limit_spans_corpora(tmp_path):
    first, second = tmp_path / "bbc", tmp_path / "reuters"
    for path in ["tech/002.txt", "business/010.txt", "business/002.txt", "README.TXT", ".hidden/x.txt", "notes.pdf"]:
        (first / path).parent.mkdir(parents=True, exist_ok=True)
        (first / path).write_text("x")
    (second / "00001.txt").parent.mkdir(parents=True)
    (second / "00001.txt").write_text("y")

    chosen = [relative for _, relative in corpus_files([first, second], None)]
    assert chosen == ["bbc/business/002.txt", "bbc/business/010.txt", "bbc/tech/002.txt", "reuters/00001.txt"]
    assert [r for _, r in corpus_files([first, second], 2)] == chosen[:2]


def test_staged_raw_dir_is_hard_links_discovery_accepts(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "a").mkdir(parents=True)
    (corpus / "a" / "one.txt").write_text("Headline\n\n" + BODY)
    raw = tmp_path / "raw"
    stage_raw(corpus_files([corpus], None), raw)
    staged = raw / "corpus" / "a" / "one.txt"
    assert not staged.is_symlink() and staged.stat().st_ino == (corpus / "a" / "one.txt").stat().st_ino
    found = list(discover(raw, 1 << 20))
    assert [f.source_path for f in found] == ["corpus/a/one.txt"]
    assert not hasattr(found[0], "reason")  # a SourceFile, not a Rejection


@pytest.mark.parametrize("ratios, middle", [([0.9], 0), ([0.95, 0.85, 0.9], 2), ([0.8, 0.9], 0), ([1.0, 0.7, 0.9, 0.8], 3)])
def test_the_median_repetition_is_the_middle_ratio_or_the_lower_middle_one(ratios, middle):
    assert median_repetition(ratios) == middle


def test_floor_shares_are_contiguous_and_about_equal_in_characters():
    texts = ["a" * n for n in [50, 10, 10, 30, 20, 40, 40]]
    shares = _split_by_chars(texts, 2)
    assert [t for share in shares for t in share] == texts
    sizes = [sum(map(len, share)) for share in shares]
    assert len(shares) == 2 and abs(sizes[0] - sizes[1]) <= 50
    assert _split_by_chars(["x"], 4) == [["x"]]


def test_ner_floor_counts_every_paragraph_once_whatever_the_processes():
    texts = [f"Maria Lopez met the mayor of Madrid on day {day}." for day in range(70)]
    alone = ner_floor(partial(list, texts), Settings().spacy_model, 1)
    shared = ner_floor(partial(list, texts), Settings().spacy_model, 2)  # 64 pieces between two processes
    assert alone["paragraphs"] == shared["paragraphs"] == 70
    assert alone["entities"] == shared["entities"] >= 70


def test_tree_memory_counts_child_processes():
    with TreeMemory(interval=0.05) as alone:
        time.sleep(0.2)
    child = subprocess.Popen([sys.executable, "-c", "b = bytearray(200 * 2**20); b[::4096] = b'x' * len(b[::4096]); "
                              "import time; time.sleep(3)"])
    try:
        time.sleep(1.5)
        with TreeMemory(interval=0.05) as with_child:
            time.sleep(0.3)
    finally:
        child.kill()
        child.wait()
    assert with_child.peak_rss_kb - alone.peak_rss_kb > 150 * 1024
    assert any(pid == child.pid for pid, _, _ in with_child.at_peak)


def test_tree_memory_counts_the_cpu_time_children_spend_while_sampled():
    busy = subprocess.Popen([sys.executable, "-c", "import time\nend = time.process_time() + 1.0\n"
                             "while time.process_time() < end: pass\ntime.sleep(5)"])
    idle = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"])
    try:
        with TreeMemory(interval=0.05) as memory:
            time.sleep(1.8)
    finally:
        for child in (busy, idle):
            child.kill()
            child.wait()
    spent = memory.cpu_seconds_by_role()
    # Both children count as "other" processes: only the busy one's second of CPU shows.
    assert 0.5 < spent["other"] < 1.6
    assert spent["flow process"] < 0.5


def articles(n):
    return [SimpleNamespace(article_id=f"a{i:04d}") for i in range(n)]


@pytest.mark.parametrize("n, max_articles, workers", [(2000, 200, 2), (20000, 1000, 2), (450, 200, 4), (7, 200, 2),
                                                       (30, 1, 2)])
def test_batches_cover_every_article_in_order_and_shrink_towards_the_end(n, max_articles, workers):
    items = articles(n)
    sizes = {a.article_id: 1000 + (i * 7919) % 4000 for i, a in enumerate(items)}
    batches = plan_batches(items, sizes, max_articles, workers)
    assert [a for batch in batches for a in batch] == items
    assert all(1 <= len(batch) <= max_articles for batch in batches)
    if n >= 2000:
        bytes_of = [sum(sizes[a.article_id] for a in batch) for batch in batches]
        # the tail is small, so the last round leaves no core idle for long
        assert max(bytes_of[-workers:]) < max(bytes_of) / 4
        assert len(batches) < n / 50  # and the head is big, so task overhead stays small
        assert min(map(len, batches[:-1])) >= min(max_articles, MIN_BATCH_ARTICLES)  # none all overhead but the rest


@pytest.fixture
def settings(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    for i in range(4):
        (raw / f"story{i}.txt").write_text(f"Story {i}\n\n{BODY}")
    return Settings().with_overrides(raw_dir=raw, warehouse_dir=tmp_path / "warehouse", batch_size=2)


@pytest.fixture
def parsed(monkeypatch):
    """The articles the analysis actually parses, in this process (ingest_serially)."""
    seen = []
    real = analyse.parse_article

    def spy(text):
        seen.append(text.splitlines()[0])
        return real(text)

    monkeypatch.setattr(analyse, "parse_article", spy)
    return seen


@pytest.mark.slow
def test_new_files_added_to_a_processed_raw_dir_are_the_only_ones_parsed(settings, parsed):
    ingest_serially(settings)
    assert sorted(parsed) == [f"Story {i}" for i in range(4)]
    parsed.clear()

    assert ingest_serially(settings).published is False  # unchanged: nothing parsed, nothing published
    assert parsed == []

    for i in (4, 5):
        (settings.raw_dir / f"story{i}.txt").write_text(f"Story {i}\n\n{BODY}")
    summary = ingest_serially(settings)
    assert sorted(parsed) == ["Story 4", "Story 5"]
    assert summary.articles_new == 2 and summary.articles_unchanged == 4


def test_models_are_rebuilt_only_when_the_snapshot_or_the_sql_is_newer(tmp_path):
    from quotewire.flows import models_are_current

    sql = tmp_path / "sql"
    (sql / "marts").mkdir(parents=True)
    (sql / "marts" / "m.sql").write_text("select 1")
    settings = Settings().with_overrides(warehouse_dir=tmp_path / "warehouse", sql_dir=sql)
    settings.warehouse_dir.mkdir()
    assert not models_are_current(settings)  # nothing published, nothing built

    (settings.warehouse_dir / "snapshots" / "r1").mkdir(parents=True)
    os.symlink("snapshots/r1", settings.warehouse_dir / "parquet")
    assert not models_are_current(settings)  # published, never built

    def touch(path, at):
        os.utime(path, ns=(at, at), follow_symlinks=False)

    now = time.time_ns()
    settings.database_path.write_text("db")
    touch(settings.warehouse_dir / "parquet", now - 2_000_000_000)
    touch(sql / "marts" / "m.sql", now - 2_000_000_000)
    touch(settings.database_path, now - 1_000_000_000)
    assert models_are_current(settings)

    touch(settings.warehouse_dir / "parquet", now)  # a newer snapshot (or a build that failed after it)
    assert not models_are_current(settings)
    touch(settings.warehouse_dir / "parquet", now - 2_000_000_000)
    touch(sql / "marts" / "m.sql", now)  # an edited model
    assert not models_are_current(settings)


@pytest.mark.slow
def test_the_floor_before_the_run_gets_the_paragraphs_the_run_publishes(tmp_path):
    from quotewire.measure.bench import planned_paragraphs, published_paragraphs

    raw = tmp_path / "raw"
    (raw / "wire").mkdir(parents=True)
    (raw / "wire" / "a.txt").write_text(f"Bridge opens\n\n{BODY}\nTraffic will be light.\n\n\n")
    (raw / "wire" / "copy-of-a.txt").write_text(f"Bridge opens\n\n{BODY}\nTraffic will be light.\n\n\n")
    (raw / "wire" / "b.txt").write_text("Budget passes\n\nThe council voted 7-2.\n")
    (raw / "wire" / "empty.txt").write_text("")
    settings = Settings().with_overrides(raw_dir=raw, warehouse_dir=tmp_path / "warehouse")

    planned = planned_paragraphs(raw, settings.warehouse_dir)
    ingest_serially(settings)
    published = published_paragraphs(settings.warehouse_dir)
    assert sorted(planned) == sorted(published)
    assert len(published) == 5 and "Traffic will be light." in published  # duplicate once, blanks and empty file none
