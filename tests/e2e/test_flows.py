"""End to end: the Prefect `pipeline` flow over a small raw dir of our own articles."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from quotewire.settings import Settings

ARTICLES = {
    "northern-echo/budget.txt": (
        "Council agrees budget after long night\n\n"
        "The city council passed its budget shortly after midnight.\n\n"
        '"This budget protects the services people use every day," said Miriam Okonkwo, the council leader.\n\n'
        '"We did not get everything we wanted," she added.\n\n'
        'Opposition councillor Daniel Price called it "a budget of missed chances."\n'
    ),
    "northern-echo/parks.txt": (
        "Parks to stay open later\n\n"
        "Parks will stay open until ten in summer.\n\n"
        '"Long evenings belong to everyone," Miriam Okonkwo said.\n'
    ),
    "front-matter.md": (
        "---\nheadline: Harbour wall repaired\noutlet: Coast Weekly\npublished_at: 2026-05-02\n---\n\n"
        "Harbour wall repaired\n\n"
        'Engineers finished the repairs on Friday. "The wall will last another century," said engineer Ruth Adeyemi.\n'
    ),
}


def write_raw(root: Path, articles: dict[str, str]) -> Path:
    for relative, text in articles.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def run_pipeline(raw: Path, warehouse: Path, workers: int = 2) -> dict:
    from quotewire.flows import default_task_runner, pipeline

    flow = pipeline.with_options(task_runner=default_task_runner(workers))
    return flow(raw_dir=str(raw), warehouse_dir=str(warehouse))


def mart(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse / "quotewire.duckdb"), read_only=True) as connection:
        return connection.execute(sql).fetchall()


@pytest.mark.slow
def test_pipeline_flow_builds_marts_from_raw(prefect_harness, tmp_path):
    raw, warehouse = write_raw(tmp_path / "raw", ARTICLES), tmp_path / "warehouse"
    result = run_pipeline(raw, warehouse)

    assert result["ingest"]["articles_new"] == 3
    speakers = dict(mart(warehouse, "select speaker, n_quotes from quotes_per_speaker"))
    assert speakers["Miriam Okonkwo"] == 3  # "said X", "she added", "X said" in another article
    assert speakers["Ruth Adeyemi"] == 1
    assert mart(warehouse, "select n_articles from quotes_per_speaker where speaker = 'Miriam Okonkwo'") == [(2,)]
    outlets = dict(mart(warehouse, "select source_path, outlet from article_summary"))
    assert outlets == {"northern-echo/budget.txt": "northern-echo", "northern-echo/parks.txt": "northern-echo",
                       "front-matter.md": "Coast Weekly"}
    # Dashboards read the marts as Parquet.
    exported = pq.read_table(warehouse / "marts" / "quotes_per_speaker.parquet")
    assert exported.num_rows == len(speakers)


@pytest.mark.slow
def test_second_run_parses_nothing_and_edits_replace_rows(prefect_harness, tmp_path):
    raw, warehouse = write_raw(tmp_path / "raw", ARTICLES), tmp_path / "warehouse"
    run_pipeline(raw, warehouse, workers=1)
    before = mart(warehouse, "select article_id, source_path from stg_articles order by 1")

    again = run_pipeline(raw, warehouse, workers=1)
    assert again["ingest"]["articles_new"] == 0 and again["ingest"]["published"] is False
    assert mart(warehouse, "select article_id, source_path from stg_articles order by 1") == before

    (raw / "northern-echo/parks.txt").write_text(ARTICLES["northern-echo/parks.txt"].replace("ten", "eleven"))
    edited = run_pipeline(raw, warehouse, workers=1)
    assert edited["ingest"]["articles_new"] == 1
    paths = mart(warehouse, "select source_path, count(*) from stg_articles group by 1 order by 1")
    assert paths == [("front-matter.md", 1), ("northern-echo/budget.txt", 1), ("northern-echo/parks.txt", 1)]
    texts = mart(warehouse, "select text from stg_articles where source_path = 'northern-echo/parks.txt'")
    assert "eleven" in texts[0][0]


@pytest.mark.slow
def test_identical_files_are_one_article_with_both_paths(prefect_harness, tmp_path):
    raw = write_raw(tmp_path / "raw", {"a/copy.txt": ARTICLES["northern-echo/parks.txt"],
                                       "b/copy.txt": ARTICLES["northern-echo/parks.txt"]})
    warehouse = tmp_path / "warehouse"
    run_pipeline(raw, warehouse, workers=1)
    assert mart(warehouse, "select count(*) from stg_articles") == [(1,)]
    assert mart(warehouse, "select source_path from stg_articles") == [("a/copy.txt",)]
    assert mart(warehouse, "select source_path from stg_article_sources order by 1") == [("a/copy.txt",), ("b/copy.txt",)]

    os.remove(raw / "a/copy.txt")  # the other path still holds the bytes: the article stays
    run_pipeline(raw, warehouse, workers=1)
    assert mart(warehouse, "select source_path, outlet from stg_articles") == [("b/copy.txt", "b")]


def task_runs_of(flow_run_id, expected: int, seconds: float = 60) -> list:
    """The task runs of a flow run, once the server has all ``expected`` of them in a final
    state (it learns of task runs through events, a moment after they happen)."""
    import time

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    deadline = time.monotonic() + seconds
    with get_client(sync_client=True) as client:
        while True:
            runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
            if len(runs) >= expected and all(run.state and run.state.is_final() for run in runs):
                return runs
            assert time.monotonic() < deadline, [(run.name, run.state_name) for run in runs]
            time.sleep(0.5)


@pytest.mark.slow
def test_a_pipeline_run_shows_its_steps_as_task_runs_in_order(prefect_harness, tmp_path):
    from quotewire.flows import default_task_runner, pipeline

    raw, warehouse = write_raw(tmp_path / "raw", ARTICLES), tmp_path / "warehouse"
    state = pipeline.with_options(task_runner=default_task_runner(1))(
        raw_dir=str(raw), warehouse_dir=str(warehouse), batch_size=1, return_state=True)
    assert state.is_completed(), state

    runs = task_runs_of(state.state_details.flow_run_id, expected=len(ARTICLES) + 4)
    steps = [run.name.rsplit("-", 1)[0] for run in sorted(runs, key=lambda run: run.start_time)]
    assert steps == ["plan"] + ["analyse-batch"] * len(ARTICLES) + ["publish", "build-models", "report"]
    assert all(run.state_name == "Completed" for run in runs)
    # The run graph: publish takes the plan and every batch's result.
    by_step = {step: [run for run in runs if run.name.startswith(step + "-")] for step in set(steps)}
    publish_inputs = {source.id for sources in by_step["publish"][0].task_inputs.values() for source in sources}
    assert publish_inputs == {run.id for run in by_step["plan"] + by_step["analyse-batch"]}


@pytest.mark.slow
def test_a_flow_run_in_a_process_already_holding_the_lock_is_skipped(prefect_harness, tmp_path):
    from quotewire.flows import default_task_runner, pipeline
    from quotewire.publish.store import Warehouse

    raw, warehouse = write_raw(tmp_path / "raw", ARTICLES), tmp_path / "warehouse"
    with Warehouse(warehouse).lock():  # as a run of this process would hold it: no second taker
        state = pipeline.with_options(task_runner=default_task_runner(1))(
            raw_dir=str(raw), warehouse_dir=str(warehouse), return_state=True)
    assert state.is_completed() and state.name == "Skipped", state
    assert state.message == f"skipped: warehouse {warehouse} is in use by pid {os.getpid()}; try again when that run ends"
    assert Warehouse(warehouse).current_snapshot() is None


@pytest.mark.slow
def test_a_cli_run_finding_the_lock_taken_after_its_check_exits_75_naming_the_holder(prefect_harness, tmp_path,
                                                                                     monkeypatch, capsys):
    """The command only checks the lock before Prefect starts; the flow run takes it. Another
    run taking it in between makes the flow run Skipped, and the command exits as the check would."""
    from quotewire import cli
    from quotewire.publish.store import Warehouse
    from quotewire.runtime import runners

    monkeypatch.setattr(cli, "prefect_defaults", lambda: None)  # the session's server and environment stay
    monkeypatch.setattr(runners, "keep_pandas_out", lambda: None)  # later tests of the session may use pandas
    monkeypatch.setattr(Warehouse, "check_free", lambda self: None)  # the check passed; the holder came after
    raw, warehouse = write_raw(tmp_path / "raw", ARTICLES), tmp_path / "warehouse"
    with Warehouse(warehouse).lock():
        code = cli.main(["run", "--quiet", "--workers", "1", "--raw", str(raw), "--warehouse", str(warehouse)])
    assert code == cli.EXIT_BUSY == 75
    said = [line for line in capsys.readouterr().err.splitlines() if line.startswith("quotewire")]
    assert said == [f"quotewire: warehouse {warehouse} is in use by pid {os.getpid()}; try again when that run ends"]
    assert Warehouse(warehouse).current_snapshot() is None


@pytest.mark.slow
def test_flow_parameters_reach_the_settings_of_the_run(prefect_harness, tmp_path, monkeypatch):
    """batch_size=1: one part file per article; workers and spacy_model: the worker processes
    the flow's own runner (as a deployment's runs have it) starts for the run."""
    from quotewire.flows import pipeline
    from quotewire.runtime import runners

    pools, real_pool = [], runners.WorkerPool
    monkeypatch.setattr(runners, "WorkerPool", lambda workers, model, **options: pools.append((workers, model))
                        or real_pool(workers, model, **options))
    monkeypatch.setattr(os, "cpu_count", lambda: 4)  # the flow's runner defaults to every core: 4
    raw, warehouse = write_raw(tmp_path / "raw", ARTICLES), tmp_path / "warehouse"
    result = pipeline.with_options(task_runner=runners.make_task_runner("process"))(
        raw_dir=str(raw), warehouse_dir=str(warehouse), batch_size=1, workers=1)
    assert result["ingest"]["articles_new"] == len(ARTICLES)
    assert len(list((warehouse / "parquet" / "articles").glob("part-*.parquet"))) == len(ARTICLES)
    assert pools[-1] == (1, Settings().spacy_model)  # made anew for the run: one process, not 4
    assert len(result["ingest"]["workers"]) == 1

    (raw / "new.txt").write_text(ARTICLES["front-matter.md"].replace("century", "decade"))
    with pytest.raises(Exception, match="'no_such_model' is not installed"):
        pipeline.with_options(task_runner=runners.make_task_runner("process"))(
            raw_dir=str(raw), warehouse_dir=str(warehouse), workers=2, spacy_model="no_such_model")
    assert pools[-1] == (2, "no_such_model")


@pytest.mark.slow
def test_serve_registers_a_scheduled_deployment(tmp_path):
    """A real local Prefect server; `quotewire serve --cron` registers the deployment and schedule."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect-home"),
           "PREFECT_API_URL": f"http://127.0.0.1:{port}/api", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    prefect = shutil.which("prefect", path=str(Path(sys.executable).parent))
    server = subprocess.Popen([prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    serve = None
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline, "prefect server did not start"
                time.sleep(0.5)
        quotewire = shutil.which("quotewire", path=str(Path(sys.executable).parent))
        serve = subprocess.Popen([quotewire, "serve", "--cron", "*/5 * * * *", "--raw", str(tmp_path / "raw"),
                                  "--warehouse", str(tmp_path / "warehouse")],
                                 env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        listing = ""
        while time.monotonic() < deadline:
            listing = subprocess.run([prefect, "deployment", "inspect", "pipeline/quotewire-scheduled"],
                                     env=env, capture_output=True, text=True).stdout
            if "*/5 * * * *" in listing:
                break
            time.sleep(1)
        assert "*/5 * * * *" in listing
        assert str(tmp_path / "warehouse") in listing
    finally:
        for process in (serve, server):
            if process is not None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()


@pytest.mark.slow
def test_bench_repeats_whole_first_runs_between_floors_and_reports_the_median(prefect_harness, tmp_path):
    import io
    import json

    from quotewire.measure.bench import bench

    corpus = write_raw(tmp_path / "corpus", ARTICLES)
    out = io.StringIO()
    report = bench([corpus], limit=None, workers=1, keep=tmp_path / "bench", repeat=2, out=out)
    printed = out.getvalue().splitlines()

    assert json.loads(printed[-1]) == report  # the last line is the whole report
    assert sum(line.startswith("NER floor (spaCy NER alone") for line in printed) == 2  # floor, run, floor, run, floor
    runs = report["median_of"]
    assert runs["articles_new"] == [3, 3]  # each repetition is a first run, into a warehouse of its own
    assert report["ratio"] == min(runs["ratio"])  # of two, the lower middle one
    assert report["pipeline_s"] == runs["pipeline_s"][runs["ratio"].index(report["ratio"])]
    assert report["peak_rss_mb"] == max(runs["peak_rss_mb"])
    assert report["second_run_articles_new"] == 0
    assert report["floor_paragraphs"] > 0
    assert sorted(p.name for p in (tmp_path / "bench").iterdir()) == ["raw", "warehouse", "warehouse-2"]
