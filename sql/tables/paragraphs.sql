-- The paragraphs table under its own name: stg_paragraphs.
--
-- paragraph_id: article_id + ':p' + position.
-- article_id: Article it belongs to.
-- position: 0-based order in the article.
-- kind: section | headline | dek | credit | byline | body.
-- start_offset: Offset of the first character in the article text (0-based code points).
-- end_offset: Offset one past the last character; the article text from start_offset to end_offset is `text`.
-- text: The paragraph text.
-- word_count: Words in the paragraph.

select * from {{ ref('stg_paragraphs') }}
