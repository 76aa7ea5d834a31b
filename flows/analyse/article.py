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


# Paragraphs per nlp.pipe batch. Measured on 400 BBC articles (CPU s, median of 3 / peak extra
# RSS): 8: 13.7 s / 12 MB, 16: 12.4 / 12, 32: 11.9 / 14-20, 64: 12.5 / 45, 128: 12.5 / 89,
# 256: 12.5-12.9 / 180, 1000: 13.1 / 661. Small batches stay in cache; big ones only cost memory.
NER_BATCH_SIZE = 32

# spaCy keeps a string and a lexeme for every new word it meets. In a memory zone they are
# freed when it ends, which keeps a long-lived process flat, but the words met after it are
# then made again: with a zone per batch, about 4 % more NER time (median of paired runs,
# 1,500 BBC articles). Worker processes of a WorkerPool, which only ever analyse batches,
# share one zone over several thousand articles (worker_pool.FREE_NEW_WORDS_AFTER_ARTICLES);
# anywhere else (one worker's threads, Dask workers, eval) each call of analyse_structures
# frees its own (0 here).
FREE_NEW_WORDS_AFTER_ARTICLES = 0
_words_zone = contextlib.ExitStack()  # the zone open across calls, when above 0
_articles_in_zone = 0

# spaCy's tokenizer remembers how it split a word only outside a memory zone
# (Tokenizer._save_cached), so inside one it splits every word again by its prefix, suffix
# and infix rules: tokenising took 8.8 % of NER time in zones against 3.9 % outside (py-spy,
# the same 300 BBC articles). A model's first KEEP_WORDS_OF_FIRST_ARTICLES articles therefore
# run outside any zone: their words, the frequent ones every later article meets again, stay
# in the vocabulary and fill the tokenizer's cache (spaCy caps it at 10,000 chunks; the
# first 160 BBC articles hold that many distinct ones, the first 100 only 7,266); only the
# words new after them are freed. Counted in articles, not calls, so the cache fills
# whatever the size of the calls (ingest's chunks).
KEEP_WORDS_OF_FIRST_ARTICLES = 250
_articles_outside_zones: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # model -> articles


def _new_words_zone(nlp, articles: int):
    """The memory zone the next ``articles`` are analysed in: none while the model is on its
    first articles (see above), then their own, or one shared with the calls before, which
    ends (freeing their words) once FREE_NEW_WORDS_AFTER_ARTICLES articles have run in it."""
    global _articles_in_zone
    kept = _articles_outside_zones.get(nlp, 0)
    if kept < KEEP_WORDS_OF_FIRST_ARTICLES:
        _articles_outside_zones[nlp] = kept + articles
        return contextlib.nullcontext()
    if FREE_NEW_WORDS_AFTER_ARTICLES <= 0:
        return nlp.memory_zone()
    if _articles_in_zone == 0 or _articles_in_zone >= FREE_NEW_WORDS_AFTER_ARTICLES:
        _words_zone.close()
        _words_zone.enter_context(nlp.memory_zone())  # nothing of a batch outlives it but plain strings
        _articles_in_zone = 0
    _articles_in_zone += articles
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


def analyse_structures(nlp, structures: Sequence[ArticleStructure], clock: StageClock | None = None
                       ) -> list[tuple[list[Mention], list[Quote]]]:
    """NER over every paragraph of every article in one stream, then quotes per article."""
    from quotewire.analyse.entities import recognise  # here, so the main process of a run never imports spaCy

    clock = clock or StageClock()
    with _new_words_zone(nlp, len(structures)):
        mentions_per_article = recognise(nlp, structures, batch_size=NER_BATCH_SIZE, clock=clock)
    from quotewire.analyse.syntax import parser_beside

    parse = parser_beside(nlp)
    with clock("quotes"):
        quotes = extract_quotes_of(list(zip(structures, mentions_per_article)), parse)
    return list(zip(mentions_per_article, quotes))


def analyse_documents(nlp, documents: Sequence[DecodedDocument], clock: StageClock | None = None
                      ) -> list[AnalysedArticle]:
    clock = clock or StageClock()
    structures = []
    with clock("structure"):
        for document in documents:
            structure = parse_article(document.text)
            if structure.outlet is None:
                structure.outlet = outlet_from_path(document.source_path)
            structures.append(structure)
    analysed = analyse_structures(nlp, structures, clock)
    return [
        AnalysedArticle(article_id_for(document.text), document, structure, mentions, quotes)
        for document, structure, (mentions, quotes) in zip(documents, structures, analysed)
    ]


def quotes_in_text(nlp, text: str) -> list[Quote]:
    """The quotes the pipeline would publish for an article with this text (used by `quotewire eval`)."""
    structure = parse_article(text)
    [(_, quotes)] = analyse_structures(nlp, [structure])
    return quotes
