"""Prefect flows. They only wire the stage modules together: all logic is in plain functions
(publish/ingest.py, models/build.py, reports/) that are tested without Prefect.

- ``ingest``:       raw files -> Parquet snapshot (one task per batch of articles)
- ``build_models``: Parquet -> warehouse/quotewire.duckdb + marts/*.parquet
- ``pipeline``:     both in one flow run, under one warehouse lock; writes warehouse/report.html
                    (left as it is when nothing changed since it was written),
                    then run report artifacts
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from prefect import flow, unmapped
from prefect.artifacts import create_link_artifact, create_markdown_artifact
from prefect.futures import as_completed
from prefect.states import Completed, Failed, State
from prefect.task_runners import TaskRunner

from quotewire.publish import ingest as ingest_steps
from quotewire.publish.guard import PathProblem, RunRefused, check_paths, parse_share
from quotewire.reports.html_report import report_is_current, report_summary_markdown, write_report
from quotewire.models.build import build_models as build_models_step
from quotewire.runtime.progress import Progress
from quotewire.reports.run_report import run_report_markdown
from quotewire.runtime.runners import make_task_runner, release_workers
from quotewire.settings import Settings
from quotewire.publish.store import Staging, Warehouse, WarehouseBusy
from quotewire.tasks import BatchArticles, analyse_batch_task


REFUSED = "Refused"  # the name of a refused run's Failed state


def _settings(raw_dir: str | None, warehouse_dir: str | None, allow_deletions: bool = False,
              max_delete_share: float | None = None) -> Settings:
    return Settings().with_overrides(
        raw_dir=Path(raw_dir) if raw_dir else None,
        warehouse_dir=Path(warehouse_dir) if warehouse_dir else None,
        allow_deletions=allow_deletions,
        max_delete_share=parse_share(max_delete_share) if max_delete_share is not None else None,
    )


def skipped(busy: WarehouseBusy) -> State:
    """A scheduled run that finds another run at work ends as skipped, with the reason: the
    next one catches up, so this is no failure."""
    return Completed(name="Skipped", message=f"skipped: {busy}")


def refused(error: Exception) -> State:
    """A refused run (guard.py) fails with the one-line reason as its state message, and a
    run report artifact that says why nothing was published. A state rather than a raise: the
    reason is the whole story, a traceback in the logs would only bury it."""
    create_markdown_artifact(f"# quotewire run refused\n\n{error}\n\nThe published warehouse was left as it was.\n",
                             key="quotewire-run-report", description="Why this run changed nothing")
    return Failed(name=REFUSED, message=str(error))


def default_task_runner(workers: int = 0) -> TaskRunner:
    """Every local core by default (also for runs of a served deployment); one worker runs
    in threads to skip process start-up. (runners.make_task_runner also builds Dask runners.)"""
    return make_task_runner("process", workers)


def _ingest(settings: Settings, show_progress: bool) -> dict:
    """Raw files -> Parquet snapshot: one task per batch, on the task runner of the flow run
    that calls it (ingest's own, or pipeline's)."""

    def analyse_batches_as_tasks(plan: ingest_steps.IngestPlan, staging: Staging) -> list:
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

    return ingest_steps.run_ingest(settings, analyse_batches_as_tasks).as_dict()


def _build_models(settings: Settings) -> dict:
    warehouse = Warehouse(settings.warehouse_dir)
    with warehouse.lock():
        result = build_models_step(warehouse.parquet_link, settings.database_path,
                                   settings.marts_dir, settings.sql_dir)
    return result.as_dict()


@flow(name="ingest", log_prints=True, task_runner=default_task_runner())
def ingest(raw_dir: str | None = None, warehouse_dir: str | None = None, show_progress: bool = True,
           allow_deletions: bool = False, max_delete_share: float | None = None) -> dict | State:
    """``allow_deletions``: publish even a plan that removes most or all articles;
    ``max_delete_share``: the share of published articles a run may remove (QUOTEWIRE_MAX_DELETE_SHARE)."""
    try:
        return _ingest(_settings(raw_dir, warehouse_dir, allow_deletions, max_delete_share), show_progress)
    except WarehouseBusy as busy:
        return skipped(busy)
    except (RunRefused, PathProblem) as error:
        return refused(error)


@flow(name="build_models", log_prints=True)
def build_models(warehouse_dir: str | None = None) -> dict:
    return _build_models(_settings(None, warehouse_dir))


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


@flow(name="pipeline", log_prints=True, task_runner=default_task_runner())
def pipeline(raw_dir: str | None = None, warehouse_dir: str | None = None, show_progress: bool = True,
             allow_deletions: bool = False, max_delete_share: float | None = None) -> dict | State:
    """``allow_deletions``: publish even a plan that removes most or all articles;
    ``max_delete_share``: the share of published articles a run may remove (QUOTEWIRE_MAX_DELETE_SHARE)."""
    settings = _settings(raw_dir, warehouse_dir, allow_deletions, max_delete_share)
    try:
        return _pipeline(settings, show_progress)
    except WarehouseBusy as busy:
        return skipped(busy)
    except (RunRefused, PathProblem) as error:
        return refused(error)


def _pipeline(settings: Settings, show_progress: bool) -> dict:
    check_paths(None, settings.warehouse_dir)
    with Warehouse(settings.warehouse_dir).lock():
        # Ingest and models run in this flow run, not as subflows: a subflow run costs about
        # 0.3 s of API round trips in the run's serial part, and the batch tasks then simply
        # run on this flow's task runner, whichever was chosen.
        ingested = _ingest(settings, show_progress)
        if ingested["published"] or not models_are_current(settings):
            built = _build_models(settings)
        else:  # nothing changed: the database already holds exactly this snapshot
            built = {"skipped": "no new snapshot since the last build", "seconds": 0.0}
        report_path = settings.warehouse_dir / "report.html"
        # A rebuilt database is newer than the page, so this only holds when nothing changed.
        if report_is_current(report_path, settings.database_path):
            report = None  # same data, same page: loading it again took most of an unchanged run
        else:
            report = write_report(settings.database_path, report_path, datetime.now(timezone.utc))
    create_markdown_artifact(
        run_report_markdown(ingested, built, settings.database_path),
        key="quotewire-run-report", description="Row counts, rejected files and top speakers of this run",
    )
    create_markdown_artifact(
        report_summary_markdown(report, report_path.resolve()),
        key="quotewire-html-report", description="Where this run's HTML report is, and its top speakers",
    )
    create_link_artifact(report_path.resolve().as_uri(), link_text="quotewire HTML report", key="quotewire-html-report-link")
    return {"ingest": ingested, "models": built}
