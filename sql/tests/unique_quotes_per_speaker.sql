-- (speaker) identifies exactly one row of the quotes_per_speaker mart.

select speaker, count(*) as n_rows
from {{ ref('quotes_per_speaker') }}
group by speaker
having count(*) > 1
