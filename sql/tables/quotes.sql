-- The quotes table under its own name: stg_quotes with the reuse cluster of each quote.
--
-- quote_id: article_id + ':q' + start offset.
-- article_id: Article it belongs to.
-- paragraph_id: Paragraph holding the quote.
-- start_offset: Offset of the first character inside the marks, in the article text.
-- end_offset: Offset one past the last character inside the marks.
-- text: The quoted words.
-- kind: direct (a quoted utterance) | partial (a fragment inside the writer's sentence).
-- speaker: Canonical full name of the speaker in this article, or null when nobody is identifiable.
-- speaker_mention: The words at the attribution: 'he', 'the attorney general', 'Sessions'.
-- speaker_entity_id: entity_id of the speaker, when the speaker is a recognised entity.
-- cue: Reporting verb or phrase: said, tells, added, according to.
-- method: Which attribution rule named the speaker (for error analysis).
-- speaker_confidence: 0-1, how likely the speaker is right, from how it was found.
-- word_count: Words in the quote.
-- speaker_id: speakers.speaker_id, one id per speaker over the whole warehouse; null when there is
--   no speaker or it is not a person or organisation the article names.
-- extractor_version: Package version + hash of the analysis rules that made this row.
-- cluster_id: quote_clusters.cluster_id: the same words in other quotes and articles.

select
    quotes.*,
    clusters.cluster_id

from {{ ref('stg_quotes') }} as quotes

join {{ ref('int_quote_clusters') }} as clusters
    on quotes.quote_id = clusters.quote_id
