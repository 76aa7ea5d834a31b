-- Every quote's speaker_id is a row of speakers, and a quote with a speaker_id has a speaker.

select quotes.quote_id, quotes.speaker, quotes.speaker_id
from {{ ref('quotes') }} as quotes
left join {{ ref('speakers') }} as speakers
    on quotes.speaker_id = speakers.speaker_id
where quotes.speaker_id is not null
    and (speakers.speaker_id is null or quotes.speaker is null)
