"""Where the analysis tasks run: local processes (default) or a Dask cluster.

- ``process`` (default): ``workers`` local processes (every core when 0). One worker runs in a
  thread instead, which skips process start-up.
- ``dask``: prefect-dask's DaskTaskRunner, either on an existing cluster (``address``,
  e.g. ``tcp://scheduler:8786``) or on a local cluster of ``workers`` single-threaded
  processes it starts and stops itself. Workers of a real cluster must see the raw dir and
  the warehouse at the same paths as the machine that runs the flow (shared storage): they
  read the raw files and write their part files straight into the staging snapshot. They
  also report task states to Prefect, so PREFECT_API_URL must name a server they can reach.

Local worker processes live in a ``WorkerPool``: each imports the analysis code and loads the
spaCy model once, as it starts (about 3 s of CPU). ``quotewire run`` starts the pool before
the flow, so that happens while Prefect starts its server; a flow run started any other way
(``serve``, tests) starts its workers with its first batches, as Prefect's own pool does, so
a run with nothing to analyse starts none. The pipeline flow and its ingest subflow share one
pool (``duplicate`` hands it on).

Both runners hand their worker processes the address of the Prefect API the flow uses.
Without that, a run on Prefect's temporary server (no PREFECT_API_URL set, the default of
``quotewire run``) made every worker process start a temporary server of its own: about
10 s and 215 MB per worker, on the same SQLite database.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner
# Prefect's own set-up of a pool worker (event and log forwarding through a queue); reused
# so tasks in our pool behave exactly as in Prefect's.
from prefect.task_runners import _initialize_process_pool_worker

from quotewire.settings import Settings

RUNNERS = ("process", "dask")
log = logging.getLogger(__name__)


_temporary_server_url: str | None = None  # set once share_api_with_workers has published it


def uses_temporary_server() -> bool:
    """No Prefect server is configured: flows run on the temporary one this process starts."""
    configured = PREFECT_API_URL.value() or os.environ.get("PREFECT_API_URL")
    return not configured or configured == _temporary_server_url


def share_api_with_workers() -> None:
    """Put the URL of this process's temporary Prefect server into the environment that
    worker processes inherit. A no-op when an API URL is configured (a real server, tests)."""
    global _temporary_server_url
    if not uses_temporary_server():
        return
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()  # the one get_client() started for this flow run
    server.start()  # no-op when running
    os.environ["PREFECT_API_URL"] = _temporary_server_url = server.api_url


@contextlib.contextmanager
def one_off_run_settings() -> Iterator[None]:
    """Prefect settings for a command that runs flows once and exits (``quotewire run``,
    ``bench``). On the temporary server, flow-run heartbeats are switched off: they exist so
    a server can spot a crashed run, and a temporary server dies with the run. Each flow
    run otherwise waits up to 1 s at its end for the heartbeat thread's sleep (about 3 s a
    pipeline run: pipeline, ingest and build_models). With a real server they stay on."""
    if not uses_temporary_server():
        yield
        return
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


def prepare_worker(spacy_model: str, ready) -> None:
    """Runs once in each worker process as it starts: the imports and the model load its
    first batch would otherwise wait for; then it puts (pid, time) on ``ready``. A failure is
    left for the batch to raise with its own message (an initializer that raises breaks the
    whole pool without one)."""
    try:
        import quotewire.tasks  # noqa: F401  (the module every task is unpickled from)
        from quotewire.entities import load_nlp

        list(load_nlp(spacy_model).pipe(["Warm-up sentence from London."]))
    except Exception:  # surfaces again, clearly, in analyse_batch
        log.warning("worker could not load %r ahead of its first batch", spacy_model, exc_info=True)
    finally:
        ready.put((os.getpid(), time.time()))


class WorkerPool:
    """Started worker processes, each with the model loaded, that several flow runs' task
    runners submit to. Closed by whoever made it (``with WorkerPool(...)``)."""

    def __init__(self, workers: int, spacy_model: str | None = None, start_now: bool = True):
        self.workers = workers
        context = multiprocessing.get_context("spawn")  # as Prefect's pool: no forked threads or sockets
        # Prefect's forwarder reads this queue in this process and hands the workers' events
        # and API logs on to this process's Prefect clients.
        self._forwarder = ProcessPoolTaskRunner(max_workers=workers)
        self._forwarder._subprocess_message_queue = context.Queue()
        self._forwarding: threading.Thread | None = None
        self._ready = context.Queue()
        self.executor = ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=_initialize_process_pool_worker,
            initargs=(self._forwarder._subprocess_message_queue, prepare_worker,
                      (spacy_model or Settings().spacy_model, self._ready)),
        )
        # A process pool spawns a worker per submitted call while none is idle: these start
        # them all now. Otherwise they start with the first batches (a run with nothing to
        # analyse starts none).
        self.started_at = time.time()
        self._expected = workers if start_now else 0
        for _ in range(self._expected):
            self.executor.submit(os.getpid)
        self._ready_workers: dict[int, float] = {}

    def wait_until_ready(self, timeout: float = 300) -> dict[int, float]:
        """{pid: seconds from the pool's start until that worker had the model loaded} of
        the workers started at creation, once all of them are."""
        while len(self._ready_workers) < self._expected:
            pid, at = self._ready.get(timeout=timeout)
            self._ready_workers[pid] = at - self.started_at
        return dict(self._ready_workers)

    def start_forwarding(self) -> None:
        """Called by a runner entering a flow run, so the forwarder starts inside Prefect's
        context (the API it forwards to is known only then)."""
        if self._forwarding is None:
            self._forwarding = threading.Thread(target=self._forwarder._forward_subprocess_messages,
                                                name="quotewire-worker-messages", daemon=True)
            self._forwarding.start()
            self._forwarder._message_forwarding_thread = self._forwarding

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
        self._forwarder._stop_message_forwarding()
        self._ready.close()

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class LocalProcessTaskRunner(ProcessPoolTaskRunner):
    """Prefect's ProcessPoolTaskRunner on a WorkerPool: the one it was given, else one it
    starts on entering and closes on leaving. Its duplicates (the runners of subflows and
    of each flow run) share the pool."""

    def __init__(self, max_workers: int, pool: WorkerPool | None = None, spacy_model: str | None = None):
        super().__init__(max_workers=max_workers)
        self._pool = pool
        self._owns_pool = False
        self._spacy_model = spacy_model

    def __getstate__(self) -> dict:
        """A flow run's context carries its flow, and so this runner, to every task it sends
        to a worker; the pool (processes, a queue) stays in this process."""
        state = dict(self.__dict__)
        state.update(_pool=None, _owns_pool=False, _executor=None, _resolver_executor=None,
                     _subprocess_message_queue=None, _message_forwarding_thread=None)
        return state

    @property
    def pool(self) -> WorkerPool | None:
        return self._pool

    def duplicate(self) -> "LocalProcessTaskRunner":
        return type(self)(self._max_workers, pool=self._pool, spacy_model=self._spacy_model)

    def __enter__(self) -> "LocalProcessTaskRunner":
        share_api_with_workers()
        TaskRunner.__enter__(self)  # not ProcessPoolTaskRunner's: it would start a pool of its own
        if self._pool is None:
            self._pool = WorkerPool(self._max_workers, self._spacy_model, start_now=False)
            self._owns_pool = True
        self._pool.start_forwarding()
        self._executor = self._pool.executor
        self._resolver_executor = ThreadPoolExecutor(max_workers=self._max_workers)
        return self

    def __exit__(self, exc_type, exc_value, traceback) -> None:
        self._executor = None  # shared: the pool outlives this flow run unless this runner made it
        if self._resolver_executor is not None:
            self._resolver_executor.shutdown(wait=True)
            self._resolver_executor = None
        if self._owns_pool:
            self._pool.close()
            self._pool, self._owns_pool = None, False
        TaskRunner.__exit__(self, exc_type, exc_value, traceback)

    def cancel_all(self) -> None:
        """Prefect calls this on a crashed flow: stop the pool only if it is this runner's."""
        if self._owns_pool and self._pool is not None:
            self._pool.close()
            self._pool, self._owns_pool = None, False


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
        workers = resolve_workers(workers)
        if workers == 1:
            return ThreadPoolTaskRunner(max_workers=1)
        return LocalProcessTaskRunner(max_workers=workers, pool=pool)
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
    with WorkerPool(workers, spacy_model) as pool:
        yield make_task_runner(kind, workers, pool=pool)
