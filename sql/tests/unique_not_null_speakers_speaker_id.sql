-- speaker_id identifies exactly one row of speakers and is never null.

select speaker_id, count(*) as n_rows
from {{ ref('speakers') }}
group by speaker_id
having speaker_id is null or count(*) > 1
