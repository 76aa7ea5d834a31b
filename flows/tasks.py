"""The Prefect task of one batch of articles. It runs in a thread of the flow's process and
hands the analysis to a worker process (runners.run_batch), or, on Dask, runs in the Dask
worker it was sent to."""

from __future__ import annotations

from prefect import task

from quotewire import ingest
from quotewire.runners import run_batch


@task(name="analyse-batch", retries=0)
def analyse_batch_task(batch, staging, spacy_model: str, max_file_bytes: int, ingested_at) -> ingest.BatchResult:
    return run_batch(ingest.analyse_batch, batch, staging, spacy_model, max_file_bytes, ingested_at)
