"""Arrow schemas of every published table: the one contract all stages, SQL models and tests use.

Each column carries a description in its field metadata; ``quotewire docs`` and the data
dictionary are generated from it, so the documentation cannot drift from the data.
Parquet files under ``warehouse/parquet/<table>/`` are written with exactly these schemas.
"""

from __future__ import annotations

import pyarrow as pa

TIMESTAMP = pa.timestamp("us", tz="UTC")


def _field(name: str, type_: pa.DataType, description: str, nullable: bool = True) -> pa.Field:
    return pa.field(name, type_, nullable=nullable, metadata={"description": description})


def _schema(description: str, *fields: pa.Field) -> pa.Schema:
    return pa.schema(list(fields), metadata={"description": description})


ARTICLES = _schema(
    "One row per distinct article text. The same text under several paths is one article, whatever"
    " their bytes (encoding, gzip, HTML page or JSON Lines record; see article_sources); an edited"
    " file becomes a new article and its old rows go. A warehouse whose ids were made from the raw"
    " bytes (before text ids) is re-keyed once by its next run.",
    _field("article_id", pa.string(), "Stable id: first 16 hex digits of sha256 of the normalised text (the decoded"
           " text with front matter, surrounding white space counted as one final newline).", False),
    _field("source_path", pa.string(), "POSIX path relative to the raw root; the first in sort order when several files hold this text.", False),
    _field("content_sha256", pa.string(), "sha256 of the raw bytes of the file at source_path (of the record's text for a JSON Lines line).", False),
    _field("outlet", pa.string(), "Publisher: front matter `outlet`, else the first folder under the raw root, else null."),
    _field("section", pa.string(), "Topic line printed above the headline, if any."),
    _field("headline", pa.string(), "Headline."),
    _field("dek", pa.string(), "Standfirst: the sentence under the headline."),
    _field("byline", pa.string(), "Author(s) as printed or given in front matter."),
    _field("credit", pa.string(), "Photo credit line."),
    _field("url", pa.string(), "Canonical URL from front matter, if given."),
    _field("published_at", TIMESTAMP, "Publication time (UTC) from front matter; null when unknown."),
    _field("text", pa.string(), "Normalised full text (front matter removed) that every offset indexes into.", False),
    _field("word_count", pa.int32(), "Words in text.", False),
    _field("encoding", pa.string(), "How the raw bytes were decoded: utf-8, utf-8-sig, utf-16, cp1252.", False),
    _field("ingested_at", TIMESTAMP, "When this article was parsed.", False),
    _field("run_id", pa.string(), "The run that parsed it.", False),
)

ARTICLE_SOURCES = _schema(
    "Every raw file that became an article: one row per path, several paths may share an article.",
    _field("source_path", pa.string(), "POSIX path relative to the raw root.", False),
    _field("article_id", pa.string(), "The article this file's text is.", False),
    _field("content_sha256", pa.string(), "sha256 of the raw file bytes (of the record's text for a JSON Lines line).", False),
    _field("size_bytes", pa.int64(), "File size in bytes.", False),
    _field("first_seen", TIMESTAMP, "The first run that saw this path with this content.", False),
    _field("run_id", pa.string(), "The run that parsed it.", False),
)

PARAGRAPHS = _schema(
    "Paragraphs (blank-line separated blocks) of each article, classified by their role.",
    _field("paragraph_id", pa.string(), "article_id + ':p' + position.", False),
    _field("article_id", pa.string(), "Article it belongs to.", False),
    _field("position", pa.int32(), "0-based order in the article.", False),
    _field("kind", pa.string(), "section | headline | dek | credit | byline | body.", False),
    _field("start", pa.int32(), "Offset of the first character in articles.text.", False),
    _field("end", pa.int32(), "Offset one past the last character (articles.text[start:end] == text).", False),
    _field("text", pa.string(), "The paragraph text.", False),
    _field("word_count", pa.int32(), "Words in the paragraph.", False),
)

QUOTES = _schema(
    "Quoted spans (content inside the quotation marks) and who said them.",
    _field("quote_id", pa.string(), "article_id + ':q' + start offset.", False),
    _field("article_id", pa.string(), "Article it belongs to.", False),
    _field("paragraph_id", pa.string(), "Paragraph holding the quote.", False),
    _field("start", pa.int32(), "Offset of the first character inside the marks.", False),
    _field("end", pa.int32(), "Offset one past the last character inside the marks.", False),
    _field("text", pa.string(), "The quoted words; articles.text[start:end] == text.", False),
    _field("kind", pa.string(), "direct (a quoted utterance) | partial (a fragment inside the writer's sentence).", False),
    _field("speaker", pa.string(), "Canonical full name of the speaker (person or organisation), or null when nobody is identifiable."),
    _field("speaker_mention", pa.string(), "The words at the attribution: 'he', 'the attorney general', 'Sessions'."),
    _field("speaker_entity_id", pa.string(), "entities.entity_id of the speaker, when the speaker is a recognised entity."),
    _field("cue", pa.string(), "Reporting verb or phrase: said, tells, added, according to."),
    _field("method", pa.string(), "Which attribution rule named the speaker (for error analysis)."),
    _field("speaker_confidence", pa.float32(), "0-1: how likely the speaker is right, from how it was found; "
           "among quotes at 0.9 or more, at least 95 % should be right (quotewire eval prints the check). 0 without a speaker."),
    _field("word_count", pa.int32(), "Words in the quote.", False),
    _field("speaker_id", pa.string(), "speakers.speaker_id: one id per speaker over the whole warehouse, the same in every"
           " run (from the name with titles and middle initials dropped, a bare surname taken as the article's full name);"
           " null when there is no speaker or the speaker is not a person or organisation the article names."),
    _field("extractor_version", pa.string(), "Package version + hash of the analysis rules that made this row"
           " ('0.1.0+1a2b3c4d'): rows of different rules can be told apart."),
)

ENTITIES = _schema(
    "Named-entity mentions (spaCy NER per paragraph), one row per mention, resolved to a canonical name.",
    _field("mention_id", pa.string(), "article_id + ':e' + start offset.", False),
    _field("article_id", pa.string(), "Article it belongs to.", False),
    _field("paragraph_id", pa.string(), "Paragraph holding the mention.", False),
    _field("start", pa.int32(), "Offset of the mention in articles.text.", False),
    _field("end", pa.int32(), "Offset one past its end.", False),
    _field("text", pa.string(), "The mention as written.", False),
    _field("label", pa.string(), "spaCy entity label: PERSON, ORG, GPE, NORP, LAW, ...", False),
    _field("entity_id", pa.string(), "Id of the canonical name: equal across mentions and articles with the same name.", False),
    _field("name", pa.string(), "Canonical name: the fullest form the article uses ('Jeff Sessions' for 'Sessions').", False),
)

REJECTS = _schema(
    "Raw files that did not become articles, with the reason. A fixed file is picked up on the next run.",
    _field("source_path", pa.string(), "POSIX path relative to the raw root.", False),
    _field("reason", pa.string(), "Machine-readable reason code (empty, binary, too_large, unreadable, ...).", False),
    _field("detail", pa.string(), "What is wrong, in words.", False),
    _field("content_sha256", pa.string(), "sha256 of the bytes when they could be read."),
    _field("first_seen", TIMESTAMP, "The first run that rejected this path for this reason.", False),
    _field("run_id", pa.string(), "The latest run that rejected it.", False),
)

TABLES: dict[str, pa.Schema] = {
    "articles": ARTICLES,
    "article_sources": ARTICLE_SOURCES,
    "paragraphs": PARAGRAPHS,
    "quotes": QUOTES,
    "entities": ENTITIES,
    "rejects": REJECTS,
}


def empty_table(name: str) -> pa.Table:
    return TABLES[name].empty_table()


def describe(schema: pa.Schema) -> str:
    return (schema.metadata or {}).get(b"description", b"").decode()


def column_description(field: pa.Field) -> str:
    return (field.metadata or {}).get(b"description", b"").decode()
