"""Bad input, crashes and concurrent runs: every file accounted for, nothing lost, nothing duplicated.

- an adversarial raw dir (encodings, binaries, huge lines, symlink tricks, unreadable and
  changing files) goes through ingest + model build, and ``check`` finds nothing wrong;
- a run killed with SIGKILL at several points leaves the published warehouse readable, and a
  re-run gives exactly the tables of a run that was never interrupted;
- two runs on one warehouse: the second exits at once naming the holder; a reader during
  rebuilds sees the old or the new data, never a broken file.

Killed runs use a plain-python subprocess (no Prefect server start-up) and the
``QUOTEWIRE_TEST_PAUSE_AT`` hook of ingest.py/models.py to stop at a known point.
"""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

import quotewire.read.discover as discover_module
from quotewire.models.check import check_warehouse
from quotewire.publish.ingest import ingest_serially
from quotewire.models.build import build_models
from quotewire.settings import Settings
from quotewire.publish.store import Warehouse

ARTICLE = ('Harbour wall repaired\n\n"The wall will last another century," said engineer Ruth Adeyemi.\n\n'
           'Work began in {month}, the council said.\n')


def article(month: str = "May") -> str:
    return ARTICLE.format(month=month)


# --- the adversarial raw dir ------------------------------------------------------------------

ARTICLE_PATHS = [
    "cp1252.txt", "latin1.txt", "utf16-bom.txt", "crlf.txt", "lone-cr.txt", "unbalanced.txt",
    "with space.txt", "quote\"and'apostrophe.txt", "naïve café – 東京 🙂.txt", "dir.txt/inside.txt",
    "dup/one.txt", "dup/two.txt", "link-inside.txt", "feed.jsonl#L1",
]
# One line of prose, over 1 MB but under the 5 MiB limit: read and analysed, never too_large
# (NER takes it in pieces, since spaCy refuses texts over nlp.max_length).
THREE_MB = "three-mb-line.txt"
REJECTED = {
    "empty.txt": "empty", "whitespace.txt": "empty", "png.txt": "binary", "pdf.txt": "binary",
    "zip.txt": "binary", "twenty-mb-line.txt": "too_large", "unreadable.txt": "unreadable",
    "link-outside.txt": "symlink_outside_root", "link-dangling.txt": "broken_symlink",
    "link-self.txt": "broken_symlink", "loop/up": "symlink_loop", "changing.txt": "changed_while_reading",
    "feed.jsonl#L2": "bad_json", "blank-lines.jsonl": "empty", "corrupt.txt.gz": "bad_gzip",
}
CHANGING = "changing.txt"
UNREADABLE = "unreadable.txt"


def write_adversarial_raw(root: Path, outside: Path) -> None:
    root.mkdir(parents=True)
    files: dict[str, bytes] = {
        "empty.txt": b"",
        "whitespace.txt": b" \t\n\r\n   \n",
        "png.txt": b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
        "pdf.txt": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n",
        "zip.txt": b"PK\x03\x04\x14\x00\x00\x00" + bytes(64),
        "cp1252.txt": "Caf\u00e9 owners \u201cdelighted\u201d\n\n\u201cIt\u2019s a fine day,\u201d said Ana L\u00f3pez.\n".encode("cp1252"),
        "latin1.txt": "Na\u00efve r\u00e9sum\u00e9 ban\n\nThe \u00bbcheap\u00ab plan failed, said Jos\u00e9.\n".encode("latin-1"),
        "utf16-bom.txt": article("June").encode("utf-16"),
        "crlf.txt": article("July").replace("\n", "\r\n").encode(),
        "lone-cr.txt": article("August").replace("\n", "\r").encode(),
        "unbalanced.txt": ('Strays everywhere\n\nHe said "this never closes.\n\n'
                           "A stray \u201d and a lone ' and \u201cnested \"marks\u201d end.\n").encode(),
        "with space.txt": article("March").encode(),
        "quote\"and'apostrophe.txt": article("April").encode(),
        "naïve café – 東京 🙂.txt": "Tokyo 🙂 report\n\n\u201cWe are ready \U0001f600,\u201d said Aiko Tanaka.\n".encode(),
        "dir.txt/inside.txt": article("September").encode(),
        "dup/one.txt": article("October").encode(),
        "dup/two.txt": article("October").encode(),  # identical bytes: one article, two paths
        "unreadable.txt": article("November").encode(),
        "changing.txt": article("December").encode(),
        THREE_MB: b"Long line\n\n" + b"The river rose again overnight. " * (3 * 1024 * 1024 // 32) + b"\n",
        "twenty-mb-line.txt": b"x" * (20 * 1024 * 1024),
        "feed.jsonl": b'{"title": "Feed story", "text": "\\"Fine,\\" said Ann Lee."}\n{not json\n',
        "blank-lines.jsonl": b"\n  \n\n",
        "corrupt.txt.gz": gzip.compress(article().encode())[:-12],
    }
    for relative, data in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    outside.write_text(article("outside"))
    (root / "link-inside.txt").symlink_to("with space.txt")
    (root / "link-outside.txt").symlink_to(outside)
    (root / "link-dangling.txt").symlink_to(root / "nowhere.txt")
    (root / "link-self.txt").symlink_to("link-self.txt")
    (root / "loop").mkdir()
    (root / "loop" / "up").symlink_to("..")


@pytest.fixture
def adversarial(tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    write_adversarial_raw(raw, tmp_path / "outside.txt")
    settings = Settings().with_overrides(raw_dir=raw, warehouse_dir=tmp_path / "warehouse",
                                         max_file_bytes=5 * 1024 * 1024, batch_size=4)
    return settings


def patch_bad_files(monkeypatch, raw: Path) -> None:
    """Root can open every file, so "unreadable" is simulated; "changing" grows while it is read."""
    real_open, real_read = discover_module.open_for_reading, discover_module.read_at_most

    def open_for_reading(path: Path) -> int:
        if Path(path).name == UNREADABLE:
            raise PermissionError(13, "Permission denied")
        return real_open(path)

    def read_at_most(fd: int, limit: int) -> bytes:
        data = real_read(fd, limit)
        if os.readlink(f"/proc/self/fd/{fd}").endswith(CHANGING):
            with open(raw / CHANGING, "ab") as handle:  # a writer appends mid-read
                handle.write(b"\nOne more line.\n")
        return data

    monkeypatch.setattr(discover_module, "open_for_reading", open_for_reading)
    monkeypatch.setattr(discover_module, "read_at_most", read_at_most)


def build(settings: Settings):
    return build_models(settings.parquet_dir, settings.database_path, settings.marts_dir, settings.sql_dir)


def ledger(settings: Settings) -> tuple[dict[str, str], dict[str, str]]:
    warehouse = Warehouse(settings.warehouse_dir)
    sources = warehouse.read_table("article_sources")
    rejects = warehouse.read_table("rejects")
    return (dict(zip(sources.column("source_path").to_pylist(), sources.column("article_id").to_pylist())),
            dict(zip(rejects.column("source_path").to_pylist(), rejects.column("reason").to_pylist())))


def test_adversarial_raw_dir_is_fully_accounted_for(adversarial, monkeypatch):
    settings = adversarial
    with monkeypatch.context() as patches:
        patch_bad_files(patches, settings.raw_dir)
        ingest_serially(settings)
    build(settings)

    sources, rejects = ledger(settings)
    assert rejects.get(THREE_MB) != "too_large" and (THREE_MB in sources) != (THREE_MB in rejects)
    sources.pop(THREE_MB, None), rejects.pop(THREE_MB, None)
    assert rejects == REJECTED
    assert sorted(sources) == sorted(ARTICLE_PATHS)
    assert sources["dup/one.txt"] == sources["dup/two.txt"]  # one article under both paths
    assert sources["link-inside.txt"] == sources["with space.txt"]
    assert check_warehouse(settings) == []

    articles = Warehouse(settings.warehouse_dir).read_table("articles")
    by_path = {row["source_path"]: row for row in articles.to_pylist()}
    assert by_path["cp1252.txt"]["encoding"] == "cp1252" and "“delighted”" in by_path["cp1252.txt"]["text"]
    assert by_path["utf16-bom.txt"]["encoding"] == "utf-16" and "June" in by_path["utf16-bom.txt"]["text"]
    assert all("\r" not in by_path[p]["text"] for p in ("crlf.txt", "lone-cr.txt"))
    assert by_path["lone-cr.txt"]["text"].count("\n") == article().count("\n")
    # The first path in sort order names the article: "link-inside.txt" < "with space.txt".
    assert "dup/one.txt" in by_path and "dup/two.txt" not in by_path
    assert "link-inside.txt" in by_path and "with space.txt" not in by_path
    quotes = Warehouse(settings.warehouse_dir).read_table("quotes").to_pylist()
    assert any("ready \U0001f600" in quote["text"] for quote in quotes)  # offsets survive non-BMP characters

    # The CLI says the same, in its own process.
    cli = subprocess.run([str(Path(sys.executable).parent / "quotewire"), "check", "--raw", str(settings.raw_dir),
                          "--warehouse", str(settings.warehouse_dir)], capture_output=True, text=True,
                         env={**os.environ, "QUOTEWIRE_MAX_FILE_BYTES": str(settings.max_file_bytes)})
    assert cli.returncode == 0, cli.stdout + cli.stderr
    files = {path.split("#L")[0] for path in [*ARTICLE_PATHS, *REJECTED, THREE_MB]}
    assert cli.stdout.startswith(f"ok: {len(files)} files")

    # Fixing files: the next run picks each of them up, and nothing else changes.
    (settings.raw_dir / "empty.txt").write_text(article("fixed"))
    (settings.raw_dir / "feed.jsonl").write_bytes(b'{"title": "Feed story", "text": "\\"Fine,\\" said Ann Lee."}\n'
                                                   b'{"title": "Fixed", "text": "Now valid."}\n')
    summary = ingest_serially(settings)  # unpatched: unreadable.txt opens, changing.txt holds still
    build(settings)
    fixed_sources, fixed_rejects = ledger(settings)
    fixed_rejects.pop(THREE_MB, None)
    assert {"empty.txt", "unreadable.txt", "changing.txt", "feed.jsonl#L2"} <= set(fixed_sources)
    assert {path: reason for path, reason in fixed_rejects.items()} == {
        path: reason for path, reason in REJECTED.items()
        if path not in {"empty.txt", "unreadable.txt", "changing.txt", "feed.jsonl#L2"}}
    assert summary.articles_new == 4 and summary.articles_removed == 0
    assert check_warehouse(settings) == []


def test_a_three_megabyte_line_becomes_an_article(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "long.txt").write_bytes(b"Long line\n\n" + b"The river rose again overnight. " * (3 * 1024 * 1024 // 32))
    settings = Settings().with_overrides(raw_dir=raw, warehouse_dir=tmp_path / "warehouse")
    ingest_serially(settings)
    sources, rejects = ledger(settings)
    assert rejects == {} and list(sources) == ["long.txt"]


# --- crash safety: SIGKILL at known points, then a re-run ---------------------------------------

# The child runs ingest (batch size 1) and the model build in plain python. PAUSE names where
# it stops: it writes MARKER and sleeps there until killed. The pauses wrap library calls from
# the outside, so the pipeline code carries no test hooks.
CHILD = r'''
import os, sys, time
from pathlib import Path
import quotewire.publish.ingest, quotewire.publish.store
from quotewire.models.build import build_models
from quotewire.settings import Settings

raw, warehouse, pause, marker = sys.argv[1:5]
settings = Settings().with_overrides(raw_dir=Path(raw), warehouse_dir=Path(warehouse), batch_size=1)

def stop_here():
    Path(marker).write_text(str(os.getpid()))
    while True:
        time.sleep(1)

def pause_on_call(module, name, call_number):
    real, calls = getattr(module, name), [0]
    def paused(*args, **kwargs):
        calls[0] += 1
        if calls[0] == call_number:
            stop_here()
        return real(*args, **kwargs)
    setattr(module, name, paused)

if pause.startswith("batch:"):  # before analysing batch k; batches 1..k-1 are written
    pause_on_call(quotewire.publish.ingest, "analyse_batch", int(pause.split(":")[1]))
elif pause == "publish":  # staging renamed to its final name, parquet link not yet swapped
    pause_on_call(quotewire.publish.store.os, "symlink", 1)
quotewire.publish.ingest.ingest_serially(settings)
if pause.startswith("replace:"):  # model build: k-th os.replace (1 = the database, 2 = first mart)
    pause_on_call(os, "replace", int(pause.split(":")[1]))
build_models(settings.parquet_dir, settings.database_path, settings.marts_dir, settings.sql_dir)
'''

RUN_COLUMNS = ("run_id", "ingested_at", "first_seen")  # when a row was made; everything else must match


def crash_corpus(root: Path, version: int) -> Path:
    """Version 1: eight articles. Version 2: two added, one edited, one deleted, one duplicated."""
    texts = {f"desk{i % 2}/story{i}.txt": article(f"month {i}") + f"\nStory number {i}.\n" for i in range(8)}
    if version == 2:
        texts.update({f"desk2/new{i}.txt": article(f"new {i}") for i in range(2)})
        texts["desk0/story0.txt"] = article("edited")
        texts["desk1/copy-of-3.txt"] = texts["desk1/story3.txt"]
        del texts["desk1/story5.txt"]
        (root / "desk1" / "story5.txt").unlink(missing_ok=True)
    for relative, text in texts.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    (root / "broken.txt").write_bytes(b"\x89PNG\r\n\x1a\n")
    return root


def run_child(raw: Path, warehouse: Path, pause: str, marker: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", CHILD, str(raw), str(warehouse), pause, str(marker)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_for(marker: Path, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not marker.exists():
        assert process.poll() is None, f"child exited with {process.returncode} before its pause"
        assert time.monotonic() < deadline, "child never reached its pause"
        time.sleep(0.05)


def snapshot_tables(settings: Settings) -> dict[str, list[tuple]]:
    """Every published table and mart as sorted rows, without the when-made columns."""
    tables = {}
    with duckdb.connect(":memory:") as connection:
        for name in ("articles", "paragraphs", "quotes", "entities", "article_sources", "rejects"):
            tables[name] = _rows(connection, f"{settings.parquet_dir}/{name}/*.parquet")
        for mart in sorted(settings.marts_dir.glob("*.parquet")):
            tables[f"mart:{mart.stem}"] = _rows(connection, str(mart))
    return tables


def _rows(connection, glob: str) -> list[tuple]:
    columns = [row[0] for row in connection.execute(f"describe select * from read_parquet('{glob}')").fetchall()]
    kept = ", ".join(f'"{c}"' for c in columns if c not in RUN_COLUMNS)
    return connection.execute(f"select {kept} from read_parquet('{glob}') order by all").fetchall()


def assert_published_warehouse_is_readable(settings: Settings, expected_articles: int) -> None:
    """What readers see after the kill: the last published snapshot, whole and consistent."""
    from quotewire.models.check import table_problems

    warehouse = Warehouse(settings.warehouse_dir)
    for part in warehouse.current_snapshot().rglob("*.parquet"):
        pq.read_table(part)
    assert warehouse.read_table("articles").num_rows == expected_articles
    assert table_problems(settings.parquet_dir, settings.sql_dir) == []
    with duckdb.connect(str(settings.database_path), read_only=True) as connection:
        assert connection.execute("select count(*) from article_summary").fetchone()[0] > 0


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory):
    """The tables of an uninterrupted run over version 2 of the corpus (version 1 ingested first)."""
    root = tmp_path_factory.mktemp("clean")
    settings = Settings().with_overrides(raw_dir=crash_corpus(root / "raw", 1), warehouse_dir=root / "warehouse",
                                         batch_size=1)
    ingest_serially(settings)
    crash_corpus(settings.raw_dir, 2)
    ingest_serially(settings)
    build(settings)
    return snapshot_tables(settings)


@pytest.mark.parametrize("pause", ["batch:1", "batch:3", "publish", "replace:1", "replace:2"])
def test_a_killed_run_leaves_the_warehouse_readable_and_a_rerun_completes_it(pause, tmp_path, clean_run):
    settings = Settings().with_overrides(raw_dir=crash_corpus(tmp_path / "raw", 1),
                                         warehouse_dir=tmp_path / "warehouse", batch_size=1)
    ingest_serially(settings)
    build(settings)
    crash_corpus(settings.raw_dir, 2)

    marker = tmp_path / "paused"
    child = run_child(settings.raw_dir, settings.warehouse_dir, pause, marker)
    try:
        wait_for(marker, child)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    after_ingest = pause.startswith("replace:")  # the ingest itself was published before the kill
    assert_published_warehouse_is_readable(settings, expected_articles=9 if after_ingest else 8)

    ingest_serially(settings)
    build(settings)
    assert snapshot_tables(settings) == clean_run
    assert check_warehouse(settings) == []
    leftovers = [p.name for p in settings.warehouse_dir.rglob("*") if ".tmp-" in p.name or p.name.endswith(".staging")]
    assert leftovers == [] or pause.startswith("replace:"), leftovers


# --- concurrency ------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_second_cli_run_exits_with_75_naming_the_holder(tmp_path):
    settings = Settings().with_overrides(raw_dir=crash_corpus(tmp_path / "raw", 1), warehouse_dir=tmp_path / "warehouse")
    marker = tmp_path / "paused"
    holder = run_child(settings.raw_dir, settings.warehouse_dir, "batch:1", marker)  # holds the run lock
    try:
        wait_for(marker, holder)
        second = subprocess.run([str(Path(sys.executable).parent / "quotewire"), "run", "--quiet", "--workers", "1",
                                 "--raw", str(settings.raw_dir), "--warehouse", str(settings.warehouse_dir)],
                                capture_output=True, text=True, timeout=180)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(30)
    assert second.returncode == 75
    assert f"quotewire: warehouse {settings.warehouse_dir} is in use by pid {holder.pid}" in second.stderr
    assert Warehouse(settings.warehouse_dir).current_snapshot() is None  # the second run wrote nothing
    assert ingest_serially(settings).articles_new == 8  # the killed holder's lock died with it


def test_readers_see_the_old_or_the_new_warehouse_during_rebuilds(tmp_path):
    """An analyst's queries (DuckDB mart tables, mart Parquet, the published Parquet) while the
    warehouse is rebuilt again and again: every answer is a whole old or new state.

    Not covered, because it fails: the stg_* *views* of quotewire.duckdb glob
    ``parquet/<table>/*.parquet`` through the symlink, so a query whose glob ran before a publish
    opens the listed names in the *new* snapshot and can fail with "Cannot open file" (or mix
    the two snapshots' part-all files). See the report of this issue."""
    from quotewire.models.build import query

    raw = crash_corpus(tmp_path / "raw", 1)
    settings = Settings().with_overrides(raw_dir=raw, warehouse_dir=tmp_path / "warehouse", batch_size=2)
    ingest_serially(settings)
    build(settings)
    extra = [raw / "extra" / f"e{i}.txt" for i in range(2)]
    states = {8, 8 + len(extra)}  # article counts of the two raw dirs the rebuilds alternate between
    analyst = duckdb.connect(str(settings.database_path), read_only=True)  # open across every rebuild

    seen: set[tuple[str, int]] = set()
    errors: list[str] = []
    stop = threading.Event()

    def read_forever() -> None:
        readers = {
            "database": lambda: query(settings.database_path, "select count(*) from article_summary")[1][0][0],
            "parquet": lambda: Warehouse(settings.warehouse_dir).read_table("articles").num_rows,
            "mart": lambda: pq.read_table(settings.marts_dir / "article_summary.parquet").num_rows,
        }
        while not stop.is_set():
            for name, read in readers.items():
                try:
                    seen.add((name, read()))
                except Exception as error:  # noqa: BLE001 - any failure to read is the finding
                    errors.append(f"{name}: {type(error).__name__}: {error}")

    reader = threading.Thread(target=read_forever)
    reader.start()
    try:
        for cycle in range(4):
            for path in extra:
                if cycle % 2 == 0:
                    path.parent.mkdir(exist_ok=True)
                    path.write_text(article(path.stem))
                else:
                    path.unlink()
            ingest_serially(settings)
            build(settings)
    finally:
        stop.set()
        reader.join(60)
    assert errors == []
    assert {count for _, count in seen} <= states
    assert {count for name, count in seen if name == "parquet"} == states  # the reader did overlap rebuilds
    assert {name for name, _ in seen} == {"database", "parquet", "mart"}
    assert analyst.execute("select count(*) from article_summary").fetchone()[0] == 8  # its file, unchanged
    analyst.close()
