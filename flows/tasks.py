"""The Prefect tasks of a run: the steps the Prefect UI shows. Each calls a plain function of
its stage; none takes the warehouse lock, which the flow run holds.

- ``plan`` (publish/ingest.py plan_ingest): what changed since the published snapshot;
- ``analyse-batch``, one per batch: it runs in a thread of the flow's process and hands the
  analysis to a worker process (runners.run_batch), or, on Dask, runs in the Dask worker it
  was sent to;
- ``publish`` (finish_ingest): the new snapshot, with its ledger and rejects, made the one
  readers see;
- ``build-models`` (models/build.py): the DuckDB views, data tests and marts;
- ``report`` (reports/html_report.py): warehouse/report.html.

Plan, publish, build-models and report run in the flow's own thread; the server learns of
their task runs through events, without an API round trip in the run's serial part.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from quotewire.models.build import build_models
from quotewire.publish import ingest
from quotewire.publish.store import Staging, Warehouse
from quotewire.reports.html_report import ReportData, report_is_current, write_report
from quotewire.runtime.runners import run_batch
from quotewire.settings import Settings


class BatchArticles:
    """A batch's articles, as a task parameter Prefect leaves alone. Prefect walks every list
    and dataclass a task is given, looking for futures to wait on: CPU taken from the cores
    the workers need."""

    __slots__ = ("articles",)

    def __init__(self, articles: list[ingest.ArticleToAnalyse]):
        self.articles = articles

    def __len__(self) -> int:
        return len(self.articles)

    def __repr__(self) -> str:  # how Prefect shows the parameter
        return f"BatchArticles({len(self.articles)} articles)"


# No cache: each step writes files, so a result must never be reused; a key would hash every parameter.
@task(name="plan", retries=0, cache_policy=NO_CACHE)
def plan_task(settings: Settings, warehouse: Warehouse) -> ingest.IngestPlan:
    return ingest.plan_ingest(settings, warehouse)


@task(name="analyse-batch", retries=0, cache_policy=NO_CACHE)
def analyse_batch_task(batch: BatchArticles, staging, spacy_model: str, max_file_bytes: int,
                       ingested_at) -> ingest.BatchResult:
    return run_batch(ingest.analyse_batch, batch.articles, staging, spacy_model, max_file_bytes, ingested_at)


# Plan and batch results come wrapped in ``opaque``: linked to their task runs, never walked.
@task(name="publish", retries=0, cache_policy=NO_CACHE)
def publish_task(plan: ingest.IngestPlan, warehouse: Warehouse, staging: Staging,
                 results: list[ingest.BatchResult]) -> ingest.IngestSummary:
    return ingest.finish_ingest(plan, warehouse, staging, results)


@task(name="build-models", retries=0, cache_policy=NO_CACHE)
def build_models_task(settings: Settings) -> dict:
    return build_models(settings.parquet_dir, settings.database_path, settings.marts_dir, settings.sql_dir).as_dict()


@task(name="report", retries=0, cache_policy=NO_CACHE)
def report_task(database_path: Path, report_path: Path) -> ReportData | None:
    """The HTML report, or None when the page already shows this database: a rebuilt
    database is newer than the page, so that only holds when nothing changed."""
    if report_is_current(report_path, database_path):
        return None  # same data, same page: loading it again took most of an unchanged run
    return write_report(database_path, report_path, datetime.now(timezone.utc))
