"""Times ``plan_ingest`` (scan, read, decode and hash every file; compare with the ledger).

    .venv/bin/python scripts/bench_plan.py CORPUS [--limit 2000] [--runs 15]

Copies the first ``--limit`` ``*.txt`` files of CORPUS into a temp raw dir and reports the
median CPU seconds of a plan over an empty warehouse and of one over a ledger that already
holds every file (the steady incremental run, which analyses nothing).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import pyarrow.parquet as pq

from quotewire.publish.ingest import plan_ingest
from quotewire.settings import Settings
from quotewire.publish.store import Warehouse
from quotewire.publish.tables import to_table


def median_plan_seconds(settings: Settings, runs: int):
    times, plan = [], None
    for _ in range(runs):
        started = time.process_time()
        plan = plan_ingest(settings, Warehouse(settings.warehouse_dir))
        times.append(time.process_time() - started)
    return statistics.median(times), plan


def publish_ledger(warehouse: Warehouse, plan) -> None:
    """A snapshot holding only article_sources: every current file, as the plan identified it."""
    now = datetime.now(timezone.utc)
    rows = [{"source_path": path, "article_id": plan.article_ids[path], "content_sha256": sha,
             "size_bytes": size, "first_seen": now, "run_id": "bench"}
            for path, (_, sha, size) in plan.current_paths.items()]
    snapshot = warehouse.snapshots_dir / "bench"
    (snapshot / "article_sources").mkdir(parents=True)
    pq.write_table(to_table("article_sources", rows), snapshot / "article_sources" / "part-all.parquet")
    warehouse.parquet_link.symlink_to(snapshot)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--limit", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    files = sorted(p for p in args.corpus.rglob("*.txt") if p.name != "README.TXT")[:args.limit]
    root = Path(tempfile.mkdtemp(prefix="quotewire-bench-plan-"))
    try:
        for source in files:
            target = root / "raw" / source.relative_to(args.corpus)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)
        settings = Settings().with_overrides(raw_dir=root / "raw", warehouse_dir=root / "warehouse")
        empty, plan = median_plan_seconds(settings, args.runs)
        publish_ledger(Warehouse(settings.warehouse_dir), plan)
        steady, plan = median_plan_seconds(settings, args.runs)
        assert not plan.batches and not plan.dropped_article_ids
        print(f"{len(plan.current_paths)} documents, median of {args.runs} plans (CPU s): "
              f"empty warehouse {empty:.3f}, every file in the ledger {steady:.3f}")
    finally:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
