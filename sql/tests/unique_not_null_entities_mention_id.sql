-- mention_id identifies exactly one row of entities and is never null.

select mention_id, count(*) as n_rows
from {{ ref('stg_entities') }}
group by mention_id
having mention_id is null or count(*) > 1
