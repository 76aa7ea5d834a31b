"""The warehouse on disk: Parquet snapshots published atomically, the run lock.

Layout::

    warehouse/
      parquet -> snapshots/<run_id>     symlink; swapped atomically to publish a run
      snapshots/<run_id>/<table>/*.parquet
      quotewire.duckdb, marts/          built from parquet/ by models/build.py
      .quotewire.lock                   held by the running pipeline

A run stages every file of its snapshot in ``snapshots/<run_id>.staging/`` — parts it
carries over unchanged are hard links, new batches are new parts — and publishes by
renaming the staging folder and swapping the ``parquet`` symlink. A reader (DuckDB view,
dashboard) therefore sees the old snapshot or the new one, never a mix; a run killed at
any moment leaves the published snapshot untouched and only a staging folder to sweep.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from quotewire.publish import schemas

# Per-article tables are stored one part file per batch; the ledger-like tables are small
# and rewritten whole on every run.
PART_TABLES = ("articles", "paragraphs", "quotes", "entities")
WHOLE_TABLES = ("article_sources", "rejects")
STAGING_SUFFIX = ".staging"
# Older snapshots are kept so that a query that started before a publish can finish.
SNAPSHOTS_KEPT = 3


class WarehouseBusy(RuntimeError):
    """Another run holds the warehouse lock."""


def part_name_for(article_ids: list[str]) -> str:
    """A part is named by the articles it holds: the same batch always gets the same name,
    so two workers can never collide and a re-run rewrites the same name."""
    digest = hashlib.sha256("\n".join(sorted(article_ids)).encode()).hexdigest()[:20]
    return f"part-{digest}.parquet"


def write_parquet_atomically(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    pq.write_table(table, temporary, compression="zstd")
    os.replace(temporary, path)


@dataclass(frozen=True)
class Warehouse:
    root: Path

    @property
    def parquet_link(self) -> Path:
        return self.root / "parquet"

    @property
    def snapshots_dir(self) -> Path:
        return self.root / "snapshots"

    @property
    def lock_path(self) -> Path:
        return self.root / ".quotewire.lock"

    def current_snapshot(self) -> Path | None:
        if not self.parquet_link.is_symlink():
            return None
        target = self.parquet_link.resolve()
        return target if target.is_dir() else None

    def read_table(self, name: str, columns: list[str] | None = None) -> pa.Table:
        """A whole published table (all parts); empty with its schema when nothing is published."""
        snapshot = self.current_snapshot()
        schema = schemas.TABLES[name]
        if snapshot is None or not (snapshot / name).is_dir():
            table = schema.empty_table()
            return table.select(columns) if columns else table
        parts = sorted((snapshot / name).glob("*.parquet"))
        tables = [pq.read_table(part, columns=columns, schema=schema) for part in parts]
        return pa.concat_tables(tables) if tables else (schema.empty_table().select(columns) if columns else schema.empty_table())

    def part_articles(self) -> dict[str, list[str]]:
        """Part file name -> the article ids it holds, from the published articles parts."""
        snapshot = self.current_snapshot()
        if snapshot is None:
            return {}
        return {
            part.name: pq.read_table(part, columns=["article_id"]).column("article_id").to_pylist()
            for part in sorted((snapshot / "articles").glob("*.parquet"))
        }

    def begin(self, run_id: str) -> "Staging":
        self.sweep_staging()
        staging = self.snapshots_dir / f"{run_id}{STAGING_SUFFIX}"
        staging.mkdir(parents=True)
        return Staging(self, staging, run_id)

    def sweep_staging(self) -> None:
        """Remove what killed runs left behind. Only called under the run lock."""
        if self.snapshots_dir.is_dir():
            for leftover in self.snapshots_dir.glob(f"*{STAGING_SUFFIX}"):
                shutil.rmtree(leftover, ignore_errors=True)
            current = self.current_snapshot()
            for snapshot in self.snapshots_dir.iterdir():
                # Renamed to be published but never linked (a run killed between the two
                # steps): newer than the published one, which is always the newest linked.
                never_linked = current is None or snapshot.stat().st_mtime_ns > current.stat().st_mtime_ns
                if snapshot.is_dir() and snapshot != current and never_linked:
                    shutil.rmtree(snapshot, ignore_errors=True)
        for leftover in self.root.glob(".parquet.tmp-*"):
            leftover.unlink(missing_ok=True)

    def prune_snapshots(self) -> None:
        current = self.current_snapshot()
        published = sorted(
            (p for p in self.snapshots_dir.iterdir() if p.is_dir() and not p.name.endswith(STAGING_SUFFIX)),
            key=lambda p: p.stat().st_mtime,
        )
        for old in published[:-SNAPSHOTS_KEPT]:
            if old != current:
                shutil.rmtree(old, ignore_errors=True)

    @contextlib.contextmanager
    def lock(self, wait: bool = False) -> Iterator[None]:
        """One run at a time per warehouse: taken once, by what runs (a flow run,
        ingest_serially), for the whole run. Not re-entrant: each call opens the file anew,
        and flock() refuses a second open file even in the process holding the first, so a
        second taker gets WarehouseBusy wherever it is. The OS drops the lock when the
        process dies, so a killed run never leaves the warehouse locked; whoever takes it
        next sweeps what such a run left (sweep_staging)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                raise WarehouseBusy(
                    f"warehouse {self.root} is in use by {holder}; try again when that run ends"
                ) from None
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()}")
            handle.flush()
            try:
                # What an interrupted or killed run left, swept by the next one whatever it
                # does (a run with nothing new to publish never begins a staging folder).
                self.sweep_staging()
                yield
            finally:
                handle.truncate(0)
                fcntl.flock(handle, fcntl.LOCK_UN)

    def check_free(self) -> None:
        """WarehouseBusy now if a run holds the lock; the lock is not kept. For a command to
        refuse at once, before it starts what its run needs; the run takes the lock itself."""
        with self.lock():
            pass


@dataclass(frozen=True)
class Staging:
    """A snapshot being assembled. Nothing here is visible to readers until publish()."""

    warehouse: Warehouse
    path: Path
    run_id: str

    def write_part(self, tables: dict[str, pa.Table], part_name: str) -> None:
        for name in PART_TABLES:
            write_parquet_atomically(tables[name], self.path / name / part_name)

    def carry_over(self, part_name: str) -> None:
        """Reuse an unchanged part of the published snapshot (a hard link: no copy)."""
        source_snapshot = self.warehouse.current_snapshot()
        assert source_snapshot is not None
        for name in PART_TABLES:
            source, target = source_snapshot / name / part_name, self.path / name / part_name
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(source, target)
            except OSError:  # a filesystem without hard links: copy instead
                shutil.copy2(source, target)

    def write_whole(self, name: str, table: pa.Table) -> None:
        write_parquet_atomically(table, self.path / name / "part-all.parquet")

    def publish(self) -> Path:
        """Make this snapshot the one readers see, in one atomic rename."""
        for name in schemas.TABLES:
            directory = self.path / name
            if not any(directory.glob("*.parquet")):
                # Every table has at least one file, so globs over it never come up empty.
                write_parquet_atomically(schemas.empty_table(name), directory / "part-empty.parquet")
        final = self.path.with_name(self.run_id)
        _fsync_tree(self.path)
        os.rename(self.path, final)
        link_tmp = self.warehouse.root / f".parquet.tmp-{os.getpid()}"
        link_tmp.unlink(missing_ok=True)
        os.symlink(os.path.relpath(final, self.warehouse.root), link_tmp)
        os.replace(link_tmp, self.warehouse.parquet_link)
        _fsync_dir(self.warehouse.root)
        self.warehouse.prune_snapshots()
        return final


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    """Data reaches the disk before the rename that publishes it (power-loss safety)."""
    for directory, _, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(directory, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(directory))
