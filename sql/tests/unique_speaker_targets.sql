-- (speaker_id, entity_id) identifies exactly one row of the speaker_targets mart, neither null.

select speaker_id, entity_id, count(*) as n_rows
from {{ ref('speaker_targets') }}
group by speaker_id, entity_id
having speaker_id is null or entity_id is null or count(*) > 1
