"""Safe by default: a run refuses to wipe the warehouse because the raw root is missing, empty or
unreadable, or because most of its files are gone (guard.py); wrong paths are one line and a
non-zero exit; `serve` refuses to start when it cannot serve; `sql | head` is no error.

Through the plain functions, the command line and a deployment served against a real local
Prefect server."""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from quotewire.publish.guard import (
    PathProblem, RunRefused, articles_removed, deletion_refusal, parse_share, raw_root_problem,
)
from quotewire.settings import Settings
from quotewire.publish.store import Warehouse

BIN = Path(sys.executable).parent
N_ARTICLES = 20


def harbour_notes(root: Path, numbers=range(N_ARTICLES)) -> Path:
    """One short invented article per number, each text distinct."""
    root.mkdir(parents=True, exist_ok=True)
    for i in numbers:
        (root / f"note{i:02d}.txt").write_text(
            f"Harbour note {i}\n\n\"Tide table {i} is out today,\" said the harbour master, Ines Vale.\n")
    return root


def keep_only(raw: Path, n: int) -> None:
    for path in sorted(raw.glob("*.txt"))[n:]:
        path.unlink()


def published_state(warehouse: Path) -> tuple[str, list[tuple]]:
    """The snapshot readers see and its articles, to show a refused run changed nothing."""
    link = os.readlink(warehouse / "parquet")
    articles = Warehouse(warehouse).read_table("articles").sort_by("article_id")
    return link, articles.select(["article_id", "text"]).to_pylist()


def n_articles(warehouse: Path) -> int:
    return Warehouse(warehouse).read_table("articles").num_rows


def without_permission_override() -> None:
    """In a child about to exec: root without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH obeys
    file modes like any user, so a folder of mode 000 is unreadable to it."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


@contextlib.contextmanager
def unreadable(folder: Path):
    folder.chmod(0)
    try:
        yield folder
    finally:
        folder.chmod(0o755)


# --- the decision, as plain functions ---------------------------------------------------------


def test_a_first_run_removes_nothing_so_it_is_never_refused():
    assert deletion_refusal(0, 0, max_share=0.2, allow_deletions=False, raw_dir="raw") is None


def test_removing_every_article_is_refused_whatever_the_share():
    message = deletion_refusal(3, 3, max_share=1.0, allow_deletions=False, raw_dir="/mnt/feed")
    assert message.startswith("refused: this run would remove all 3 articles of the warehouse "
                              "(raw folder /mnt/feed holds none of their files)")
    assert "--allow-deletions" in message and "\n" not in message


@pytest.mark.parametrize("removed, refused", [(2, False), (4, False), (5, True), (17, True)])
def test_more_than_the_share_is_refused_and_up_to_it_is_allowed(removed, refused):
    message = deletion_refusal(removed, 20, max_share=0.2, allow_deletions=False, raw_dir="raw")
    assert (message is not None) == refused
    if refused:
        assert f"would remove {removed} of 20 articles ({removed / 20:.0%}), more than the 20% allowed" in message


def test_allow_deletions_lets_every_plan_through():
    assert deletion_refusal(20, 20, max_share=0.2, allow_deletions=True, raw_dir="raw") is None


def test_an_edited_file_or_a_surviving_copy_removes_no_article():
    ledger = [("a.txt", "A"), ("b.txt", "B"), ("b-copy.txt", "B"), ("c.txt", "C")]
    # a.txt edited (same path, new bytes), b.txt gone but its copy stays, c.txt gone
    assert articles_removed(ledger, {"a.txt", "b-copy.txt"}) == (1, 3)


def test_an_article_whose_text_another_path_still_holds_is_not_removed():
    ledger = [("a.html", "A"), ("b.txt", "B")]
    # a.html became a.html.gz (same text, so not among the plan's text-gone ids); b.txt is gone
    assert articles_removed(ledger, {"a.html.gz"}, text_gone={"B"}) == (1, 2)
    assert articles_removed(ledger, {"a.html.gz"}) == (2, 2)


def test_a_share_is_a_fraction_or_a_percentage_between_none_and_all():
    assert parse_share("0.35") == 0.35 and parse_share("20%") == 0.2 and parse_share(1) == 1.0
    for bad in ("1.5", "-0.1", "120%"):
        with pytest.raises(ValueError, match="between 0 and 1"):
            parse_share(bad)


def test_the_setting_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("QUOTEWIRE_MAX_DELETE_SHARE", raising=False)
    assert Settings().max_delete_share == 0.2
    monkeypatch.setenv("QUOTEWIRE_MAX_DELETE_SHARE", "5%")
    assert Settings().max_delete_share == 0.05


def test_a_raw_root_that_is_missing_a_file_or_unreadable_is_named(tmp_path):
    (tmp_path / "file.txt").write_text("x")
    assert raw_root_problem(tmp_path / "gone") == f"raw folder {tmp_path / 'gone'} does not exist"
    assert raw_root_problem(tmp_path / "file.txt") == f"raw folder {tmp_path / 'file.txt'} is not a directory"
    assert raw_root_problem(tmp_path) is None


# --- through the ingest (no Prefect) ----------------------------------------------------------


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """A warehouse of N_ARTICLES articles with its models built, and its raw dir."""
    from quotewire.publish.ingest import ingest_serially
    from quotewire.models.build import build_models

    root = tmp_path_factory.mktemp("published")
    settings = Settings().with_overrides(raw_dir=harbour_notes(root / "raw"), warehouse_dir=root / "warehouse")
    ingest_serially(settings)
    build_models(settings.parquet_dir, settings.database_path, settings.marts_dir, settings.sql_dir)
    assert n_articles(settings.warehouse_dir) == N_ARTICLES
    return settings


@pytest.fixture
def copy(published, tmp_path) -> Settings:
    """A copy of the published warehouse and its raw dir, for one test to change."""
    shutil.copytree(published.raw_dir, tmp_path / "raw")
    shutil.copytree(published.warehouse_dir, tmp_path / "warehouse", symlinks=True)
    return published.with_overrides(raw_dir=tmp_path / "raw", warehouse_dir=tmp_path / "warehouse")


@pytest.mark.slow
def test_an_empty_raw_root_is_refused_and_the_published_warehouse_stays(copy):
    from quotewire.publish.ingest import ingest_serially

    before = published_state(copy.warehouse_dir)
    keep_only(copy.raw_dir, 0)
    with pytest.raises(RunRefused, match=f"would remove all {N_ARTICLES} articles"):
        ingest_serially(copy)
    assert published_state(copy.warehouse_dir) == before
    assert not list((copy.warehouse_dir / "snapshots").glob("*.staging"))  # refused before staging


@pytest.mark.slow
def test_a_missing_raw_root_fails_before_anything_is_planned(copy, monkeypatch):
    from quotewire.publish import ingest

    monkeypatch.setattr(ingest, "plan_ingest", lambda *a: pytest.fail("planned"))
    shutil.rmtree(copy.raw_dir)
    with pytest.raises(PathProblem, match="does not exist"):
        ingest.ingest_serially(copy)


@pytest.mark.slow
def test_a_tenth_deleted_is_published_and_a_lower_share_refuses_it(copy):
    from quotewire.publish.ingest import ingest_serially

    keep_only(copy.raw_dir, N_ARTICLES - 2)
    with pytest.raises(RunRefused, match="would remove 2 of 20 articles"):
        ingest_serially(copy.with_overrides(max_delete_share=0.05))
    assert ingest_serially(copy).articles_removed == 2
    assert n_articles(copy.warehouse_dir) == N_ARTICLES - 2


# --- through the command line -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory):
    """A real local Prefect server for this module: its environment for commands to use."""
    port = free_port()
    env = {**os.environ, "PREFECT_HOME": str(tmp_path_factory.mktemp("prefect-home")),
           "PREFECT_API_URL": f"http://127.0.0.1:{port}/api", "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "QUOTEWIRE_WORKERS": "1", "PREFECT_RUNNER_POLL_FREQUENCY": "1"}
    server = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2)
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "prefect server did not start"
                time.sleep(0.5)
        yield env
    finally:
        stop(server)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def quotewire(*args: str, env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "quotewire"), *map(str, args)], capture_output=True, text=True,
                          timeout=300, env=env, **kwargs)


def one_line(done: subprocess.CompletedProcess) -> str:
    """The command's own message (Prefect's log lines aside): exactly one, and no traceback."""
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("quotewire")]
    assert len(lines) == 1, done.stderr
    return lines[0]


def run(settings: Settings, env: dict, *flags: str) -> subprocess.CompletedProcess:
    return quotewire("run", "--quiet", "--workers", "1", "--raw", settings.raw_dir,
                     "--warehouse", settings.warehouse_dir, *flags, env=env)


@pytest.mark.slow
def test_run_on_a_missing_raw_root_says_so_and_changes_nothing(copy):
    before = published_state(copy.warehouse_dir)
    shutil.rmtree(copy.raw_dir)
    done = run(copy, None)
    assert done.returncode == 1
    assert one_line(done) == f"quotewire: raw folder {copy.raw_dir} does not exist"
    assert published_state(copy.warehouse_dir) == before


@pytest.mark.slow
def test_run_on_a_raw_path_that_is_a_file_says_it_is_no_folder(copy):
    done = run(copy.with_overrides(raw_dir=copy.raw_dir / "note00.txt"), None)
    assert done.returncode == 1
    assert one_line(done) == f"quotewire: raw folder {copy.raw_dir / 'note00.txt'} is not a directory"


@pytest.mark.slow
def test_run_on_an_unreadable_raw_root_says_permission_denied(copy):
    before = published_state(copy.warehouse_dir)
    with unreadable(copy.raw_dir):
        done = quotewire("run", "--quiet", "--raw", copy.raw_dir, "--warehouse", copy.warehouse_dir,
                         preexec_fn=without_permission_override)
    assert done.returncode == 1
    assert one_line(done) == f"quotewire: raw folder {copy.raw_dir} cannot be read: Permission denied"
    assert published_state(copy.warehouse_dir) == before


@pytest.mark.slow
def test_run_over_an_emptied_raw_root_is_refused_in_one_line(copy, prefect_server):
    before = published_state(copy.warehouse_dir)
    keep_only(copy.raw_dir, 0)
    done = run(copy, prefect_server)
    assert done.returncode == 1
    assert one_line(done).startswith(f"quotewire: refused: this run would remove all {N_ARTICLES} articles")
    assert published_state(copy.warehouse_dir) == before


@pytest.mark.slow
def test_run_removing_85_percent_is_refused_unless_the_share_allows_it(copy, prefect_server):
    before = published_state(copy.warehouse_dir)
    keep_only(copy.raw_dir, 3)
    done = run(copy, prefect_server)
    assert done.returncode == 1
    assert one_line(done).startswith("quotewire: refused: this run would remove 17 of 20 articles (85%), "
                                     "more than the 20% allowed")
    assert published_state(copy.warehouse_dir) == before

    done = run(copy, prefect_server, "--max-delete-share", "90%")
    assert done.returncode == 0, done.stderr
    assert n_articles(copy.warehouse_dir) == 3


@pytest.mark.slow
def test_run_removing_10_percent_publishes(copy, prefect_server):
    keep_only(copy.raw_dir, N_ARTICLES - 2)
    done = run(copy, prefect_server)
    assert done.returncode == 0, done.stderr
    assert n_articles(copy.warehouse_dir) == N_ARTICLES - 2


@pytest.mark.slow
def test_allow_deletions_over_an_empty_raw_root_empties_the_warehouse(copy, prefect_server):
    keep_only(copy.raw_dir, 0)
    done = run(copy, prefect_server, "--allow-deletions")
    assert done.returncode == 0, done.stderr
    assert n_articles(copy.warehouse_dir) == 0


def test_a_warehouse_path_that_is_a_file_is_named_by_every_command(tmp_path):
    (tmp_path / "raw").mkdir()
    file = tmp_path / "warehouse.txt"
    file.write_text("not a warehouse")
    for command in (["run", "--raw", tmp_path / "raw"], ["sql", "select 1"], ["check", "--raw", tmp_path / "raw"],
                    ["report"], ["serve", "--raw", tmp_path / "raw"]):
        done = quotewire(*command, "--warehouse", file)
        assert done.returncode == 1, command
        assert one_line(done) == f"quotewire: warehouse {file} is not a directory", command


def test_reading_commands_on_a_folder_without_a_warehouse_say_so_and_create_nothing(tmp_path):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "a.txt").write_text("An article\n\nIt has a body.\n")
    (tmp_path / "empty").mkdir()
    for folder in (tmp_path / "empty", tmp_path / "typo"):
        for command in (["sql", "select 1"], ["check", "--raw", tmp_path / "raw"], ["report"]):
            done = quotewire(*command, "--warehouse", folder)
            assert done.returncode == 1, command
            assert one_line(done) == f"quotewire: no warehouse at {folder}; run quotewire run first", command
            assert done.stdout == ""  # check lists no file as unaccounted
    assert not (tmp_path / "typo").exists()  # report created no folder on the typo
    assert list((tmp_path / "empty").iterdir()) == []


@pytest.mark.slow
def test_check_on_a_raw_path_that_is_a_file_says_it_is_no_folder(copy):
    done = quotewire("check", "--raw", copy.raw_dir / "note00.txt", "--warehouse", copy.warehouse_dir)
    assert done.returncode == 1
    assert one_line(done) == f"quotewire: raw folder {copy.raw_dir / 'note00.txt'} is not a directory"


@pytest.fixture
def database_only(tmp_path) -> Path:
    """A warehouse folder whose database holds nothing: enough for sql to query."""
    import duckdb

    duckdb.connect(str(tmp_path / "quotewire.duckdb")).close()
    return tmp_path


@pytest.mark.parametrize("query", ["", "   ", "-- only a comment"])
def test_an_empty_sql_query_says_so(database_only, query):
    done = quotewire("sql", query, "--warehouse", database_only)
    assert done.returncode == 1
    assert one_line(done) == ('quotewire: the SQL query is empty; give one, '
                              'e.g. quotewire sql "select * from quotes_per_speaker"')


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_sql_into_a_pipe_closed_early_exits_0_without_a_word(database_only, json_flag):
    command = [str(BIN / "quotewire"), "sql", "select * from range(200000)", "--warehouse", str(database_only),
               *json_flag]
    sql = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    head = subprocess.run(["head", "-n", "2"], stdin=sql.stdout, capture_output=True)
    sql.stdout.close()
    stderr = sql.stderr.read().decode()
    assert sql.wait(timeout=60) == 0, stderr
    assert stderr == "" and len(head.stdout.splitlines()) == 2


# --- serve ------------------------------------------------------------------------------------


def test_serve_without_a_prefect_server_refuses_to_start(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    done = quotewire("serve", "--warehouse", tmp_path / "warehouse", env=env)
    assert done.returncode == 1
    assert one_line(done) == ("quotewire: serve needs a Prefect server that outlives it: start one "
                              "(prefect server start) and set PREFECT_API_URL, e.g. http://127.0.0.1:4200/api")

    url = f"http://127.0.0.1:{free_port()}/api"  # nothing listens there
    done = quotewire("serve", "--warehouse", tmp_path / "warehouse", env={**env, "PREFECT_API_URL": url})
    assert done.returncode == 1
    assert one_line(done).startswith(f"quotewire: no Prefect server answers at {url} (")


def test_serve_with_a_bad_cron_expression_says_so_in_one_line(tmp_path):
    done = quotewire("serve", "--cron", "61 * * *", "--warehouse", tmp_path / "warehouse")
    assert done.returncode == 1
    assert one_line(done) == ("quotewire: --cron '61 * * *' is not a valid cron expression "
                              "(Invalid cron string: \"61 * * *\")")


DEPLOYMENT = "pipeline/quotewire-guard"


@pytest.fixture(scope="module")
def served(prefect_server, published, tmp_path_factory):
    """`quotewire serve` registered with the module's Prefect server, running its deployment's
    flow runs (as root, without the permission override, so a mode-000 folder is unreadable)."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    home = tmp_path_factory.mktemp("serve")
    serve = subprocess.Popen([str(BIN / "quotewire"), "serve", "--name", "quotewire-guard", "--cron", "0 0 1 1 *",
                              "--raw", str(published.raw_dir), "--warehouse", str(home / "warehouse")],
                             env=prefect_server, cwd=home, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             preexec_fn=without_permission_override)
    try:
        with temporary_settings(updates={PREFECT_API_URL: prefect_server["PREFECT_API_URL"]}):
            deadline = time.monotonic() + 120
            with get_client(sync_client=True) as client:
                while True:
                    try:
                        client.read_deployment_by_name(DEPLOYMENT)
                        break
                    except Exception:
                        assert serve.poll() is None and time.monotonic() < deadline, "serve did not register"
                        time.sleep(1)
            yield
    finally:
        stop(serve)


def served_run(settings: Settings, **parameters):
    """One run of the served deployment over ``settings``' folders: (its final state, its run
    report artifact)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey
    from prefect.deployments import run_deployment

    flow_run = run_deployment(DEPLOYMENT, timeout=300, poll_interval=1, parameters={
        "raw_dir": str(settings.raw_dir), "warehouse_dir": str(settings.warehouse_dir), **parameters})
    assert flow_run.state.is_final(), flow_run.state
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run.id]), key=ArtifactFilterKey(any_=["quotewire-run-report"])))
    return flow_run.state, (artifacts[0].data if artifacts else None)


def assert_refused(state, report: str, message: str) -> None:
    assert state.is_failed() and state.name == "Refused"
    assert state.message.startswith(message) and "\n" not in state.message
    assert report.startswith("# quotewire run refused") and state.message in report


@pytest.mark.slow
def test_served_run_over_a_missing_raw_root_fails_with_the_reason(served, copy):
    before = published_state(copy.warehouse_dir)
    shutil.rmtree(copy.raw_dir)
    state, report = served_run(copy)
    assert_refused(state, report, f"raw folder {copy.raw_dir} does not exist")
    assert published_state(copy.warehouse_dir) == before


@pytest.mark.slow
def test_served_run_over_a_root_replaced_by_an_empty_folder_is_refused(served, copy):
    before = published_state(copy.warehouse_dir)
    keep_only(copy.raw_dir, 0)
    state, report = served_run(copy)
    assert_refused(state, report, f"refused: this run would remove all {N_ARTICLES} articles")
    assert published_state(copy.warehouse_dir) == before


@pytest.mark.slow
def test_served_run_over_an_unreadable_root_is_refused(served, copy):
    before = published_state(copy.warehouse_dir)
    with unreadable(copy.raw_dir):
        state, report = served_run(copy)
    assert_refused(state, report, f"raw folder {copy.raw_dir} cannot be read: Permission denied")
    assert published_state(copy.warehouse_dir) == before


@pytest.mark.slow
def test_served_run_removing_85_percent_is_refused(served, copy):
    before = published_state(copy.warehouse_dir)
    keep_only(copy.raw_dir, 3)
    state, report = served_run(copy)
    assert_refused(state, report, "refused: this run would remove 17 of 20 articles (85%)")
    assert published_state(copy.warehouse_dir) == before


@pytest.mark.slow
def test_served_run_removing_10_percent_completes(served, copy):
    keep_only(copy.raw_dir, N_ARTICLES - 2)
    state, report = served_run(copy)
    assert state.is_completed() and state.name == "Completed", state
    assert "removed: 2" in report
    assert n_articles(copy.warehouse_dir) == N_ARTICLES - 2


@pytest.mark.slow
def test_served_run_allowed_to_delete_empties_the_warehouse(served, copy):
    keep_only(copy.raw_dir, 0)
    state, _ = served_run(copy, allow_deletions=True)
    assert state.is_completed(), state
    assert n_articles(copy.warehouse_dir) == 0


@pytest.mark.slow
def test_served_run_finding_the_warehouse_locked_is_skipped_with_the_reason(served, copy):
    before = published_state(copy.warehouse_dir)
    keep_only(copy.raw_dir, N_ARTICLES - 1)  # a change it would publish if it ran
    with Warehouse(copy.warehouse_dir).lock():
        state, report = served_run(copy)
    assert state.is_completed() and state.name == "Skipped", state
    assert state.message == (f"skipped: warehouse {copy.warehouse_dir} is in use by pid {os.getpid()}; "
                             "try again when that run ends")
    assert report is None  # nothing ran, so nothing to report
    assert published_state(copy.warehouse_dir) == before
