-- paragraph_id identifies exactly one row of paragraphs and is never null.

select paragraph_id, count(*) as n_rows
from {{ ref('stg_paragraphs') }}
group by paragraph_id
having paragraph_id is null or count(*) > 1
