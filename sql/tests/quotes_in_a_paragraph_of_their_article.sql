-- Every quote points at an existing paragraph of its own article.

select quotes.quote_id, quotes.article_id, quotes.paragraph_id

from {{ ref('stg_quotes') }} as quotes

anti join {{ ref('stg_paragraphs') }} as paragraphs
    on quotes.paragraph_id = paragraphs.paragraph_id
    and quotes.article_id = paragraphs.article_id
