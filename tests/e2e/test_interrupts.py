"""Ctrl-C, SIGTERM and a dying Prefect server: `quotewire run` as a user runs it (a subprocess
with its temporary Prefect server and worker processes), interrupted at start-up, during the
analysis and around the publish. Ctrl-C is sent as a terminal sends it: to the whole process
group. Each run must end on one line, with no process left behind, the published warehouse
as it was (or wholly this run's), and nothing the next run does not sweep."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from quotewire.cli import WAREHOUSE_BUILT, WAREHOUSE_PUBLISHED, WAREHOUSE_UNCHANGED
from quotewire.publish.store import PART_TABLES, STAGING_SUFFIX, Warehouse
from e2e.test_flows import ARTICLES, write_raw

QUOTEWIRE = str(Path(sys.executable).parent / "quotewire")
INTERRUPTED_UNCHANGED = f"quotewire: interrupted; {WAREHOUSE_UNCHANGED}"
SPEAKERS = ("Miriam Okonkwo", "Daniel Price", "Ruth Adeyemi", "Tomas Lindqvist")


def invented_articles(count: int, start: int = 0) -> dict[str, str]:
    """Enough articles of our own for an analysis that lasts a few seconds."""
    articles = {}
    for number in range(start, start + count):
        speaker, other = SPEAKERS[number % 4], SPEAKERS[(number + 1) % 4]
        paragraphs = [f"Council story {number} on the harbour budget"]
        for line in range(6):
            paragraphs.append(f'"Plan {number}.{line} will cost the town {number * 7 + line} pounds," said {speaker}.')
            paragraphs.append(f'{other} called it "a waste of a good harbour" on Tuesday in Whitby.')
        articles[f"coast-weekly/story-{number:04d}.txt"] = "\n\n".join(paragraphs) + "\n"
    return articles


class Run:
    """`quotewire run` in a session of its own (so signals can go to its process group, as
    a terminal's Ctrl-C does), its stderr read line by line as it comes."""

    def __init__(self, tmp_path: Path, raw: Path, warehouse: Path, workers: int, env: dict[str, str] | None = None):
        run_env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
        run_env.update(PREFECT_HOME=str(tmp_path / "prefect-home"), QUOTEWIRE_BATCH_SIZE="4")
        run_env.update(env or {})
        self.lines: list[str] = []
        self._seen = threading.Condition()
        self.process = subprocess.Popen(
            [QUOTEWIRE, "run", "--workers", str(workers), "--raw", str(raw), "--warehouse", str(warehouse)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=run_env, start_new_session=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stderr:
            with self._seen:
                self.lines.append(line.rstrip("\n"))
                self._seen.notify_all()

    def wait_for_line(self, text: str, timeout: float = 180) -> None:
        def seen_or_ended() -> bool:
            return any(text in line for line in self.lines) or self.process.poll() is not None

        with self._seen:
            assert self._seen.wait_for(seen_or_ended, timeout), f"no {text!r} within {timeout} s: {self.lines}"
        assert self.process.poll() is None, f"the run ended before {text!r}: {self.lines}"

    def wait_for_children(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not psutil.Process(self.process.pid).children():
            assert time.monotonic() < deadline, "the run started no process"
            time.sleep(0.05)

    def descendants(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children(recursive=True)

    def lines_so_far(self) -> int:
        with self._seen:
            return len(self.lines)

    def interrupt(self, signum: int, whole_group: bool) -> tuple[int, list[str], float]:
        """Send the signal; the exit code, the stderr lines written after it, and the seconds
        the run took to exit."""
        before = self.lines_so_far()
        sent = time.monotonic()
        if whole_group:
            os.killpg(self.process.pid, signum)
        else:
            self.process.send_signal(signum)
        code = self.process.wait(timeout=120)
        took = time.monotonic() - sent
        self._reader.join(timeout=10)
        return code, self.lines[before:], took

    def finish(self, timeout: float = 300) -> int:
        code = self.process.wait(timeout=timeout)
        self._reader.join(timeout=10)
        return code


def assert_one_line(lines: list[str], expected: str) -> None:
    """The run's last word is ``expected``, and nothing came with it: no traceback, no crash
    report, no retries. Only the run's ordinary progress lines may come before it, from
    threads that logged as the signal arrived, before the main thread had handled it."""
    assert lines and lines[-1] == expected, lines
    ordinary = [line for line in lines[:-1]
                if line.endswith("Finished in state Completed()") or line.startswith("analysing files: ")]
    assert lines[:-1] == ordinary


def assert_all_gone(processes: list[psutil.Process]) -> None:
    """Every process the run had started has exited (the resource tracker a moment after
    the last worker)."""
    _, alive = psutil.wait_procs(processes, timeout=10)
    assert not alive, [" ".join(p.cmdline()[:6]) for p in alive]


def staging_folders(warehouse: Path) -> list[str]:
    snapshots = warehouse / "snapshots"
    return sorted(p.name for p in snapshots.glob(f"*{STAGING_SUFFIX}")) if snapshots.is_dir() else []


def completed_run(tmp_path: Path, raw: Path, warehouse: Path, workers: int = 2) -> None:
    run = Run(tmp_path, raw, warehouse, workers)
    assert run.finish() == 0, run.lines


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    """A warehouse with one run published (the three articles of test_flows)."""
    root = tmp_path_factory.mktemp("published")
    raw = write_raw(root / "raw", ARTICLES)
    completed_run(root, raw, root / "warehouse", workers=1)
    return root / "warehouse"


def warehouse_with_new_articles(published: Path, tmp_path: Path, count: int) -> tuple[Path, Path, Path]:
    """A copy of the published warehouse, a raw folder with ``count`` new articles beside
    the published ones, and the snapshot that is published."""
    warehouse = tmp_path / "warehouse"
    shutil.copytree(published, warehouse, symlinks=True)
    raw = write_raw(tmp_path / "raw", {**ARTICLES, **invented_articles(count)})
    snapshot = Warehouse(warehouse).current_snapshot()
    assert snapshot is not None and snapshot.parent == warehouse / "snapshots"
    return raw, warehouse, snapshot


def assert_published_unchanged(warehouse: Path, snapshot: Path) -> None:
    assert Warehouse(warehouse).current_snapshot() == snapshot
    assert Warehouse(warehouse).read_table("articles").num_rows == len(ARTICLES)


@pytest.mark.slow
def test_ctrl_c_at_start_up_ends_the_run_on_one_line_and_leaves_no_process(tmp_path):
    raw, warehouse = write_raw(tmp_path / "raw", ARTICLES), tmp_path / "warehouse"
    run = Run(tmp_path, raw, warehouse, workers=2)
    run.wait_for_children()  # the temporary server and the workers are starting
    time.sleep(0.5)
    started = run.descendants()
    code, lines, _ = run.interrupt(signal.SIGINT, whole_group=True)

    assert code == 130
    assert lines == [INTERRUPTED_UNCHANGED]
    assert_all_gone(started)
    assert Warehouse(warehouse).current_snapshot() is None


@pytest.mark.slow
def test_ctrl_c_during_analysis_leaves_the_published_snapshot_and_the_next_run_sweeps(published, tmp_path):
    raw, warehouse, snapshot = warehouse_with_new_articles(published, tmp_path, 120)
    run = Run(tmp_path, raw, warehouse, workers=2)
    run.wait_for_line("to analyse")
    time.sleep(1)
    workers_and_server = run.descendants()
    code, lines, took = run.interrupt(signal.SIGINT, whole_group=True)

    assert code == 130
    assert_one_line(lines, INTERRUPTED_UNCHANGED)  # no tracebacks from workers, no "Crash detected!"
    assert took < 20
    assert_all_gone(workers_and_server)
    assert_published_unchanged(warehouse, snapshot)
    assert staging_folders(warehouse)  # the interrupted snapshot, for the next run to sweep

    completed_run(tmp_path, raw, warehouse)
    assert staging_folders(warehouse) == []
    assert Warehouse(warehouse).read_table("articles").num_rows == len(ARTICLES) + 120


@pytest.mark.slow
def test_sigterm_to_the_run_alone_ends_its_workers_and_server_and_exits_143(published, tmp_path):
    """A service manager's stop: SIGTERM to the run's process only, which must end its
    children itself."""
    raw, warehouse, snapshot = warehouse_with_new_articles(published, tmp_path, 120)
    run = Run(tmp_path, raw, warehouse, workers=2)
    run.wait_for_line("to analyse")
    time.sleep(1)
    workers_and_server = run.descendants()
    code, lines, took = run.interrupt(signal.SIGTERM, whole_group=False)

    assert code == 143
    assert_one_line(lines, INTERRUPTED_UNCHANGED)
    assert took < 20
    assert_all_gone(workers_and_server)
    assert_published_unchanged(warehouse, snapshot)
    with Warehouse(warehouse).lock():  # what the next run does first
        assert staging_folders(warehouse) == []


@pytest.mark.slow
def test_sigterm_to_a_run_on_one_thread_does_not_wait_for_its_batch(published, tmp_path):
    """With one worker the batches run in a thread of the run itself, which cannot be
    stopped: the run exits without waiting for it."""
    raw, warehouse, snapshot = warehouse_with_new_articles(published, tmp_path, 400)
    run = Run(tmp_path, raw, warehouse, workers=1, env={"QUOTEWIRE_BATCH_SIZE": "1000"})
    run.wait_for_line("to analyse")
    time.sleep(1)
    code, lines, took = run.interrupt(signal.SIGTERM, whole_group=False)

    assert code == 143
    assert_one_line(lines, INTERRUPTED_UNCHANGED)
    assert took < 10  # its one batch of 400 articles takes longer than that
    assert_published_unchanged(warehouse, snapshot)


@pytest.mark.slow
def test_ctrl_c_after_the_analysis_leaves_either_snapshot_whole_and_says_which(published, tmp_path):
    """The signal lands as the run carries parts over, publishes or builds the database:
    the published snapshot is the old one or this run's, never a mix, and the line says
    which; the next run finishes the job."""
    raw, warehouse, snapshot = warehouse_with_new_articles(published, tmp_path, 8)
    run = Run(tmp_path, raw, warehouse, workers=2)
    run.wait_for_line("analysing files: 8 articles in")  # the analysis is done
    code, lines, _ = run.interrupt(signal.SIGINT, whole_group=True)

    assert code in (130, 0)  # 0: the run was already done when the signal came
    now = Warehouse(warehouse).current_snapshot()
    if code == 130:
        if now == snapshot:
            assert_one_line(lines, INTERRUPTED_UNCHANGED)
            assert_published_unchanged(warehouse, snapshot)
        else:  # published; the database too if the signal came after the models were built
            built = (warehouse / "quotewire.duckdb").stat().st_mtime_ns > (warehouse / "parquet").lstat().st_mtime_ns
            assert_one_line(lines, f"quotewire: interrupted; {WAREHOUSE_BUILT if built else WAREHOUSE_PUBLISHED}")
    assert Warehouse(warehouse).read_table("articles").num_rows in (len(ARTICLES), len(ARTICLES) + 8)

    completed_run(tmp_path, raw, warehouse)
    assert staging_folders(warehouse) == []
    assert Warehouse(warehouse).read_table("articles").num_rows == len(ARTICLES) + 8
    assert (warehouse / "quotewire.duckdb").stat().st_mtime_ns > (warehouse / "parquet").lstat().st_mtime_ns


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_a_prefect_server_that_dies_mid_run_fails_the_run_within_seconds_on_one_line(published, tmp_path):
    port = _free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "server-home"), "PREFECT_API_URL": api_url,
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    prefect = shutil.which("prefect", path=str(Path(sys.executable).parent))
    server = subprocess.Popen([prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{api_url}/health", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline, "prefect server did not start"
                time.sleep(0.5)
        raw, warehouse, snapshot = warehouse_with_new_articles(published, tmp_path, 200)
        run = Run(tmp_path, raw, warehouse, workers=2, env={"PREFECT_API_URL": api_url})
        run.wait_for_line("to analyse")
        time.sleep(1)
        workers = run.descendants()
        before = run.lines_so_far()
        killed = time.monotonic()
        os.killpg(server.pid, signal.SIGKILL)
        code = run.finish(timeout=120)
        took = time.monotonic() - killed

        after = run.lines[before:]
        assert code == 1, after
        # Before the run noticed, batches went on finishing (and said so, as in any run);
        # nothing else: no retries, connection errors or tracebacks.
        assert_one_line(after, f"quotewire: the Prefect server at {api_url} stopped answering; {WAREHOUSE_UNCHANGED}")
        assert took < 30, took
        assert_all_gone(workers)
        assert_published_unchanged(warehouse, snapshot)
    finally:
        try:
            os.killpg(server.pid, signal.SIGKILL)  # `prefect server start` and its uvicorn
        except ProcessLookupError:
            pass
        server.wait(timeout=20)


def _rows(name: str, ids: list[str]):
    """A table of ``name`` with one row per id, every column filled by its type."""
    from datetime import datetime, timezone

    import pyarrow as pa

    from quotewire.publish import schemas

    schema = schemas.TABLES[name]

    def value(field: pa.Field, row_id: str):
        if pa.types.is_string(field.type):
            return row_id
        if pa.types.is_timestamp(field.type):
            return datetime(2026, 5, 2, tzinfo=timezone.utc)
        if pa.types.is_boolean(field.type):
            return False
        if pa.types.is_integer(field.type) or pa.types.is_floating(field.type):
            return 0
        return None

    return pa.Table.from_pylist([{field.name: value(field, row_id) for field in schema} for row_id in ids],
                                schema=schema)


def _publish(warehouse: Warehouse, run_id: str, ids: list[str]) -> None:
    staging = warehouse.begin(run_id)
    staging.write_whole("article_sources", _rows("article_sources", ids))
    staging.write_part({name: _rows(name, ids) for name in PART_TABLES}, "part-one.parquet")
    staging.publish()


def test_an_interrupt_at_any_step_of_publish_leaves_the_old_snapshot_or_the_new_one_whole(tmp_path, monkeypatch):
    """KeyboardInterrupt before each file-system call publish makes, in turn: the snapshot
    readers see is always one of the two, complete, and the next lock sweeps the rest."""
    calls = ("rename", "replace", "symlink", "fsync", "unlink", "rmdir")
    step, outcomes = 0, set()
    while True:
        warehouse = Warehouse(tmp_path / f"warehouse-{step}")
        with warehouse.lock():
            _publish(warehouse, "old", ["a", "b"])
        seen = {"n": 0}

        def interrupting(original):
            def call(*args, **kwargs):
                seen["n"] += 1
                if seen["n"] == step + 1:
                    raise KeyboardInterrupt
                return original(*args, **kwargs)
            return call

        with monkeypatch.context() as patched:
            staging = warehouse.begin("new")
            staging.write_whole("article_sources", _rows("article_sources", ["a", "b", "c"]))
            staging.write_part({name: _rows(name, ["a", "b", "c"]) for name in PART_TABLES}, "part-one.parquet")
            for name in calls:
                patched.setattr(os, name, interrupting(getattr(os, name)))
            try:
                staging.publish()
                interrupted = False
            except KeyboardInterrupt:
                interrupted = True

        current = warehouse.current_snapshot()
        assert current is not None and current.name in ("old", "new")
        expected = ["a", "b"] if current.name == "old" else ["a", "b", "c"]
        for table in ("articles", "article_sources", "quotes"):
            assert sorted(warehouse.read_table(table).column(0).to_pylist()) == expected
        outcomes.add(current.name)
        with warehouse.lock():
            assert staging_folders(warehouse.root) == []
            assert not list(warehouse.root.glob(".parquet.tmp-*"))
            left = sorted(p.name for p in (warehouse.root / "snapshots").iterdir())
            assert left == (["old"] if current.name == "old" else ["new", "old"])  # no snapshot never linked
        if not interrupted:
            break
        step += 1
    assert outcomes == {"old", "new"}  # both were reached: the steps spanned the swap
    assert step > 3, step


@pytest.mark.slow
def test_ctrl_c_typed_in_a_terminal_during_analysis_ends_the_run_on_one_line(published, tmp_path):
    """The real thing: the run on a pseudo-terminal (so its progress is a live bar), and the
    Ctrl-C character typed into it, which the terminal turns into SIGINT for the run's
    foreground process group."""
    import fcntl
    import pty
    import re
    import termios

    raw, warehouse, snapshot = warehouse_with_new_articles(published, tmp_path, 120)
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(PREFECT_HOME=str(tmp_path / "prefect-home"), QUOTEWIRE_BATCH_SIZE="4", TERM="xterm")
    controller, terminal = pty.openpty()
    run = subprocess.Popen(
        [QUOTEWIRE, "run", "--workers", "2", "--raw", str(raw), "--warehouse", str(warehouse)],
        stdin=terminal, stdout=terminal, stderr=terminal, env=env, start_new_session=True,
        preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))  # the run's controlling terminal
    os.close(terminal)
    output = bytearray()
    analysing = threading.Event()

    def read() -> None:
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the terminal's other side closed: the run is gone
                return
            if not chunk:
                return
            output.extend(chunk)
            if b"analysing files" in output:
                analysing.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert analysing.wait(180), output.decode(errors="replace")
        time.sleep(1)
        children = psutil.Process(run.pid).children(recursive=True)
        typed_at = len(output)
        os.write(controller, b"\x03")
        code = run.wait(timeout=60)
        reader.join(timeout=10)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
        os.close(controller)

    after = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", output[typed_at:].decode(errors="replace"))
    lines = [line.strip() for line in after.replace("\r", "\n").splitlines() if line.strip()]
    assert code == 130
    assert lines[-1] == INTERRUPTED_UNCHANGED
    # Before it only the terminal's echo of ^C, the bar's last frame and the log line of a batch
    # that finished as the key was typed: no traceback, no crash.
    assert not [line for line in lines[:-1] if "analysing files" not in line and line != "^C"
                and not line.endswith("Finished in state Completed()")], lines
    assert_all_gone(children)
    assert_published_unchanged(warehouse, snapshot)
