-- The entity mentions inside each quote's span: the people, organisations and places a quote
-- talks about, one row per (quote, mention).
--
-- quote_id: The quote.
-- mention_id: The entity mention inside it (entities.mention_id).
-- article_id: Article both belong to.
-- speaker_id: speakers.speaker_id of the quote's speaker; null when unattributed.
-- entity_id: Id of the mentioned entity's canonical name.
-- name: Canonical name of the mentioned entity.
-- label: spaCy label of this mention.

with quotes as (

    select quote_id, article_id, paragraph_id, start_offset, end_offset, speaker_id
    from {{ ref('stg_quotes') }}

),

entities as (

    select mention_id, paragraph_id, start_offset, end_offset, entity_id, name, label
    from {{ ref('stg_entities') }}

),

final as (

    select
        quotes.quote_id,
        entities.mention_id,
        quotes.article_id,
        quotes.speaker_id,
        entities.entity_id,
        entities.name,
        entities.label

    from quotes

    join entities
        on quotes.paragraph_id = entities.paragraph_id
        and entities.start_offset >= quotes.start_offset
        and entities.end_offset <= quotes.end_offset

)

select * from final
order by quote_id, mention_id
