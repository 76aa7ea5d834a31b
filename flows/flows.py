"""Prefect flows. They only wire the stage modules together: all logic is in plain functions
(ingest.py, models.py, report.py) that are tested without Prefect.

- ``ingest``:       raw files -> Parquet snapshot (one task per batch of articles)
- ``build_models``: Parquet -> warehouse/quotewire.duckdb + marts/*.parquet
- ``pipeline``:     both, under one warehouse lock, then a run report artifact
"""

from __future__ import annotations

import os
from pathlib import Path

from prefect import flow, task, unmapped
from prefect.artifacts import create_markdown_artifact
from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner, TaskRunner

from quotewire import ingest as ingest_steps
from quotewire.models import build_models as build_models_step
from quotewire.report import run_report_markdown
from quotewire.settings import Settings
from quotewire.store import Staging, Warehouse


def _settings(raw_dir: str | None, warehouse_dir: str | None) -> Settings:
    return Settings().with_overrides(
        raw_dir=Path(raw_dir) if raw_dir else None,
        warehouse_dir=Path(warehouse_dir) if warehouse_dir else None,
    )


def default_task_runner(workers: int = 0) -> TaskRunner:
    """Every local core by default; one worker runs in threads to skip process start-up."""
    workers = workers or os.cpu_count() or 1
    if workers == 1:
        return ThreadPoolTaskRunner(max_workers=1)
    return ProcessPoolTaskRunner(max_workers=workers)


@task(name="analyse-batch", retries=0)
def analyse_batch_task(batch, staging: Staging, spacy_model: str, max_file_bytes: int, ingested_at):
    return ingest_steps.analyse_batch(batch, staging, spacy_model, max_file_bytes, ingested_at)


@flow(name="ingest", log_prints=True)
def ingest(raw_dir: str | None = None, warehouse_dir: str | None = None) -> dict:
    settings = _settings(raw_dir, warehouse_dir)
    warehouse = Warehouse(settings.warehouse_dir)
    with warehouse.lock():
        plan = ingest_steps.plan_ingest(settings, warehouse)
        if not plan.has_changes:
            return ingest_steps.unchanged_summary(plan).as_dict()
        staging = warehouse.begin(plan.run_id)
        futures = analyse_batch_task.map(
            plan.batches, unmapped(staging), unmapped(settings.spacy_model),
            unmapped(settings.max_file_bytes), unmapped(plan.started_at),
        )
        results = [future.result() for future in futures]
        return ingest_steps.finish_ingest(plan, warehouse, staging, results).as_dict()


@flow(name="build_models", log_prints=True)
def build_models(warehouse_dir: str | None = None) -> dict:
    settings = _settings(None, warehouse_dir)
    warehouse = Warehouse(settings.warehouse_dir)
    with warehouse.lock():
        result = build_models_step(warehouse.parquet_link, settings.database_path,
                                   settings.marts_dir, settings.sql_dir)
    return result.as_dict()


@flow(name="pipeline", log_prints=True)
def pipeline(raw_dir: str | None = None, warehouse_dir: str | None = None) -> dict:
    settings = _settings(raw_dir, warehouse_dir)
    with Warehouse(settings.warehouse_dir).lock():
        ingested = ingest(str(settings.raw_dir), str(settings.warehouse_dir))
        built = build_models(str(settings.warehouse_dir))
    create_markdown_artifact(
        run_report_markdown(ingested, built, settings.database_path),
        key="quotewire-run-report", description="Row counts, rejected files and top speakers of this run",
    )
    return {"ingest": ingested, "models": built}
