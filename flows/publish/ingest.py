"""Raw files -> a new Parquet snapshot, incrementally. Plain functions; flows.py wires them up
(as does ``ingest_serially``, without Prefect), under the warehouse lock the run holds.

Three steps, so the expensive middle one can run anywhere (threads, processes, Dask), and
between the first two the deletion guard (``refuse_or_continue``):

1. ``plan_ingest``  (main process) scans the raw root, hashes every file and compares with
   the published ledger (``article_sources``: path + content hash -> article). Unchanged
   files are kept as they are; new or edited content is put in batches to analyse.
2. ``analyse_batch`` (a worker) reads, decodes and analyses one batch, and writes its own
   part files into the staging snapshot. Part names come from the batch's article ids, so
   workers never collide.
3. ``finish_ingest`` (main process) carries the unchanged parts over, drops the rows of
   articles that are gone or edited, writes the ledger and rejects, and publishes.

Rules: the same normalised text under several paths is one article, whatever the paths'
encodings, compression or formats (id from the text, ``analyse.article_id_for``; a JSON
Lines dump's lines are documents `dump.jsonl#L<n>`), listed once per path in
``article_sources``; its ``source_path`` is the first path in sort order. A file whose bytes
or name change but whose text does not (re-encoded, renamed or gzip'd within its folder) is
the same article and is not analysed again. An edited file is a new article; the old version's rows go. A file that
disappears takes its article with it unless another path still holds the same text.
Articles published under the earlier rule (id from the raw bytes) are re-keyed once: their
rows are carried over under the new id when their primary file is unchanged
(``renamed_article_ids``), copies that were separate articles merge into one, and nothing
is counted as removed while its text is still there (``rekeyed_article_ids``).
"""

from __future__ import annotations

import logging
import os
import socket
import time
import traceback
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from quotewire.publish import guard
from quotewire.runtime import process
from quotewire.analyse.article import (  # spaCy: imported lazily
    WordsZones, analyse_documents, article_id_for, outlet_from_path)
from quotewire.read.discover import discover
from quotewire.read.document import DecodedDocument, Rejection
from quotewire.settings import Settings
from quotewire.read.sources import DocumentRef, read_documents, read_documents_again
from quotewire.runtime.stage_clock import StageClock
from quotewire.publish.store import PART_TABLES, Staging, Warehouse, part_name_for
from quotewire.publish.tables import ARTICLE_KEYED_COLUMNS, article_tables, to_table

log = logging.getLogger(__name__)


def new_run_id(now: datetime) -> str:
    return f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True, slots=True)
class ArticleToAnalyse:
    """One distinct content and the file it is read from (its other paths are in the plan)."""

    article_id: str
    content_sha256: str
    primary: DocumentRef  # first path in sort order; outlet and source_path come from it


@dataclass
class IngestPlan:
    run_id: str
    started_at: datetime
    kept_article_ids: set[str]
    current_paths: dict[str, tuple[DocumentRef, str, int]]  # source_path -> (ref, sha, size) of readable documents
    batches: list[list[ArticleToAnalyse]]
    rejects: list[Rejection]
    previous_sources: pa.Table
    previous_rejects: pa.Table
    dropped_article_ids: set[str]  # published articles whose rows go (removed, re-keyed, re-analysed)
    files_seen: int
    article_ids: dict[str, str] = field(default_factory=dict)  # source_path -> article id, of current_paths
    # previous article id -> the id its unchanged file has now (ids made by the earlier
    # raw-bytes rule, or an HTML extraction that now reads the same page differently)
    rekeyed_article_ids: dict[str, str] = field(default_factory=dict)
    # previous id -> new id of the articles whose rows are carried over under the new id
    renamed_article_ids: dict[str, str] = field(default_factory=dict)
    # kept article id -> (source_path, content_sha256, encoding) of its primary file, when that
    # file was re-encoded, renamed or gzip'd with the same text (and outlet folder)
    refreshed_articles: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    first_publish: bool = False
    plan_seconds: float = 0.0
    planned_at: float = field(default_factory=time.perf_counter)  # perf_counter() when the plan was done

    @property
    def removed_article_ids(self) -> set[str]:
        """Published articles whose text is no longer in the raw dir (file deleted, edited or now
        rejected): the removals a run makes. Unlike ``dropped_article_ids`` it leaves out
        articles analysed again under the same id and articles re-keyed to a new id."""
        return self.dropped_article_ids - set(self.article_ids.values()) - set(self.rekeyed_article_ids)

    @property
    def has_changes(self) -> bool:
        """Whether a new snapshot is needed at all; an unchanged raw dir publishes nothing."""
        previous_paths = dict(zip(
            self.previous_sources.column("source_path").to_pylist(),
            self.previous_sources.column("content_sha256").to_pylist(),
        ))
        current = {path: sha for path, (_, sha, _) in self.current_paths.items()}
        previous_rejects = set(zip(
            self.previous_rejects.column("source_path").to_pylist(),
            self.previous_rejects.column("reason").to_pylist(),
        ))
        current_rejects = {(r.source_path, r.reason) for r in self.rejects}
        # The first run publishes even an empty raw dir: the models need tables to read.
        return bool(self.first_publish or self.batches or self.dropped_article_ids or self.renamed_article_ids
                    or previous_paths != current
                    or previous_rejects != current_rejects)


@dataclass
class BatchResult:
    part_name: str | None
    article_ids: list[str]
    rejects: list[Rejection]
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)  # read, structure, ner, ... (StageClock)
    stage_counts: dict[str, int] = field(default_factory=dict)  # ner_pieces, ner_pieces_reused (StageClock)
    worker: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")  # who analysed it


@dataclass
class IngestSummary:
    run_id: str
    files_seen: int
    articles_new: int
    articles_unchanged: int
    articles_removed: int
    rejects_by_reason: dict[str, int]
    rows_added: dict[str, int]
    published: bool
    seconds: float
    stage_seconds: dict[str, float] = field(default_factory=dict)  # plan / analyse / finish
    batch_counts: dict[str, int] = field(default_factory=dict)  # the batches' StageClock counts, summed
    workers: list[str] = field(default_factory=list)  # host:pid of each process that analysed a batch
    articles_rekeyed: int = 0  # published articles whose text is still there under a new id

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def plan_ingest(settings: Settings, warehouse: Warehouse, now: datetime | None = None) -> IngestPlan:
    now = now or datetime.now(timezone.utc)
    started = time.perf_counter()
    previous_sources = warehouse.read_table("article_sources")
    previous_rejects = warehouse.read_table("rejects")
    previous_paths_of: dict[str, list[str]] = defaultdict(list)
    previous_ids = previous_sources.column("article_id").to_pylist()
    previous_paths = previous_sources.column("source_path").to_pylist()
    for path, article_id in zip(previous_paths, previous_ids):
        previous_paths_of[article_id].append(path)
    previous_sha = dict(zip(previous_paths, previous_sources.column("content_sha256").to_pylist()))
    previous_id_of = dict(zip(previous_paths, previous_ids))

    rejects: list[Rejection] = []
    current_paths: dict[str, tuple[DocumentRef, str, int]] = {}
    article_ids: dict[str, str] = {}
    encodings: dict[str, str] = {}
    files_seen = 0
    # read_documents below opens every file anyway: discover need not open each one first.
    for found in discover(settings.raw_dir, settings.max_file_bytes, check_readable=False):
        files_seen += 1
        if isinstance(found, Rejection):
            rejects.append(found)
            continue
        # Reading and decoding here finds empty, binary and undecodable files before any
        # worker is started; the text is dropped at once so the corpus is never held.
        for ref, read in read_documents(found, settings.max_file_bytes):
            if isinstance(read, Rejection):
                rejects.append(read)
            else:
                current_paths[ref.source_path] = (ref, read.content_sha256, read.size_bytes)
                article_ids[ref.source_path] = article_id_for(read.text)
                encodings[ref.source_path] = read.encoding
    unchanged = {path for path, (_, sha, _) in current_paths.items() if previous_sha.get(path) == sha}

    paths_of: dict[str, list[DocumentRef]] = defaultdict(list)
    for path, (ref, _, _) in current_paths.items():
        paths_of[article_ids[path]].append(ref)

    kept, to_analyse, refreshed, renamed = set(), [], {}, {}
    for article_id, sources in paths_of.items():
        sources.sort(key=lambda s: s.source_path)
        primary = sources[0].source_path
        # The primary path decides source_path and outlet (from its folder when the text names
        # none): the same text under a primary in the same folder has the same rows but these.
        previous = previous_paths_of.get(article_id)
        if previous and outlet_from_path(min(previous)) == outlet_from_path(primary):
            kept.add(article_id)
            if primary != min(previous) or primary not in unchanged:
                refreshed[article_id] = (primary, current_paths[primary][1], encodings[primary])
        elif _made_by_raw_bytes_rule(previous_id_of.get(primary), primary, previous_sha, previous_paths_of,
                                     unchanged, paths_of):
            # Its rows were made from these very bytes, under this primary path: only the id is new.
            renamed[previous_id_of[primary]] = article_id
            kept.add(article_id)
        else:
            to_analyse.append(ArticleToAnalyse(article_id, current_paths[primary][1], sources[0]))

    # A path whose bytes are as the ledger has them holds the text its article was made from:
    # listed under another id now, that article is re-keyed, not removed.
    rekeyed = {}
    for path, previous_id in zip(previous_paths, previous_ids):
        current_id = article_ids.get(path)
        if current_id not in (None, previous_id) and path in unchanged and previous_id not in paths_of:
            rekeyed.setdefault(previous_id, current_id)

    to_analyse.sort(key=lambda a: a.primary.source_path)
    sizes = {a.article_id: current_paths[a.primary.source_path][2] for a in to_analyse}
    batches = plan_batches(to_analyse, sizes, settings.batch_size, settings.workers or os.cpu_count() or 1)
    return IngestPlan(
        run_id=new_run_id(now), started_at=now, kept_article_ids=kept, current_paths=current_paths,
        batches=batches, rejects=rejects, previous_sources=previous_sources,
        previous_rejects=previous_rejects,
        dropped_article_ids=set(previous_paths_of) - kept - set(renamed), files_seen=files_seen,
        article_ids=article_ids, rekeyed_article_ids=rekeyed, renamed_article_ids=renamed,
        refreshed_articles=refreshed,
        first_publish=warehouse.current_snapshot() is None,
        plan_seconds=time.perf_counter() - started,
    )


def _made_by_raw_bytes_rule(previous_id: str | None, primary: str, previous_sha: dict[str, str],
                            previous_paths_of: dict[str, list[str]], unchanged: set[str],
                            current_ids: dict[str, list[DocumentRef]]) -> bool:
    """Whether the published article ``previous_id`` was made from the primary path's present
    bytes, with that path as its primary too, under the earlier rule (id = the first 16 hex
    digits of the raw bytes' sha256): then its rows are this article's, under another id."""
    return (previous_id is not None and primary in unchanged and previous_id not in current_ids
            and previous_id == previous_sha[primary][:16] and min(previous_paths_of[previous_id]) == primary)


# A task costs Prefect about 0.1 s of a worker's time (context, client, state changes): a
# batch smaller than this would spend more on that than the tail it shortens.
MIN_BATCH_ARTICLES = 20


def plan_batches(articles: list[ArticleToAnalyse], size_of: dict[str, int], max_articles: int,
                 workers: int) -> list[list[ArticleToAnalyse]]:
    """Consecutive batches of at most ``max_articles``, shrinking towards the end (guided
    scheduling): each takes about 1/(2 x workers) of the bytes still to come, so the last
    round is small and no worker idles long while another finishes a big batch. Which
    articles share a batch changes no row; it only names the part files."""
    max_articles = max(1, max_articles)
    floor = min(max_articles, MIN_BATCH_ARTICLES)
    remaining = sum(size_of[a.article_id] for a in articles)
    batches, i = [], 0
    while i < len(articles):
        target = remaining / (2 * max(1, workers))
        batch, taken = [], 0
        while i < len(articles) and len(batch) < max_articles and (len(batch) < floor or taken < target):
            batch.append(articles[i])
            taken += size_of[articles[i].article_id]
            i += 1
        remaining -= taken
        batches.append(batch)
    return batches


def _read_batch(batch: list[ArticleToAnalyse], max_file_bytes: int) -> tuple[list[DecodedDocument], list[Rejection]]:
    documents, rejects = [], []
    for article, read in zip(batch, read_documents_again([a.primary for a in batch], max_file_bytes)):
        if isinstance(read, Rejection):
            rejects.append(read)
        elif read.content_sha256 != article.content_sha256:
            rejects.append(Rejection(article.primary.source_path, "changed_while_reading",
                                     "the file changed between scanning and reading; the next run picks it up"))
        else:
            documents.append(read)
    return documents, rejects


# Articles analysed and made into Arrow rows at a time within a batch: their Python objects
# take several times the memory of the Arrow rows.
TABULATE_CHUNK_ARTICLES = 100


def _tabulate(nlp, documents: list[DecodedDocument], run_id: str, ingested_at: datetime,
              clock: StageClock, words_zones: WordsZones | None = None) -> tuple[list[str], dict[str, pa.Table]]:
    article_ids, chunks = [], []
    for start in range(0, len(documents), TABULATE_CHUNK_ARTICLES):
        analysed = analyse_documents(nlp, documents[start:start + TABULATE_CHUNK_ARTICLES], clock, words_zones)
        with clock("tables"):
            article_ids += [a.article_id for a in analysed]
            chunks.append(article_tables(analysed, run_id, ingested_at))
        del analysed
    with clock("tables"):
        return article_ids, _concatenated(chunks)


def _concatenated(parts: list[dict[str, pa.Table]]) -> dict[str, pa.Table]:
    """The part tables of several groups of articles as one (no copy: Arrow chains the chunks)."""
    return {name: pa.concat_tables([part[name] for part in parts]) for name in PART_TABLES}


def _tabulate_isolating_failures(nlp, documents: list[DecodedDocument], run_id: str, ingested_at: datetime,
                                 clock: StageClock, words_zones: WordsZones | None = None
                                 ) -> tuple[list[str], dict[str, pa.Table] | None, list[Rejection]]:
    """Analyse and tabulate the batch in one go; should that fail, article by article, so one
    bad article is rejected with the error instead of taking its batch (and the run) down."""
    if not documents:
        return [], None, []
    try:
        article_ids, tables = _tabulate(nlp, documents, run_id, ingested_at, clock, words_zones)
        return article_ids, tables, []
    except Exception:
        log.exception("batch analysis failed; retrying article by article")
    article_ids, parts, rejects = [], [], []
    for document in documents:
        try:
            ids, tables = _tabulate(nlp, [document], run_id, ingested_at, clock, words_zones)
        except Exception as error:
            rejects.append(Rejection(document.source_path, "analysis_error",
                                     f"{type(error).__name__}: {error} "
                                     f"({traceback.format_exc(limit=1).splitlines()[-1]})",
                                     document.content_sha256))
            continue
        article_ids += ids
        parts.append(tables)
    if not parts:
        return [], None, rejects
    return article_ids, _concatenated(parts), rejects


def analyse_batch(batch: list[ArticleToAnalyse], staging: Staging, spacy_model: str,
                  max_file_bytes: int, ingested_at: datetime, words_zones: WordsZones | None = None) -> BatchResult:
    """Worker side: read, analyse and write one batch's part files into the staging snapshot;
    when spaCy frees the words it learns is the runtime's ``words_zones`` (analyse.WordsZones)."""
    from quotewire.analyse.entities import load_nlp  # spaCy is imported by workers only

    started, clock = time.perf_counter(), StageClock()
    with clock("read"):
        documents, rejects = _read_batch(batch, max_file_bytes)
    article_ids, tables, analysis_rejects = _tabulate_isolating_failures(
        load_nlp(spacy_model) if documents else None, documents, staging.run_id, ingested_at, clock, words_zones)
    rejects += analysis_rejects
    if tables is None:
        return BatchResult(None, [], rejects, {}, time.perf_counter() - started, clock.as_dict(),
                           dict(clock.counts))
    part_name = part_name_for(article_ids)
    with clock("write"):
        staging.write_part(tables, part_name)
    rows = {name: tables[name].num_rows for name in PART_TABLES}
    del tables, documents
    return BatchResult(part_name, article_ids, rejects, rows, time.perf_counter() - started, clock.as_dict(),
                       dict(clock.counts))


def _carry_over_parts(warehouse: Warehouse, staging: Staging, dropped: set[str],
                      refreshed: dict[str, tuple[str, str, str]], renamed: dict[str, str]) -> None:
    """Unchanged parts are linked into the new snapshot; parts holding a dropped article
    are rewritten without it (under a new name, since their content changed), parts holding
    a refreshed one (same text, file re-encoded or renamed) with its file's path, hash and encoding, and
    parts holding a renamed one with its rows under the new id."""
    snapshot = warehouse.current_snapshot()
    for part_name, article_ids in warehouse.part_articles().items():
        gone = dropped.intersection(article_ids)
        if not gone and refreshed.keys().isdisjoint(article_ids) and renamed.keys().isdisjoint(article_ids):
            staging.carry_over(part_name)
            continue
        remaining = [a for a in article_ids if a not in gone]
        if not remaining:
            continue
        new_name = part_name_for([renamed.get(a, a) for a in remaining])
        keep = pa.array(remaining)
        tables = {}
        for name in PART_TABLES:
            table = pq.read_table(snapshot / name / part_name)
            tables[name] = _renamed(table.filter(pc.is_in(table.column("article_id"), value_set=keep)), renamed)
        tables["articles"] = _refreshed(tables["articles"], refreshed)
        staging.write_part(tables, new_name)


def _renamed(table: pa.Table, renamed: dict[str, str]) -> pa.Table:
    """``table`` with the renamed articles' ids (and the row ids made from them) changed."""
    if not renamed:
        return table
    old_ids = table.column("article_id").to_pylist()
    for column in ARTICLE_KEYED_COLUMNS:
        if column not in table.column_names:
            continue
        values = [renamed[old] + value[len(old):] if old in renamed else value
                  for old, value in zip(old_ids, table.column(column).to_pylist())]
        index = table.schema.get_field_index(column)
        table = table.set_column(index, table.schema.field(column), pa.array(values, pa.string()))
    return table


def _refreshed(articles: pa.Table, refreshed: dict[str, tuple[str, str, str]]) -> pa.Table:
    """``articles`` with source_path, content_sha256 and encoding of the refreshed articles replaced."""
    ids = articles.column("article_id").to_pylist()
    for position, column in enumerate(("source_path", "content_sha256", "encoding")):
        values = [refreshed[a][position] if a in refreshed else v
                  for a, v in zip(ids, articles.column(column).to_pylist())]
        index = articles.schema.get_field_index(column)
        articles = articles.set_column(index, articles.schema.field(column), pa.array(values, pa.string()))
    return articles


def _first_seen(previous: pa.Table, key_columns: tuple[str, str]) -> dict[tuple, datetime]:
    keys = zip(*(previous.column(c).to_pylist() for c in key_columns))
    return dict(zip(keys, previous.column("first_seen").to_pylist()))


def finish_ingest(plan: IngestPlan, warehouse: Warehouse, staging: Staging,
                  results: list[BatchResult]) -> IngestSummary:
    finish_started = time.perf_counter()
    analysed_ids = {article_id for result in results for article_id in result.article_ids}
    batch_rejects = [reject for result in results for reject in result.rejects]
    batch_rejected_paths = {r.source_path for r in batch_rejects}
    rejected_ids = {plan.article_ids[path] for path in plan.current_paths if path in batch_rejected_paths}

    _carry_over_parts(warehouse, staging, plan.dropped_article_ids, plan.refreshed_articles,
                      plan.renamed_article_ids)

    # An article rejected by its worker takes every path that holds the same text with it.
    all_rejects = list(plan.rejects) + batch_rejects
    rejected_paths = {r.source_path for r in all_rejects}
    for path, (_, sha, _) in sorted(plan.current_paths.items()):
        if plan.article_ids[path] in rejected_ids and path not in rejected_paths:
            all_rejects.append(Rejection(path, "duplicate_of_rejected", "same text as a rejected file", sha))

    seen_sources = _first_seen(plan.previous_sources, ("source_path", "content_sha256"))
    published_ids = plan.kept_article_ids | analysed_ids
    source_rows = []
    for path, (_, sha, size) in sorted(plan.current_paths.items()):
        article_id = plan.article_ids[path]
        if article_id in published_ids:
            source_rows.append({
                "source_path": path, "article_id": article_id, "content_sha256": sha,
                "size_bytes": size, "first_seen": seen_sources.get((path, sha), plan.started_at),
                "run_id": plan.run_id,
            })
    staging.write_whole("article_sources", to_table("article_sources", source_rows))

    seen_rejects = _first_seen(plan.previous_rejects, ("source_path", "reason"))
    reject_rows = [{
        "source_path": r.source_path, "reason": r.reason, "detail": r.detail,
        "content_sha256": r.content_sha256,
        "first_seen": seen_rejects.get((r.source_path, r.reason), plan.started_at), "run_id": plan.run_id,
    } for r in sorted(all_rejects, key=lambda r: r.source_path)]
    staging.write_whole("rejects", to_table("rejects", reject_rows))

    staging.publish()
    rows_added, batch_stages, batch_counts = Counter(), Counter(), Counter()
    for result in results:
        rows_added.update(result.rows)
        batch_stages.update(result.stage_seconds)
        batch_counts.update(result.stage_counts)
    return IngestSummary(
        run_id=plan.run_id, files_seen=plan.files_seen, articles_new=len(analysed_ids),
        articles_unchanged=len(plan.kept_article_ids),
        articles_removed=len(plan.dropped_article_ids - analysed_ids - set(plan.rekeyed_article_ids)),
        articles_rekeyed=len(plan.rekeyed_article_ids),
        rejects_by_reason=dict(Counter(r.reason for r in all_rejects)), rows_added=dict(rows_added),
        published=True, seconds=(datetime.now(timezone.utc) - plan.started_at).total_seconds(),
        stage_seconds={"plan": plan.plan_seconds, "analyse": finish_started - plan.planned_at,
                       "finish": time.perf_counter() - finish_started,
                       "batches_busy": sum(result.seconds for result in results),  # summed over workers
                       **{f"batch_{stage}": seconds for stage, seconds in batch_stages.items()}},
        batch_counts=dict(batch_counts),
        workers=sorted({result.worker for result in results}),
    )


def unchanged_summary(plan: IngestPlan) -> IngestSummary:
    return IngestSummary(
        run_id=plan.run_id, files_seen=plan.files_seen, articles_new=0,
        articles_unchanged=len(plan.kept_article_ids), articles_removed=0,
        rejects_by_reason=dict(Counter(r.reason for r in plan.rejects)), rows_added={},
        published=False, seconds=(datetime.now(timezone.utc) - plan.started_at).total_seconds(),
        stage_seconds={"plan": plan.plan_seconds},
    )


def deletion_refusal(plan: IngestPlan, settings: Settings) -> str | None:
    """The guard's one-line refusal of this plan (too many published articles would go), or None."""
    removed, published = guard.articles_removed(
        zip(plan.previous_sources.column("source_path").to_pylist(),
            plan.previous_sources.column("article_id").to_pylist()),
        plan.current_paths.keys(), plan.removed_article_ids)
    return guard.deletion_refusal(removed, published, settings.max_delete_share, settings.allow_deletions,
                                  settings.raw_dir)


def refuse_or_continue(plan: IngestPlan, settings: Settings) -> None:
    """The deletion guard's decision on a plan: RunRefused with its one line, or go on."""
    refusal = deletion_refusal(plan, settings)
    if refusal:
        raise guard.RunRefused(refusal)


def ingest_serially(settings: Settings) -> IngestSummary:
    """The whole ingest in this process, without Prefect (for tests and debugging): the steps
    of the flows (flows.py) under the warehouse lock, each batch analysed in turn."""
    guard.check_paths(None, settings.warehouse_dir)
    warehouse = Warehouse(settings.warehouse_dir)
    with warehouse.lock():
        guard.check_paths(settings.raw_dir, None)  # an unmounted share must not read as "all deleted"
        plan = plan_ingest(settings, warehouse)
        refuse_or_continue(plan, settings)
        if not plan.has_changes:
            return unchanged_summary(plan)
        staging = warehouse.begin(plan.run_id)
        results = [process.run_batch(analyse_batch, batch, staging, settings.spacy_model, settings.max_file_bytes,
                                     plan.started_at)
                   for batch in plan.batches]
        return finish_ingest(plan, warehouse, staging, results)
