"""The Prefect task of one batch of articles. It runs in a thread of the flow's process and
hands the analysis to a worker process (runners.run_batch), or, on Dask, runs in the Dask
worker it was sent to."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from quotewire.publish import ingest
from quotewire.runtime.runners import run_batch


class BatchArticles:
    """A batch's articles, as a task parameter Prefect leaves alone. Prefect walks every list
    and dataclass a task is given, looking for futures to wait on; 2,000 articles' file refs
    cost the flow process about 1 s of CPU, taken from the cores the workers need."""

    __slots__ = ("articles",)

    def __init__(self, articles: list[ingest.ArticleToAnalyse]):
        self.articles = articles

    def __len__(self) -> int:
        return len(self.articles)

    def __repr__(self) -> str:  # how Prefect shows the parameter
        return f"BatchArticles({len(self.articles)} articles)"


# No cache: a batch writes its part files as a side effect, so its result must never be
# reused, and a cache key would hash every parameter of every task.
@task(name="analyse-batch", retries=0, cache_policy=NO_CACHE)
def analyse_batch_task(batch: BatchArticles, staging, spacy_model: str, max_file_bytes: int,
                       ingested_at) -> ingest.BatchResult:
    return run_batch(ingest.analyse_batch, batch.articles, staging, spacy_model, max_file_bytes, ingested_at)
