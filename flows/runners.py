"""Where the analysis tasks run: local processes (default) or a Dask cluster.

- ``process`` (default): a ProcessPoolTaskRunner over ``workers`` local processes (every core
  when 0). One worker runs in a thread instead, which skips process start-up.
- ``dask``: prefect-dask's DaskTaskRunner, either on an existing cluster (``address``,
  e.g. ``tcp://scheduler:8786``) or on a local cluster of ``workers`` single-threaded
  processes it starts and stops itself. Workers of a real cluster must see the raw dir and
  the warehouse at the same paths as the machine that runs the flow (shared storage): they
  read the raw files and write their part files straight into the staging snapshot. They
  also report task states to Prefect, so PREFECT_API_URL must name a server they can reach.

Both runners hand their worker processes the address of the Prefect API the flow uses.
Without that, a run on Prefect's temporary server (no PREFECT_API_URL set, the default of
``quotewire run``) made every worker process start a temporary server of its own: about
10 s and 215 MB per worker, on the same SQLite database.
"""

from __future__ import annotations

import os

from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner

RUNNERS = ("process", "dask")


def share_api_with_workers() -> None:
    """Put the URL of this process's temporary Prefect server into the environment that
    worker processes inherit. A no-op when an API URL is configured (a real server, tests)."""
    from prefect.settings import PREFECT_API_URL

    if PREFECT_API_URL.value() or os.environ.get("PREFECT_API_URL"):
        return
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()  # the one get_client() started for this flow run
    server.start()  # no-op when running
    os.environ["PREFECT_API_URL"] = server.api_url


class LocalProcessTaskRunner(ProcessPoolTaskRunner):
    """ProcessPoolTaskRunner whose workers talk to the flow's Prefect API."""

    def __enter__(self):
        share_api_with_workers()
        return super().__enter__()


def _dask_runner_class():
    from prefect_dask import DaskTaskRunner

    class SharedApiDaskTaskRunner(DaskTaskRunner):
        def __enter__(self):
            share_api_with_workers()  # before a local cluster spawns its workers
            return super().__enter__()

    return SharedApiDaskTaskRunner


def make_task_runner(kind: str = "process", workers: int = 0, address: str | None = None) -> TaskRunner:
    if kind == "process":
        if address:
            raise ValueError("--dask-address needs --runner dask")
        workers = workers or os.cpu_count() or 1
        if workers == 1:
            return ThreadPoolTaskRunner(max_workers=1)
        return LocalProcessTaskRunner(max_workers=workers)
    if kind == "dask":
        runner_class = _dask_runner_class()
        if address:
            return runner_class(address=address)
        workers = workers or os.cpu_count() or 1
        return runner_class(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True,
                                            "dashboard_address": None})
    raise ValueError(f"unknown task runner {kind!r}; choose one of {', '.join(RUNNERS)}")
