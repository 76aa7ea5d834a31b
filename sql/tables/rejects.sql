-- The rejects table under its own name: stg_rejects.
--
-- source_path: Path of the raw file, relative to the raw root.
-- reason: Machine-readable reason code (empty, binary, too_large, unreadable, ...).
-- detail: What is wrong, in words.
-- content_sha256: sha256 of the bytes when they could be read.
-- first_seen: The first run that rejected this path for this reason.
-- run_id: The latest run that rejected it.

select * from {{ ref('stg_rejects') }}
