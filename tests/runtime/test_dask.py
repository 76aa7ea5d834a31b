"""Where the batches run changes nothing in the output: one thread, a local process pool, or a
Dask cluster's worker processes all publish the same rows with the same ids."""

from __future__ import annotations

import os
import socket
import time

import pyarrow as pa
import pytest

from quotewire.publish.store import Warehouse
from e2e.test_flows import ARTICLES, write_raw

MORE = {
    "wire/port.txt": (
        "Port strike called off\n\n"
        '"We have a deal that keeps the cranes moving," said Tomasz Wrobel of the dockers\' union.\n\n'
        "The Harbour Authority confirmed the agreement on Sunday.\n"
    ),
    "wire/rail.txt": (
        "Rail fares frozen\n\n"
        'Transport minister Amara Osei said the freeze "gives commuters a break this winter."\n'
    ),
}
# Columns that say when and by which run a row was made; every other value must be reproducible.
RUN_COLUMNS = ("ingested_at", "run_id", "first_seen")
KEYS = {"articles": "article_id", "paragraphs": "paragraph_id", "quotes": "quote_id", "entities": "mention_id",
        "article_sources": "source_path", "rejects": "source_path"}
MAIN = f"{socket.gethostname()}:{os.getpid()}"


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    return write_raw(tmp_path_factory.mktemp("raw"), {**ARTICLES, **MORE})


@pytest.fixture(autouse=True)
def one_article_per_batch(monkeypatch):
    """Five batches, so several workers get work and part files from different processes meet."""
    monkeypatch.setenv("QUOTEWIRE_BATCH_SIZE", "1")


def run(raw, warehouse, runner) -> dict:
    from quotewire.flows import pipeline

    return pipeline.with_options(task_runner=runner)(raw_dir=str(raw), warehouse_dir=str(warehouse),
                                                     show_progress=False)


def tables(warehouse) -> dict[str, pa.Table]:
    published = Warehouse(warehouse)
    result = {}
    for name, key in KEYS.items():
        table = published.read_table(name)
        result[name] = table.drop_columns([c for c in RUN_COLUMNS if c in table.column_names]).sort_by(key)
    return result


@pytest.fixture(scope="module")
def one_thread(prefect_harness, raw, tmp_path_factory):
    """The reference: every batch in one thread of this process."""
    from quotewire.runtime.runners import make_task_runner

    warehouse = tmp_path_factory.mktemp("one-thread")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("QUOTEWIRE_BATCH_SIZE", "1")
        summary = run(raw, warehouse, make_task_runner("process", workers=1))
    assert summary["ingest"]["articles_new"] == 5
    assert summary["ingest"]["workers"] == [MAIN]
    return tables(warehouse)


def assert_same_tables(expected: dict[str, pa.Table], warehouse) -> None:
    got = tables(warehouse)
    for name in KEYS:
        assert got[name].num_rows == expected[name].num_rows, name
        assert got[name].equals(expected[name]), name
    assert expected["quotes"].num_rows >= 5 and expected["entities"].num_rows > 0


@pytest.mark.slow
def test_two_worker_processes_publish_the_same_rows(one_thread, raw, tmp_path):
    from quotewire.runtime.runners import make_task_runner

    summary = run(raw, tmp_path / "warehouse", make_task_runner("process", workers=2))
    # The batches ran in worker processes, not in this one (an ingest subflow once ignored
    # the pipeline's runner and analysed everything in threads here).
    assert summary["ingest"]["workers"] and MAIN not in summary["ingest"]["workers"]
    assert_same_tables(one_thread, tmp_path / "warehouse")


@pytest.mark.slow
def test_a_dask_cluster_publishes_the_same_rows(one_thread, raw, tmp_path):
    from distributed import Client, LocalCluster

    from quotewire.runtime.runners import make_task_runner

    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            worker_pids = set(client.run(os.getpid).values())
        summary = run(raw, tmp_path / "warehouse", make_task_runner("dask", address=cluster.scheduler_address))
        workers = summary["ingest"]["workers"]
        assert workers and {int(w.rsplit(":", 1)[1]) for w in workers} <= worker_pids
        assert_same_tables(one_thread, tmp_path / "warehouse")

        # Incremental on the cluster too: nothing new, nothing parsed, nothing published.
        again = run(raw, tmp_path / "warehouse", make_task_runner("dask", address=cluster.scheduler_address))
    assert again["ingest"]["articles_new"] == 0 and again["ingest"]["published"] is False
    assert again["models"].get("skipped")  # the database already holds this snapshot


@pytest.mark.slow
def test_workers_started_before_the_flow_serve_it_and_are_let_go_after(one_thread, raw, tmp_path):
    """`quotewire run` starts its workers before Prefect; the pipeline flow hands its
    batches to those very processes, which are let go once the batches are done;
    a later flow run on the same pool starts new ones."""
    from quotewire.runtime.runners import started_task_runner

    with started_task_runner("process", workers=2) as runner:
        started = set(runner.pool.wait_until_ready())
        assert len(started) == 2 and os.getpid() not in started
        first = run(raw, tmp_path / "warehouse", runner)
        assert _all_exit(started, within_seconds=10)  # let go without waiting for them to exit
        second = run(raw, tmp_path / "again", runner)

    def pids(summary):
        return {int(w.rsplit(":", 1)[1]) for w in summary["ingest"]["workers"]}

    assert first["ingest"]["articles_new"] == second["ingest"]["articles_new"] == 5
    assert pids(first) <= started
    assert pids(second) and not pids(second) & (started | {os.getpid()})
    assert_same_tables(one_thread, tmp_path / "warehouse")
    assert_same_tables(one_thread, tmp_path / "again")


def _all_exit(pids: set[int], within_seconds: float) -> bool:
    deadline = time.monotonic() + within_seconds
    while any(_alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False
