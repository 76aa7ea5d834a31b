-- quote_id identifies exactly one row of quotes and is never null.

select quote_id, count(*) as n_rows
from {{ ref('stg_quotes') }}
group by quote_id
having quote_id is null or count(*) > 1
