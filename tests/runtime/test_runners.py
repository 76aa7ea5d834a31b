"""Prefect settings of one-off runs, without starting Prefect's server."""

from __future__ import annotations

import os

import pytest
from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY

from quotewire.runtime import runners


@pytest.fixture
def no_server(monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setattr(runners, "_temporary_server_url", None)
    monkeypatch.setattr(PREFECT_API_URL, "value", lambda: None)


def test_heartbeats_are_off_on_the_temporary_server(no_server):
    default = PREFECT_FLOWS_HEARTBEAT_FREQUENCY.value()
    with runners.one_off_run_settings():
        assert PREFECT_FLOWS_HEARTBEAT_FREQUENCY.value() is None
    assert PREFECT_FLOWS_HEARTBEAT_FREQUENCY.value() == default


def test_heartbeats_stay_off_once_the_temporary_server_url_is_shared(no_server, monkeypatch):
    # share_api_with_workers puts the temporary server's URL into the environment
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:8123/api")
    monkeypatch.setattr(runners, "_temporary_server_url", "http://127.0.0.1:8123/api")
    with runners.one_off_run_settings():
        assert PREFECT_FLOWS_HEARTBEAT_FREQUENCY.value() is None


def test_heartbeats_stay_on_with_a_real_server(no_server, monkeypatch):
    monkeypatch.setenv("PREFECT_API_URL", "http://prefect.example:4200/api")
    with runners.one_off_run_settings():
        assert PREFECT_FLOWS_HEARTBEAT_FREQUENCY.value() is not None


def test_a_runner_sends_its_pool_nowhere_when_pickled():
    """Prefect pickles a flow, with its task runner, to send it to another process."""
    import pickle

    runner = runners.LocalProcessTaskRunner(2, pool=object())
    copy = pickle.loads(pickle.dumps(runner))
    assert copy.pool is None and runner.pool is not None and copy._max_workers == 2


def _pid_of_batch(words_zones) -> int:  # a batch function is handed its process's words zones
    return os.getpid()


def test_a_batch_runs_here_outside_a_flow_with_a_pool():
    """On Dask, or with one worker, the task itself does the work: no pool to hand it to."""
    assert runners.run_batch(_pid_of_batch) == os.getpid()


def test_prefect_looks_for_futures_in_a_batch_parameter_without_walking_its_articles():
    from prefect.utilities.collections import visit_collection

    from quotewire.publish.ingest import ArticleToAnalyse
    from quotewire.tasks import BatchArticles

    ref = None  # the file ref does not matter here
    batch = BatchArticles([ArticleToAnalyse("a1", "sha", ref), ArticleToAnalyse("a2", "sha2", ref)])
    visited = []
    visit_collection([batch, unwrapped := [ArticleToAnalyse("a3", "sha3", ref)]], visit_fn=visited.append,
                     return_data=False)
    assert batch in visited and not any(v is batch.articles[0] for v in visited)
    assert any(v is unwrapped[0] for v in visited)  # what a plain list of articles would cost
    assert len(batch) == 2 and "2 articles" in repr(batch)


class RecordedPool:
    """A WorkerPool that starts no process, for what the runner asks of it."""

    def __init__(self, workers, spacy_model, start_now=True):
        self.workers, self.spacy_model = workers, spacy_model

    def close(self):
        pass


def test_only_a_runner_made_without_a_number_of_workers_takes_the_runs(monkeypatch):
    monkeypatch.setattr(runners, "WorkerPool", RecordedPool)
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    for asked, expected in ((0, 2), (3, 3)):  # 0: every core unless the run says otherwise
        with runners.make_task_runner("process", asked).duplicate() as runner:  # as Prefect gives a flow run
            runner.use_workers(2, "model_b")
            assert (runner.pool.workers, runner.pool.spacy_model) == (expected, "model_b")
            assert runner.workers == expected  # task threads, as many as processes
    handed = RecordedPool(5, "model_a")  # a command's pool, made from the same settings as the run
    with runners.LocalProcessTaskRunner(5, pool=handed, sized_by_run=True) as runner:
        runner.use_workers(2, "model_b")
        assert runner.pool is handed
