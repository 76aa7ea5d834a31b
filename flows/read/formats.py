"""Other source formats -> article text in the shape the structure parser reads.

The rest of the pipeline reads *text*: an optional front matter block, then the headline as
the first paragraph, then body paragraphs separated by blank lines (see ``structure.py``).
HTML pages and JSON Lines dumps are turned into exactly that shape here, so everything after
decoding is the same whatever the source format was:

    ---
    headline: Council approves harbour plan
    author: Jane Doe
    published_at: 2024-03-01
    outlet: Harbour Gazette
    url: https://example.org/harbour-plan
    ---

    Council approves harbour plan

    First body paragraph.

    Second body paragraph.

HTML extraction is trafilatura's (precision mode, with the default mode as a fallback when
precision mode lost the article). The only post-processing is dropping lines that are page
furniture by their form alone ("Advertisement", "Related: ...", "Follow us on Twitter",
wire reporting credits), each rule measured on the html-aeb benchmark (``bench_html.py``).
Bylines and photo credits are left to the structure parser, which classifies them.

Gzip: ``x.html.gz`` / ``x.txt.gz`` / ``x.jsonl.gz`` are decompressed with a size cap, because
a few kilobytes of gzip can expand to gigabytes.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

from quotewire.read.decode import normalise_newlines, sha256_hex
from quotewire.read.document import Rejection
from quotewire.analyse.structure import same_words

# Decompressed-size cap: far above any real article or daily dump, far below a gzip bomb.
DEFAULT_MAX_GUNZIPPED_BYTES = 256 * 1024 * 1024
_GZIP_CHUNK = 1024 * 1024

# Front matter keys in the order they are written; structure.py reads them back.
FRONT_MATTER_KEYS = ("headline", "author", "published_at", "outlet", "url")

# JSON field names by meaning, most specific first.
JSON_TEXT_FIELDS = ("text", "body", "content", "articleBody")
JSON_FIELDS: dict[str, tuple[str, ...]] = {
    "headline": ("title", "headline"),
    "author": ("author", "byline", "authors"),
    "published_at": ("published", "published_at", "date", "datePublished"),
    "outlet": ("outlet", "source", "site", "publisher"),
    "url": ("url", "link"),
}

_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_WHITESPACE_RUN = re.compile(r"\s+")


# ---------------------------------------------------------------- gzip


class GzipRejected(Exception):
    """A .gz file that cannot become an article; ``reason`` is the Rejection reason code."""

    reason = "bad_gzip"


class BadGzip(GzipRejected):
    reason = "bad_gzip"


class GzipTooLarge(GzipRejected):
    reason = "too_large"


def gunzip_if_needed(
    data: bytes, name: str, max_bytes: int = DEFAULT_MAX_GUNZIPPED_BYTES
) -> tuple[bytes, str]:
    """(bytes, name) with gzip undone when ``name`` ends in ``.gz``; other files pass through.

    Raises ``GzipTooLarge`` as soon as more than ``max_bytes`` would be produced (the bomb is
    never fully inflated) and ``BadGzip`` for corrupt or truncated data.
    """
    if not name.lower().endswith(".gz"):
        return data, name
    return gunzip_capped(data, max_bytes), name[: -len(".gz")]


def gunzip_capped(data: bytes, max_bytes: int) -> bytes:
    """Inflate every gzip member of ``data`` (``cat a.gz b.gz`` is valid gzip), at most ``max_bytes``."""
    output = bytearray()
    remaining = data
    while True:
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        pending = remaining
        try:
            while pending:
                # max_length bounds each step, so memory never exceeds the cap by more than a chunk.
                output += inflater.decompress(pending, _GZIP_CHUNK)
                if len(output) > max_bytes:
                    raise GzipTooLarge(f"decompresses to more than {max_bytes} bytes")
                pending = inflater.unconsumed_tail
                if inflater.eof:
                    break
            while not inflater.eof:
                chunk = inflater.decompress(b"", _GZIP_CHUNK)
                if not chunk:
                    break
                output += chunk
                if len(output) > max_bytes:
                    raise GzipTooLarge(f"decompresses to more than {max_bytes} bytes")
        except zlib.error as error:
            raise BadGzip(f"not valid gzip data: {error}") from error
        if not inflater.eof:
            raise BadGzip("the gzip data is truncated")
        remaining = inflater.unused_data
        # Trailing zero padding (tape/archive tools add it) is not another member.
        if not remaining.strip(b"\x00"):
            return bytes(output)


# ---------------------------------------------------------------- article text


def single_line(value: str) -> str:
    """A front matter value: one line, white space runs collapsed."""
    return _WHITESPACE_RUN.sub(" ", value).strip()


def front_matter_value(value: str) -> str:
    """``value`` made safe for a ``key: value`` line that structure.py unquotes.

    structure.py strips one pair of matching outer quotes, so a value that itself starts and
    ends with the same quote ("\\"Yes\\", she said \\"no\\"") is wrapped once more to survive.
    """
    value = single_line(value)
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return f'"{value}"'
    return value


def article_text(metadata: dict[str, str | None], paragraphs: Iterable[str]) -> str:
    """Front matter (the non-empty metadata) + headline paragraph + body paragraphs.

    A first body paragraph repeating the headline (pages often keep their <h1> in the body)
    is dropped, so the headline appears once.
    """
    values = {key: single_line(metadata.get(key) or "") for key in FRONT_MATTER_KEYS}
    headline = values["headline"]
    body = body_below_headline(headline, paragraphs)
    front = ""
    if any(values.values()):
        fields = [f"{key}: {front_matter_value(value)}" for key, value in values.items() if value]
        front = "\n".join(["---", *fields, "---"]) + "\n\n"
    blocks = ([headline] if headline else []) + body
    return front + "\n\n".join(blocks) + "\n"


def body_below_headline(headline: str | None, paragraphs: Iterable[str]) -> list[str]:
    """The non-empty body paragraphs, without a first one that repeats the headline."""
    body = [single_paragraph(p) for p in paragraphs]
    body = [p for p in body if p]
    if headline and body and same_words(body[0], headline):
        body = body[1:]
    return body


def single_paragraph(text: str) -> str:
    """A paragraph with no blank line inside (a blank line would split it in two) and no edge space."""
    lines = [line.strip() for line in text.strip().split("\n")]
    return "\n".join(line for line in lines if line)


# ---------------------------------------------------------------- HTML

# Page furniture recognised by its form alone, whatever the site. Every rule matches a whole
# line (a body sentence that merely mentions "advertisement" or "newsletter" is kept), and
# each was measured on html-aeb (``bench_html.py``), whose reference bodies leave them out.
_SHORT_LINE_WORDS = 40
FURNITURE_RULES: dict[str, re.Pattern[str]] = {
    # Ad labels and "continue reading" stubs.
    "ad_label": re.compile(
        r"(?:advertisement|advertising|sponsored(?: content)?|story continues below(?: advertisement)?"
        r"|continue reading(?: below| the main story)?|scroll to continue.*)[\s.:!>»…-]*",
        re.IGNORECASE,
    ),
    # Links to other articles: "Related: ...", "READ MORE: ...", "[Related: ...]", "You may also like".
    # A heading word alone or followed by a colon: "More than 100 people..." is body text.
    "related_link": re.compile(
        r"\[?(?:related(?: posts?| articles?| stories| content)?|read more|see more|more|also|"
        r"don[’']t miss|you may also like|you might also like|most read(?: in [\w ]+)?|recommended)"
        r"\s*(?::.*|[.…]*\]?)",
        re.IGNORECASE,
    ),
    # Social and newsletter prompts addressed to the reader, where a sentence starts.
    "share_prompt": re.compile(
        r"(?:share (?:this (?:article|story|post)|on \w+)|like this (?:story|article)|tell us what you think)\b.*",
        re.IGNORECASE,
    ),
    "follow_prompt": re.compile(
        r"(?=.*(?:\b(?:twitter|facebook|instagram|youtube)\b|@\w))"
        r"(?:.*(?:[.!?]\s+|\bor\s+|\band\s+))?follow\b.*",
        re.IGNORECASE,
    ),
    "newsletter_prompt": re.compile(
        r"(?:.*[.!?]\s+)?(?:subscribe|sign up)\b.*|.*\b(?:to|in) your inbox\b.*",
        re.IGNORECASE,
    ),
    # Wire and staff credits at the foot: "(Reporting by ...; Editing by ...)", "X contributed to this report."
    "reporting_credit": re.compile(
        r"\(?(?:additional |writing and )?(?:reporting|writing|editing) by .*"
        r"|.*\bcontributed (?:reporting|to this (?:report|story|article))\b.*",
        re.IGNORECASE,
    ),
    # Taxonomy lines and widget labels: "Filed under: X", "Tags", "Comments". (Bare URLs and
    # e-mail addresses are kept: measured, the reference bodies mostly keep them.)
    "label_line": re.compile(
        r"(?:filed under|tags?|categor(?:y|ies)|source|topics?)\s*:.*|comments?|tags|print|e-?mail|share",
        re.IGNORECASE,
    ),
}
# Tweetable-quote widgets append their button label to the sentence they quote.
_CLICK_TO_TWEET = re.compile(r"\s*click to tweet\s*$", re.IGNORECASE)


def is_furniture_line(line: str) -> bool:
    """A short line that is page furniture (see ``FURNITURE_RULES``) rather than article text."""
    line = line.strip()
    if len(line.split()) > _SHORT_LINE_WORDS:
        return False
    return any(rule.fullmatch(line) for rule in FURNITURE_RULES.values())


def is_related_heading(line: str) -> bool:
    return bool(FURNITURE_RULES["related_link"].fullmatch(line.strip()))


def is_list_item(line: str) -> bool:
    return line.startswith(("- ", "* ", "• "))


def drop_furniture(lines: list[str]) -> list[str]:
    """``lines`` without furniture lines, nor the list of links under a "Related:" heading."""
    kept: list[str] = []
    in_related_list = False
    for line in lines:
        if in_related_list and is_list_item(line):
            continue
        in_related_list = is_related_heading(line)
        if not is_furniture_line(line):
            kept.append(line)
    return kept


# favor_precision trims boilerplate better (html-aeb F1 0.957 -> 0.964), but now and then it
# throws away the article itself and keeps a notice. When it keeps less than this share of
# the words the default extraction finds, the default one is used. Measured on html-aeb:
# every share from 0.05 to 0.3 gives the same F1 (0.968 -> 0.973); 0.35 and above swap in
# the noisier default on pages where precision mode was right.
MIN_PRECISE_SHARE_OF_DEFAULT = 0.2


def extract_html(html: bytes | str, favor_precision: bool = True, include_tables: bool = True) -> Any:
    """trafilatura's article extraction with metadata, or None when it finds no article."""
    import trafilatura  # here: 30 MB (lxml and all) that a worker with no HTML to read never needs

    return trafilatura.bare_extraction(
        html,
        with_metadata=True,
        include_comments=False,  # reader comments are not the article
        include_tables=include_tables,  # measured: dropping tables loses recall (F1 0.964 -> 0.957)
        favor_precision=favor_precision,
    )


def extracted_words(document: Any) -> int:
    return len((document.text or "").split()) if document is not None else 0


def extract_article(html: bytes | str) -> Any:
    """The precision-mode extraction, unless it lost most of what the default mode finds.

    When precision mode finds nothing at all, the page has no article: the default mode's
    fallback extractors would return the navigation of a menu page as "text".
    """
    precise = extract_html(html, favor_precision=True)
    if extracted_words(precise) == 0:
        return None
    default = extract_html(html, favor_precision=False)
    if extracted_words(precise) < MIN_PRECISE_SHARE_OF_DEFAULT * extracted_words(default):
        return default
    return precise


# An extracted body of fewer words than this is a menu or a label ("Home", "Menu Search"),
# what trafilatura returns for a navigation or index page: even a one-line news brief is a
# sentence, and the shortest ones (subject, verb, object, when) run to five words. Only for
# HTML, where the body is our guess at what the page holds; a .txt or a JSON Lines record's
# body is what its producer wrote, and a short one (a brief, a correction) is theirs to keep.
MIN_HTML_BODY_WORDS = 5


def is_navigation_only(headline: str | None, paragraphs: list[str]) -> bool:
    """Whether an extracted page body, the headline left out, is too short to be an article."""
    words = sum(len(p.split()) for p in body_below_headline(headline, paragraphs))
    return words < MIN_HTML_BODY_WORDS


def body_paragraphs(extracted_text: str) -> list[str]:
    """trafilatura's plain text puts each block (paragraph, heading, list item) on its own line."""
    lines = [_CLICK_TO_TWEET.sub("", line.strip()) for line in extracted_text.split("\n")]
    return drop_furniture([line for line in lines if line])


def html_to_article_text(html: bytes | str, source_path: str) -> str | None:
    """An HTML page as article text (front matter + headline + body), None with no article
    body: none found, or one under MIN_HTML_BODY_WORDS words (``is_navigation_only``).

    ``source_path`` is only used for the (rare) page that gives no canonical URL: it is not a
    URL, so it is never written as one.
    """
    if not html or (isinstance(html, bytes) and not html.strip()):
        return None
    try:
        document = extract_article(html)
    except (ValueError, TypeError):  # lxml refuses some malformed inputs outright
        return None
    if document is None or not (document.text or "").strip():
        return None
    paragraphs = body_paragraphs(document.text)
    if is_navigation_only(single_line(document.title or ""), paragraphs):
        return None
    metadata = {
        "headline": document.title,
        "author": document.author,
        "published_at": document.date,
        "outlet": document.sitename,
        "url": document.url,
    }
    return article_text(metadata, paragraphs)


# ---------------------------------------------------------------- JSON Lines


def jsonl_articles(data: bytes, source_path: str) -> Iterator[tuple[str, str | Rejection]]:
    """One (``source_path#L<n>``, article text or Rejection) per non-blank line of a JSONL dump.

    Line numbers are 1-based, counted over every line (blank ones included), so an id points
    at the line an editor shows. Blank lines are not articles and yield nothing.
    """
    for number, raw_line in enumerate(data.split(b"\n"), start=1):
        if number == 1 and raw_line.startswith(b"\xef\xbb\xbf"):
            raw_line = raw_line[3:]  # a UTF-8 BOM on the first line is not part of the JSON
        if not raw_line.strip():
            continue
        line_id = f"{source_path}#L{number}"
        yield line_id, jsonl_line_article(raw_line, line_id)


def jsonl_line_article(raw_line: bytes, line_id: str) -> str | Rejection:
    digest = sha256_hex(raw_line)

    def reject(reason: str, detail: str) -> Rejection:
        return Rejection(source_path=line_id, reason=reason, detail=detail, content_sha256=digest)

    try:
        record = json.loads(raw_line.decode("utf-8"))
    except UnicodeDecodeError:
        return reject("bad_json", "The line is not UTF-8 (JSON Lines must be).")
    except json.JSONDecodeError as error:
        return reject("bad_json", f"The line is not valid JSON: {error.msg} at column {error.colno}.")
    if not isinstance(record, dict):
        return reject("bad_json", f"The line is a JSON {type(record).__name__}, not an object.")
    paragraphs = record_paragraphs(record)
    if not paragraphs:
        fields = "/".join(JSON_TEXT_FIELDS)
        return reject("no_text", f"The object has no non-empty text field ({fields}).")
    metadata = {key: first_field_text(record, names) for key, names in JSON_FIELDS.items()}
    return article_text(metadata, paragraphs)


def record_paragraphs(record: dict[str, Any]) -> list[str]:
    """The body paragraphs of a JSON record's first non-empty text field."""
    for name in JSON_TEXT_FIELDS:
        value = record.get(name)
        if isinstance(value, list):  # some dumps store the body as a list of paragraphs
            paragraphs = [single_paragraph(p) for p in value if isinstance(p, str)]
        elif isinstance(value, str):
            paragraphs = split_body(value)
        else:
            continue
        paragraphs = [p for p in paragraphs if p]
        if paragraphs:
            return paragraphs
    return []


def split_body(text: str) -> list[str]:
    """Paragraphs of a body string: blank-line separated, or one per line when it has no blank lines."""
    text = normalise_newlines(text)
    if _BLANK_LINE.search(text):
        return [single_paragraph(block) for block in _BLANK_LINE.split(text)]
    return [line.strip() for line in text.split("\n")]


def first_field_text(record: dict[str, Any], names: tuple[str, ...]) -> str | None:
    for name in names:
        text = field_text(record.get(name))
        if text:
            return text
    return None


def field_text(value: Any) -> str | None:
    """A metadata value as one string: lists of authors joined, ``{"name": ...}`` objects unwrapped."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        return single_line(value) or None
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, dict):
        return field_text(value.get("name"))
    if isinstance(value, list):
        parts = [field_text(item) for item in value]
        return ", ".join(part for part in parts if part) or None
    return None
