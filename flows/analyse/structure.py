"""Normalised article text -> ArticleStructure: front matter, paragraphs and their roles.

Layout model. An article is a *front block* followed by body paragraphs:

    [section]  headline  [dek]  {credit | byline}*  body...

- ``section``: a topic label of a few capitalised words with no final punctuation, only
  recognised when a clear, longer headline follows it (so a short headline over a body is
  not taken for one).
- ``headline``: the first paragraph, when it is headline-shaped (one to three short lines,
  one sentence). A Markdown ``# Title`` is always one. A block whose extra lines are date
  lines (Reuters: ``TITLE`` then ``26-FEB-1987 15:01:01.79``) stays one headline paragraph —
  offsets must cover the whole block — but the ``headline`` field keeps only the title lines.
- ``dek``: the standfirst under the headline. Only recognised when something marks the end
  of the front block after it (a credit or byline follows); a one-sentence opening body
  paragraph (BBC style) is never a dek.
- ``credit`` / ``byline``: recognised by their own form ("Name/Agency", "Photo: ...",
  "By Jane Doe and John Roe"). Photo credits are also recognised further down the body,
  where scraped articles keep their image captions' credits.

Paragraphs are blocks separated by blank lines. Wire copy (Reuters) separates paragraphs by
indenting the first line instead; such a block is split before an indented line that opens
a sentence after a line that closed one, so hard-wrapped lines are not split.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from quotewire.read.document import ArticleStructure, Paragraph

# Front-matter keys -> ArticleStructure field; every key (known or not) is kept in front_matter.
FRONT_MATTER_FIELDS: dict[str, str] = {
    "headline": "headline",
    "title": "headline",
    "outlet": "outlet",
    "url": "url",
    "published_at": "published_at",
    "date": "published_at",
    "author": "author",
    "byline": "author",
    "section": "section",
    "dek": "dek",
}

MAX_SECTION_WORDS = 5
MAX_HEADLINE_WORDS = 30
# A first paragraph that reads as an ordinary sentence (sentence case, final period) is only
# taken for a headline when short: longer ones are the opening paragraph of a body-only text.
MAX_SENTENCE_HEADLINE_WORDS = 20
MAX_HEADLINE_LINES = 3
MAX_TWO_SENTENCE_HEADLINE_WORDS = 15
MAX_DEK_WORDS = 60
MAX_DEK_SENTENCES = 2
MAX_CREDIT_WORDS = 12
MAX_BYLINE_WORDS = 16
# Character caps checked before any word counting, so a multi-megabyte paragraph is
# dismissed as a label or headline in constant time.
MAX_LABEL_CHARS = 200
MAX_HEADLINE_CHARS = 600

_FENCE = re.compile(r"---[ \t]*")
_KEY_VALUE = re.compile(r"([A-Za-z_][A-Za-z0-9_ -]*?)[ \t]*:[ \t]*(.*)")
_WORD = re.compile(r"\S+")
_LETTER_WORD = re.compile(r"[^\W\d_][\w'’.-]*")
# A sentence boundary: closing punctuation (maybe followed by closing quotes/brackets), then
# white space, then something that opens a sentence.
_SENTENCE_BOUNDARY = re.compile(r"[.!?][\"'”’)\]]*\s+[\"'“‘(\[]*[A-Z0-9]")
_TRAILING_CLOSERS = "\"'”’)]»*_ \t"
_MARKDOWN_HEADING = re.compile(r"#{1,6}\s+")

# Words a Title Case headline leaves in lower case.
_MINOR_WORDS = frozenset(
    "a an and as at but by en for from if in into nor of off on onto or over per so than the "
    "to up upon via vs with".split()
)

_ABBREVIATIONS = frozenset(
    "mr mrs ms dr st sen rep gov gen col lt sgt capt prof rev jr sr inc corp co ltd no vs etc "
    "jan feb mar apr jun jul aug sep sept oct nov dec mt ft ave".split()
)

_MONTHS = (
    "jan|january|feb|february|mar|march|apr|april|may|jun|june|jul|july|aug|august|"
    "sep|sept|september|oct|october|nov|november|dec|december"
)
_DAYS = "mon|monday|tue|tues|tuesday|wed|wednesday|thu|thur|thurs|thursday|fri|friday|sat|saturday|sun|sunday"
_DATE_TOKEN = re.compile(
    rf"(?:\d[\d:./-]*|(?:\d{{1,2}}-)?(?:{_MONTHS})\.?(?:-\d+)*|(?:{_DAYS})\.?|a\.?m\.?|p\.?m\.?|"
    r"utc|gmt|[ecmp][sd]?t|updated|published|posted|at|on|[,|—–-])",
    re.IGNORECASE,
)

# Photo credits. Each form is distinctive on a short line of its own.
_CREDIT_AGENCY = re.compile(
    r"\b(?:getty images|shutterstock|ap photo|afp photo|reuters/|/reuters|/ap\b|/afp\b|"
    r"newscom|alamy|istock(?:photo)?|associated press photo|epa-efe|bloomberg via getty)\b",
    re.IGNORECASE,
)
# "Curtis Compton/TNS/Newscom", "Jane Doe/Reuters": capitalised chunks joined by slashes.
_SLASH_CREDIT = re.compile(r"[A-Z][\w.'’&-]*(?: [A-Z][\w.'’&-]*)*(?:\s?/\s?[A-Z][\w.'’&-]*(?: [A-Z][\w.'’&-]*)*)+")
_NAME = r"[A-Z][\w.'’-]*(?:\s+(?:[A-Z][\w.'’-]*|de|da|di|van|von|der|den|la|le|del|bin|al|el))*"
_BYLINE = re.compile(
    rf"by\s+{_NAME}(?:\s*(?:,|and|&)\s*{_NAME})*(?:\s*[,|—–-]\s*.*)?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Block:
    start: int
    end: int
    text: str


# ---------------------------------------------------------------- front matter


def split_front_matter(text: str) -> tuple[dict[str, str], str]:
    """(front-matter key/values, the text after it with leading blank lines removed).

    Front matter is recognised only when the text opens with a ``---`` line, every non-blank
    line up to the closing ``---`` is ``key: value``, and the closing fence exists; anything
    else (a Markdown horizontal rule, say) is left as article text.
    """
    lines = text.split("\n")
    if not lines or not _FENCE.fullmatch(lines[0]):
        return {}, text
    values: dict[str, str] = {}
    for index, line in enumerate(lines[1:], start=1):
        if _FENCE.fullmatch(line):
            rest = "\n".join(lines[index + 1 :])
            return values, strip_leading_blank_lines(rest)
        if not line.strip():
            continue
        match = _KEY_VALUE.fullmatch(line.strip())
        if not match:
            return {}, text
        values[match.group(1).strip().lower()] = _unquote(match.group(2).strip())
    return {}, text


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def strip_leading_blank_lines(text: str) -> str:
    """Drop whole lines of white space at the start (the first content line keeps its indent)."""
    position = 0
    while True:
        newline = text.find("\n", position)
        if newline == -1 or text[position:newline].strip():
            return text[position:]
        position = newline + 1


# ---------------------------------------------------------------- paragraphs


def split_blocks(text: str) -> list[_Block]:
    """Blank-line separated blocks, trimmed of surrounding white space, then wire-style splits."""
    blocks: list[_Block] = []
    position = 0
    for separator in re.finditer(r"\n(?:[^\S\n]*\n)+", text):
        blocks.extend(_trimmed(text, position, separator.start()))
        position = separator.end()
    blocks.extend(_trimmed(text, position, len(text)))
    return [piece for block in blocks for piece in split_indented_paragraphs(text, block)]


def _trimmed(text: str, start: int, end: int) -> list[_Block]:
    chunk = text[start:end]
    stripped = chunk.strip()
    if not stripped:
        return []
    first = start + (len(chunk) - len(chunk.lstrip()))
    last = first + len(stripped)
    return [_Block(first, last, text[first:last])]


def split_indented_paragraphs(text: str, block: _Block) -> list[_Block]:
    """Split a block before each indented line that starts a new sentence (wire copy layout)."""
    lines = block.text.split("\n")
    if len(lines) < 2:
        return [block]
    # Indentation relative to the block's least indented line: a block indented as a whole
    # (a Markdown code block, a blockquote) is not split line by line.
    base_indent = min(_indent(line) for line in lines[1:] if line.strip())
    base_indent = min(base_indent, _indent(_first_line_in_text(text, block.start)))
    cuts: list[int] = []  # offsets in text where a new paragraph starts
    offset = block.start
    for previous, line in zip(lines, lines[1:]):
        offset += len(previous) + 1
        if _starts_indented_paragraph(line, previous, base_indent):
            cuts.append(offset)
    if not cuts:
        return [block]
    pieces: list[_Block] = []
    bounds = [block.start, *cuts, block.end]
    for start, end in zip(bounds, bounds[1:]):
        pieces.extend(_trimmed(text, start, end))
    return pieces


def _first_line_in_text(text: str, position: int) -> str:
    """The whole line of ``text`` holding ``position``, leading white space included."""
    line_start = text.rfind("\n", 0, position) + 1
    line_end = text.find("\n", position)
    return text[line_start : line_end if line_end != -1 else len(text)]


def _starts_indented_paragraph(line: str, previous: str, base_indent: int) -> bool:
    indent = _indent(line)
    if indent < 2 or indent <= base_indent or not line.strip():
        return False
    opens_sentence = re.match(r"[\"'“‘(]*[A-Z0-9]", line.lstrip()) is not None
    return opens_sentence and ends_sentence(previous)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


# ---------------------------------------------------------------- text shape helpers


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def line_count(text: str) -> int:
    return text.count("\n") + 1


def ends_sentence(text: str) -> bool:
    return text.rstrip(_TRAILING_CLOSERS)[-1:] in (".", "!", "?")


def has_final_punctuation(text: str) -> bool:
    return text.rstrip(_TRAILING_CLOSERS)[-1:] in tuple(".!?,;:")


def sentence_count(text: str) -> int:
    stripped = text.strip()
    boundaries = [m for m in _SENTENCE_BOUNDARY.finditer(stripped) if not _is_abbreviation_at(stripped, m.start())]
    return len(boundaries) + 1


def _is_abbreviation_at(text: str, period: int) -> bool:
    """Whether the period at ``text[period]`` belongs to an abbreviation ("U.S.", "J.", "Sept.", "Mr.")."""
    if text[period] != ".":
        return False
    # Only the word before the period matters; rfind keeps this cheap on long paragraphs.
    word_start = max(text.rfind(" ", 0, period), text.rfind("\n", 0, period), text.rfind("\t", 0, period)) + 1
    core = text[word_start:period].lstrip("\"'“‘([").rstrip(".")
    return len(core) <= 1 or "." in core or core.lower() in _ABBREVIATIONS


def is_title_case(text: str) -> bool:
    """Most content words capitalised, as in "Senate Passes Sweeping Budget Bill"."""
    words = [word for word in _LETTER_WORD.findall(text) if word.lower() not in _MINOR_WORDS]
    if len(words) < 2:
        return False
    capitalised = sum(1 for word in words if word[0].isupper())
    # 0.9, not lower: a sentence dense with names ("Anna Berg and Tomas Lind have yet to
    # answer the European Rowing Federation (ERF).") reaches 0.75 without being a headline.
    return capitalised / len(words) >= 0.9


def is_date_line(line: str) -> bool:
    """A line made only of date/time tokens ("26-FEB-1987 15:01:01.79", "Updated Mon, June 4")."""
    tokens = re.findall(r"[^\s,|]+|[,|]", line.strip())
    has_number = any(any(char.isdigit() for char in token) for token in tokens)
    return bool(tokens) and has_number and all(_DATE_TOKEN.fullmatch(token) for token in tokens)


def headline_text(paragraph_text: str, joiner: str = " ") -> str:
    """The headline field for a headline paragraph: title lines only, Markdown marks removed."""
    lines = [line.strip() for line in paragraph_text.split("\n")]
    title_lines = [line for line in lines if line and not is_date_line(line)] or lines
    title_lines[0] = _MARKDOWN_HEADING.sub("", title_lines[0], count=1)
    return joiner.join(title_lines).strip()


# ---------------------------------------------------------------- paragraph kinds


def is_credit(text: str, in_front_block: bool = True) -> bool:
    """A photo credit line: "Photo: Jane Doe/Reuters", "AP Photo/Evan Vucci", "Getty Images".

    The bare "Name/Agency" form is only trusted in the front block: further down, slashes
    also join sports fixtures and the like ("Swindon/Notts Co").
    """
    stripped = text.strip()
    if len(stripped) > MAX_LABEL_CHARS or line_count(stripped) > 1 or word_count(stripped) > MAX_CREDIT_WORDS or ends_sentence(stripped.rstrip(")")):
        # A period ends a sentence, not a credit ("Getty Images." is rare; "He said." is common).
        return False
    if _CREDIT_AGENCY.search(stripped) or _credit_prefix_is_label(stripped):
        return True
    return in_front_block and _SLASH_CREDIT.fullmatch(stripped) is not None


def _credit_prefix_is_label(text: str) -> bool:
    # "Photo: X" / "Photo by X" / "Image credit: X" are labels; "Photos show ..." is a sentence.
    return re.match(
        r"\(?\s*(?:photo(?:graph)?s?|image|picture|illustration|credit|video|photo illustration)"
        r"(?:\s+credit)?\s*(?::|\||/|by\b|courtesy\b)",
        text,
        re.IGNORECASE,
    ) is not None


def is_byline(text: str) -> bool:
    """ "By Jane Doe", "By Jane Doe and John Roe", "By JANE DOE, Associated Press"."""
    stripped = text.strip()
    if len(stripped) > MAX_LABEL_CHARS or line_count(stripped) > 2 or word_count(stripped) > MAX_BYLINE_WORDS or not stripped[:3].lower() == "by ":
        return False
    if not stripped[3:].lstrip()[:1].isupper():
        return False
    return _BYLINE.fullmatch(stripped) is not None and not ends_sentence(_drop_initials(stripped))


def _drop_initials(text: str) -> str:
    # "By John Q. Public" ends in a name, not a sentence, even though a period comes last.
    return re.sub(r"\b[A-Z]\.$", "", text.rstrip())


def _is_labelled(text: str) -> bool:
    return is_credit(text) or is_byline(text)


def is_headline_candidate(text: str) -> bool:
    """Shaped like a headline: short, one to three lines, a sentence per line, not a label."""
    stripped = text.strip()
    if len(stripped) > MAX_HEADLINE_CHARS:
        return False
    if _MARKDOWN_HEADING.match(stripped) and line_count(stripped) == 1:
        return True
    if _is_labelled(stripped) or not any(char.isalpha() for char in stripped):
        return False
    title_lines = [line for line in headline_text(stripped, joiner="\n").split("\n") if line]
    if len(title_lines) > MAX_HEADLINE_LINES or title_lines[-1].endswith(":"):
        return False
    # Lines that each end a clause ("Headline; " over "Subtitle.") are separate units and are
    # measured one by one; otherwise the line breaks are hard wrapping inside one unit.
    if all(line.rstrip(_TRAILING_CLOSERS)[-1:] in ".;:!?" for line in title_lines[:-1]):
        units = title_lines
    else:
        units = [" ".join(title_lines)]
    return all(_is_headline_unit(unit) for unit in units) and sentence_count(" ".join(title_lines)) <= max(
        len(title_lines), 2
    )


def _is_headline_unit(unit: str) -> bool:
    words = word_count(unit)
    if words > MAX_HEADLINE_WORDS:
        return False
    if is_title_case(unit):
        # Title Case is a headline's own mark: even two short sentences ("Not Yet.") are one.
        return words <= MAX_HEADLINE_WORDS and sentence_count(unit) <= 2
    if ends_sentence(unit):
        return words <= MAX_SENTENCE_HEADLINE_WORDS and _few_enough_sentences(unit)
    return words <= MAX_HEADLINE_WORDS and _few_enough_sentences(unit)


def _few_enough_sentences(unit: str) -> bool:
    # One sentence, or a short two-beat headline ("He could make history. Again.").
    sentences = sentence_count(unit)
    return sentences == 1 or (sentences == 2 and word_count(unit) <= MAX_TWO_SENTENCE_HEADLINE_WORDS)


def is_strong_headline(text: str) -> bool:
    """Unmistakably a headline: unpunctuated or Title Case, not merely a short sentence."""
    title = headline_text(text)
    return is_headline_candidate(text) and (not ends_sentence(title) or is_title_case(title))


def is_label_case(text: str) -> bool:
    """Every word capitalised ("Jeff Sessions", "World News", "BUSINESS"), as topic labels are.

    Sentence-case short lines ("Japan turns to beer alternatives") are headlines, not labels.
    """
    words = [word for word in _LETTER_WORD.findall(text) if word.lower() not in _MINOR_WORDS]
    return bool(words) and all(word[0].isupper() for word in words)


def is_section_line(text: str, following: str) -> bool:
    """A topic label ("Jeff Sessions", "Business") above a clear, longer headline."""
    stripped = text.strip()
    if len(stripped) > MAX_LABEL_CHARS:
        return False
    words = word_count(stripped)
    return (
        line_count(stripped) == 1
        and 1 <= words <= MAX_SECTION_WORDS
        and any(char.isalpha() for char in stripped)
        and not has_final_punctuation(stripped)
        and not _is_labelled(stripped)
        and not _MARKDOWN_HEADING.match(stripped)
        and is_label_case(stripped)
        and is_strong_headline(following)
        and word_count(headline_text(following)) > words
    )


def is_dek(text: str, following: str | None) -> bool:
    """A standfirst right under the headline, recognisable as front matter rather than body.

    Only when a credit or byline follows it: then the front block visibly ends after it. A
    lone sentence between headline and body is indistinguishable from a one-sentence opening
    paragraph (the BBC layout), and is left as body.
    """
    stripped = text.strip()
    if following is None or len(stripped) > MAX_HEADLINE_CHARS or _is_labelled(stripped) or word_count(stripped) > MAX_DEK_WORDS:
        return False
    return sentence_count(stripped) <= MAX_DEK_SENTENCES and _is_labelled(following)


def classify_paragraphs(texts: list[str], known_headline: str | None = None) -> list[str]:
    """The kind of each paragraph (see the module docstring for the layout model).

    ``known_headline`` (from front matter) decides the headline: the first paragraph is one
    only if it says the same thing, so a body-first file with a front-matter title keeps its
    opening paragraph as body.
    """
    kinds = ["body"] * len(texts)
    position = 0

    def looks_like_headline(index: int) -> bool:
        if index >= len(texts):
            return False
        if known_headline is not None:
            return same_words(headline_text(texts[index]), known_headline)
        return index + 1 < len(texts) and is_headline_candidate(texts[index])

    if len(texts) >= 3 and is_section_line(texts[0], texts[1]) and looks_like_headline(1):
        kinds[0] = "section"
        position = 1
    if looks_like_headline(position):
        kinds[position] = "headline"
        position += 1
        following = texts[position + 1] if position + 1 < len(texts) else None
        if position < len(texts) and is_dek(texts[position], following):
            kinds[position] = "dek"
            position += 1
    while position < len(texts) and _is_labelled(texts[position]):
        kinds[position] = "byline" if is_byline(texts[position]) else "credit"
        position += 1
    for index in range(position, len(texts)):
        if is_credit(texts[index], in_front_block=False):
            kinds[index] = "credit"
    return kinds


def same_words(left: str, right: str) -> bool:
    """Equal word for word, ignoring case and punctuation."""
    def words(text: str) -> list[str]:
        return re.findall(r"\w+", text.lower())

    return words(left) == words(right)


# ---------------------------------------------------------------- the article


def parse_article(text: str) -> ArticleStructure:
    """Split normalised article text into front matter, metadata and classified paragraphs."""
    front_matter, body_text = split_front_matter(text)
    blocks = split_blocks(body_text)
    known_headline = _front_matter_value(front_matter, "headline")
    kinds = classify_paragraphs([block.text for block in blocks], known_headline)
    paragraphs = [
        Paragraph(position=index, kind=kind, start=block.start, end=block.end, text=block.text)
        for index, (block, kind) in enumerate(zip(blocks, kinds))
    ]

    def first(kind: str) -> str | None:
        return next((p.text for p in paragraphs if p.kind == kind), None)

    headline_paragraph = first("headline")
    author = _front_matter_value(front_matter, "author")
    return ArticleStructure(
        text=body_text,
        paragraphs=paragraphs,
        headline=known_headline or (headline_text(headline_paragraph) if headline_paragraph else None),
        dek=_front_matter_value(front_matter, "dek") or first("dek"),
        section=_front_matter_value(front_matter, "section") or first("section"),
        credit=first("credit"),
        byline=author or first("byline"),
        outlet=_front_matter_value(front_matter, "outlet"),
        url=_front_matter_value(front_matter, "url"),
        published_at=_front_matter_value(front_matter, "published_at"),
        author=author,
        front_matter=front_matter,
    )


def _front_matter_value(front_matter: dict[str, str], field_name: str) -> str | None:
    """The first non-empty value among the keys that map to ``field_name`` (canonical key first)."""
    keys = sorted((key for key, target in FRONT_MATTER_FIELDS.items() if target == field_name), key=lambda k: k != field_name)
    for key in keys:
        value = front_matter.get(key, "").strip()
        if value:
            return value
    return None
