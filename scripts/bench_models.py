"""Times a full model rebuild over a synthetic warehouse of realistic size.

    .venv/bin/python scripts/bench_models.py [--articles 20000] [--runs 3] [--keep DIR]

Default size: 20,000 articles, 20 paragraphs each (400k), 5 quotes each (100k) and 30 entity
mentions each (600k), written as one Parquet file per 200-article batch like the ingest stage
does. Text holds emoji and accented letters so the code-point slicing in the data tests does
real work. The budget is 5 s per rebuild on a 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from quotewire.publish import schemas
from quotewire.models.build import build_models

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
PARAGRAPHS_PER_ARTICLE = 20  # headline, byline, 18 body
QUOTE_EVERY = 4  # a quote in every 4th body paragraph with index >= 2 -> 5 per article
FILLER = "the court said on Monday that its judges would review each case before the end of the year".split()
OUTLETS = ["harbour-gazette", "valley-courier", "metro-wire", "daily-ledger"]
KINDS = ("direct", "partial")


class ParagraphBuilder:
    """Concatenates pieces and remembers where the named ones land (Python str offsets)."""

    def __init__(self, offset: int):
        self.offset, self.parts, self.length, self.spans = offset, [], 0, []

    def add(self, text: str, span: tuple | None = None) -> None:
        if span is not None:
            start = self.offset + self.length
            self.spans.append((span, start, start + len(text), text))
        self.parts.append(text)
        self.length += len(text)

    @property
    def text(self) -> str:
        return "".join(self.parts)


def synthetic_batch(first: int, count: int, rng: random.Random, speakers: list[str], entities: list[str]) -> dict[str, dict[str, list]]:
    columns = {name: {f.name: [] for f in schema} for name, schema in schemas.TABLES.items() if name != "rejects"}
    now = datetime(2025, 1, 1, tzinfo=timezone.utc)
    for number in range(first, first + count):
        article_id = f"{number:016x}"
        texts, offset = [], 0
        for position in range(PARAGRAPHS_PER_ARTICLE):
            paragraph = ParagraphBuilder(offset)
            if position == 0:
                paragraph.add(f"Headline number {number} about the courts 😀")
                kind = "headline"
            elif position == 1:
                paragraph.add("By Ré\u0301mi Writer")
                kind = "byline"
            else:
                kind = "body"
                n_entities = 2 if position < 14 else 1
                for _ in range(n_entities):
                    paragraph.add(" ".join(rng.sample(FILLER, 6)) + " ")
                    paragraph.add(rng.choice(entities), span="entity")
                    paragraph.add(" 🎉 ")
                if position % QUOTE_EVERY == 2:
                    speaker = rng.choice(speakers)
                    paragraph.add(f'{speaker} said "')
                    paragraph.add(" ".join(rng.sample(FILLER, 8)), span=("quote", speaker))
                    paragraph.add('."')
                paragraph.add(" " + " ".join(rng.sample(FILLER, 10)) + ".")
            text = paragraph.text
            paragraph_id = f"{article_id}:p{position}"
            p = columns["paragraphs"]
            p["paragraph_id"].append(paragraph_id); p["article_id"].append(article_id); p["position"].append(position)
            p["kind"].append(kind); p["start"].append(offset); p["end"].append(offset + len(text))
            p["text"].append(text); p["word_count"].append(len(text.split()))
            for span, start, end, span_text in paragraph.spans:
                if span == "entity":
                    e = columns["entities"]
                    e["mention_id"].append(f"{article_id}:e{start}"); e["article_id"].append(article_id)
                    e["paragraph_id"].append(paragraph_id); e["start"].append(start); e["end"].append(end)
                    e["text"].append(span_text); e["label"].append(rng.choice(("PERSON", "ORG", "GPE")))
                    e["entity_id"].append(f"ent-{span_text}"); e["name"].append(span_text)
                else:
                    q = columns["quotes"]
                    q["quote_id"].append(f"{article_id}:q{start}"); q["article_id"].append(article_id)
                    q["paragraph_id"].append(paragraph_id); q["start"].append(start); q["end"].append(end)
                    q["text"].append(span_text); q["kind"].append(rng.choice(KINDS))
                    speaker = span[1] if rng.random() < 0.8 else None
                    q["speaker"].append(speaker); q["speaker_mention"].append(speaker)
                    q["speaker_entity_id"].append(f"ent-{speaker}" if speaker else None)
                    q["cue"].append("said"); q["method"].append("synthetic"); q["speaker_confidence"].append(0.9); q["word_count"].append(len(span_text.split()))
                    q["speaker_id"].append(f"spk-{speaker}" if speaker else None); q["extractor_version"].append("0.0.0+00000000")
            texts.append(text)
            offset += len(text) + 2  # the blank line between paragraphs
        article_text = "\n\n".join(texts)
        a = columns["articles"]
        values = {
            "article_id": article_id, "source_path": f"synthetic/{article_id}.txt", "content_sha256": "0" * 64,
            "outlet": OUTLETS[number % len(OUTLETS)], "section": None, "headline": texts[0], "dek": None,
            "byline": texts[1], "credit": None, "url": None,
            "published_at": now - timedelta(hours=number), "text": article_text,
            "word_count": len(article_text.split()), "encoding": "utf-8", "ingested_at": now, "run_id": "bench",
        }
        for name, value in values.items():
            a[name].append(value)
        s = columns["article_sources"]
        for name, value in {"source_path": values["source_path"], "article_id": article_id, "content_sha256": "0" * 64,
                            "size_bytes": len(article_text.encode()), "first_seen": now, "run_id": "bench"}.items():
            s[name].append(value)
    return columns


def write_synthetic_warehouse(parquet_dir: Path, n_articles: int, batch_size: int = 200, seed: int = 7) -> None:
    rng = random.Random(seed)
    speakers = [f"Speaker {i} Surname" for i in range(2000)]
    entities = [f"Entity {i} Name" for i in range(5000)]
    for name, schema in schemas.TABLES.items():
        (parquet_dir / name).mkdir(parents=True, exist_ok=True)
    pq.write_table(schemas.empty_table("rejects"), parquet_dir / "rejects" / "part-0.parquet")
    for batch, first in enumerate(range(0, n_articles, batch_size)):
        columns = synthetic_batch(first, min(batch_size, n_articles - first), rng, speakers, entities)
        for name, data in columns.items():
            table = pa.table(data, schema=schemas.TABLES[name])
            pq.write_table(table, parquet_dir / name / f"part-{batch:05d}.parquet")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="build in this directory and keep it, instead of a temp dir")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="quotewire-bench-") as temp:
        root = args.keep or Path(temp)
        parquet_dir = root / "parquet"
        if not (parquet_dir / "articles").exists():
            started = time.perf_counter()
            write_synthetic_warehouse(parquet_dir, args.articles)
            print(f"generated {args.articles} articles in {time.perf_counter() - started:.1f} s")
        timings = []
        for run in range(args.runs):
            cpu_started = time.process_time()  # all threads of this process: shows how busy the machine was
            result = build_models(parquet_dir, root / "quotewire.duckdb", root / "marts", SQL_DIR)
            timings.append(result.seconds)
            print(f"run {run + 1}: {result.seconds:.2f} s wall, {time.process_time() - cpu_started:.2f} s CPU,"
                  f" load average {os.getloadavg()[0]:.1f}")
        counts = {table: pq.ParquetDataset(parquet_dir / table).read(columns=[]).num_rows for table in schemas.TABLES}
        print("input rows:", counts)
        print("mart rows:", result.row_counts)
        slowest = sorted(result.step_seconds.items(), key=lambda item: -item[1])[:6]
        print("slowest steps (last run):", ", ".join(f"{step} {seconds:.2f} s" for step, seconds in slowest))
        print(f"rebuild: min {min(timings):.2f} s, median {statistics.median(timings):.2f} s over {len(timings)} runs")


if __name__ == "__main__":
    main()
