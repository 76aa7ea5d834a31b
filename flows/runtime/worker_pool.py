"""Local worker processes that analyse batches of articles.

Each worker is tuned (process.prepare_worker with the pool's ProcessSettings), imports the
analysis code and loads the spaCy model once, as it starts, and then only ever runs batches
(``ingest.analyse_batch``). Prefect is not imported here or in the workers: the Prefect task
of a batch runs in a thread of the flow's process and waits for its worker
(runners.LocalProcessTaskRunner), which spares each worker Prefect's memory and bookkeeping.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor

from quotewire.runtime import process

log = logging.getLogger(__name__)

# Batches a worker process analyses before a fresh one takes its place: a bound on whatever
# else a long-lived process accumulates, for one more model load.
MAX_BATCHES_PER_WORKER = 20


def start_worker(spacy_model: str, settings: process.ProcessSettings, ready) -> None:
    """Runs once in each worker process as it starts: its tuning (``settings``), the imports
    and the model load its first batch would otherwise wait for; then it puts (pid, time) on
    ``ready``. A failure is
    left for the batch to raise with its own message (an initializer that raises breaks the
    whole pool without one).

    SIGINT is ignored here (it arrives blocked, see QuietStartExecutor): Ctrl-C in a terminal
    reaches every process of the group, and the parent ends its workers itself
    (WorkerPool.terminate), so a worker has nothing to add but a KeyboardInterrupt traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    try:
        process.prepare_worker(settings, lambda: _load_model(spacy_model))
    except Exception:  # surfaces again, clearly, in analyse_batch
        log.warning("worker could not load %r ahead of its first batch", spacy_model, exc_info=True)
    finally:
        ready.put((os.getpid(), time.time()))


def _load_model(spacy_model: str) -> None:
    import quotewire.publish.ingest  # noqa: F401  (what every batch runs)
    from quotewire.analyse.entities import load_nlp

    list(load_nlp(spacy_model).pipe(["Warm-up sentence from London."]))


class QuietStartExecutor(ProcessPoolExecutor):
    """A ProcessPoolExecutor whose processes start with SIGINT blocked, until start_worker
    ignores it: a Ctrl-C while a worker's interpreter starts is not lost on it either."""

    def _spawn_process(self) -> None:  # where every worker starts, first ones and replacements
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            super()._spawn_process()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


class RestartableExecutor:
    """A ProcessPoolExecutor that can let its processes go and start new ones on the next
    submission (``release``)."""

    def __init__(self, make_executor):
        self._make_executor = make_executor
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._terminated = False

    def submit(self, fn, /, *args, **kwargs) -> Future:
        with self._lock:
            if self._terminated:  # no fresh processes for batches still queued behind
                raise RuntimeError("the worker processes were stopped")
            if self._executor is None:
                self._executor = self._make_executor()
            return self._executor.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=wait, cancel_futures=cancel_futures)

    def terminate(self) -> None:
        """Stop the processes now, in the middle of their batches (Python 3.14 has
        terminate_workers for this; before, the executor's process table is the only way)."""
        with self._lock:
            executor, self._executor, self._terminated = self._executor, None, True
        if executor is None:
            return
        for process in list((getattr(executor, "_processes", None) or {}).values()):
            process.terminate()
        executor.shutdown(wait=True, cancel_futures=True)


class WorkerPool:
    """``workers`` processes, each with the model loaded, that the batches of one or more flow
    runs are handed to. Closed by whoever made it (``with WorkerPool(...)``)."""

    def __init__(self, workers: int, spacy_model: str, start_now: bool = True,
                 max_batches_per_worker: int = MAX_BATCHES_PER_WORKER,
                 settings: process.ProcessSettings = process.WORKER):
        context = multiprocessing.get_context("spawn")  # no forked threads, sockets or locks
        self._ready = context.Queue()
        self.executor = RestartableExecutor(lambda: QuietStartExecutor(
            max_workers=workers, mp_context=context, initializer=start_worker,
            initargs=(spacy_model, settings, self._ready), max_tasks_per_child=max_batches_per_worker))
        # A process pool spawns a worker per submitted call while none is idle: these start
        # them all now. Otherwise they start with the first batches (a run with nothing to
        # analyse starts none).
        self.started_at = time.time()
        self._expected = workers if start_now else 0
        for _ in range(self._expected):
            self.executor.submit(os.getpid)
        self._ready_workers: dict[int, float] = {}

    def run(self, fn, /, *args, **kwargs):
        """fn(*args, **kwargs) in a worker process; its result, or its exception raised here."""
        return self.executor.submit(fn, *args, **kwargs).result()

    def wait_until_ready(self, timeout: float = 300) -> dict[int, float]:
        """{pid: seconds from the pool's start until that worker had the model loaded} of
        the workers started at creation, once all of them are."""
        while len(self._ready_workers) < self._expected:
            pid, at = self._ready.get(timeout=timeout)
            self._ready_workers[pid] = at - self.started_at
        return dict(self._ready_workers)

    def release_workers(self) -> None:
        """Stop the worker processes once their batches are done: their model and heap would
        otherwise sit idle while the run publishes and builds its models. A later batch starts
        new ones, which load the model again. Not waited for: the run publishes meanwhile."""
        self.executor.shutdown(wait=False)

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
        self._close_ready_queue()

    def terminate(self) -> None:
        """Stop the workers at once, batches unfinished (an interrupted or failed run)."""
        self.executor.terminate()
        self._close_ready_queue()

    def _close_ready_queue(self) -> None:
        # Dropped, not only closed: its semaphores are released when it is collected, which
        # a process that ends with os._exit (an interrupted command) does not wait for.
        if self._ready is not None:
            self._ready.close()
            self._ready = None

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, exc_type, exc_value, traceback) -> None:
        if exc_type is None:
            self.close()
        else:  # the run is over: no batch result is wanted any more
            self.terminate()
