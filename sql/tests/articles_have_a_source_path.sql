-- Every article is held by at least one raw file (or JSONL line) in the ledger.

select articles.article_id, articles.source_path

from {{ ref('stg_articles') }} as articles

anti join {{ ref('stg_article_sources') }} as sources
    on articles.article_id = sources.article_id
