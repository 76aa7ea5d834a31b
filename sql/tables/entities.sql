-- The entities table under its own name: stg_entities.
--
-- mention_id: article_id + ':e' + start offset.
-- article_id: Article it belongs to.
-- paragraph_id: Paragraph holding the mention.
-- start_offset: Offset of the mention in the article text.
-- end_offset: Offset one past its end.
-- text: The mention as written.
-- label: spaCy entity label: PERSON, ORG, GPE, NORP, LAW, ...
-- entity_id: Id of the canonical name: equal across mentions and articles with the same name.
-- name: Canonical name: the fullest form the article uses ('Jeff Sessions' for 'Sessions').

select * from {{ ref('stg_entities') }}
