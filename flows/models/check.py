"""``quotewire check``: does the published warehouse account for the raw dir, and hold together?

What it verifies (each failure is one ``Problem`` naming the rule and the offending rows):

- **accounting**: every path the discover walk yields is in ``article_sources`` or in
  ``rejects`` — exactly one of them, exactly once. A JSON Lines file may instead be accounted
  for by line ids ``<path>#L<n>`` (one per record). Nothing recorded is missing from the raw dir.
- **freshness**: every file in ``article_sources`` still holds the bytes that were ingested
  (same sha256); otherwise the warehouse is out of date for it.
- **tables**: the data tests of ``sql/tests`` that need only the staging views (unique, non-null
  keys; paragraph, quote and entity offsets inside their article and slicing out exactly their
  stored text; quotes and entities pointing at a paragraph of their own article; every article
  has a source path, and its ``source_path`` is the first of them), run by the model runner
  (``models.run_staging_tests``) over the published Parquet snapshot in an in-memory database,
  so ``check`` never touches ``quotewire.duckdb`` and can run while an analyst has it open.
"""

from __future__ import annotations

import argparse
import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from quotewire.read.discover import SourceFile, discover
from quotewire.models.build import DataTestResult, ModelError, run_staging_tests
from quotewire.settings import Settings
from quotewire.publish.store import Warehouse

# A JSON Lines file is ingested record by record; each record's id is the path plus its line.
_LINE_ID = re.compile(r"^(?P<path>.+)#L(?P<line>[1-9][0-9]*)$")



@dataclass(frozen=True)
class Problem:
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.detail}"


@dataclass(frozen=True)
class CheckReport:
    problems: list[Problem]
    files: int
    articles: int


# --- accounting: raw paths against the ledger (pure) ------------------------------------------


def file_of_entry(entry: str, raw_paths: set[str]) -> str | None:
    """The raw path a ledger entry stands for: itself, or the file of a ``path#L<n>`` line id."""
    if entry in raw_paths:
        return entry
    line_id = _LINE_ID.match(entry)
    if line_id and line_id["path"] in raw_paths:
        return line_id["path"]
    return None


def accounting_problems(raw_paths: list[str], source_paths: list[str], reject_paths: list[str]) -> list[Problem]:
    """Every raw path in exactly one of the two ledgers, once; nothing recorded that is not there."""
    problems: list[Problem] = []
    raw = set(raw_paths)
    for path, count in sorted(Counter(raw_paths).items()):
        if count > 1:
            problems.append(Problem("walked_twice", f"{path!r} was yielded {count} times by the raw-dir walk"))
    for ledger, entries in (("article_sources", source_paths), ("rejects", reject_paths)):
        for entry, count in sorted(Counter(entries).items()):
            if count > 1:
                problems.append(Problem("listed_twice", f"{entry!r} has {count} rows in {ledger}"))
    for entry in sorted(set(source_paths) & set(reject_paths)):
        problems.append(Problem("article_and_reject", f"{entry!r} is both in article_sources and in rejects"))

    entries_of: dict[str, set[str]] = {path: set() for path in raw}
    for entry in set(source_paths) | set(reject_paths):
        file = file_of_entry(entry, raw)
        if file is None:
            problems.append(Problem("not_in_raw_dir", f"{entry!r} is recorded but the raw dir has no such file"))
        else:
            entries_of[file].add(entry)
    for path, entries in sorted(entries_of.items()):
        if not entries:
            problems.append(Problem("unaccounted", f"{path!r} is in neither article_sources nor rejects"))
        elif path in entries and len(entries) > 1:
            problems.append(Problem("whole_file_and_lines",
                                    f"{path!r} is recorded both as a whole file and as line ids"))
    return problems


def file_sha256(path: str | Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def freshness_problems(files: dict[str, SourceFile], ingested_sha: dict[str, str]) -> list[Problem]:
    """Files whose bytes are no longer the ones the warehouse holds (edited since the last run)."""
    problems = []
    for path, sha in sorted(ingested_sha.items()):
        source = files.get(path)
        if source is not None and file_sha256(source.path) != sha:
            problems.append(Problem("stale", f"{path!r} changed since it was ingested; run the pipeline again"))
    return problems


# --- tables: DuckDB queries over the published Parquet ----------------------------------------


def table_problems(parquet_dir: Path, sql_dir: Path) -> list[Problem]:
    """The data tests that need only the staging views, run by the model runner."""
    try:
        results = run_staging_tests(parquet_dir, sql_dir)
    except ModelError as error:
        return [Problem("models", str(error))]
    return [Problem(result.name, describe_rows(result)) for result in results if not result.passed]


def describe_rows(result: DataTestResult) -> str:
    """The data test's failing rows on one line."""
    return "; ".join(line.strip() for line in result.describe().splitlines()[1:])


# --- the whole check ------------------------------------------------------------------------


def check_warehouse(settings: Settings) -> list[Problem]:
    """Every problem of the published warehouse against the raw dir; an empty list means sound."""
    return run_check(settings).problems


def run_check(settings: Settings) -> CheckReport:
    """The problems, and the counts the one-line summary reports."""
    warehouse = Warehouse(settings.warehouse_dir)
    walked = list(discover(settings.raw_dir, settings.max_file_bytes))
    raw_paths = [found.source_path for found in walked]
    files = {found.source_path: found for found in walked if isinstance(found, SourceFile)}
    sources = warehouse.read_table("article_sources", columns=["source_path", "content_sha256"])
    source_paths = sources.column("source_path").to_pylist()
    reject_paths = warehouse.read_table("rejects", columns=["source_path"]).column("source_path").to_pylist()

    problems = accounting_problems(raw_paths, source_paths, reject_paths)
    problems += freshness_problems(files, dict(zip(source_paths, sources.column("content_sha256").to_pylist())))
    if warehouse.current_snapshot() is not None:
        problems += table_problems(settings.parquet_dir, settings.sql_dir)
    articles = warehouse.read_table("articles", columns=["article_id"]).num_rows
    return CheckReport(problems, files=len(raw_paths), articles=articles)


def command_check(args: argparse.Namespace) -> int:
    settings = Settings.from_args(args)
    from quotewire.cli import require_paths, require_warehouse

    # Without a published snapshot every raw file would be listed as unaccounted: say why instead.
    require_warehouse(settings.warehouse_dir, Warehouse(settings.warehouse_dir).current_snapshot() is not None)
    require_paths(raw_dir=settings.raw_dir)
    report = run_check(settings)
    for problem in report.problems:
        print(f"problem: {problem}")
    if report.problems:
        print(f"{len(report.problems)} problem(s): {report.files} files, {report.articles} articles")
        return 1
    print(f"ok: {report.files} files, {report.articles} articles")
    return 0
