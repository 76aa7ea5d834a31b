-- One row per speaker identity over the whole warehouse. The forms of one name ("Donald Trump",
-- "Donald J. Trump", "President Trump", a bare "Trump" its article resolves) share one
-- speaker_id; what is not the name of a person or organisation the article mentions has none.
-- Recomputed from every article at each build, so counts follow incremental runs.
--
-- speaker_id: quotes.speaker_id: first 16 hex digits of sha1 of the name key (casefolded, without titles
--   and middle initials), equal in every run.
-- name: Canonical name: the form most of its quotes carry (ties: the longest, then alphabetical).
-- speaker_type: person | organisation: the label most mentions of its names in its articles carry.
-- aliases: Every form of the name its quotes carry, alphabetical.
-- n_quotes: Quotes attributed to the speaker.
-- n_articles: Distinct articles quoting the speaker.
-- outlets: Distinct outlets quoting the speaker, alphabetical.
-- first_seen: Earliest publication time (UTC) of those articles; null when none is dated.
-- last_seen: Latest publication time (UTC) of those articles; null when none is dated.

with quotes as (

    select * from {{ ref('stg_quotes') }}
    where speaker_id is not null

),

articles as (

    select article_id, outlet, published_at from {{ ref('stg_articles') }}

),

entities as (

    select article_id, name, label from {{ ref('stg_entities') }}

),

name_counts as (

    select speaker_id, speaker, count(*) as n_quotes
    from quotes
    group by speaker_id, speaker

),

canonical as (

    select speaker_id, speaker as name
    from name_counts
    qualify row_number() over (partition by speaker_id order by n_quotes desc, length(speaker) desc, speaker) = 1

),

speaker_articles as (

    select distinct speaker_id, article_id, speaker from quotes

),

label_counts as (

    select speaker_articles.speaker_id, entities.label, count(*) as n_mentions
    from speaker_articles
    join entities
        on speaker_articles.article_id = entities.article_id
        and speaker_articles.speaker = entities.name
    where entities.label in ('PERSON', 'ORG')
    group by speaker_articles.speaker_id, entities.label

),

speaker_type as (

    select speaker_id, case label when 'ORG' then 'organisation' else 'person' end as speaker_type
    from label_counts
    qualify row_number() over (partition by speaker_id order by n_mentions desc, label desc) = 1

),

totals as (

    select
        quotes.speaker_id,
        list(distinct quotes.speaker order by quotes.speaker) as aliases,
        count(*) as n_quotes,
        count(distinct quotes.article_id) as n_articles,
        list(distinct articles.outlet order by articles.outlet) filter (where articles.outlet is not null) as outlets,
        min(articles.published_at) as first_seen,
        max(articles.published_at) as last_seen

    from quotes

    left join articles
        on quotes.article_id = articles.article_id

    group by quotes.speaker_id

),

final as (

    select
        totals.speaker_id,
        canonical.name,
        coalesce(speaker_type.speaker_type, 'person') as speaker_type,
        totals.aliases,
        totals.n_quotes,
        totals.n_articles,
        coalesce(totals.outlets, []::varchar[]) as outlets,
        totals.first_seen,
        totals.last_seen

    from totals

    join canonical
        on totals.speaker_id = canonical.speaker_id

    left join speaker_type
        on totals.speaker_id = speaker_type.speaker_id

)

select * from final
order by n_quotes desc, speaker_id
