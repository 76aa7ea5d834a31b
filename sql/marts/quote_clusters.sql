-- One row per quote reuse cluster: the same words quoted in several places (wire copy, follow-ups,
-- a quote re-quoted, a partial quote cut from a direct one). Every quote is in exactly one
-- cluster; most clusters hold a single quote.
--
-- cluster_id: Id of the cluster: first 16 hex digits of md5 of its longest normalised text.
-- canonical_text: The longest quote of the cluster as written (ties: the earliest quote).
-- speaker_id: The speaker most of its attributed quotes have (ties: smallest id); null when none is attributed.
-- n_quotes: Quotes in the cluster.
-- n_articles: Distinct articles quoting it.
-- n_outlets: Distinct outlets quoting it (unknown outlets not counted).
-- first_article_id: The article that quoted it first (earliest published_at; undated last, then by id).
-- first_outlet: Outlet of that article.
-- first_published_at: Publication time (UTC) of that article; null when undated.

with quotes as (

    select * from {{ ref('stg_quotes') }}

),

clusters as (

    select * from {{ ref('int_quote_clusters') }}

),

articles as (

    select article_id, outlet, published_at from {{ ref('stg_articles') }}

),

members as (

    select
        clusters.cluster_id,
        quotes.quote_id,
        quotes.text,
        quotes.speaker_id,
        quotes.article_id,
        articles.outlet,
        articles.published_at

    from quotes

    join clusters
        on quotes.quote_id = clusters.quote_id

    left join articles
        on quotes.article_id = articles.article_id

),

speaker_counts as (

    select cluster_id, speaker_id, count(*) as n_quotes
    from members
    where speaker_id is not null
    group by cluster_id, speaker_id

),

main_speaker as (

    select cluster_id, arg_min(speaker_id, {'n': -n_quotes, 'id': speaker_id}) as speaker_id
    from speaker_counts
    group by cluster_id

),

counts as (

    -- arg_min over a struct key: the row first in that order, one pass instead of a window per choice
    select
        cluster_id,
        arg_min(text, {'length': -length(text), 'published': coalesce(published_at, 'infinity'::timestamptz),
                       'quote': quote_id}) as canonical_text,
        count(*) as n_quotes,
        count(distinct article_id) as n_articles,
        count(distinct outlet) as n_outlets,
        arg_min({'article_id': article_id, 'outlet': outlet, 'published_at': published_at},
                {'published': coalesce(published_at, 'infinity'::timestamptz), 'article': article_id, 'quote': quote_id})
            as first_quoted
    from members
    group by cluster_id

),

final as (

    select
        counts.cluster_id,
        counts.canonical_text,
        main_speaker.speaker_id,
        counts.n_quotes,
        counts.n_articles,
        counts.n_outlets,
        counts.first_quoted.article_id as first_article_id,
        counts.first_quoted.outlet as first_outlet,
        counts.first_quoted.published_at as first_published_at

    from counts

    left join main_speaker
        on counts.cluster_id = main_speaker.cluster_id

)

select * from final
order by n_articles desc, n_quotes desc, cluster_id
