-- One row per article: its size, how much of it is quotation, and how many voices and
-- entities it carries.
--
-- article_id: Stable article id.
-- source_path: Path of the raw file, relative to the raw root.
-- outlet: Publisher, or null when unknown.
-- headline: Headline.
-- published_at: Publication time (UTC); null when unknown.
-- n_paragraphs: Paragraphs of every kind.
-- n_quotes: Quotes, attributed or not.
-- n_speakers: Distinct named speakers quoted.
-- n_entities: Distinct entities (entity_id) mentioned.
-- body_words: Words in body paragraphs (headline, dek, byline, credit and section excluded).
-- quoted_body_words: Words inside quotes that sit in body paragraphs.
-- quoted_share: quoted_body_words / body_words; null when the article has no body words.

with articles as (

    select * from {{ ref('stg_articles') }}

),

paragraphs as (

    select * from {{ ref('stg_paragraphs') }}

),

quotes as (

    select * from {{ ref('stg_quotes') }}

),

entities as (

    select * from {{ ref('stg_entities') }}

),

paragraph_counts as (

    select
        article_id,
        count(*) as n_paragraphs,
        sum(word_count) filter (where kind = 'body') as body_words
    from paragraphs
    group by article_id

),

quote_counts as (

    select
        quotes.article_id,
        count(*) as n_quotes,
        count(distinct quotes.speaker) as n_speakers,
        sum(quotes.word_count) filter (where paragraphs.kind = 'body') as quoted_body_words

    from quotes

    left join paragraphs
        on quotes.paragraph_id = paragraphs.paragraph_id

    group by quotes.article_id

),

entity_counts as (

    select article_id, count(distinct entity_id) as n_entities
    from entities
    group by article_id

),

final as (

    select
        articles.article_id,
        articles.source_path,
        articles.outlet,
        articles.headline,
        articles.published_at,
        coalesce(paragraph_counts.n_paragraphs, 0) as n_paragraphs,
        coalesce(quote_counts.n_quotes, 0) as n_quotes,
        coalesce(quote_counts.n_speakers, 0) as n_speakers,
        coalesce(entity_counts.n_entities, 0) as n_entities,
        -- sum() of INTEGER is HUGEINT in DuckDB; BIGINT keeps the Parquet export plain int64.
        coalesce(paragraph_counts.body_words, 0)::bigint as body_words,
        coalesce(quote_counts.quoted_body_words, 0)::bigint as quoted_body_words,
        coalesce(quote_counts.quoted_body_words, 0)
            / nullif(paragraph_counts.body_words, 0)::double as quoted_share

    from articles

    left join paragraph_counts
        on articles.article_id = paragraph_counts.article_id

    left join quote_counts
        on articles.article_id = quote_counts.article_id

    left join entity_counts
        on articles.article_id = entity_counts.article_id

)

select * from final
order by published_at, article_id
