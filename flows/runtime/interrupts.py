"""Ctrl-C, SIGTERM and a Prefect server that goes away, for commands that run flows.

Both signals raise ``Interrupted`` in the main thread: a KeyboardInterrupt, so Prefect's engine
and every ``with`` block unwind exactly as for Ctrl-C (worker processes terminated, temporary
server stopped, warehouse lock released). The CLI then prints one line and exits 130 (SIGINT)
or 143 (SIGTERM). From the moment of the interrupt nothing more reaches the console from
Python's logging (Prefect's "Crash detected!" and its task-run states), so that line is the
only one; Prefect's handlers that send logs to its API are left alone.

A Prefect server that stops answering in the middle of a run (``watch_prefect_api``) is
handled the same way, as ``PrefectServerGone`` (exit code 1): without it every API call of the
run retried with back-off for minutes, and its queued events for much longer at exit. As
Prefect's own calls to the dead server still retry while the run unwinds, the watchdog ends
the workers and the process itself if the run has not exited UNWIND_SECONDS later.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator

EXIT_SIGINT = 128 + signal.SIGINT  # 130, as a shell reports a process ended by Ctrl-C
EXIT_SIGTERM = 128 + signal.SIGTERM  # 143

# Prefect's own message when a flow or task run crashes on SIGINT or SIGTERM (its SIGTERM
# handler runs instead of ours while a flow runs, and logs before re-sending us the signal).
_PREFECT_SIGNAL_CRASH = ("aborted by an interrupt signal", "aborted by a termination signal")


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived."""

    def __init__(self, signum: int = signal.SIGINT):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return EXIT_SIGTERM if self.signum == signal.SIGTERM else EXIT_SIGINT


class PrefectServerGone(Interrupted):
    """The Prefect API the run reports to stopped answering."""

    def __init__(self, api_url: str):
        super().__init__(signal.SIGINT)
        self.api_url = api_url

    def __str__(self) -> str:
        return f"the Prefect server at {self.api_url} stopped answering"


_interrupted = threading.Event()
_signum: int | None = None  # the first signal received decides the exit code
_raised = False  # Interrupted was raised in the main thread
_server_gone: PrefectServerGone | None = None
_report_lock = threading.Lock()
_reported: list[int] = []
_reporter: Callable[[], str] | None = None


def interrupted() -> bool:
    return _interrupted.is_set()


def _set_interrupted() -> None:
    _interrupted.set()
    # Prefect's API log handler writes its failures to stderr itself, unless this is off.
    logging.raiseExceptions = False


def _on_signal(signum: int, frame) -> None:
    global _signum, _raised
    if _signum is None:
        _signum = signum
    if _raised:
        # Cleanup is under way (and bounded); a second Ctrl-C, or the signal Prefect sends
        # again after its own handler ran, must not break it off half-way.
        return
    _raised = True
    _set_interrupted()
    raise _server_gone if _server_gone is not None else Interrupted(signum)


def set_reporter(line: Callable[[], str] | None) -> None:
    """``line()`` is what to print on an interrupt, e.g. what became of the warehouse."""
    global _reporter
    _reporter = line


def report_once(error: BaseException | None = None) -> int:
    """Print the interrupt's one line (the first caller only) and give the exit code:
    1 when the server went away, else 130 or 143 by the first signal received."""
    gone = _server_gone
    if gone is not None:
        code = 1
    elif isinstance(error, Interrupted) and _signum is None:
        code = error.exit_code
    else:
        code = EXIT_SIGTERM if _signum == signal.SIGTERM else EXIT_SIGINT
    with _report_lock:
        if not _reported:
            what = str(gone) if gone is not None else "interrupted"
            detail = _reporter() if _reporter is not None else ""
            print(f"quotewire: {what}; {detail}" if detail else f"quotewire: {what}", file=sys.stderr, flush=True)
            _reported.append(code)
    return code


@contextlib.contextmanager
def signals_raise_interrupted() -> Iterator[None]:
    """SIGINT and SIGTERM raise Interrupted in the main thread while this is active."""
    global _signum, _raised, _server_gone, _reporter
    _interrupted.clear()  # a fresh command (several may run in one process, e.g. tests)
    _signum, _raised, _server_gone, _reporter = None, False, None, None
    _reported.clear()
    previous = {signum: signal.signal(signum, _on_signal) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _quiet_after_interrupt(record: logging.LogRecord) -> bool:
    if _interrupted.is_set():
        return False
    with contextlib.suppress(Exception):  # a record whose message cannot be formatted is not ours
        if any(text in record.getMessage() for text in _PREFECT_SIGNAL_CRASH):
            _set_interrupted()
            return False
    return True


def quiet_console_after_interrupt() -> None:
    """Every console handler of Python's logging (Prefect's included, so call this after
    Prefect is imported) prints nothing once the run is interrupted."""
    loggers = [logging.getLogger()] + [logger for logger in logging.Logger.manager.loggerDict.values()
                                       if isinstance(logger, logging.Logger)]
    for logger in loggers:
        for handler in logger.handlers:
            is_console = isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler)
            if is_console and _quiet_after_interrupt not in handler.filters:
                handler.addFilter(_quiet_after_interrupt)


@contextlib.contextmanager
def handler_errors_unprinted() -> Iterator[None]:
    """Logging handlers that fail say nothing (Python's logging.raiseExceptions off), while
    active. Prefect's handler that sends logs to its API prints each failure to stderr
    itself: a server that went away got several such lines before the one that says so."""
    previous, logging.raiseExceptions = logging.raiseExceptions, False
    try:
        yield
    finally:
        logging.raiseExceptions = previous


# A server is gone when this many health checks in a row fail, one a second. Refused
# connections fail at once (about 3 s in all); a server that accepts but never answers
# takes HEALTH_TIMEOUT_SECONDS a check.
FAILED_CHECKS_BEFORE_GONE = 3
HEALTH_TIMEOUT_SECONDS = 10.0
# How long the run may take to unwind after the server went; then it is ended outright.
UNWIND_SECONDS = 5.0


@contextlib.contextmanager
def watch_prefect_api(api_url: str, process=None,
                      on_forced_exit: Callable[[], None] = lambda: None) -> Iterator[None]:
    """While active, a thread checks the Prefect API (and ``process``, the server's, when it is
    ours). When it is gone, the main thread gets PrefectServerGone; if it has not finished
    unwinding after UNWIND_SECONDS (Prefect's own calls to the dead API retry for minutes),
    ``on_forced_exit`` runs (terminate workers), the line is printed and the process exits."""
    stop = threading.Event()
    if not api_url:  # nothing to watch (Prefect would start a server of its own)
        yield
        return

    def gone() -> bool:
        import httpx

        failures = 0
        with httpx.Client(timeout=HEALTH_TIMEOUT_SECONDS) as client:
            while not stop.wait(1.0):
                if process is not None and process.poll() is not None:
                    return True
                try:
                    healthy = client.get(f"{api_url.rstrip('/')}/health").status_code == 200
                except httpx.HTTPError:
                    healthy = False
                failures = 0 if healthy else failures + 1
                if failures >= FAILED_CHECKS_BEFORE_GONE:
                    return True
        return False

    def watch() -> None:
        global _server_gone
        if not gone() or _raised:
            return
        _server_gone = PrefectServerGone(api_url)
        _set_interrupted()  # quiet at once: the main thread may take a moment to get the signal
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)  # wakes a blocked main thread
        time.sleep(UNWIND_SECONDS)
        if _reported:  # the main thread got through and said so itself
            return
        on_forced_exit()
        exit_now(report_once(_server_gone))

    watcher = threading.Thread(target=watch, name="prefect-api-watchdog", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()


def mark_interrupted() -> None:
    """An interrupt is on its way out (e.g. Prefect's TerminationSignal, raised by its own
    SIGTERM handler, reached a task runner): the console is quiet from now on."""
    _set_interrupted()


def server_gone() -> PrefectServerGone | None:
    return _server_gone


def exit_now(code: int) -> None:
    """End the process without waiting for Prefect's queued logs and events (sent to a
    server that may be gone, with retries) or for a thread still in its batch."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)

