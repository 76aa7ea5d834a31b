-- Every quote has exactly one cluster_id, a row of quote_clusters.

select quotes.quote_id, quotes.cluster_id
from {{ ref('stg_quotes') }} as staged
left join {{ ref('quotes') }} as quotes
    on staged.quote_id = quotes.quote_id
left join {{ ref('quote_clusters') }} as clusters
    on quotes.cluster_id = clusters.cluster_id
where clusters.cluster_id is null
