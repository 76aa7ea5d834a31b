-- Paragraphs (blank-line separated blocks) of each article, classified by their role.
-- `start`/`end` become start_offset/end_offset: `end` is a reserved word in SQL.
--
-- paragraph_id: article_id + ':p' + position.
-- article_id: Article it belongs to.
-- position: 0-based order in the article.
-- kind: section | headline | dek | credit | byline | body.
-- start_offset: Offset of the first character in the article text (0-based code points).
-- end_offset: Offset one past the last character; the article text from start_offset to end_offset is `text`.
-- text: The paragraph text.
-- word_count: Words in the paragraph.

with source as (

    select * from read_parquet('{{ parquet_dir }}/paragraphs/*.parquet')

),

renamed as (

    select
        paragraph_id,
        article_id,
        position,
        kind,
        "start" as start_offset,
        "end" as end_offset,
        text,
        word_count

    from source

)

select * from renamed
