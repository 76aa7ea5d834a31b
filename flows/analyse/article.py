"""One batch of decoded documents -> analysed articles (structure, entity mentions, quotes).

This is the code path every consumer shares: the ingest flow, `quotewire eval` and the
benchmark all call it, so what is measured is what is published.
"""

from __future__ import annotations

import contextlib
import hashlib
import weakref
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Sequence

from quotewire.read.document import ArticleStructure, DecodedDocument, Mention, Quote
from quotewire.analyse.quotes import extract_quotes_of
from quotewire.runtime.stage_clock import StageClock
from quotewire.analyse.structure import parse_article


@dataclass
class AnalysedArticle:
    article_id: str
    document: DecodedDocument
    structure: ArticleStructure
    mentions: list[Mention]
    quotes: list[Quote]


# Paragraphs per nlp.pipe batch: small batches stay in the CPU's cache, big ones only cost memory.
NER_BATCH_SIZE = 32

# A model's first articles run outside memory zones, so their words (the frequent ones) fill
# the tokenizer's cache, which it only fills outside a zone (Tokenizer._save_cached).
KEEP_WORDS_OF_FIRST_ARTICLES = 250
_articles_outside_zones: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # model -> articles


class WordsZones:
    """When the words spaCy learns (a string and a lexeme per new word) are freed: in a
    memory zone, freed when it ends. A model's first ``keep_words_of_first_articles`` articles
    run in none; after them each call gets its own zone, or, with
    ``free_new_words_after_articles`` above 0, calls share one that ends once that many
    articles have run in it. The runtime chooses (runtime/process.py); the default frees
    each call's new words."""

    def __init__(self, keep_words_of_first_articles: int = KEEP_WORDS_OF_FIRST_ARTICLES,
                 free_new_words_after_articles: int = 0):
        self.keep_words_of_first_articles = keep_words_of_first_articles
        self.free_new_words_after_articles = free_new_words_after_articles
        self._shared_zone = contextlib.ExitStack()  # the zone open across calls, when shared
        self._articles_in_zone = 0

    def zone_for(self, nlp, articles: int):
        """The context the next ``articles`` of ``nlp`` are analysed in."""
        kept = _articles_outside_zones.get(nlp, 0)
        if kept < self.keep_words_of_first_articles:
            _articles_outside_zones[nlp] = kept + articles
            return contextlib.nullcontext()
        if self.free_new_words_after_articles <= 0:
            return nlp.memory_zone()
        if self._articles_in_zone == 0 or self._articles_in_zone >= self.free_new_words_after_articles:
            self._shared_zone.close()
            self._shared_zone.enter_context(nlp.memory_zone())  # nothing of a batch outlives it but plain strings
            self._articles_in_zone = 0
        self._articles_in_zone += articles
        return contextlib.nullcontext()


def article_id_for(text: str) -> str:
    """The same text is one article however it arrives (any path, encoding, compression or
    format), so the id comes from the normalised text. White space around it counts as one
    final newline: a file lacking it is not another article, and a JSON Lines record, whose
    text already ends so, keeps the id it had when ids came from the record's text bytes."""
    return hashlib.sha256((text.strip() + "\n").encode("utf-8", "surrogatepass")).hexdigest()[:16]


def outlet_from_path(source_path: str) -> str | None:
    """raw/<outlet>/... names the outlet; a file directly under the raw root has none."""
    parts = PurePosixPath(source_path).parts
    return parts[0] if len(parts) > 1 else None


def analyse_structures(nlp, structures: Sequence[ArticleStructure], clock: StageClock | None = None,
                       words_zones: WordsZones | None = None) -> list[tuple[list[Mention], list[Quote]]]:
    """NER over every paragraph of every article in one stream, then quotes per article."""
    from quotewire.analyse.entities import recognise  # here, so the main process of a run never imports spaCy

    clock = clock or StageClock()
    with (words_zones or WordsZones()).zone_for(nlp, len(structures)):
        mentions_per_article = recognise(nlp, structures, batch_size=NER_BATCH_SIZE, clock=clock)
    from quotewire.analyse.syntax import parser_beside

    parse = parser_beside(nlp)
    with clock("quotes"):
        quotes = extract_quotes_of(list(zip(structures, mentions_per_article)), parse)
    return list(zip(mentions_per_article, quotes))


def analyse_documents(nlp, documents: Sequence[DecodedDocument], clock: StageClock | None = None,
                      words_zones: WordsZones | None = None) -> list[AnalysedArticle]:
    clock = clock or StageClock()
    structures = []
    with clock("structure"):
        for document in documents:
            structure = parse_article(document.text)
            if structure.outlet is None:
                structure.outlet = outlet_from_path(document.source_path)
            structures.append(structure)
    analysed = analyse_structures(nlp, structures, clock, words_zones)
    return [
        AnalysedArticle(article_id_for(document.text), document, structure, mentions, quotes)
        for document, structure, (mentions, quotes) in zip(documents, structures, analysed)
    ]


def quotes_in_text(nlp, text: str) -> list[Quote]:
    """The quotes the pipeline would publish for an article with this text (used by `quotewire eval`)."""
    structure = parse_article(text)
    [(_, quotes)] = analyse_structures(nlp, [structure])
    return quotes
