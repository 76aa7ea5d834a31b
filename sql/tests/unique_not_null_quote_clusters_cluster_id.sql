-- cluster_id identifies exactly one row of quote_clusters and is never null.

select cluster_id, count(*) as n_rows
from {{ ref('quote_clusters') }}
group by cluster_id
having cluster_id is null or count(*) > 1
