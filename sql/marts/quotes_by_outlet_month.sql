-- Quotes per outlet and calendar month (UTC) of publication, for dashboards.
-- Articles without an outlet or a publication date keep their quotes, under a null outlet or month.
--
-- outlet: Publisher, or null when unknown.
-- month: First day of the publication month (UTC); null when the article is undated.
-- n_quotes: Quotes, attributed or not.
-- n_speakers: Distinct named speakers quoted.

with quotes as (

    select * from {{ ref('stg_quotes') }}

),

articles as (

    select * from {{ ref('stg_articles') }}

),

quotes_dated as (

    select
        quotes.quote_id,
        quotes.speaker,
        articles.outlet,
        -- timezone('UTC', ...) drops to a UTC wall-clock timestamp, so the month does not
        -- depend on the TimeZone setting of whoever runs the build.
        date_trunc('month', timezone('UTC', articles.published_at))::date as month

    from quotes

    join articles
        on quotes.article_id = articles.article_id

),

final as (

    select
        outlet,
        month,
        count(*) as n_quotes,
        count(distinct speaker) as n_speakers

    from quotes_dated

    group by outlet, month

)

select * from final
order by outlet, month
