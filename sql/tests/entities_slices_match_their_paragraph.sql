-- Every row of entities lies inside its article's text and inside its paragraph, and its offsets
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

entities as (

    select * from {{ ref('stg_entities') }}

)

select
    entities.mention_id,
    entities.start_offset,
    entities.end_offset,
    paragraphs.start_offset as paragraph_start,
    paragraphs.end_offset as paragraph_end,
    articles.article_length,
    entities.text

from entities

join paragraphs
    on entities.paragraph_id = paragraphs.paragraph_id

join articles
    on entities.article_id = articles.article_id

where not (
    0 <= entities.start_offset
    and entities.start_offset <= entities.end_offset
    and entities.end_offset <= articles.article_length
    and paragraphs.start_offset <= entities.start_offset
    and entities.end_offset <= paragraphs.end_offset
    and substring(
        paragraphs.text,
        entities.start_offset - paragraphs.start_offset + 1,
        entities.end_offset - entities.start_offset
    ) = entities.text
)
