-- The articles table under its own name: stg_articles.
--
-- article_id: Stable id: first 16 hex digits of sha256 of the normalised text (the same text in another encoding, gzip file or format is the same article).
-- source_path: Path of the raw file, relative to the raw root (first in sort order when several files hold this text).
-- content_sha256: sha256 of the raw bytes of the file at source_path.
-- outlet: Publisher, or null when unknown.
-- section: Topic line printed above the headline, if any.
-- headline: Headline.
-- dek: Standfirst: the sentence under the headline.
-- byline: Author(s) as printed or given in front matter.
-- credit: Photo credit line.
-- url: Canonical URL from front matter, if given.
-- published_at: Publication time (UTC); null when unknown.
-- text: Normalised full text that every offset indexes into.
-- word_count: Words in text.
-- encoding: How the raw bytes were decoded (utf-8, utf-8-sig, utf-16, cp1252).
-- ingested_at: When this article was parsed.
-- run_id: The pipeline run that parsed it.

select * from {{ ref('stg_articles') }}
