-- Every row of quotes lies inside its article's text and inside its paragraph, and its offsets
-- slice out exactly its text.
-- The slice is taken from the paragraph rather than the whole article: the paragraph test
-- already proves paragraph text == article slice, and slicing short strings is far cheaper
-- (substring has to walk the UTF-8 bytes to count code points).

with articles as (

    select article_id, length(text) as article_length from {{ ref('stg_articles') }}

),

paragraphs as (

    select * from {{ ref('stg_paragraphs') }}

),

quotes as (

    select * from {{ ref('stg_quotes') }}

)

select
    quotes.quote_id,
    quotes.start_offset,
    quotes.end_offset,
    paragraphs.start_offset as paragraph_start,
    paragraphs.end_offset as paragraph_end,
    articles.article_length,
    quotes.text

from quotes

join paragraphs
    on quotes.paragraph_id = paragraphs.paragraph_id

join articles
    on quotes.article_id = articles.article_id

where not (
    0 <= quotes.start_offset
    and quotes.start_offset <= quotes.end_offset
    and quotes.end_offset <= articles.article_length
    and paragraphs.start_offset <= quotes.start_offset
    and quotes.end_offset <= paragraphs.end_offset
    and substring(
        paragraphs.text,
        quotes.start_offset - paragraphs.start_offset + 1,
        quotes.end_offset - quotes.start_offset
    ) = quotes.text
)
