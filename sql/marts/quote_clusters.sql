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

canonical as (

    select cluster_id, text as canonical_text
    from members
    qualify row_number() over (
        partition by cluster_id order by length(text) desc, published_at nulls last, quote_id) = 1

),

first_quoted as (

    select cluster_id, article_id as first_article_id, outlet as first_outlet, published_at as first_published_at
    from members
    qualify row_number() over (partition by cluster_id order by published_at nulls last, article_id, quote_id) = 1

),

speaker_counts as (

    select cluster_id, speaker_id, count(*) as n_quotes
    from members
    where speaker_id is not null
    group by cluster_id, speaker_id

),

main_speaker as (

    select cluster_id, speaker_id
    from speaker_counts
    qualify row_number() over (partition by cluster_id order by n_quotes desc, speaker_id) = 1

),

counts as (

    select
        cluster_id,
        count(*) as n_quotes,
        count(distinct article_id) as n_articles,
        count(distinct outlet) as n_outlets
    from members
    group by cluster_id

),

final as (

    select
        counts.cluster_id,
        canonical.canonical_text,
        main_speaker.speaker_id,
        counts.n_quotes,
        counts.n_articles,
        counts.n_outlets,
        first_quoted.first_article_id,
        first_quoted.first_outlet,
        first_quoted.first_published_at

    from counts

    join canonical
        on counts.cluster_id = canonical.cluster_id

    join first_quoted
        on counts.cluster_id = first_quoted.cluster_id

    left join main_speaker
        on counts.cluster_id = main_speaker.cluster_id

)

select * from final
order by n_articles desc, n_quotes desc, cluster_id
