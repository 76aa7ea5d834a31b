-- (speaker, entity_id) identifies exactly one row of the speaker_entity_cooccurrence mart.

select speaker, entity_id, count(*) as n_rows
from {{ ref('speaker_entity_cooccurrence') }}
group by speaker, entity_id
having count(*) > 1
