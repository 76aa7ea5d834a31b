-- An article's source_path is the first, in sort order, of the paths that hold it.

select articles.article_id, articles.source_path, min(sources.source_path) as first_path

from {{ ref('stg_articles') }} as articles

join {{ ref('stg_article_sources') }} as sources
    on articles.article_id = sources.article_id

group by articles.article_id, articles.source_path

having articles.source_path <> min(sources.source_path)
