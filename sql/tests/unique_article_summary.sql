-- (article_id) identifies exactly one row of the article_summary mart.

select article_id, count(*) as n_rows
from {{ ref('article_summary') }}
group by article_id
having count(*) > 1
