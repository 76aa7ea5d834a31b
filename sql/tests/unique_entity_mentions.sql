-- (entity_id) identifies exactly one row of the entity_mentions mart.

select entity_id, count(*) as n_rows
from {{ ref('entity_mentions') }}
group by entity_id
having count(*) > 1
