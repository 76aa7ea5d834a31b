-- Every raw file that became an article; several files with the same (decoded) text share one article.
--
-- source_path: Path of the raw file, relative to the raw root.
-- article_id: The article this file's text is.
-- content_sha256: sha256 of the raw file bytes.
-- size_bytes: File size in bytes.
-- first_seen: The first run that saw this path with this content.
-- run_id: The pipeline run that parsed it.

with source as (

    select * from read_parquet('{{ parquet_dir }}/article_sources/*.parquet')

),

renamed as (

    select
        source_path,
        article_id,
        content_sha256,
        size_bytes,
        first_seen,
        run_id

    from source

)

select * from renamed
