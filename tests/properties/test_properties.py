"""Property tests: any bytes through decode -> structure -> quotes never raise, and every offset
slices out exactly the stored text (the contract every table relies on); fast paths agree with
the plain code they replaced."""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from quotewire.analyse.attribution import MASK, MarkedSpan, mask_quotes
from quotewire.read.decode import decode_bytes
from quotewire.read.document import ArticleStructure, DecodedDocument, Mention, Quote
from quotewire.analyse.entities import POSSESSIVE, strip_possessive
from quotewire.analyse.quotes import extract_quotes
from quotewire.analyse.structure import parse_article

EXAMPLES = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

MARKS = list("\"'“”‘’«»„‚‹›`") + ["''", "``"]
PIECES = ["said", "says", "told reporters", "according to", "he", "she", "Ann Lee", "the minister",
          "Mr. Smith", "It's", "don't", "rock 'n' roll", "---", ":", ",", ".", "?", "!", "—", " ", "  ",
          "\n", "\n\n", "\n\n\n", "\r\n", "\r", "\t", "\u00a0", "\u200b", "\ufeff", "é", "e\u0301",
          "東京", "😀", "\U0001d11e", "𝔘𝔫𝔦", "\x00", "\x85", "\u2028"]
words = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8)
tokens = st.one_of(st.sampled_from(MARKS), st.sampled_from(PIECES), words)
article_texts = st.lists(tokens, max_size=60).map("".join)
raw_bytes = st.one_of(
    st.binary(max_size=400),
    article_texts.map(lambda text: text.encode("utf-8", "surrogatepass")),
    article_texts.map(lambda text: text.encode("utf-16")),
    article_texts.map(lambda text: text.encode("cp1252", "replace")),
)


def decoded_text(data: bytes) -> str | None:
    document = decode_bytes(data, "prop.txt")
    return document.text if isinstance(document, DecodedDocument) else None


def assert_quotes_sound(structure: ArticleStructure, quotes: list[Quote]) -> None:
    text = structure.text
    paragraphs = {paragraph.position: paragraph for paragraph in structure.paragraphs}
    for quote in quotes:
        assert 0 <= quote.start <= quote.end <= len(text)
        assert text[quote.start:quote.end] == quote.text
        paragraph = paragraphs[quote.paragraph_position]
        assert paragraph.start <= quote.start and quote.end <= paragraph.end, (quote, paragraph)
    starts = [quote.start for quote in quotes]
    assert len(set(starts)) == len(starts)  # quote_id is article_id + start: must be unique


def assert_paragraphs_sound(structure: ArticleStructure) -> None:
    previous_end = 0
    for index, paragraph in enumerate(structure.paragraphs):
        assert paragraph.position == index
        assert previous_end <= paragraph.start <= paragraph.end <= len(structure.text)
        assert structure.text[paragraph.start:paragraph.end] == paragraph.text
        previous_end = paragraph.end


def synthetic_mentions(structure: ArticleStructure, draw) -> list[Mention]:
    """A few well-formed mentions inside paragraphs, as NER would give them (offsets valid)."""
    mentions = []
    for paragraph in structure.paragraphs:
        if paragraph.end - paragraph.start < 2 or not draw(st.booleans()):
            continue
        start = draw(st.integers(paragraph.start, paragraph.end - 1))
        end = draw(st.integers(start + 1, min(paragraph.end, start + 20)))
        label = draw(st.sampled_from(["PERSON", "ORG", "GPE", "NORP"]))
        name = draw(st.sampled_from([structure.text[start:end], "Ann Lee", "Smith"]))
        mentions.append(Mention(start, end, structure.text[start:end], label, name, paragraph.position))
    return sorted(mentions, key=lambda m: m.start)


@EXAMPLES
@given(raw_bytes)
def test_decode_never_raises_and_normalises_line_endings(data):
    result = decode_bytes(data, "prop.txt")
    if isinstance(result, DecodedDocument):
        assert "\r" not in result.text and result.text.strip()
        assert result.size_bytes == len(data)


@EXAMPLES
@given(raw_bytes)
def test_any_bytes_give_sound_paragraphs_and_quotes_without_mentions(data):
    text = decoded_text(data)
    if text is None:
        return
    structure = parse_article(text)
    assert_paragraphs_sound(structure)
    assert_quotes_sound(structure, extract_quotes(structure, []))


@EXAMPLES
@given(article_texts, st.data())
def test_quotes_stay_sound_with_mentions(text, data):
    structure = parse_article(text)
    assert_paragraphs_sound(structure)
    mentions = synthetic_mentions(structure, data.draw)
    assert_quotes_sound(structure, extract_quotes(structure, mentions))


@EXAMPLES
@given(st.lists(st.sampled_from(["He said ", '"', "“", "”", "'", "’", "Ann Lee", " ", "\n\n", ". ", ","]),
                max_size=80).map("".join))
def test_dense_quote_marks_give_sound_quotes(text):
    structure = parse_article(text)
    assert_paragraphs_sound(structure)
    assert_quotes_sound(structure, extract_quotes(structure, []))


CUE_PIECES = ["said", "SAID", "Says", "ſays", "aſked", "İnsisted", "ınsisted", "\u212anew", "according to",
              "According  to", "in the words of", "put it", "puts it", "went on", "goes", "on", "told", "x",
              "'", "’", "_", "1", ",", "\n", "é", "said's", "unsaid", "saidx"]
cue_texts = st.lists(st.one_of(st.sampled_from(CUE_PIECES), words), max_size=40).flatmap(
    lambda parts: st.sampled_from(["", " "]).map(lambda glue: glue.join(parts)))


@EXAMPLES
@example("He ſays so; İnsisted, and \u212anew: according to them", 3, 60)
@example("unsaid said", 2, 11)  # starting inside a word
@given(cue_texts, st.integers(0, 500), st.integers(0, 500))
def test_cues_found_by_word_lookup_are_the_cue_patterns_matches(text, start, end):
    from quotewire.analyse.attribution import CUE_PATTERN, cue_matches

    start, end = min(start, len(text)), min(max(start, end), len(text))
    found = [(m.start(), m.end(), m.group()) for m in cue_matches(text, start, end)]
    assert found == [(m.start(), m.end(), m.group()) for m in CUE_PATTERN.finditer(text, start, end)]


# --- fast paths that must agree with the plain versions they replaced -------------------------


def mask_quotes_char_by_char(text: str, spans) -> str:
    chars = list(text)
    for span in spans:
        for i in range(span.start, span.end):
            if not chars[i].isspace():
                chars[i] = MASK
        if span.end > span.start and text[span.end - 1] in ".?!,":
            chars[span.end - 1] = text[span.end - 1]
    return "".join(chars)


@st.composite
def text_and_spans(draw):
    text = draw(article_texts)
    bounds = st.integers(min_value=0, max_value=len(text))
    spans = []
    for start, end in draw(st.lists(st.tuples(bounds, bounds), max_size=4)):  # overlapping ones too
        start, end = min(start, end), max(start, end)
        spans.append(MarkedSpan(start, end, max(0, start - 1), min(len(text), end + 1), 0))
    return text, spans


@EXAMPLES
@given(text_and_spans())
def test_masking_quotes_keeps_spaces_and_final_stops_like_the_character_loop(case):
    text, spans = case
    assert mask_quotes(text, spans) == mask_quotes_char_by_char(text, spans)


@EXAMPLES
@given(st.text(alphabet="sSſkK'’ \n.a", max_size=8))
def test_possessive_fast_path_strips_what_the_regex_strips(form):
    expected = POSSESSIVE.sub("", form) or form
    assert strip_possessive(form) == expected
