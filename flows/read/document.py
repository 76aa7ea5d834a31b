"""The in-memory shape of one article as it moves through the stages.

Each stage takes what the stage before produced and adds its own part:

    decode     -> DecodedDocument   (bytes -> normalised text, or a Rejection)
    structure  -> ArticleStructure  (front matter, metadata, classified paragraphs)
    entities   -> list[Mention]     (spaCy NER per paragraph, canonical names)
    quotes     -> list[Quote]       (quoted spans and their speakers)

All offsets are Python ``str`` indices into ``ArticleStructure.text`` (end exclusive),
so ``text[start:end]`` is always the stored text of a paragraph, mention or quote.
The Arrow schemas in ``schemas.py`` are the persisted form of these objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PARAGRAPH_KINDS = ("section", "headline", "dek", "credit", "byline", "body")
QUOTE_KINDS = ("direct", "partial")


@dataclass(frozen=True)
class DecodedDocument:
    """One raw file turned into normalised text (``\\n`` line endings, no BOM)."""

    source_path: str  # POSIX, relative to the raw root
    content_sha256: str  # of the raw bytes: what the ledger compares between runs
    text: str
    encoding: str  # "utf-8", "utf-8-sig", "utf-16", "cp1252", ...
    size_bytes: int


@dataclass(frozen=True)
class Rejection:
    """A file that could not become an article, with a machine-readable reason code."""

    source_path: str
    reason: str  # e.g. "empty", "binary", "too_large", "unreadable", "symlink_outside_root"
    detail: str  # a sentence a person can act on
    content_sha256: str | None = None


@dataclass(frozen=True)
class Paragraph:
    position: int  # 0-based order within the article
    kind: str  # one of PARAGRAPH_KINDS
    start: int
    end: int
    text: str


@dataclass
class ArticleStructure:
    """An article split into classified paragraphs, with its metadata.

    ``text`` is the normalised article text with any front matter removed; every offset
    of this article (paragraphs, mentions, quotes) indexes into it.
    """

    text: str
    paragraphs: list[Paragraph]
    headline: str | None = None
    dek: str | None = None
    section: str | None = None
    credit: str | None = None
    byline: str | None = None
    outlet: str | None = None
    url: str | None = None
    published_at: str | None = None  # ISO 8601 as given; parsed to a timestamp in tables
    author: str | None = None
    front_matter: dict[str, str] = field(default_factory=dict)

    def paragraph_at(self, offset: int) -> Paragraph | None:
        """The paragraph whose [start, end) holds ``offset``."""
        for paragraph in self.paragraphs:
            if paragraph.start <= offset < paragraph.end:
                return paragraph
        return None


@dataclass(frozen=True)
class Mention:
    """One named-entity mention, with the canonical name of the thing it refers to."""

    start: int
    end: int
    text: str
    label: str  # spaCy label: PERSON, ORG, GPE, ...
    name: str  # canonical name within the article ("Jeff Sessions" for "Sessions")
    paragraph_position: int

    def renamed(self, name: str, label: str | None = None) -> Mention:
        """This mention under another canonical name (and label). ``dataclasses.replace``
        does the same at five times the cost, and every mention of every article goes
        through here. Unchanged, it is itself (frozen: nothing can tell the difference)."""
        if name == self.name and (label is None or label == self.label):
            return self
        return Mention(self.start, self.end, self.text, self.label if label is None else label, name,
                       self.paragraph_position)


@dataclass(frozen=True)
class Quote:
    """A quoted span (content inside the marks) and who said it."""

    start: int
    end: int
    text: str
    kind: str  # "direct" | "partial"
    paragraph_position: int
    speaker: str | None = None  # canonical full name, or None when nobody is identifiable
    speaker_mention: str | None = None  # the words at the attribution: "he", "the attorney general"
    cue: str | None = None  # reporting verb or phrase: "said", "according to"
    method: str | None = None  # which rule attributed it, for error analysis
    speaker_confidence: float = 0.0  # 0-1: how likely the speaker is right (quotewire.analyse.confidence)
