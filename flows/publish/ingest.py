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

Rules: identical bytes under several paths are one article (id from the content hash;
for a JSON Lines dump, each line is a document `dump.jsonl#L<n>` hashed by its article text),
listed once per path in ``article_sources``; its ``source_path`` is the first path in sort
order. An edited file is a new article; the old version's rows go. A file that disappears
takes its article with it unless another path still holds the same bytes.
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
from quotewire.runtime import heap
from quotewire.analyse.article import analyse_documents, article_id_for  # spaCy: imported lazily
from quotewire.read.discover import discover
from quotewire.read.document import DecodedDocument, Rejection
from quotewire.settings import Settings
from quotewire.read.sources import DocumentRef, read_documents, read_documents_again
from quotewire.runtime.stage_clock import StageClock
from quotewire.publish.store import PART_TABLES, Staging, Warehouse, part_name_for
from quotewire.publish.tables import article_tables, to_table

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
    dropped_article_ids: set[str]
    files_seen: int
    first_publish: bool = False
    plan_seconds: float = 0.0
    planned_at: float = field(default_factory=time.perf_counter)  # perf_counter() when the plan was done

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
        return bool(self.first_publish or self.batches or self.dropped_article_ids or previous_paths != current
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

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def plan_ingest(settings: Settings, warehouse: Warehouse, now: datetime | None = None) -> IngestPlan:
    now = now or datetime.now(timezone.utc)
    started = time.perf_counter()
    previous_sources = warehouse.read_table("article_sources")
    previous_rejects = warehouse.read_table("rejects")
    previous_paths_of: dict[str, list[str]] = defaultdict(list)
    for path, article_id in zip(previous_sources.column("source_path").to_pylist(),
                                previous_sources.column("article_id").to_pylist()):
        previous_paths_of[article_id].append(path)

    rejects: list[Rejection] = []
    current_paths: dict[str, tuple[DocumentRef, str, int]] = {}
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

    paths_by_sha: dict[str, list[DocumentRef]] = defaultdict(list)
    for ref, sha, _ in current_paths.values():
        paths_by_sha[sha].append(ref)

    kept, to_analyse = set(), []
    for sha, sources in paths_by_sha.items():
        sources.sort(key=lambda s: s.source_path)
        article_id = article_id_for(sha)
        previous_paths = sorted(previous_paths_of.get(article_id, []))
        # The primary path decides source_path and outlet, so a change of it means re-analysis.
        if previous_paths and previous_paths[0] == sources[0].source_path:
            kept.add(article_id)
        else:
            to_analyse.append(ArticleToAnalyse(article_id, sha, sources[0]))

    to_analyse.sort(key=lambda a: a.primary.source_path)
    sizes = {a.article_id: current_paths[a.primary.source_path][2] for a in to_analyse}
    batches = plan_batches(to_analyse, sizes, settings.batch_size, settings.workers or os.cpu_count() or 1)
    return IngestPlan(
        run_id=new_run_id(now), started_at=now, kept_article_ids=kept, current_paths=current_paths,
        batches=batches, rejects=rejects, previous_sources=previous_sources,
        previous_rejects=previous_rejects,
        dropped_article_ids=set(previous_paths_of) - kept, files_seen=files_seen,
        first_publish=warehouse.current_snapshot() is None,
        plan_seconds=time.perf_counter() - started,
    )


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


# Articles analysed and made into Arrow rows at a time within a batch. Their Python objects
# (structures, mentions, quotes, row dicts) take several times the memory of the Arrow rows.
# A worker-like loop over 1,000-article batches of the 20,000-article bench corpus peaked at
# 261-289 MB in one go, 253-268 MB in chunks of 250, 244-255 MB in chunks of 100 (resting at
# 243-252, 214-220 and 202-208 MB after a batch). NER still streams 100 articles' paragraphs
# (some 500) at a time, far more than one nlp.pipe batch.
TABULATE_CHUNK_ARTICLES = 100


def _tabulate(nlp, documents: list[DecodedDocument], run_id: str, ingested_at: datetime,
              clock: StageClock) -> tuple[list[str], dict[str, pa.Table]]:
    article_ids, chunks = [], []
    for start in range(0, len(documents), TABULATE_CHUNK_ARTICLES):
        analysed = analyse_documents(nlp, documents[start:start + TABULATE_CHUNK_ARTICLES], clock)
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
                                 clock: StageClock) -> tuple[list[str], dict[str, pa.Table] | None, list[Rejection]]:
    """Analyse and tabulate the batch in one go; should that fail, article by article, so one
    bad article is rejected with the error instead of taking its batch (and the run) down."""
    if not documents:
        return [], None, []
    try:
        article_ids, tables = _tabulate(nlp, documents, run_id, ingested_at, clock)
        return article_ids, tables, []
    except Exception:
        log.exception("batch analysis failed; retrying article by article")
    article_ids, parts, rejects = [], [], []
    for document in documents:
        try:
            ids, tables = _tabulate(nlp, [document], run_id, ingested_at, clock)
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
                  max_file_bytes: int, ingested_at: datetime) -> BatchResult:
    """Worker side: read, analyse and write one batch's part files into the staging snapshot."""
    from quotewire.analyse.entities import load_nlp  # spaCy is imported by workers only

    started, clock = time.perf_counter(), StageClock()
    _allocate_arrow_with_malloc()
    with clock("read"):
        documents, rejects = _read_batch(batch, max_file_bytes)
    article_ids, tables, analysis_rejects = _tabulate_isolating_failures(
        load_nlp(spacy_model) if documents else None, documents, staging.run_id, ingested_at, clock)
    rejects += analysis_rejects
    if tables is None:
        return BatchResult(None, [], rejects, {}, time.perf_counter() - started, clock.as_dict(),
                           dict(clock.counts))
    part_name = part_name_for(article_ids)
    with clock("write"):
        staging.write_part(tables, part_name)
    rows = {name: tables[name].num_rows for name in PART_TABLES}
    del tables, documents
    heap.return_freed_memory()  # a long-lived worker's RSS stays flat
    return BatchResult(part_name, article_ids, rejects, rows, time.perf_counter() - started, clock.as_dict(),
                       dict(clock.counts))


def _allocate_arrow_with_malloc() -> None:
    """Arrow's default allocator (jemalloc or mimalloc) keeps the pages a batch's tables
    freed; through malloc, heap.return_freed_memory hands them back too."""
    if pa.default_memory_pool().backend_name != "system":
        pa.set_memory_pool(pa.system_memory_pool())


def _carry_over_parts(warehouse: Warehouse, staging: Staging, dropped: set[str]) -> None:
    """Unchanged parts are linked into the new snapshot; parts holding a dropped article
    are rewritten without it (under a new name, since their content changed)."""
    snapshot = warehouse.current_snapshot()
    for part_name, article_ids in warehouse.part_articles().items():
        gone = dropped.intersection(article_ids)
        if not gone:
            staging.carry_over(part_name)
            continue
        remaining = [a for a in article_ids if a not in gone]
        if not remaining:
            continue
        new_name = part_name_for(remaining)
        keep = pa.array(remaining)
        tables = {}
        for name in PART_TABLES:
            table = pq.read_table(snapshot / name / part_name)
            tables[name] = table.filter(pc.is_in(table.column("article_id"), value_set=keep))
        staging.write_part(tables, new_name)


def _first_seen(previous: pa.Table, key_columns: tuple[str, str]) -> dict[tuple, datetime]:
    keys = zip(*(previous.column(c).to_pylist() for c in key_columns))
    return dict(zip(keys, previous.column("first_seen").to_pylist()))


def finish_ingest(plan: IngestPlan, warehouse: Warehouse, staging: Staging,
                  results: list[BatchResult]) -> IngestSummary:
    finish_started = time.perf_counter()
    analysed_ids = {article_id for result in results for article_id in result.article_ids}
    batch_rejects = [reject for result in results for reject in result.rejects]
    batch_rejected_paths = {r.source_path for r in batch_rejects}
    rejected_shas = {sha for path, (_, sha, _) in plan.current_paths.items() if path in batch_rejected_paths}

    _carry_over_parts(warehouse, staging, plan.dropped_article_ids)

    # An article rejected by its worker takes every path that holds the same bytes with it.
    all_rejects = list(plan.rejects) + batch_rejects
    rejected_paths = {r.source_path for r in all_rejects}
    for path, (_, sha, _) in sorted(plan.current_paths.items()):
        if sha in rejected_shas and path not in rejected_paths:
            all_rejects.append(Rejection(path, "duplicate_of_rejected", "same bytes as a rejected file", sha))

    seen_sources = _first_seen(plan.previous_sources, ("source_path", "content_sha256"))
    published_ids = plan.kept_article_ids | analysed_ids
    source_rows = []
    for path, (_, sha, size) in sorted(plan.current_paths.items()):
        article_id = article_id_for(sha)
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
        articles_removed=len(plan.dropped_article_ids - analysed_ids),
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
        plan.current_paths.keys())
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
        results = [analyse_batch(batch, staging, settings.spacy_model, settings.max_file_bytes, plan.started_at)
                   for batch in plan.batches]
        return finish_ingest(plan, warehouse, staging, results)
