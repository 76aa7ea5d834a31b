-- Attributed quotes per speaker: how often, in how many articles and over what period each
-- speaker is quoted. Quotes with no identifiable speaker are left out.
--
-- speaker: Canonical full name of the speaker.
-- n_quotes: Quotes attributed to the speaker.
-- n_direct: Of those, direct quotes (a quoted utterance).
-- n_partial: Of those, partial quotes (a fragment inside the writer's sentence).
-- n_articles: Distinct articles quoting the speaker.
-- first_published: Earliest publication time (UTC) of those articles; null when none is dated.
-- last_published: Latest publication time (UTC) of those articles; null when none is dated.

with quotes as (

    select * from {{ ref('stg_quotes') }}
    where speaker is not null

),

articles as (

    select * from {{ ref('stg_articles') }}

),

final as (

    select
        quotes.speaker,
        count(*) as n_quotes,
        count(*) filter (where quotes.kind = 'direct') as n_direct,
        count(*) filter (where quotes.kind = 'partial') as n_partial,
        count(distinct quotes.article_id) as n_articles,
        min(articles.published_at) as first_published,
        max(articles.published_at) as last_published

    from quotes

    left join articles
        on quotes.article_id = articles.article_id

    group by quotes.speaker

)

select * from final
order by n_quotes desc, speaker
