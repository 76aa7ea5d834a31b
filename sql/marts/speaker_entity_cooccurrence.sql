-- Who talks about what: for each speaker, the entities mentioned in the same paragraph as
-- one of their quotes, and in how many of their quotes that happens.
-- The speaker's own entity is left out: their name usually sits in the attribution itself.
--
-- speaker: Canonical full name of the speaker.
-- entity_id: The entity mentioned alongside the quote.
-- entity_name: Canonical name of the entity.
-- label: The entity's most common spaCy label.
-- n_quotes: The speaker's quotes whose paragraph mentions the entity.

with quotes as (

    select * from {{ ref('stg_quotes') }}
    where speaker is not null

),

entities as (

    select * from {{ ref('stg_entities') }}

),

entity_mentions as (

    select * from {{ ref('entity_mentions') }}

),

quote_entities as (

    -- distinct: an entity named twice in one paragraph still co-occurs with the quote once.
    select distinct
        quotes.quote_id,
        quotes.speaker,
        entities.entity_id

    from quotes

    join entities
        on quotes.paragraph_id = entities.paragraph_id

    -- speaker_entity_id is null when the speaker is not a recognised entity;
    -- the name comparison still keeps the speaker from co-occurring with themself.
    where entities.entity_id is distinct from quotes.speaker_entity_id
        and entities.name <> quotes.speaker

),

final as (

    select
        quote_entities.speaker,
        quote_entities.entity_id,
        entity_mentions.name as entity_name,
        entity_mentions.label,
        count(*) as n_quotes

    from quote_entities

    join entity_mentions
        on quote_entities.entity_id = entity_mentions.entity_id

    group by all

)

select * from final
order by speaker, n_quotes desc, entity_id
