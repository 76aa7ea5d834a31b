"""Analysed articles -> Arrow tables with exactly the schemas of schemas.py."""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Sequence

import pyarrow as pa

from quotewire import __version__
from quotewire.publish import schemas
from quotewire.analyse.article import AnalysedArticle
from quotewire.read.document import Mention, Quote

_WORD = re.compile(r"\w+(?:['’]\w+)*")


def word_count(text: str) -> int:
    """Words as analysts count them: "doesn't" is one word, punctuation is none."""
    return _WORD.subn("", text)[1]  # counts without building the list of words findall would


def parse_published_at(value: str | None) -> datetime | None:
    """ISO 8601 dates or datetimes from front matter; naive values are taken as UTC; junk gives None."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


ANALYSE_DIR = Path(__file__).resolve().parent.parent / "analyse"


def rules_hash(directory: Path = ANALYSE_DIR) -> str:
    """First 8 hex digits of sha256 over the analysis modules (cue lists, name rules, weights)."""
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:8]


# Which rules made a quote row: the package version + the hash of the analysis code.
EXTRACTOR_VERSION = f"{__version__}+{rules_hash()}"


# Columns whose values start with the article id: "<article_id>", "<article_id>:p3", ":q120", ":e7".
ARTICLE_KEYED_COLUMNS = ("article_id", "paragraph_id", "quote_id", "mention_id")


def paragraph_id(article_id: str, position: int) -> str:
    return f"{article_id}:p{position}"


def to_table(name: str, rows: Iterable[dict]) -> pa.Table:
    schema = schemas.TABLES[name]
    return pa.Table.from_pylist(list(rows), schema=schema)


def empty_columns(name: str) -> dict[str, list]:
    """One list per column of the table, in the schema's order, to append a row's values to."""
    return {field.name: [] for field in schemas.TABLES[name]}


def _append_place(columns: dict[str, list], article_id: str, span: Quote | Mention) -> None:
    """The columns a quote and an entity mention share: where in which article it stands."""
    columns["article_id"].append(article_id)
    columns["paragraph_id"].append(paragraph_id(article_id, span.paragraph_position))
    columns["start"].append(span.start)
    columns["end"].append(span.end)
    columns["text"].append(span.text)


def quote_speaker_ids(mentions: Sequence[Mention], quotes: Sequence[Quote]) -> list[str | None]:
    """quotes.speaker_id of each of one article's quotes (``entities.speaker_id`` given the
    labels the article's mentions of that name carry and the article's person names)."""
    from quotewire.analyse.entities import speaker_id  # imports spaCy: only workers need it

    labels: dict[str, Counter] = defaultdict(Counter)
    for mention in mentions:
        labels[mention.name][mention.label] += 1
    person_names = [mention.name for mention in mentions if mention.label == "PERSON"]
    return [speaker_id(quote.speaker, labels.get(quote.speaker or ""), person_names) for quote in quotes]


def article_tables(articles: Sequence[AnalysedArticle], run_id: str, ingested_at: datetime) -> dict[str, pa.Table]:
    """The four per-article tables for one batch.

    Built column by column, not as one dict per row for ``Table.from_pylist``, which is slower.
    A column left without its value makes the lists' lengths differ, which ``from_pydict``
    refuses."""
    from quotewire.analyse.entities import entity_id  # imports spaCy: only workers need it
    a, p, q, e = (empty_columns(name) for name in ("articles", "paragraphs", "quotes", "entities"))
    for article in articles:
        structure, aid = article.structure, article.article_id
        a["article_id"].append(aid)
        a["source_path"].append(article.document.source_path)
        a["content_sha256"].append(article.document.content_sha256)
        a["outlet"].append(structure.outlet)
        a["section"].append(structure.section)
        a["headline"].append(structure.headline)
        a["dek"].append(structure.dek)
        a["byline"].append(structure.byline or structure.author)
        a["credit"].append(structure.credit)
        a["url"].append(structure.url)
        a["published_at"].append(parse_published_at(structure.published_at))
        a["text"].append(structure.text)
        a["word_count"].append(word_count(structure.text))
        a["encoding"].append(article.document.encoding)
        a["ingested_at"].append(ingested_at)
        a["run_id"].append(run_id)
        for paragraph in structure.paragraphs:
            p["paragraph_id"].append(paragraph_id(aid, paragraph.position))
            p["article_id"].append(aid)
            p["position"].append(paragraph.position)
            p["kind"].append(paragraph.kind)
            p["start"].append(paragraph.start)
            p["end"].append(paragraph.end)
            p["text"].append(paragraph.text)
            p["word_count"].append(word_count(paragraph.text))
        entity_names = {mention.name for mention in article.mentions}
        speaker_ids = quote_speaker_ids(article.mentions, article.quotes)
        for quote, quote_speaker_id in zip(article.quotes, speaker_ids):
            q["quote_id"].append(f"{aid}:q{quote.start}")
            _append_place(q, aid, quote)
            q["kind"].append(quote.kind)
            q["speaker"].append(quote.speaker)
            q["speaker_mention"].append(quote.speaker_mention)
            q["speaker_entity_id"].append(entity_id(quote.speaker) if quote.speaker in entity_names else None)
            q["cue"].append(quote.cue)
            q["method"].append(quote.method)
            q["speaker_confidence"].append(quote.speaker_confidence)
            q["word_count"].append(word_count(quote.text))
            q["speaker_id"].append(quote_speaker_id)
            q["extractor_version"].append(EXTRACTOR_VERSION)
        for mention in article.mentions:
            e["mention_id"].append(f"{aid}:e{mention.start}")
            _append_place(e, aid, mention)
            e["label"].append(mention.label)
            e["entity_id"].append(entity_id(mention.name))
            e["name"].append(mention.name)
    return {name: pa.Table.from_pydict(columns, schema=schemas.TABLES[name])
            for name, columns in (("articles", a), ("paragraphs", p), ("quotes", q), ("entities", e))}
