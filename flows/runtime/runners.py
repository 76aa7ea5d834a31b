"""Where the analysis tasks run: local processes (default) or a Dask cluster.

- ``process`` (default): ``workers`` local processes (every core when 0). One worker runs in a
  thread instead, which skips process start-up.
- ``dask``: prefect-dask's DaskTaskRunner, either on an existing cluster (``address``,
  e.g. ``tcp://scheduler:8786``) or on a local cluster of ``workers`` single-threaded
  processes it starts and stops itself. Workers of a real cluster must see the raw dir and
  the warehouse at the same paths as the machine that runs the flow (shared storage): they
  read the raw files and write their part files straight into the staging snapshot. They
  also report task states to Prefect, so PREFECT_API_URL must name a server they can reach.

Local worker processes live in a ``worker_pool.WorkerPool``: each imports the analysis code
and loads the spaCy model once, as it starts, and Prefect not at all: the
Prefect task of each batch runs in one of ``workers`` threads of the flow's process and waits
for the worker its batch went to (``run_batch``). ``quotewire run`` starts the pool before
the flow, so the model loads while Prefect starts its server; a flow run started any other
way (``serve``, tests) starts its workers with its first batches, so a run with nothing to
analyse starts none, and a flow's own runner (made without a number of workers) makes them
for the run's ``workers`` and ``spacy_model`` settings (size_workers_for_run). Each flow run
gets a duplicate of the runner, which shares the pool; the ingest step lets the processes go
once its batches are done.

Dask workers do run Prefect tasks, and report to the Prefect API the flow uses: a local
cluster is handed its address (``share_api_with_workers``); without it, each worker started
a temporary server of its own.

Each batch runs through ``process.run_batch`` (runtime/process.py): the words-zone policy of
the process it runs in, and its freed memory handed back after it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from prefect.context import FlowRunContext
from prefect.logging.configuration import ensure_logging_setup
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from quotewire.runtime import interrupts, process, temporary_server
from quotewire.runtime.pandas_guard import keep_pandas_out
from quotewire.settings import Settings
from quotewire.runtime.worker_pool import WorkerPool

RUNNERS = ("process", "dask")


_temporary_server_url: str | None = None  # set once share_api_with_workers has published it


def uses_temporary_server() -> bool:
    """No Prefect server is configured: flows run on a temporary one this process started
    (ours, see temporary_server, or Prefect's own)."""
    configured = temporary_server.configured_api_url()
    return configured is None or configured in (_temporary_server_url, temporary_server.running_url())


def share_api_with_workers() -> None:
    """Put the URL of the temporary Prefect server Prefect starts for a flow run into the
    environment that worker processes inherit. A no-op when an API URL is set already (a
    real server, tests, our own temporary server)."""
    global _temporary_server_url
    if temporary_server.prefect_api_configured():
        return
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()  # the one get_client() started for this flow run
    server.start()  # no-op when running
    os.environ["PREFECT_API_URL"] = _temporary_server_url = server.api_url


@contextlib.contextmanager
def one_off_run_settings() -> Iterator[None]:
    """Prefect settings for a command that runs flows once and exits (``quotewire run``,
    ``bench``). On the temporary server, flow-run heartbeats are switched off: they exist so
    a server can spot a crashed run, and a temporary server dies with the run, and each flow
    run waits at its end for the heartbeat thread's sleep. With a real server they stay on."""
    if not uses_temporary_server():
        yield
        return
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


class LocalProcessTaskRunner(ThreadPoolTaskRunner):
    """Prefect's ThreadPoolTaskRunner, ``max_workers`` threads, whose batch tasks hand their
    analysis to a WorkerPool of as many processes (``run_batch``): the pool it was given,
    else one it starts on entering and closes on leaving. Its duplicates (Prefect gives each
    flow run one) share the pool."""

    def __init__(self, max_workers: int, pool: WorkerPool | None = None, spacy_model: str | None = None,
                 sized_by_run: bool = False):
        super().__init__(max_workers=max_workers)
        self._pool = pool
        self._owns_pool = False
        self._spacy_model = spacy_model
        # Made without a number of workers (a flow's default runner): each flow run gives it
        # its own (size_workers_for_run).
        self.sized_by_run = sized_by_run

    def __getstate__(self) -> dict:
        """A pickled runner (Prefect ships flows to other processes) carries no pool:
        processes and queues stay in the process that made them."""
        state = super().__getstate__()
        state.update(_pool=None, _owns_pool=False, _executor=None)
        return state

    @property
    def pool(self) -> WorkerPool | None:
        return self._pool

    @property
    def workers(self) -> int:
        return self._max_workers

    def duplicate(self) -> "LocalProcessTaskRunner":
        return type(self)(self._max_workers, pool=self._pool, spacy_model=self._spacy_model,
                          sized_by_run=self.sized_by_run)

    def use_workers(self, workers: int, spacy_model: str) -> None:
        """Called before the run's first batch, with the run's settings. A pool this runner
        made itself (no process started yet) is made anew for ``spacy_model`` and, if the
        runner is sized by the run, ``workers`` processes. A pool handed in is left alone: the
        command made it from the same settings."""
        if not self._owns_pool:
            return
        workers = workers if self.sized_by_run else self._max_workers
        if (workers, spacy_model) == (self._max_workers, self._spacy_model or Settings().spacy_model):
            return
        self._pool.close()
        self._pool, self._spacy_model = WorkerPool(workers, spacy_model, start_now=False), spacy_model
        if workers != self._max_workers:  # as many task threads as processes; none has started yet
            ThreadPoolTaskRunner.__exit__(self, None, None, None)
            self._max_workers = workers
            ThreadPoolTaskRunner.__enter__(self)

    def __enter__(self) -> "LocalProcessTaskRunner":
        super().__enter__()
        if self._pool is None:
            self._pool = WorkerPool(self._max_workers, self._spacy_model or Settings().spacy_model,
                                    start_now=False)
            self._owns_pool = True
        return self

    def __exit__(self, exc_type, exc_value, traceback) -> None:
        if exc_type is not None and not issubclass(exc_type, Exception):
            interrupts.mark_interrupted()  # before the batches fail for want of their workers
        if exc_type is not None and self._pool is not None:
            # Prefect's runner waits for its task threads, which wait for their batches:
            # an interrupted or failed flow run ends the workers first.
            self._pool.terminate()
        super().__exit__(exc_type, exc_value, traceback)
        if self._owns_pool:
            self._pool.close()
            self._pool, self._owns_pool = None, False


class OneThreadTaskRunner(ThreadPoolTaskRunner):
    """Prefect's ThreadPoolTaskRunner of one thread, which an interrupted flow run leaves
    at once: a thread cannot be stopped, and its batch may take minutes to finish."""

    def __init__(self, max_workers: int = 1):
        super().__init__(max_workers=max_workers)

    def __exit__(self, exc_type, exc_value, traceback) -> None:
        if exc_type is not None and not issubclass(exc_type, Exception):
            interrupts.mark_interrupted()
            if self._executor is not None:
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = None  # so Prefect's __exit__ does not wait for it
        super().__exit__(exc_type, exc_value, traceback)


def run_batch(fn, /, *args):
    """fn(*args) as a batch (process.run_batch: the process's words zones, freed memory handed
    back after it) in a worker process of the current flow run's pool when its runner has one
    (LocalProcessTaskRunner), else right here: in a thread of this process (one worker), or
    in the Dask worker the task was sent to."""
    pool = _current_pool()
    return pool.run(process.run_batch, fn, *args) if pool is not None else process.run_batch(fn, *args)


def size_workers_for_run(workers: int, spacy_model: str) -> None:
    """The current flow run's local workers: ``workers`` processes (0: every core) loading
    ``spacy_model``, where its runner starts them itself (LocalProcessTaskRunner.use_workers);
    a no-op for threads and Dask, whose size is the runner's or the cluster's."""
    context = FlowRunContext.get()
    runner = context.task_runner if context is not None else None
    if isinstance(runner, LocalProcessTaskRunner):
        runner.use_workers(resolve_workers(workers), spacy_model)


def release_workers() -> None:
    """Let the current flow run's local worker processes go once no more batches will come
    (a no-op for runners without a pool: threads, Dask)."""
    pool = _current_pool()
    if pool is not None:
        pool.release_workers()


def _current_pool() -> WorkerPool | None:
    context = FlowRunContext.get()
    runner = context.task_runner if context is not None else None
    return runner.pool if isinstance(runner, LocalProcessTaskRunner) else None


def _dask_runner_class():
    from prefect_dask import DaskTaskRunner

    class SharedApiDaskTaskRunner(DaskTaskRunner):
        def __enter__(self):
            share_api_with_workers()  # before a local cluster spawns its workers
            return super().__enter__()

    return SharedApiDaskTaskRunner


def resolve_workers(workers: int | None) -> int:
    return workers or os.cpu_count() or 1


def make_task_runner(kind: str = "process", workers: int = 0, address: str | None = None,
                     pool: WorkerPool | None = None) -> TaskRunner:
    if kind == "process":
        if address:
            raise ValueError("--dask-address needs --runner dask")
        sized_by_run = not workers
        workers = resolve_workers(workers)
        if workers == 1:
            return OneThreadTaskRunner(max_workers=1)
        return LocalProcessTaskRunner(max_workers=workers, pool=pool, sized_by_run=sized_by_run)
    if kind == "dask":
        runner_class = _dask_runner_class()
        if address:
            return runner_class(address=address)
        workers = resolve_workers(workers)
        return runner_class(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True,
                                            "dashboard_address": None})
    raise ValueError(f"unknown task runner {kind!r}; choose one of {', '.join(RUNNERS)}")


@contextlib.contextmanager
def started_task_runner(kind: str = "process", workers: int = 0, address: str | None = None,
                        spacy_model: str | None = None) -> Iterator[TaskRunner]:
    """The task runner of one command, its local workers started now (so they load the model
    while Prefect starts) and stopped when the command is done."""
    workers = resolve_workers(workers)
    if kind != "process" or workers == 1:
        yield make_task_runner(kind, workers, address)
        return
    if address:
        raise ValueError("--dask-address needs --runner dask")
    with WorkerPool(workers, spacy_model or Settings().spacy_model) as pool:
        yield make_task_runner(kind, workers, pool=pool)


@contextlib.contextmanager
def one_off_run(kind: str = "process", workers: int = 0, address: str | None = None,
                spacy_model: str | None = None) -> Iterator[TaskRunner]:
    """All a command that runs flows and exits (``quotewire run``, ``bench``) sets up: a
    temporary Prefect server unless one is configured, its workers (started while the
    server starts), one_off_run_settings, and a watch on the Prefect API (interrupts). Yields
    the task runner for its flows."""
    keep_pandas_out()
    ensure_logging_setup()  # Prefect's console handlers, which an interrupt silences
    interrupts.quiet_console_after_interrupt()
    with temporary_server.temporary_server_unless_configured() as server, \
            started_task_runner(kind, workers, address, spacy_model) as runner:
        import_what_the_run_will_import()  # while the server starts, not while the run waits
        if server is not None:
            server.wait_until_ready()

        def end_workers_and_server() -> None:  # the process is about to exit without unwinding
            if isinstance(runner, LocalProcessTaskRunner) and runner.pool is not None:
                runner.pool.terminate()
            if server is not None:
                server.kill()

        with interrupts.watch_prefect_api(temporary_server.configured_api_url(),
                                          server.process if server is not None else None,
                                          on_forced_exit=end_workers_and_server), \
                interrupts.handler_errors_unprinted(), one_off_run_settings():
            yield runner


def import_what_the_run_will_import() -> None:
    """A module the flow's process would otherwise import during the run, in its serial
    part: FastAPI's encoder, which Prefect imports to serialise the parameters of the first
    flow run with any. (DuckDB is left for the models step: imported here, its memory would
    stay in the process all through the analysis, when the run's memory peaks.)"""
    with contextlib.suppress(ImportError):  # Prefect's dependency, not ours: only if it is there
        import fastapi.encoders  # noqa: F401
