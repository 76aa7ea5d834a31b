-- article_id identifies exactly one row of articles and is never null.

select article_id, count(*) as n_rows
from {{ ref('stg_articles') }}
group by article_id
having article_id is null or count(*) > 1
