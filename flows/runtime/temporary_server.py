"""A Prefect API server for one command (``quotewire run``, ``bench``) when none is configured.

Prefect starts such a server by itself when a flow runs without PREFECT_API_URL, but to do so
it imports its whole server application (FastAPI, SQLAlchemy, every ORM model) into the
process that runs the flow, where it stays for the whole run, beside the server process
itself. This starts the same server, the same way (Prefect's
``SubprocessASGIServer`` command and environment), without importing it here, and points
PREFECT_API_URL at it, so the flow and its worker processes are plain clients of it.

It is started before the worker pool and waited for after, so the server's start-up (mostly
its imports and database migrations) overlaps the workers' model loads.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from quotewire.runtime import interrupts

_running_url: str | None = None  # the API URL of the server this process started, while it runs


TEMPORARY_SERVER_SERVICES_OFF = {
    "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_ENABLED": "false",
    "PREFECT_SERVER_EVENTS_STREAM_OUT_ENABLED": "false",
}


def running_url() -> str | None:
    """The API URL of the temporary server this process started, if one is running."""
    return _running_url


def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TemporaryServer:
    """One Prefect API server process on a free local port, for the life of one command."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.api_url: str | None = None

    def start(self) -> None:
        """Start the server process and export its URL (to this process's Prefect settings
        and to every process started from now on); it is not ready until wait_until_ready()."""
        global _running_url
        import prefect
        from prefect.settings import get_current_settings

        port = _free_port()
        self.api_url = f"http://127.0.0.1:{port}/api"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--app-dir", str(Path(prefect.__file__).parent.parent),
             "--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "error", "--lifespan", "on"],
            env={**os.environ, **get_current_settings().to_environment_variables(exclude_unset=True),
                 # as Prefect's own temporary server: no UI, and it knows it is temporary
                 "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1",
                 # Nothing reads a temporary server's events or automations: their idle CPU is the workers'.
                 **TEMPORARY_SERVER_SERVICES_OFF},
            # Its own process group: Ctrl-C in a terminal reaches the command, which stops
            # the server itself once the run has told it how it ended.
            process_group=0,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        threading.Thread(target=_forward_output, args=(self.process.stdout,), name="prefect-server-output",
                         daemon=True).start()
        os.environ["PREFECT_API_URL"] = _running_url = self.api_url

    def wait_until_ready(self, timeout: float | None = None) -> None:
        from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS

        assert self.process is not None and self.api_url is not None
        timeout = timeout or PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value()
        deadline = time.monotonic() + timeout
        with httpx.Client() as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"the temporary Prefect server exited with code {self.process.returncode}")
                try:
                    if client.get(f"{self.api_url}/health").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        raise RuntimeError(f"the temporary Prefect server at {self.api_url} did not answer within {timeout} s")

    def stop(self) -> None:
        """Send what Prefect still has queued (logs, events), then stop the server."""
        global _running_url
        answering = self.process is not None and self.process.poll() is None and interrupts.server_gone() is None
        if "prefect.logging.handlers" in sys.modules and answering:
            from prefect.events.worker import EventsWorker
            from prefect.logging.handlers import APILogWorker

            # Prefect drains these at exit, after this server would be gone: then it
            # reports failed connections, or starts a temporary server of its own.
            APILogWorker.drain_all(timeout=5)
            EventsWorker.drain_all(timeout=5)
        if os.environ.get("PREFECT_API_URL") == self.api_url:
            del os.environ["PREFECT_API_URL"]
        _running_url = None
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def _forward_output(stream) -> None:
    """The server's output, on this process's stderr until the run is interrupted: then the
    server only has errors about being stopped mid-work to add."""
    for line in iter(stream.readline, b""):
        if not interrupts.interrupted():
            sys.stderr.write(line.decode(errors="replace"))
            sys.stderr.flush()
    stream.close()


def configured_api_url() -> str | None:
    """The Prefect API this process would use: its settings' or, once a temporary server
    is exported, the environment's."""
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value() or os.environ.get("PREFECT_API_URL") or None


def prefect_api_configured() -> bool:
    return configured_api_url() is not None


@contextlib.contextmanager
def temporary_server_unless_configured() -> Iterator[TemporaryServer | None]:
    """A started TemporaryServer (call its wait_until_ready before the first flow), or None
    when a Prefect API is configured."""
    if prefect_api_configured():
        yield None
        return
    from prefect.settings import PREFECT_API_URL, temporary_settings

    server = TemporaryServer()
    try:
        server.start()
        # The environment reaches processes started from now on; Prefect in this process
        # read its settings at import, so they are updated too.
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
            yield server
    finally:
        server.stop()
