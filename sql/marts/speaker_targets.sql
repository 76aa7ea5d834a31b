-- About whom: for each speaker, the people, organisations, places and groups (PERSON, ORG, GPE,
-- NORP) their quotes themselves mention (inside the quote marks, unlike
-- speaker_entity_cooccurrence, which counts the whole paragraph). A speaker naming themself is left out.
--
-- speaker_id: speakers.speaker_id.
-- speaker: The speaker's canonical name (speakers.name).
-- entity_id: The entity mentioned inside their quotes.
-- entity_name: Canonical name of the entity.
-- label: The entity's most common spaCy label.
-- n_quotes: The speaker's quotes mentioning the entity.
-- n_articles: Distinct articles with such a quote.

with mentions as (

    select * from {{ ref('quote_mentions') }}
    where speaker_id is not null

),

speakers as (

    select speaker_id, name from {{ ref('speakers') }}

),

entity_mentions as (

    select entity_id, name, label from {{ ref('entity_mentions') }}

),

final as (

    select
        mentions.speaker_id,
        speakers.name as speaker,
        mentions.entity_id,
        entity_mentions.name as entity_name,
        entity_mentions.label,
        count(distinct mentions.quote_id) as n_quotes,
        count(distinct mentions.article_id) as n_articles

    from mentions

    join speakers
        on mentions.speaker_id = speakers.speaker_id

    join entity_mentions
        on mentions.entity_id = entity_mentions.entity_id

    -- speaker_id is entity_id of the speaker's name key, so this drops a speaker naming themself
    where mentions.entity_id <> mentions.speaker_id
        and entity_mentions.label in ('PERSON', 'ORG', 'GPE', 'NORP')

    group by all

)

select * from final
order by speaker_id, n_quotes desc, entity_id
