"""The pool of worker processes the local runner hands batches to."""

from __future__ import annotations

import os

import pytest

from quotewire.runtime.worker_pool import WorkerPool


def _words_freed_every() -> int:
    from quotewire.runtime import process

    return process.words_zones().free_new_words_after_articles


def test_outside_a_worker_new_words_are_freed_after_each_batch():
    assert _words_freed_every() == 0


@pytest.mark.slow
def test_workers_keep_new_words_over_several_batches_and_are_replaced_after_their_batches():
    # a model that does not exist: the worker still starts (the batch would report it)
    with WorkerPool(1, "no-such-model", start_now=False, max_batches_per_worker=2) as pool:
        first = [pool.run(os.getpid), pool.run(os.getpid)]
        assert pool.run(_words_freed_every) > 0
        third = pool.run(os.getpid)
    assert first[0] == first[1] != os.getpid()
    assert third not in first  # the first worker was replaced after its two batches


@pytest.mark.slow
def test_released_workers_are_started_again_by_the_next_batch():
    with WorkerPool(1, "no-such-model", start_now=False) as pool:
        before = pool.run(os.getpid)
        pool.release_workers()
        after = pool.run(os.getpid)
    assert before != after and os.getpid() not in (before, after)


def test_an_error_in_a_worker_is_raised_in_the_caller():
    with WorkerPool(1, "no-such-model", start_now=False) as pool:
        with pytest.raises(ZeroDivisionError):
            pool.run(divmod, 1, 0)


def _pandas_imported() -> bool:
    import sys

    import pyarrow as pa
    import pyarrow.parquet as pq

    path = f"/tmp/quotewire-pandas-guard-{os.getpid()}.parquet"
    pq.write_table(pa.table({"a": [1, 2]}), path)  # pyarrow looks for pandas on the way
    try:
        return pq.read_table(path).num_rows == 2 and "pandas" in sys.modules
    finally:
        os.remove(path)


@pytest.mark.slow
def test_workers_write_and_read_parquet_without_importing_pandas():
    with WorkerPool(1, "no-such-model", start_now=False) as pool:
        assert pool.run(_pandas_imported) is False


def _sigint_handling() -> tuple[bool, bool]:
    import signal

    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    return signal.getsignal(signal.SIGINT) is signal.SIG_IGN, signal.SIGINT in blocked


@pytest.mark.slow
def test_workers_ignore_ctrl_c_which_the_terminal_sends_them_too():
    import signal
    import time

    with WorkerPool(1, "no-such-model", start_now=False) as pool:
        worker = pool.run(os.getpid)
        assert pool.run(_sigint_handling) == (True, False)  # ignored, and no longer blocked
        os.kill(worker, signal.SIGINT)
        time.sleep(0.5)
        assert pool.run(os.getpid) == worker  # the same process, still at work


@pytest.mark.slow
def test_terminate_ends_the_workers_in_the_middle_of_a_batch_and_takes_no_more():
    import time
    from concurrent.futures import ThreadPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    import psutil

    pool = WorkerPool(1, "no-such-model", start_now=False)
    worker = psutil.Process(pool.run(os.getpid))
    with ThreadPoolExecutor(1) as caller:
        batch = caller.submit(pool.run, time.sleep, 120)
        time.sleep(0.5)
        started = time.monotonic()
        pool.terminate()
        with pytest.raises(BrokenProcessPool):
            batch.result(timeout=30)
    assert time.monotonic() - started < 10
    assert not worker.is_running() or worker.status() == psutil.STATUS_ZOMBIE
    with pytest.raises(RuntimeError, match="stopped"):
        pool.run(os.getpid)
