-- Quoted spans (the words inside the quotation marks) and who said them.
-- `start`/`end` become start_offset/end_offset: `end` is a reserved word in SQL.
--
-- quote_id: article_id + ':q' + start offset.
-- article_id: Article it belongs to.
-- paragraph_id: Paragraph holding the quote.
-- start_offset: Offset of the first character inside the marks, in the article text.
-- end_offset: Offset one past the last character inside the marks.
-- text: The quoted words.
-- kind: direct (a quoted utterance) | partial (a fragment inside the writer's sentence).
-- speaker: Canonical full name of the speaker, or null when nobody is identifiable.
-- speaker_mention: The words at the attribution: 'he', 'the attorney general', 'Sessions'.
-- speaker_entity_id: entity_id of the speaker, when the speaker is a recognised entity.
-- cue: Reporting verb or phrase: said, tells, added, according to.
-- method: Which attribution rule named the speaker (for error analysis).
-- speaker_confidence: 0-1, how likely the speaker is right, from how it was found.
-- word_count: Words in the quote.
-- speaker_id: speakers.speaker_id, one id per speaker over the whole warehouse; null when there is
--   no speaker or it is not a person or organisation the article names.
-- extractor_version: Package version + hash of the analysis rules that made this row.

with source as (

    -- union_by_name: parts written before a column existed read it as null until re-analysed.
    select * from read_parquet('{{ parquet_dir }}/quotes/*.parquet', union_by_name = true)

),

renamed as (

    select
        quote_id,
        article_id,
        paragraph_id,
        "start" as start_offset,
        "end" as end_offset,
        text,
        kind,
        speaker,
        speaker_mention,
        speaker_entity_id,
        cue,
        method,
        speaker_confidence,
        word_count,
        speaker_id,
        extractor_version

    from source

)

select * from renamed
