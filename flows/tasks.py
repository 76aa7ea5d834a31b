"""The Prefect task a worker runs: one batch of articles. Its own small module because a
worker imports the module a task is defined in: this one pulls in Prefect and the analysis
code, not the flows' DuckDB, report and artifact code (about 40 MB less per worker)."""

from __future__ import annotations

from prefect import task

from quotewire import ingest


@task(name="analyse-batch", retries=0)
def analyse_batch_task(batch, staging, spacy_model: str, max_file_bytes: int, ingested_at) -> ingest.BatchResult:
    return ingest.analyse_batch(batch, staging, spacy_model, max_file_bytes, ingested_at)
