"""discover / read_source on small raw trees built in tmp_path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from quotewire.read import discover as discover_module
from quotewire.read.discover import SourceFile, article_format, discover, read_source
from quotewire.read.document import DecodedDocument, Rejection

LIMIT = 10_000
ARTICLE = "Council Approves Budget\n\nThe council approved the budget on Monday.\n"


def write(path: Path, text: str = ARTICLE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def outcomes(raw: Path, limit: int = LIMIT) -> dict[str, SourceFile | Rejection]:
    results = list(discover(raw, limit))
    paths = [result.source_path for result in results]
    assert len(paths) == len(set(paths)), "every entry must be yielded exactly once"
    return dict(zip(paths, results))


def reason(result: SourceFile | Rejection) -> str:
    assert isinstance(result, Rejection), result
    return result.reason


@pytest.mark.parametrize(
    ("name", "expected"),
    [("a.txt", "text"), ("NOTES.MD", "markdown"), ("x.html", "html"), ("dump.jsonl.gz", "jsonl"),
     ("x.pdf", None), ("x.gz", None), ("archive.txt.bak", None), (".txt", None), ("txt", None)],
)
def test_article_format_reads_the_suffix(name, expected):
    assert article_format(name) == expected


def test_walk_is_sorted_recursive_and_accounts_for_every_file(tmp_path):
    write(tmp_path / "b.txt")
    write(tmp_path / "a" / "z.md")
    write(tmp_path / "a.txt")
    write(tmp_path / "a" / "deeper" / "c.txt")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    write(tmp_path / ".hidden.txt")
    write(tmp_path / ".git" / "config")

    results = list(discover(tmp_path, LIMIT))
    paths = [result.source_path for result in results]
    assert paths == sorted(paths)
    assert set(paths) == {"b.txt", "a/z.md", "a.txt", "a/deeper/c.txt", "image.png", ".hidden.txt", ".git/config"}
    by_path = dict(zip(paths, results))
    assert reason(by_path["image.png"]) == "unsupported_type"
    assert reason(by_path[".hidden.txt"]) == "unsupported_type"
    assert reason(by_path[".git/config"]) == "unsupported_type"
    source = by_path["a/deeper/c.txt"]
    assert isinstance(source, SourceFile)
    assert source.path == str((tmp_path / "a" / "deeper" / "c.txt").absolute())
    assert source.size_bytes == len(ARTICLE.encode())


def test_discover_is_deterministic(tmp_path):
    for name in ["q.txt", "b/a.txt", "a b.md", "é.txt"]:
        write(tmp_path / name)
    assert list(discover(tmp_path, LIMIT)) == list(discover(tmp_path, LIMIT))


def test_awkward_names_are_posix_relative_paths(tmp_path):
    names = ["with space.txt", "it's \"quoted\".txt", "Zürich – naïve.md", "日本語/記事.txt"]
    for name in names:
        write(tmp_path / name)
    found = outcomes(tmp_path)
    assert set(found) == set(names)
    assert all(isinstance(result, SourceFile) for result in found.values())


def test_directory_named_like_a_file_is_recursed_into(tmp_path):
    write(tmp_path / "x.txt" / "inner.txt")
    found = outcomes(tmp_path)
    assert list(found) == ["x.txt/inner.txt"]
    assert isinstance(found["x.txt/inner.txt"], SourceFile)


def test_symlink_to_a_file_inside_the_root_is_its_own_source(tmp_path):
    write(tmp_path / "real.txt")
    (tmp_path / "alias.txt").symlink_to(tmp_path / "real.txt")
    found = outcomes(tmp_path)
    alias = found["alias.txt"]
    assert isinstance(alias, SourceFile) and isinstance(found["real.txt"], SourceFile)
    assert alias.path == str((tmp_path / "alias.txt").absolute())
    document = read_source(alias, LIMIT)
    assert isinstance(document, DecodedDocument) and document.text == ARTICLE


def test_symlink_outside_the_root_is_rejected(tmp_path):
    raw, outside = tmp_path / "raw", tmp_path / "outside"
    write(outside / "secret.txt")
    raw.mkdir()
    (raw / "leak.txt").symlink_to(outside / "secret.txt")
    (raw / "leakdir").symlink_to(outside, target_is_directory=True)
    found = outcomes(raw)
    assert reason(found["leak.txt"]) == "symlink_outside_root"
    assert reason(found["leakdir"]) == "symlink_outside_root"


def test_dangling_and_looping_symlinks_are_broken(tmp_path):
    (tmp_path / "dangling.txt").symlink_to(tmp_path / "missing.txt")
    (tmp_path / "loop1.txt").symlink_to(tmp_path / "loop2.txt")
    (tmp_path / "loop2.txt").symlink_to(tmp_path / "loop1.txt")
    (tmp_path / "self.txt").symlink_to(tmp_path / "self.txt")
    found = outcomes(tmp_path)
    assert {path: reason(result) for path, result in found.items()} == {
        "dangling.txt": "broken_symlink",
        "loop1.txt": "broken_symlink",
        "loop2.txt": "broken_symlink",
        "self.txt": "broken_symlink",
    }


def test_directory_symlink_cycles_terminate(tmp_path):
    write(tmp_path / "a" / "story.txt")
    (tmp_path / "a" / "up").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "a" / "me").symlink_to(tmp_path / "a", target_is_directory=True)
    (tmp_path / "b").symlink_to(tmp_path / "a", target_is_directory=True)
    found = outcomes(tmp_path)
    assert reason(found["a/up"]) == "symlink_loop"
    assert reason(found["a/me"]) == "symlink_loop"
    # A link to a sibling directory is followed once, then stops at the cycle.
    assert isinstance(found["b/story.txt"], SourceFile)
    assert reason(found["b/me"]) == "symlink_loop"
    assert len(found) == 6


def test_fifo_is_rejected_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe.txt")
    (tmp_path / "link.txt").symlink_to(tmp_path / "pipe.txt")
    found = outcomes(tmp_path)
    assert reason(found["pipe.txt"]) == "not_a_regular_file"
    assert reason(found["link.txt"]) == "not_a_regular_file"


def test_too_large_is_rejected_without_opening(tmp_path, monkeypatch):
    write(tmp_path / "big.txt", "x" * 101)
    write(tmp_path / "fits.txt", "y" * 100)

    opened: list[Path] = []
    real_open = discover_module.open_for_reading

    def recording_open(path):
        opened.append(Path(path))
        return real_open(path)

    monkeypatch.setattr(discover_module, "open_for_reading", recording_open)
    found = outcomes(tmp_path, limit=100)
    assert reason(found["big.txt"]) == "too_large"
    assert isinstance(found["fits.txt"], SourceFile)
    assert all(path.name != "big.txt" for path in opened)


def test_unreadable_file_is_rejected(tmp_path, monkeypatch):
    write(tmp_path / "locked.txt")
    write(tmp_path / "open.txt")

    def refuse_locked(path):
        if Path(path).name == "locked.txt":
            raise PermissionError(13, "Permission denied")
        return os.open(path, os.O_RDONLY)

    monkeypatch.setattr(discover_module, "open_for_reading", refuse_locked)
    found = outcomes(tmp_path)
    assert reason(found["locked.txt"]) == "unreadable"
    assert isinstance(found["open.txt"], SourceFile)


def test_walk_without_readability_check_opens_no_file(tmp_path, monkeypatch):
    write(tmp_path / "locked.txt")
    write(tmp_path / "sub" / "open.txt")
    opened: list[str] = []

    def refuse_and_record(path):
        opened.append(Path(path).name)
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(discover_module, "open_for_reading", refuse_and_record)
    found = list(discover(tmp_path, LIMIT, check_readable=False))
    assert opened == []
    assert [(f.source_path, type(f)) for f in found] == [("locked.txt", SourceFile), ("sub/open.txt", SourceFile)]
    assert all(Path(f.path).is_absolute() and Path(f.path).read_text() == ARTICLE for f in found)
    # Reading is where such a file is then rejected.
    assert reason(read_source(found[0], LIMIT)) == "unreadable"


def test_read_source_decodes_and_hashes(tmp_path):
    write(tmp_path / "a.txt")
    (source,) = discover(tmp_path, LIMIT)
    document = read_source(source, LIMIT)
    assert isinstance(document, DecodedDocument)
    assert document.text == ARTICLE
    assert document.source_path == "a.txt"
    assert len(document.content_sha256) == 64


def test_read_source_reports_bad_files_instead_of_raising(tmp_path, monkeypatch):
    write(tmp_path / "a.txt")
    (source,) = discover(tmp_path, LIMIT)

    (tmp_path / "a.txt").write_text("grew " * 50)
    assert reason(read_source(source, 100)) == "too_large"

    (tmp_path / "a.txt").unlink()
    assert reason(read_source(source, LIMIT)) == "vanished"

    write(tmp_path / "a.txt", "   \n")
    assert reason(read_source(source, LIMIT)) == "empty"

    def refuse(path):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(discover_module, "open_for_reading", refuse)
    assert reason(read_source(source, LIMIT)) == "unreadable"


def test_read_at_most_stops_one_byte_past_the_limit(tmp_path):
    path = write(tmp_path / "a.txt", "z" * 5000)
    fd = os.open(path, os.O_RDONLY)
    try:
        assert len(discover_module.read_at_most(fd, 1000)) == 1001
    finally:
        os.close(fd)


def test_file_growing_past_the_limit_during_the_read_is_too_large(tmp_path, monkeypatch):
    path = write(tmp_path / "a.txt", "z" * 50)
    (source,) = discover(tmp_path, 1000)
    real_read = discover_module.read_at_most

    def grow_then_read(fd, limit):
        path.write_text("z" * 5000)  # the size check before the read has already passed
        data = real_read(fd, limit)
        assert len(data) <= limit + 1
        return data

    monkeypatch.setattr(discover_module, "read_at_most", grow_then_read)
    assert reason(read_source(source, 1000)) == "too_large"


def test_file_changing_during_the_read_is_rejected(tmp_path, monkeypatch):
    path = write(tmp_path / "a.txt")
    (source,) = discover(tmp_path, LIMIT)
    real_read = discover_module.read_at_most

    def read_then_append(fd, limit):
        data = real_read(fd, limit)
        with path.open("a") as handle:
            handle.write("A late correction.\n")
        return data

    monkeypatch.setattr(discover_module, "read_at_most", read_then_append)
    rejection = read_source(source, LIMIT)
    assert reason(rejection) == "changed_while_reading"
    assert rejection.content_sha256 is not None
