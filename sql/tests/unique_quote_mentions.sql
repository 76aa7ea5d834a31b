-- (quote_id, mention_id) identifies exactly one row of the quote_mentions mart, neither null.

select quote_id, mention_id, count(*) as n_rows
from {{ ref('quote_mentions') }}
group by quote_id, mention_id
having quote_id is null or mention_id is null or count(*) > 1
