-- Every paragraph belongs to an existing article.

select paragraphs.paragraph_id, paragraphs.article_id

from {{ ref('stg_paragraphs') }} as paragraphs

anti join {{ ref('stg_articles') }} as articles
    on paragraphs.article_id = articles.article_id
