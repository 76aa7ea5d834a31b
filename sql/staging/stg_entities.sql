-- Named-entity mentions, one row per mention, resolved to a canonical name.
-- `start`/`end` become start_offset/end_offset: `end` is a reserved word in SQL.
--
-- mention_id: article_id + ':e' + start offset.
-- article_id: Article it belongs to.
-- paragraph_id: Paragraph holding the mention.
-- start_offset: Offset of the mention in the article text.
-- end_offset: Offset one past its end.
-- text: The mention as written.
-- label: spaCy entity label: PERSON, ORG, GPE, NORP, LAW, ...
-- entity_id: Id of the canonical name: equal across mentions and articles with the same name.
-- name: Canonical name: the fullest form the article uses ('Jeff Sessions' for 'Sessions').

with source as (

    select * from read_parquet('{{ parquet_dir }}/entities/*.parquet')

),

renamed as (

    select
        mention_id,
        article_id,
        paragraph_id,
        "start" as start_offset,
        "end" as end_offset,
        text,
        label,
        entity_id,
        name

    from source

)

select * from renamed
