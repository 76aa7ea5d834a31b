-- One row per canonical entity: how often and in how many articles it is mentioned.
-- spaCy may label the same name differently in different sentences, so the entity's label
-- is the one most of its mentions carry (ties go to the alphabetically first label).
--
-- entity_id: Id of the canonical name.
-- name: Canonical name (the most common one under this id; ties go to the alphabetically first).
-- label: The most common spaCy label of the entity's mentions.
-- n_mentions: Mentions of the entity, over all articles.
-- n_articles: Distinct articles mentioning the entity.

with entities as (

    select * from {{ ref('stg_entities') }}

),

label_counts as (

    select entity_id, label, count(*) as n_mentions
    from entities
    group by entity_id, label

),

most_common_label as (

    select entity_id, label
    from label_counts
    qualify row_number() over (partition by entity_id order by n_mentions desc, label) = 1

),

name_counts as (

    select entity_id, name, count(*) as n_mentions
    from entities
    group by entity_id, name

),

most_common_name as (

    select entity_id, name
    from name_counts
    qualify row_number() over (partition by entity_id order by n_mentions desc, name) = 1

),

mention_counts as (

    select
        entity_id,
        count(*) as n_mentions,
        count(distinct article_id) as n_articles
    from entities
    group by entity_id

),

final as (

    select
        mention_counts.entity_id,
        most_common_name.name,
        most_common_label.label,
        mention_counts.n_mentions,
        mention_counts.n_articles

    from mention_counts

    join most_common_name
        on mention_counts.entity_id = most_common_name.entity_id

    join most_common_label
        on mention_counts.entity_id = most_common_label.entity_id

)

select * from final
order by n_mentions desc, entity_id
