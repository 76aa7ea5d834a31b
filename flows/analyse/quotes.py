"""Find quoted spans in an article and label them direct or partial.

Works from the text alone (no dependency parse): quotation marks are paired per
paragraph, with the context of each mark deciding whether it opens or closes, so curly,
straight and mixed marks, ``''`` pairs and apostrophes (Don't, clients', '90s, rock 'n'
roll) are told apart. Speakers come from :mod:`quotewire.analyse.attribution`.

A quote that runs over several paragraphs repeats its opening mark at each paragraph
start and closes only at the end, so an opening mark left unclosed runs to the end of its
paragraph and each paragraph yields its own quote. Plain text that lost its paragraph
breaks runs such paragraphs together on one line (``"One. "Two," he said``): a mark that
opens a new sentence inside an open quote starts a new quote there.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from quotewire.analyse.attribution import (CUE_FORMS, Attribution, MarkedSpan, attribute_articles, skip_spaces,
                                          verb_forms)
from quotewire.read.document import ArticleStructure, Mention, Paragraph, Quote
from quotewire.analyse.syntax import Parse

DOUBLE_OPENERS = "“„«"
DOUBLE_CLOSERS = "”»"
SINGLE_MARKS = "'‘’‛"
DOUBLE_PAIRS = ("''", "``", "‘‘", "’’")  # two single marks written as one double mark
DOUBLE_MARK = re.compile("|".join(map(re.escape, DOUBLE_PAIRS)) + "|[" + re.escape('"' + DOUBLE_OPENERS + DOUBLE_CLOSERS) + "]")
SINGLE_MARK = re.compile("[" + re.escape(SINGLE_MARKS) + "]")
# Where a mark sits next to these it is at a word edge (opening before, closing after).
OPENING_CONTEXT = set("([{—–-/") | set("“‘\"'«„")
CLOSING_CONTEXT = set(".,;:!?)]}—–-…") | set("”’\"'»")
# Elisions that start with an apostrophe and are not opening quote marks.
ELISION = re.compile(r"(?:\d\d(?:s|\b)|em\b|til\b|cause\b|n\b|tis\b|twas\b|bout\b|round\b)", re.IGNORECASE)
# Shortest content a single-quoted span may have: 'n' (rock 'n' roll) is an elision, not a quote.
MIN_SINGLE_QUOTED_LETTERS = 2
# Paragraph kinds that are never prose with quotes (photo credits, bylines).
SKIPPED_PARAGRAPH_KINDS = {"credit", "byline"}


@dataclass(frozen=True)
class Mark:
    """One quotation mark (or ``''`` pair) in a paragraph, with the roles its context allows."""

    start: int
    end: int
    can_open: bool
    can_close: bool
    prefers_open: bool  # what the glyph says when the context cannot decide
    # A sentence ends just before and a capital follows (`. "Next`): a new quote opens here.
    opens_sentence: bool = False


def extract_quotes(article: ArticleStructure, mentions: Sequence[Mention], parse: Parse | None = None) -> list[Quote]:
    """All quoted spans of ``article`` with kind and speaker, in text order. Never raises.
    ``parse``: see attribution.attribute_spans."""
    return extract_quotes_of([(article, mentions)], parse)[0]


def extract_quotes_of(items: Sequence[tuple[ArticleStructure, Sequence[Mention]]], parse: Parse | None = None
                      ) -> list[list[Quote]]:
    """extract_quotes for several articles: their quote sentences are parsed in one stream."""
    found = [quote_spans(article) for article, _ in items]
    attributions = attribute_articles([(article, list(mentions), spans) for (article, mentions), spans in zip(items, found)],
                                      parse)
    return [quotes_from(article, spans, attributed)
            for (article, _), spans, attributed in zip(items, found, attributions)]


def quote_spans(article: ArticleStructure) -> list[MarkedSpan]:
    spans: list[MarkedSpan] = []
    for paragraph in article.paragraphs:
        if paragraph.kind in SKIPPED_PARAGRAPH_KINDS:
            continue
        spans.extend(find_spans(article.text, paragraph))
    return [s for s in spans if is_plausible_quote(article.text[s.start:s.end])]


def quotes_from(article: ArticleStructure, spans: Sequence[MarkedSpan], attributions: Sequence[Attribution]) -> list[Quote]:
    quotes = []
    for span, attribution in zip(spans, attributions):
        quotes.append(
            Quote(
                start=span.start,
                end=span.end,
                text=article.text[span.start:span.end],
                kind=classify_kind(article.text, span, attribution.cue is not None),
                paragraph_position=span.paragraph_position,
                speaker=attribution.speaker,
                speaker_mention=attribution.speaker_mention,
                cue=attribution.cue,
                method=attribution.method,
                speaker_confidence=attribution.confidence,
            )
        )
    return quotes


# ---------------------------------------------------------------------------- marks
def is_word_char(char: str) -> bool:
    return char.isalnum()


def double_marks(text: str, start: int, end: int) -> list[Mark]:
    """Double quotation marks in text[start:end], ``''`` and ```` `` ```` pairs included."""
    marks: list[Mark] = []
    # Left to right, a pair before a lone mark, never past ``end``: what a scan char by char
    # finds, without a Python step per character (the hottest loop of quote extraction).
    for match in DOUBLE_MARK.finditer(text, start, end):
        found = match.group()
        if len(found) == 2:
            marks.append(make_mark(text, match.start(), match.end(), start, end, prefers_open=found in ("``", "‘‘")))
        else:
            marks.append(make_mark(text, match.start(), match.end(), start, end, prefers_open=found in DOUBLE_OPENERS))
    return marks


def make_mark(text: str, mark_start: int, mark_end: int, lo: int, hi: int, prefers_open: bool) -> Mark:
    before = text[mark_start - 1] if mark_start > lo else " "
    after = text[mark_end] if mark_end < hi else " "
    space_before = before.isspace() or before in OPENING_CONTEXT
    space_after = after.isspace() or after in CLOSING_CONTEXT
    # A mark flanked by a word on one side only is decided by that side.
    can_open = space_before and not after.isspace()
    can_close = space_after and not before.isspace()
    if not can_open and not can_close:
        can_open = can_close = True  # e.g. word"word: let the glyph and the state decide
    first = text[mark_end + 1] if after in SINGLE_MARKS and mark_end + 1 < hi else after  # "'Oh no," a quote within
    opens_sentence = can_open and not can_close and (first.isupper() or first.isdigit()) \
        and follows_sentence_end(text, mark_start, lo)
    return Mark(mark_start, mark_end, can_open, can_close, prefers_open, opens_sentence)


def follows_sentence_end(text: str, mark_start: int, lo: int) -> bool:
    """White space, and before it a sentence's final stop (``. "``, ``.' "``, ``.) "``), ahead of the mark."""
    i = mark_start - 1
    while i >= lo and text[i] in " \t\xa0":
        i -= 1
    if i == mark_start - 1:
        return False
    while i >= lo and text[i] in SINGLE_MARKS + ")":
        i -= 1  # a single-quoted sentence or a bracket closed with the stop inside
    return i >= lo and text[i] in ".!?…"


def pair_marks(marks: list[Mark]) -> list[tuple[Mark, Mark | None]]:
    """Pair opening and closing marks left to right; an opener left unclosed pairs with None."""
    pairs: list[tuple[Mark, Mark | None]] = []
    opener: Mark | None = None
    for mark in marks:
        if opener is None:
            if mark.can_open:
                opener = mark  # a mark that can only close, with nothing open, is stray
            continue
        clearly_opens = mark.can_open and not mark.can_close
        if clearly_opens and (mark.prefers_open or mark.opens_sentence):
            # A curly opener, or any mark opening a new sentence, inside an open quote: the
            # earlier quote lost its closing mark (a lost paragraph break: `"One. "Two," he said`).
            pairs.append((opener, None))
            opener = mark
            continue
        pairs.append((opener, mark))
        opener = None
    if opener is not None:
        pairs.append((opener, None))
    return pairs


def is_straight(text: str, mark: Mark) -> bool:
    """Straight marks (\", '', ``) are one family, typographic ones (“ ” „ « ») the other."""
    return text[mark.start] in "\"'`"


def pair_by_family(text: str, marks: list[Mark]) -> list[tuple[Mark, Mark | None]]:
    """Pair a paragraph's marks, keeping a quote nested in the other family's marks inside it.

    A straight-quoted passage may quote someone with typographic marks (or the reverse):
    when each family pairs up on its own without loose ends and one family's quotes all sit
    inside the other's, the inner quotes belong to the outer one. Otherwise the marks are
    paired together, so a quote opened with one family and closed with the other still pairs.
    """
    mixed = pair_marks(marks)
    straight = [m for m in marks if is_straight(text, m)]
    typographic = [m for m in marks if not is_straight(text, m)]
    if not straight or not typographic:
        return mixed
    families = [pair_marks(straight), pair_marks(typographic)]
    for pairs, family in zip(families, (straight, typographic)):
        if 2 * len(pairs) != len(family) or not all(is_clean_pair(o, c) for o, c in pairs):
            return mixed  # a stray or unclosed mark: the families are not used consistently
    for outer, inner in (families, families[::-1]):
        spans = [(o.start, o.end, c.end) for o, c in outer if c is not None]
        # Nested: inside an outer quote, and not opening together with it ("“…).
        nested = [any(s <= o.start and c.end <= e and o.start != s_end for s, s_end, e in spans)
                  for o, c in inner if c is not None]
        if all(nested):
            return outer
    return mixed


def is_clean_pair(opener: Mark, closer: Mark | None) -> bool:
    """A pair whose opener sits where a quote can open and closer where one can close."""
    return closer is not None and opener.can_open and closer.can_close


def find_spans(text: str, paragraph: Paragraph) -> list[MarkedSpan]:
    """Quoted spans of one paragraph: double-quoted ones, and single-quoted ones outside them."""
    lo, hi = paragraph.start, paragraph.end
    spans: list[MarkedSpan] = []
    covered: list[tuple[int, int]] = []
    pairs = pair_by_family(text, double_marks(text, lo, hi))
    for index, (opener, closer) in enumerate(pairs):
        # An opener left unclosed runs to the next quote's opening mark, or the paragraph end.
        open_end = pairs[index + 1][0].start if index + 1 < len(pairs) else hi
        outer_end = closer.end if closer else open_end
        start, end = opener.end, closer.start if closer else open_end
        spans.append(MarkedSpan(start, end, opener.start, outer_end, paragraph.position, closed=closer is not None))
        covered.append((opener.start, outer_end))
    for start, end, outer_start, outer_end in single_quoted(text, lo, hi):
        if any(c_start <= outer_start < c_end for c_start, c_end in covered):
            continue  # a quote nested inside a double-quoted one belongs to the outer quote
        spans.append(MarkedSpan(start, end, outer_start, outer_end, paragraph.position, closed=True))
    spans = [split_transcript_label(text, trimmed(text, s)) for s in spans]
    return sorted((s for s in spans if s.end > s.start), key=lambda s: s.start)


def single_quoted(text: str, lo: int, hi: int) -> list[tuple[int, int, int, int]]:
    """Single-quoted spans: an opener at a word start paired with the next closer at a word end.

    An apostrophe inside a word (Don't) is neither; an elision ('90s, 'em) does not open;
    a possessive (clients') only closes when an opener is waiting for it.
    """
    found = []
    opener: int | None = None
    for match in SINGLE_MARK.finditer(text, lo, hi):  # only the marks: other characters do nothing
        i = match.start()
        char = text[i]
        if i + 1 < hi and text[i + 1] in SINGLE_MARKS or i > lo and text[i - 1] in SINGLE_MARKS:
            continue  # part of a '' pair: handled as a double mark
        before = text[i - 1] if i > lo else " "
        after = text[i + 1] if i + 1 < hi else " "
        starts_word = (before.isspace() or before in OPENING_CONTEXT) and is_word_char(after)
        ends_word = not before.isspace() and (after.isspace() or after in CLOSING_CONTEXT)
        if opener is None:
            if starts_word and char != "’" and not ELISION.match(text, i + 1, hi):
                opener = i
            continue
        if ends_word and char != "‘":
            content = text[opener + 1:i]
            if sum(c.isalpha() for c in content) >= MIN_SINGLE_QUOTED_LETTERS:
                found.append((opener + 1, i, opener, i + 1))
            opener = None
        elif starts_word and char == "‘":
            opener = i
    return found


def trimmed(text: str, span: MarkedSpan) -> MarkedSpan:
    """Drop white space just inside the marks so the span starts and ends on content."""
    start, end = span.start, span.end
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return MarkedSpan(start, end, span.outer_start, span.outer_end, span.paragraph_position, span.closed,
                      span.label_start, span.label_end)


TRANSCRIPT_LABEL = re.compile(r"([A-Z][A-Z.'’\- ]{1,40}[A-Z.]):\s+")


def split_transcript_label(text: str, span: MarkedSpan) -> MarkedSpan:
    """``"SMITH: We will…"``: a transcript's upper-case speaker label is not quoted content."""
    match = TRANSCRIPT_LABEL.match(text, span.start, span.end)
    if match is None or match.end() >= span.end or sum(c.isalpha() for c in match.group(1)) < 2:
        return span
    return MarkedSpan(match.end(), span.end, span.outer_start, span.outer_end, span.paragraph_position,
                      span.closed, label_start=match.start(1), label_end=match.end(1))


def is_plausible_quote(content: str) -> bool:
    """Spans without any letters (marks around numbers, stray marks) are not quotes."""
    return any(c.isalpha() for c in content)


# ---------------------------------------------------------------------------- kind
SENTENCE_BOUNDARY_BEFORE = set(".!?:;,—–-…(")
REPORTING_WORD_BEFORE = re.compile(
    r"\b(?:said|says|say|saying|added|adds|adding|asked|asks|wrote|writes|tweeted|told|tells|replied|"
    r"responded|declared|continued|explained|stated|answered|shouted|read|reads)\s*$",
    re.IGNORECASE,
)

# Verbs of voicing or writing words that introduce an utterance of its own when the quote
# starts like a sentence (chanted "No more cuts!"), but a fragment otherwise (wrote "soon").
SPEECH_VERB_BEFORE = re.compile(
    r"\b(?:chant(?:s|ed|ing)?|yell(?:s|ed|ing)?|shout(?:s|ed|ing)?|scream(?:s|ed|ing)?|"
    r"sing(?:s|ing)?|sang|exclaim(?:s|ed|ing)?|writing|typed|tweeting|posted|posting|"
    r"declar(?:es|ed|ing)|proclaim(?:s|ed|ing)|announc(?:es|ed|ing)|caution(?:s|ed|ing)?|"
    r"warn(?:s|ed|ing)|insist(?:s|ed|ing)|admit(?:s|ted|ting))\s*$",
    re.IGNORECASE,
)


# A verb of speech with its listener (told reporters, asked the crowd) right before the mark.
ADDRESSEE_VERB_BEFORE = re.compile(
    r"\b(?:told|tells|telling|asked|asks|asking|assured|assures|urged|urges|reminded|reminds)"
    r"(?:\s+[\w'’.-]+){1,4}\s*$",
    re.IGNORECASE,
)


# Cue verbs that name or judge rather than voice (called it "X", dubbed "X"): never an utterance's lead-in.
NAMING_VERBS = {form for verb in ("call", "dub", "label", "brand", "term", "describe", "cite", "quote", "praise",
                                  "mock", "slam", "blast", "dismiss", "accuse", "criticize", "criticise", "read")
                for form in verb_forms(verb)}
LAST_WORD = re.compile(r"([^\W\d_]+)\s*$")


def is_whole_sentence_after_cue(text: str, span: MarkedSpan, last_char: int) -> bool:
    """A reporting verb right before the mark, and the quote a capitalised sentence that ends
    the writer's sentence inside its marks (``She says "We are ready."``)."""
    word = LAST_WORD.search(text, max(0, last_char - 20), last_char + 1)
    if word is None or word.group(1).lower() not in CUE_FORMS or word.group(1).lower() in NAMING_VERBS:
        return False
    content = text[span.start:span.end].rstrip(" \t\xa0" + QUOTE_CHARS)
    if not span.closed or not content or content[-1] not in ".!?" or not reads_as_sentence(text, span):
        return False
    after = skip_spaces(text, span.outer_end)
    return after >= len(text) or text[after] == "\n" or text[after].isupper() or text[after] in QUOTE_CHARS


RUN_IN_HEADING_CHARS = 200  # longest run-in heading looked at before a quote on its line


def follows_capitals_heading(text: str, span: MarkedSpan) -> bool:
    """``RIVERS RISE AGAIN "The water came fast…"``: a run-in heading in capitals opens the line."""
    line_start = text.rfind("\n", max(0, span.outer_start - RUN_IN_HEADING_CHARS), span.outer_start) + 1
    if line_start == 0 and span.outer_start > RUN_IN_HEADING_CHARS:
        return False  # the line runs on too long before the quote for a heading
    words = re.findall(r"[^\W\d_]+", text[line_start:span.outer_start])
    return len(words) >= 2 and all(word.isupper() for word in words) and reads_as_sentence(text, span)


def starts_capitalised(text: str, span: MarkedSpan) -> bool:
    """The quoted content's first letter is upper case."""
    for char in text[span.start:span.end]:
        if char.isalpha():
            return char.isupper()
    return False


def classify_kind(text: str, span: MarkedSpan, attributed: bool) -> str:
    """``direct`` when the quote stands as an utterance of its own, ``partial`` when it is a
    fragment woven into the writer's sentence (preceded by the writer's own words)."""
    i = span.outer_start - 1
    while i >= 0 and text[i] in " \t\xa0":
        i -= 1
    if is_heading(text, span):
        return "partial"
    if follows_capitals_heading(text, span):
        return "direct"  # a heading's words are no sentence the quote could be a fragment of
    if continues_writers_sentence(text, span) and not introduced_as_speech(text, i):
        return "partial"
    if is_lowercase_fragment(text, span) and not (i >= 0 and text[i] == ":"):
        return "partial"  # said "the vote was lost". / said "firm action" was needed
    if i >= 0 and text[i] == "," and CLAUSE_WORD_BEFORE_COMMA.search(text, max(0, i - 15), i):
        return "partial"  # said that, "…": the writer's clause goes on into the quote
    if i < 0 or text[i] == "\n" or text[i] in SENTENCE_BOUNDARY_BEFORE:
        return "direct"
    if text[i] in QUOTE_CHARS:
        # Right after another quote: a new utterance when that one ended a sentence ("Stop."
        # "Now."), a list of fragments otherwise (a "nasty," "sick" man).
        j = i
        while j >= 0 and text[j] in QUOTE_CHARS + " \t\xa0":
            j -= 1
        return "direct" if j < 0 or text[j] == "\n" or ends_sentence(text, i) else "partial"
    if REPORTING_WORD_BEFORE.search(text, max(0, i - 20), i + 1):
        return "direct"
    if SPEECH_VERB_BEFORE.search(text, max(0, i - 20), i + 1) and starts_capitalised(text, span):
        return "direct"  # chanted "No more cuts!": an utterance of its own after a speech verb
    if ADDRESSEE_VERB_BEFORE.search(text, max(0, i - 60), i + 1) and reads_as_sentence(text, span):
        return "direct"  # told reporters "We won.": the speech verb's listener, then the utterance
    if is_whole_sentence_after_cue(text, span, i):
        return "direct"  # The ad claims "We can win.": a cue verb, then a sentence of the speaker's
    if starts_sentence_after_one_word(text, i):
        return "direct"  # But "…," he added: a connective, then the utterance
    return "partial"


SENTENCE_CONNECTIVES = {"but", "and", "yet", "so", "still", "or", "then", "also"}


def starts_sentence_after_one_word(text: str, last_char: int) -> bool:
    """True when the quote is preceded only by a sentence-opening connective (But, And)."""
    match = re.search(r"(\w+)$", text[max(0, last_char - 15):last_char + 1])
    if match is None or match.group(1).lower() not in SENTENCE_CONNECTIVES:
        return False
    before = text[:last_char + 1 - len(match.group(1))].rstrip(" \t\xa0")
    return not before or before[-1] == "\n" or ends_sentence(text, len(before) - 1)


# Words after a closing mark that begin an attribution rather than the writer's own words.
ATTRIBUTION_START = re.compile(
    r"(?:he|she|they|we|i|it|who|said|says|say|added|adds|wrote|writes|told|tells|asked|asks|replied|"
    r"according|continued|explained|tweeted|recalled|noted|insisted|argued|warned|declared)\b",
    re.IGNORECASE,
)


def continues_writers_sentence(text: str, span: MarkedSpan) -> bool:
    """``"You cut the jobs" to raise the price``: the quote stops without punctuation and the
    writer's sentence goes on in lower case, so the quote is a fragment of that sentence."""
    content = text[span.start:span.end].rstrip()
    if not span.closed or not content or content[-1] in ".,;:!?…—–-" or content[-1] in QUOTE_CHARS:
        return False
    i = span.outer_end
    while i < len(text) and text[i] in " \t\xa0":
        i += 1
    if i >= len(text) or not text[i].islower() or i == span.outer_end:
        return False
    return ATTRIBUTION_START.match(text, i) is None



def is_lowercase_fragment(text: str, span: MarkedSpan) -> bool:
    """A quote that starts in lower case and leaves its sentence to the writer: the stop or
    comma after the closing mark (``"the vote was lost".``), or the sentence going on in
    lower case (``"firm action" was needed``)."""
    first = next((char for char in text[span.start:span.end] if char.isalpha()), "")
    if not first.islower() or not span.closed:
        return False
    content = text[span.start:span.end].rstrip()
    if not content or content[-1] in ".,;:!?…" or content[-1] in QUOTE_CHARS:
        return False
    return text[span.outer_end:span.outer_end + 1] in (".", ",", ";") or continues_writers_sentence(text, span)


def introduced_as_speech(text: str, last_char: int) -> bool:
    """The words before the quote introduce speech: a colon, or a reporting verb (said, / wrote)."""
    if last_char < 0:
        return False
    if text[last_char] == ":":
        return True
    end = last_char if text[last_char] == "," else last_char + 1
    return any(pattern.search(text, max(0, end - 20), end) for pattern in (REPORTING_WORD_BEFORE, SPEECH_VERB_BEFORE))


QUOTE_CHARS = "\"“”'’‘`"


def ends_sentence(text: str, last_char: int) -> bool:
    """text[last_char] ends a sentence: . ! ? or … possibly followed by closing quote marks."""
    i = last_char
    while i >= 0 and text[i] in QUOTE_CHARS:
        i -= 1
    return i >= 0 and text[i] in ".!?…"


# A complementiser or conjunction then a comma: said that, "…" / because, "…".
CLAUSE_WORD_BEFORE_COMMA = re.compile(
    r"\b(?:that|because|as|including|like|and|or|but|which|who|whom|whose|where|when|if|since|while|although)$",
    re.IGNORECASE,
)
HEADING_MAX_WORDS = 10


def is_heading(text: str, span: MarkedSpan) -> bool:
    """A paragraph that is nothing but a short quote in title case or capitals is a
    subheading quoting a phrase (unless a colon at the end of the previous line introduces it)."""
    line_start = text.rfind("\n", 0, span.outer_start) + 1
    line_end = text.find("\n", span.outer_end)
    line_end = len(text) if line_end < 0 else line_end
    if text[line_start:span.outer_start].strip(" \t\xa0" + QUOTE_CHARS) or \
            text[span.outer_end:line_end].strip(" \t\xa0.!?" + QUOTE_CHARS):
        return False
    previous = line_start - 1
    while previous >= 0 and text[previous].isspace():
        previous -= 1
    if previous >= 0 and text[previous] == ":":
        return False
    words = re.findall(r"[^\W\d_][\w'’-]*", text[span.start:span.end])
    if not 2 <= len(words) <= HEADING_MAX_WORDS:
        return False
    return is_title_case(words)


def is_title_case(words: Sequence[str]) -> bool:
    """Every word longer than three letters is capitalised (a title: Good Morning America)."""
    return all(word[0].isupper() for word in words if len(word) > 3)


def reads_as_sentence(text: str, span: MarkedSpan) -> bool:
    """The quote starts with a capital and is written as a sentence, not a title or in capitals."""
    content = text[span.start:span.end]
    words = re.findall(r"[^\W\d_][\w'’-]*", content)
    return starts_capitalised(text, span) and any(c.islower() for c in content) and not is_title_case(words)
