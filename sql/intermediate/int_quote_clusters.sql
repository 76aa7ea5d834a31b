-- Which reuse cluster each quote belongs to. Two quotes are one cluster when their words are
-- identical after normalising marks, case and white space, or when one sits inside the other
-- with at least 8 words in common in order; a partial quote of 2 or more words joins the direct
-- quote of the same article or speaker it was cut from. A quote takes the cluster of the
-- longest text containing it (ties: the alphabetically first), so cluster_id, the first 16 hex
-- digits of md5 of that normalised text, stays the same over runs until a longer version arrives.
--
-- quote_id: The quote.
-- normalised_text: Its words: lowercase, every mark and run of white space one space.
-- cluster_id: quote_clusters.cluster_id of the cluster it belongs to.

with quotes as (

    select quote_id, article_id, kind, speaker_id, text
    from {{ ref('stg_quotes') }}

),

normalised as (

    select
        *,
        trim(regexp_replace(lower(text), '[^[:alnum:]]+', ' ', 'g')) as normalised_text
    from quotes

),

texts as (

    select distinct normalised_text, string_split(normalised_text, ' ') as words
    from normalised
    where length(normalised_text) > 0

),

long_texts as (

    select normalised_text, words, len(words) as n_words
    from texts
    where len(words) >= 8

),

shingles as (

    -- every run of 8 words of every long text: a text inside another starts with one of them
    select
        normalised_text,
        n_words,
        array_to_string(words[position:position + 7], ' ') as shingle
    from long_texts, range(1, n_words - 6) as positions(position)

),

contained_in as (

    select
        inner_text.normalised_text,
        outer_text.normalised_text as container,
        outer_text.n_words as container_words

    from long_texts as inner_text

    join shingles as outer_text
        on array_to_string(inner_text.words[1:8], ' ') = outer_text.shingle
        and outer_text.n_words > inner_text.n_words

    where contains(' ' || outer_text.normalised_text || ' ', ' ' || inner_text.normalised_text || ' ')

),

long_cluster_text as (

    select normalised_text, container as cluster_text
    from contained_in
    qualify row_number() over (partition by normalised_text order by container_words desc, container) = 1

),

by_quote as (

    select
        normalised.quote_id,
        normalised.article_id,
        normalised.kind,
        normalised.speaker_id,
        normalised.normalised_text,
        coalesce(long_cluster_text.cluster_text, normalised.normalised_text) as cluster_text
    from normalised
    left join long_cluster_text
        on normalised.normalised_text = long_cluster_text.normalised_text

),

partials as (

    select * from by_quote
    where kind = 'partial' and cluster_text = normalised_text and normalised_text like '% %'

),

directs as (

    select * from by_quote where kind = 'direct'

),

cut_candidates as (

    -- two equi-joins, not one join on "same article or same speaker", which would compare every pair
    select partials.quote_id, partials.normalised_text, directs.normalised_text as direct_text, directs.cluster_text
    from partials join directs on partials.article_id = directs.article_id

    union all

    select partials.quote_id, partials.normalised_text, directs.normalised_text, directs.cluster_text
    from partials join directs on partials.speaker_id = directs.speaker_id

),

cut_from as (

    -- a partial quote inside a longer direct quote of the same article or the same speaker
    select quote_id, cluster_text
    from cut_candidates
    where length(direct_text) > length(normalised_text)
        and contains(' ' || direct_text || ' ', ' ' || normalised_text || ' ')
    qualify row_number() over (partition by quote_id order by length(direct_text) desc, cluster_text) = 1

),

final as (

    select
        by_quote.quote_id,
        by_quote.normalised_text,
        substr(md5(coalesce(cut_from.cluster_text, by_quote.cluster_text)), 1, 16) as cluster_id
    from by_quote
    left join cut_from
        on by_quote.quote_id = cut_from.quote_id

)

select * from final
