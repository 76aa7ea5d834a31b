"""Find every file under the raw root and say, for each, whether it is an article to read.

Every entry the walk meets is accounted for exactly once: it becomes a ``SourceFile`` or a
``Rejection`` (reason codes in ``REJECTION_REASONS``). Nothing here raises for a bad file,
and nothing blocks: special files (FIFOs, sockets, devices) are recognised from ``stat``
before anything opens them, and opening uses ``O_NONBLOCK`` besides.

Symlinks: a link to a file inside the root is followed and listed under the link's own path
(the same text under two paths is deduplicated later, by content). Links leaving the root
are rejected, as are dangling and self-referencing links. Directory links are followed unless
they point at one of their own ancestors, which would make the walk endless.

Order: entries are yielded in ascending order of ``source_path`` (plain code-point order), so
two runs over the same tree yield the same sequence.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from quotewire.read.decode import decode_bytes, sha256_hex
from quotewire.read.document import DecodedDocument, Rejection

# File name suffix (lower case) -> article format. Later formats (".html"/".htm": "html",
# ".jsonl"/".ndjson": "jsonl", ".txt.gz": "text+gzip", ...) are added here; the longest
# matching suffix wins, so ".txt.gz" can be told apart from ".gz".
ARTICLE_FORMATS: dict[str, str] = {
    ".txt": "text",
    ".md": "markdown",
    ".html": "html",
    ".htm": "html",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    # Any of them gzip-compressed: sources.py inflates (with a size cap) before reading.
    ".txt.gz": "text",
    ".md.gz": "markdown",
    ".html.gz": "html",
    ".htm.gz": "html",
    ".jsonl.gz": "jsonl",
    ".ndjson.gz": "jsonl",
}

REJECTION_REASONS: dict[str, str] = {
    "unsupported_type": "not an article format we read (or a hidden file)",
    "symlink_outside_root": "a symlink whose target lies outside the raw root",
    "broken_symlink": "a dangling or self-referencing symlink",
    "symlink_loop": "a directory symlink pointing at one of its own ancestors",
    "not_a_regular_file": "a FIFO, socket or device",
    "too_large": "bigger than max_file_bytes",
    "unreadable": "the file or directory cannot be opened or listed",
    "undecodable_name": "the file name is not valid UTF-8",
    "vanished": "the file disappeared between discovery and reading",
    "changed_while_reading": "size or mtime changed during the read; a later run picks it up",
    # and from decode_bytes: "empty", "binary"
}


@dataclass(frozen=True, slots=True)
class SourceFile:
    # absolute, as a string; for a symlink, the link itself (reads follow it). Not a Path:
    # a run's plan holds one per file, and a Path takes several times the memory.
    path: str
    source_path: str  # POSIX, relative to the raw root
    size_bytes: int


def article_format(name: str) -> str | None:
    """The article format a file name's suffix says, or None when we do not read it."""
    lowered = name.lower()
    matches = [suffix for suffix in ARTICLE_FORMATS if lowered.endswith(suffix) and len(lowered) > len(suffix)]
    if not matches:
        return None
    return ARTICLE_FORMATS[max(matches, key=len)]


def is_hidden(name: str) -> bool:
    return name.startswith(".")


def open_for_reading(path: str | Path) -> int:
    """Open ``path`` read-only without ever blocking; the one place files are opened (tests patch it)."""
    return os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))


def read_at_most(fd: int, limit: int) -> bytes:
    """Read until EOF or until more than ``limit`` bytes have been read (at most limit + 1)."""
    chunks: list[bytes] = []
    remaining = limit + 1
    while remaining > 0:
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _reject(source_path: str, reason: str, detail: str) -> Rejection:
    return Rejection(source_path=source_path, reason=reason, detail=detail)


def _safe_name(name: str) -> str:
    """The name as valid UTF-8 text (undecodable bytes shown as \\xNN) for reporting."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _is_within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _sort_key(entry: os.DirEntry) -> str:
    # Appending "/" to directory names makes a depth-first walk yield paths in exactly the
    # order sorted() would put the full relative paths in ("a.txt" < "a/b.txt").
    try:
        is_dir = entry.is_dir(follow_symlinks=True)
    except OSError:
        is_dir = False
    return entry.name + "/" if is_dir else entry.name


def discover(raw_root: Path, max_file_bytes: int, check_readable: bool = True) -> Iterator[SourceFile | Rejection]:
    """Every regular file under ``raw_root``, as a SourceFile to read or a Rejection.
    ``check_readable``: open each file once to reject the unreadable ones here; a caller that
    reads every file straight away (the ingest plan) passes False and gets the same
    "unreadable" rejection from ``read_bytes``, for one open() a file instead of two."""
    root = Path(raw_root).absolute()
    real_root = root.resolve()
    yield from _walk(root, "", real_root, (real_root,), max_file_bytes, check_readable)


def _walk(
    directory: Path, prefix: str, real_root: Path, ancestors: tuple[Path, ...], max_file_bytes: int,
    check_readable: bool,
) -> Iterator[SourceFile | Rejection]:
    try:
        with os.scandir(directory) as listing:
            entries = sorted(listing, key=_sort_key)
    except OSError as error:
        yield _reject(prefix.rstrip("/") or ".", "unreadable", f"Cannot list this directory: {error.strerror}.")
        return
    for entry in entries:
        yield from _classify_entry(entry, prefix + entry.name, real_root, ancestors, max_file_bytes, check_readable)


def _classify_entry(
    entry: os.DirEntry, source_path: str, real_root: Path, ancestors: tuple[Path, ...], max_file_bytes: int,
    check_readable: bool,
) -> Iterator[SourceFile | Rejection]:
    try:
        source_path.encode("utf-8")
    except UnicodeEncodeError:
        yield _reject(_safe_name(source_path), "undecodable_name", "Rename the file: its name is not valid UTF-8.")
        return

    # os.lstat on the entry's path, not a Path's lstat (slower) nor entry.stat() (each DirEntry
    # of a listing would keep its result in memory until the listing is done).
    try:
        link_info = os.lstat(entry.path)
    except OSError as error:
        yield _reject(source_path, "vanished", f"The entry disappeared while listing: {error.strerror}.")
        return

    is_link = stat.S_ISLNK(link_info.st_mode)
    if is_link:
        path = Path(entry.path)
        try:
            target = path.resolve(strict=True)
        except (OSError, RuntimeError) as error:
            yield _reject(source_path, "broken_symlink", f"The symlink leads nowhere ({error}).")
            return
        if not _is_within(target, real_root):
            yield _reject(source_path, "symlink_outside_root", f"The symlink points outside the raw root, to {target}.")
            return
        try:
            info = path.stat()
        except OSError as error:
            yield _reject(source_path, "broken_symlink", f"The symlink target cannot be read ({error.strerror}).")
            return
    else:
        info = link_info

    if stat.S_ISDIR(info.st_mode):
        path = Path(entry.path)
        real_dir = path.resolve() if is_link else (ancestors[-1] / entry.name)
        if real_dir in ancestors:
            yield _reject(source_path, "symlink_loop", "This directory symlink points at its own ancestor; not followed.")
            return
        yield from _walk(path, source_path + "/", real_root, ancestors + (real_dir,), max_file_bytes, check_readable)
        return

    if not stat.S_ISREG(info.st_mode):
        yield _reject(source_path, "not_a_regular_file", "This is a FIFO, socket or device, not a file; skipped unread.")
        return
    yield _classify_file(entry.path, entry.name, source_path, info.st_size, max_file_bytes, check_readable)


def _classify_file(path: str, name: str, source_path: str, size: int, max_file_bytes: int,
                   check_readable: bool) -> SourceFile | Rejection:
    if is_hidden(name):
        return _reject(source_path, "unsupported_type", "Hidden file: not read as an article.")
    if article_format(name) is None:
        supported = ", ".join(sorted(ARTICLE_FORMATS))
        return _reject(source_path, "unsupported_type", f"Not an article format we read ({supported}).")
    if size > max_file_bytes:
        return _reject(source_path, "too_large", f"{size} bytes is over the limit of {max_file_bytes}; not read.")
    if check_readable:
        try:
            os.close(open_for_reading(path))
        except OSError as error:
            return _reject(source_path, "unreadable", f"Cannot open the file: {error.strerror or error}.")
    return SourceFile(path=path, source_path=source_path, size_bytes=size)


def _fingerprint(info: os.stat_result) -> tuple[int, int]:
    return info.st_size, info.st_mtime_ns


def read_bytes(source: SourceFile, max_file_bytes: int) -> bytes | Rejection:
    """Read one discovered file's bytes; never raises for a bad file."""

    def reject(reason: str, detail: str, data: bytes | None = None) -> Rejection:
        digest = sha256_hex(data) if data is not None else None
        return Rejection(source_path=source.source_path, reason=reason, detail=detail, content_sha256=digest)

    try:
        fd = open_for_reading(source.path)
    except FileNotFoundError:
        return reject("vanished", "The file disappeared between discovery and reading.")
    except OSError as error:
        return reject("unreadable", f"Cannot open the file: {error.strerror or error}.")
    try:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            return reject("not_a_regular_file", "The path no longer holds a regular file.")
        if before.st_size > max_file_bytes:
            return reject("too_large", f"{before.st_size} bytes is over the limit of {max_file_bytes}; not read.")
        data = read_at_most(fd, max_file_bytes)
        after = os.fstat(fd)
    except OSError as error:
        return reject("unreadable", f"Reading failed: {error.strerror or error}.")
    finally:
        os.close(fd)

    if len(data) > max_file_bytes:
        return reject("too_large", f"The file grew past the limit of {max_file_bytes} bytes while being read.")
    if _fingerprint(before) != _fingerprint(after) or len(data) != after.st_size:
        return reject("changed_while_reading", "The file changed while being read; a later run will pick it up.", data)
    return data


def read_source(source: SourceFile, max_file_bytes: int) -> DecodedDocument | Rejection:
    """Read and decode one discovered plain-text file; never raises for a bad file."""
    data = read_bytes(source, max_file_bytes)
    return data if isinstance(data, Rejection) else decode_bytes(data, source.source_path)
