-- Every paragraph's offsets lie inside its article's text and slice out exactly its text.
-- Offsets are Python str indices (code points, 0-based, end exclusive); DuckDB's substring
-- counts code points too (1-based), hence the + 1.

with articles as (

    select article_id, text from {{ ref('stg_articles') }}

),

paragraphs as (

    select * from {{ ref('stg_paragraphs') }}

)

select
    paragraphs.paragraph_id,
    paragraphs.start_offset,
    paragraphs.end_offset,
    length(articles.text) as article_length,
    paragraphs.text

from paragraphs

join articles
    on paragraphs.article_id = articles.article_id

where not (
    0 <= paragraphs.start_offset
    and paragraphs.start_offset <= paragraphs.end_offset
    and paragraphs.end_offset <= length(articles.text)
    and substring(articles.text, paragraphs.start_offset + 1, paragraphs.end_offset - paragraphs.start_offset)
        = paragraphs.text
)
