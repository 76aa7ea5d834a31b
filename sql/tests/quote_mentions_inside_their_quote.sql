-- Each quote_mentions row is a mention of the quote's article lying inside the quote's span.

select mentions.quote_id, mentions.mention_id
from {{ ref('quote_mentions') }} as mentions
left join {{ ref('stg_quotes') }} as quotes
    on mentions.quote_id = quotes.quote_id
left join {{ ref('stg_entities') }} as entities
    on mentions.mention_id = entities.mention_id
where quotes.quote_id is null
    or entities.mention_id is null
    or entities.article_id <> quotes.article_id
    or entities.start_offset < quotes.start_offset
    or entities.end_offset > quotes.end_offset
