"""Analysed articles -> Arrow tables with exactly the schemas of schemas.py."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Iterable, Sequence

import pyarrow as pa

from quotewire import schemas
from quotewire.analyse import AnalysedArticle

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


def paragraph_id(article_id: str, position: int) -> str:
    return f"{article_id}:p{position}"


def to_table(name: str, rows: Iterable[dict]) -> pa.Table:
    schema = schemas.TABLES[name]
    return pa.Table.from_pylist(list(rows), schema=schema)


def article_tables(articles: Sequence[AnalysedArticle], run_id: str, ingested_at: datetime) -> dict[str, pa.Table]:
    """The four per-article tables for one batch."""
    from quotewire.entities import entity_id  # imports spaCy: only workers need it
    article_rows, paragraph_rows, quote_rows, entity_rows = [], [], [], []
    for article in articles:
        structure, aid = article.structure, article.article_id
        article_rows.append({
            "article_id": aid,
            "source_path": article.document.source_path,
            "content_sha256": article.document.content_sha256,
            "outlet": structure.outlet,
            "section": structure.section,
            "headline": structure.headline,
            "dek": structure.dek,
            "byline": structure.byline or structure.author,
            "credit": structure.credit,
            "url": structure.url,
            "published_at": parse_published_at(structure.published_at),
            "text": structure.text,
            "word_count": word_count(structure.text),
            "encoding": article.document.encoding,
            "ingested_at": ingested_at,
            "run_id": run_id,
        })
        for paragraph in structure.paragraphs:
            paragraph_rows.append({
                "paragraph_id": paragraph_id(aid, paragraph.position),
                "article_id": aid,
                "position": paragraph.position,
                "kind": paragraph.kind,
                "start": paragraph.start,
                "end": paragraph.end,
                "text": paragraph.text,
                "word_count": word_count(paragraph.text),
            })
        entity_names = {mention.name for mention in article.mentions}
        for quote in article.quotes:
            quote_rows.append({
                "quote_id": f"{aid}:q{quote.start}",
                "article_id": aid,
                "paragraph_id": paragraph_id(aid, quote.paragraph_position),
                "start": quote.start,
                "end": quote.end,
                "text": quote.text,
                "kind": quote.kind,
                "speaker": quote.speaker,
                "speaker_mention": quote.speaker_mention,
                "speaker_entity_id": entity_id(quote.speaker) if quote.speaker in entity_names else None,
                "cue": quote.cue,
                "method": quote.method,
                "word_count": word_count(quote.text),
            })
        for mention in article.mentions:
            entity_rows.append({
                "mention_id": f"{aid}:e{mention.start}",
                "article_id": aid,
                "paragraph_id": paragraph_id(aid, mention.paragraph_position),
                "start": mention.start,
                "end": mention.end,
                "text": mention.text,
                "label": mention.label,
                "entity_id": entity_id(mention.name),
                "name": mention.name,
            })
    return {
        "articles": to_table("articles", article_rows),
        "paragraphs": to_table("paragraphs", paragraph_rows),
        "quotes": to_table("quotes", quote_rows),
        "entities": to_table("entities", entity_rows),
    }
