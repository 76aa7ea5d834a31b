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

import quotewire.discover as discover_module
from quotewire.check import check_warehouse
from quotewire.ingest import ingest_serially
from quotewire.models import build_models
from quotewire.settings import Settings
from quotewire.store import Warehouse

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
# One line of prose, over 1 MB but under the 5 MiB limit: read, never too_large (but see the
# xfail test below: spaCy's own length limit still rejects it as analysis_error).
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


@pytest.mark.xfail(strict=True, reason="spaCy refuses paragraphs over nlp.max_length (1,000,000 chars): a "
                                       "3 MB single-line article under the 5 MiB limit is rejected as analysis_error")
def test_a_three_megabyte_line_becomes_an_article(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "long.txt").write_bytes(b"Long line\n\n" + b"The river rose again overnight. " * (3 * 1024 * 1024 // 32))
    settings = Settings().with_overrides(raw_dir=raw, warehouse_dir=tmp_path / "warehouse")
    ingest_serially(settings)
    sources, rejects = ledger(settings)
    assert rejects == {} and list(sources) == ["long.txt"]
