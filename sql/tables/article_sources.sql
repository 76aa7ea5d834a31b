-- The article_sources table under its own name: stg_article_sources.
--
-- source_path: Path of the raw file, relative to the raw root.
-- article_id: The article this file's text is.
-- content_sha256: sha256 of the raw file bytes.
-- size_bytes: File size in bytes.
-- first_seen: The first run that saw this path with this content.
-- run_id: The pipeline run that parsed it.

select * from {{ ref('stg_article_sources') }}
