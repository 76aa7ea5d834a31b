-- Every ledger row points at a published article.

select sources.source_path, sources.article_id

from {{ ref('stg_article_sources') }} as sources

anti join {{ ref('stg_articles') }} as articles
    on articles.article_id = sources.article_id
