"""Prefect flows. Each flow body reads as its steps; the steps are plain functions of the stage
modules (publish/ingest.py, models/build.py, reports/), tested without Prefect, and show in the
Prefect UI as the task runs of tasks.py:

- ``pipeline``:     plan -> deletion guard -> analyse-batch (one per batch) -> publish ->
                    build-models -> report, then the run's artifacts; report.html is left as it
                    is when nothing changed since it was written
- ``ingest``:       the same up to publish
- ``build_models``: Parquet -> warehouse/quotewire.duckdb + marts/*.parquet

A flow run takes the warehouse lock itself, once, and holds it to its end; one that finds it
taken ends Skipped. Its settings are its parameters over the environment (Settings.from_args),
so a deployment's runs can set the model, the batch size and the workers too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from prefect import flow, unmapped
from prefect.artifacts import create_link_artifact, create_markdown_artifact
from prefect.futures import as_completed
from prefect.states import Completed, Failed, State
from prefect.task_runners import TaskRunner
from prefect.utilities.annotations import opaque

from quotewire.publish.guard import PathProblem, RunRefused, check_paths
from quotewire.publish.ingest import BatchResult, IngestPlan, IngestSummary, refuse_or_continue, unchanged_summary
from quotewire.publish.store import Staging, Warehouse, WarehouseBusy
from quotewire.reports.html_report import ReportData, report_summary_markdown
from quotewire.reports.run_report import run_report_markdown
from quotewire.runtime.progress import Progress
from quotewire.runtime.runners import make_task_runner, release_workers, size_workers_for_run
from quotewire.settings import Settings
from quotewire.tasks import BatchArticles, analyse_batch_task, build_models_task, plan_task, publish_task, report_task


REFUSED = "Refused"  # the name of a refused run's Failed state
SKIPPED = "Skipped"  # the name of the Completed state of a run that found the warehouse locked
NOT_BUILT = {"skipped": "no new snapshot since the last build", "seconds": 0.0}


def skipped(busy: WarehouseBusy) -> State:
    """A scheduled run that finds another run at work ends as skipped, with the reason: the
    next one catches up, so this is no failure."""
    return Completed(name=SKIPPED, message=f"{SKIPPED.lower()}: {busy}")


def refused(error: Exception) -> State:
    """A refused run (guard.py) fails with the one-line reason as its state message, and a
    run report artifact that says why nothing was published. A state rather than a raise: the
    reason is the whole story, a traceback in the logs would only bury it."""
    create_markdown_artifact(f"# quotewire run refused\n\n{error}\n\nThe published warehouse was left as it was.\n",
                             key="quotewire-run-report", description="Why this run changed nothing")
    return Failed(name=REFUSED, message=str(error))


def default_task_runner(workers: int = 0) -> TaskRunner:
    """Local worker processes (also for runs of a served deployment): by default as many as
    each run's ``workers`` setting asks (every core unless set); one worker runs in threads to
    skip process start-up. (runners.make_task_runner also builds Dask runners.)"""
    return make_task_runner("process", workers)


@contextlib.contextmanager
def locked_warehouse(settings: Settings) -> Iterator[Warehouse]:
    """The run's warehouse, its lock held until the run's steps are done (WarehouseBusy if
    another run holds it)."""
    check_paths(None, settings.warehouse_dir)
    warehouse = Warehouse(settings.warehouse_dir)
    with warehouse.lock():
        yield warehouse


def analyse_batches(plan: IngestPlan, staging: Staging, settings: Settings, show_progress: bool) -> list[BatchResult]:
    """One analyse-batch task per batch of the plan, on the flow run's task runner; the
    results in batch order."""
    size_workers_for_run(settings.workers, settings.spacy_model)
    futures = analyse_batch_task.map(
        [BatchArticles(batch) for batch in plan.batches], unmapped(staging), unmapped(settings.spacy_model),
        unmapped(settings.max_file_bytes), unmapped(plan.started_at),
    )
    batch_sizes = {future.task_run_id: len(batch) for future, batch in zip(futures, plan.batches)}
    results_by_run = {}
    with Progress("analysing files", quiet=not show_progress) as progress:
        progress.start(sum(batch_sizes.values()))
        # As they complete, so progress moves with the fastest worker; results keep batch order.
        for future in as_completed(futures):
            results_by_run[future.task_run_id] = future.result()
            progress.advance(batch_sizes[future.task_run_id])
    release_workers()  # their memory, while the run publishes and builds
    return [results_by_run[future.task_run_id] for future in futures]


def publish(plan: IngestPlan, warehouse: Warehouse, staging: Staging, results: list[BatchResult]) -> IngestSummary:
    return publish_task(opaque(plan), warehouse, staging, [opaque(result) for result in results])


def models_are_current(settings: Settings) -> bool:
    """The database was built after the published snapshot and after every SQL model changed
    (a failed build leaves it older than the snapshot, so the next run builds again)."""
    link = Warehouse(settings.warehouse_dir).parquet_link
    try:
        built_at = settings.database_path.stat().st_mtime_ns
        inputs = [link.lstat().st_mtime_ns] + [p.stat().st_mtime_ns for p in settings.sql_dir.rglob("*.sql")]
    except FileNotFoundError:
        return False
    return built_at > max(inputs)


def report_path(settings: Settings) -> Path:
    return settings.warehouse_dir / "report.html"


def create_run_artifacts(ingested: dict, built: dict, report: ReportData | None, settings: Settings) -> None:
    create_markdown_artifact(
        run_report_markdown(ingested, built, settings.database_path),
        key="quotewire-run-report", description="Row counts, rejected files and top speakers of this run",
    )
    page = report_path(settings).resolve()
    create_markdown_artifact(
        report_summary_markdown(report, page),
        key="quotewire-html-report", description="Where this run's HTML report is, and its top speakers",
    )
    create_link_artifact(page.as_uri(), link_text="quotewire HTML report", key="quotewire-html-report-link")


def ingest_steps(settings: Settings, warehouse: Warehouse, show_progress: bool) -> IngestSummary:
    """Plan, the deletion guard, the batches and publish: the steps ``pipeline`` and ``ingest``
    share, under the lock the calling flow run holds."""
    check_paths(settings.raw_dir, None)  # an unmounted share must not read as "all deleted"
    plan = plan_task(settings, warehouse)
    refuse_or_continue(plan, settings)
    if not plan.has_changes:
        return unchanged_summary(plan)
    staging = warehouse.begin(plan.run_id)
    results = analyse_batches(plan, staging, settings, show_progress)
    return publish(plan, warehouse, staging, results)


@flow(name="pipeline", log_prints=True, task_runner=default_task_runner())
def pipeline(raw_dir: str | None = None, warehouse_dir: str | None = None, show_progress: bool = True,
             allow_deletions: bool = False, max_delete_share: float | None = None, spacy_model: str | None = None,
             batch_size: int | None = None, workers: int | None = None) -> dict | State:
    """Raw files -> Parquet snapshot -> DuckDB models and marts -> HTML report, as steps of
    this one flow run (a subflow run would add API round trips to the run's serial part).

    Args:
        raw_dir: the raw landing folder (default QUOTEWIRE_RAW, else raw/)
        warehouse_dir: the warehouse folder (default QUOTEWIRE_WAREHOUSE, else warehouse/)
        show_progress: print a progress bar while the batches run
        allow_deletions: publish even a plan that removes most or all articles
        max_delete_share: the share of published articles a run may remove (default QUOTEWIRE_MAX_DELETE_SHARE, else 0.2)
        spacy_model: the spaCy model (default QUOTEWIRE_SPACY_MODEL)
        batch_size: most articles per analyse-batch task (default QUOTEWIRE_BATCH_SIZE, else 1000)
        workers: worker processes (default QUOTEWIRE_WORKERS, else 0: every core)
    """
    settings = Settings.from_args(raw_dir=raw_dir, warehouse_dir=warehouse_dir, allow_deletions=allow_deletions,
                                  max_delete_share=max_delete_share, spacy_model=spacy_model,
                                  batch_size=batch_size, workers=workers)
    try:
        with locked_warehouse(settings) as warehouse:
            ingested = ingest_steps(settings, warehouse, show_progress)
            if ingested.published or not models_are_current(settings):
                built = build_models_task(settings)
            else:  # nothing changed: the database already holds exactly this snapshot
                built = NOT_BUILT
            report = report_task(settings.database_path, report_path(settings))
    except WarehouseBusy as busy:
        return skipped(busy)
    except (RunRefused, PathProblem) as error:
        return refused(error)
    result = {"ingest": ingested.as_dict(), "models": built}
    create_run_artifacts(result["ingest"], built, report, settings)
    return result


@flow(name="ingest", log_prints=True, task_runner=default_task_runner())
def ingest(raw_dir: str | None = None, warehouse_dir: str | None = None, show_progress: bool = True,
           allow_deletions: bool = False, max_delete_share: float | None = None, spacy_model: str | None = None,
           batch_size: int | None = None, workers: int | None = None) -> dict | State:
    """Raw files -> Parquet snapshot: the pipeline's steps up to publish.

    Args:
        raw_dir: the raw landing folder (default QUOTEWIRE_RAW, else raw/)
        warehouse_dir: the warehouse folder (default QUOTEWIRE_WAREHOUSE, else warehouse/)
        show_progress: print a progress bar while the batches run
        allow_deletions: publish even a plan that removes most or all articles
        max_delete_share: the share of published articles a run may remove (default QUOTEWIRE_MAX_DELETE_SHARE, else 0.2)
        spacy_model: the spaCy model (default QUOTEWIRE_SPACY_MODEL)
        batch_size: most articles per analyse-batch task (default QUOTEWIRE_BATCH_SIZE, else 1000)
        workers: worker processes (default QUOTEWIRE_WORKERS, else 0: every core)
    """
    settings = Settings.from_args(raw_dir=raw_dir, warehouse_dir=warehouse_dir, allow_deletions=allow_deletions,
                                  max_delete_share=max_delete_share, spacy_model=spacy_model,
                                  batch_size=batch_size, workers=workers)
    try:
        with locked_warehouse(settings) as warehouse:
            return ingest_steps(settings, warehouse, show_progress).as_dict()
    except WarehouseBusy as busy:
        return skipped(busy)
    except (RunRefused, PathProblem) as error:
        return refused(error)


@flow(name="build_models", log_prints=True)
def build_models(warehouse_dir: str | None = None) -> dict:
    settings = Settings.from_args(warehouse_dir=warehouse_dir)
    with locked_warehouse(settings):
        return build_models_task(settings)
