-- Every entity mention points at an existing paragraph of its own article.

select entities.mention_id, entities.article_id, entities.paragraph_id

from {{ ref('stg_entities') }} as entities

anti join {{ ref('stg_paragraphs') }} as paragraphs
    on entities.paragraph_id = paragraphs.paragraph_id
    and entities.article_id = paragraphs.article_id
