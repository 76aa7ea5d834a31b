"""The pipeline's own code path (structure -> NER -> quotes) on the seed article and its answer key."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
import spacy

from quotewire.analyse import article as analyse
from quotewire.analyse.article import analyse_documents, outlet_from_path, quotes_in_text
from quotewire.read.decode import decode_bytes
from quotewire.analyse.structure import parse_article

ROOT = Path(__file__).resolve().parents[2]
GOLD = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "sessions-immigration-judges.gold.json").read_text("utf-8"))


def test_seed_quotes_and_speakers_equal_the_answer_key(nlp):
    data = (ROOT / "raw" / "sessions-immigration-judges.txt").read_bytes()
    document = decode_bytes(data, "sessions-immigration-judges.txt")
    assert document.text == GOLD["text"]
    predicted = [(q.start, q.end, q.text, q.kind, q.speaker) for q in quotes_in_text(nlp, document.text)]
    expected = [(q["start"], q["end"], q["text"], q["kind"], q["speaker"]) for q in GOLD["quotes"]]
    assert predicted == expected


def test_batch_analysis_equals_one_by_one(nlp):
    texts = [GOLD["text"], 'Pier opens\n\n"It is finally done," said Noor Haddad, the harbour master.\n']
    documents = [decode_bytes(t.encode(), f"outlet/{i}.txt") for i, t in enumerate(texts)]
    together = analyse_documents(nlp, documents)
    alone = [analyse_documents(nlp, [d])[0] for d in documents]
    assert [(a.article_id, a.quotes, a.mentions) for a in together] == [(a.article_id, a.quotes, a.mentions) for a in alone]
    assert together[1].structure.outlet == "outlet"


def test_outlet_comes_from_the_first_folder():
    assert outlet_from_path("reuters/2024/a.txt") == "reuters"
    assert outlet_from_path("a.txt") is None


class ZoneCountingNlp:
    """Stands in for spaCy's Language: counts memory zones opened and closed."""

    def __init__(self):
        self.opened = self.closed = 0

    @contextlib.contextmanager
    def memory_zone(self):
        self.opened += 1
        try:
            yield
        finally:
            self.closed += 1


@pytest.mark.parametrize("after, calls, opened, closed", [(0, 5, 4, 4), (1000, 5, 1, 0), (1000, 6, 2, 1), (500, 7, 3, 2)])
def test_new_words_are_freed_after_so_many_articles_after_the_first_call(after, calls, opened, closed):
    zones = analyse.WordsZones(keep_words_of_first_articles=250, free_new_words_after_articles=after)
    nlp = ZoneCountingNlp()
    with zones.zone_for(nlp, 250):
        assert nlp.opened == 0  # the model's first articles learn their words for good
    for _ in range(calls - 1):
        with zones.zone_for(nlp, 250):
            assert nlp.opened - nlp.closed == 1  # every later call runs inside a zone
    assert (nlp.opened, nlp.closed) == (opened, closed)  # the last shared zone stays open for the next call


@pytest.mark.parametrize("articles_per_call, calls_outside", [(100, 3), (250, 1), (1, 250), (1000, 1)])
def test_a_models_first_articles_run_outside_zones_however_they_are_split_into_calls(
        articles_per_call, calls_outside):
    zones = analyse.WordsZones(keep_words_of_first_articles=250, free_new_words_after_articles=0)
    nlp = ZoneCountingNlp()
    zones_opened = []
    for _ in range(calls_outside + 2):
        with zones.zone_for(nlp, articles_per_call):
            zones_opened.append(nlp.opened)
    assert zones_opened == [0] * calls_outside + [1, 2]


def test_a_models_first_batch_keeps_its_words_and_a_later_batch_frees_its_new_ones():
    zones = analyse.WordsZones(keep_words_of_first_articles=1, free_new_words_after_articles=0)
    nlp = spacy.blank("en")  # a model of its own: the shared one has had its first batch
    analyse.analyse_structures(nlp, [parse_article("Harbour news\n\nQuillfeather opened the pier.\n")],
                               words_zones=zones)
    analyse.analyse_structures(nlp, [parse_article("Harbour news\n\nBrambleworth closed the pier.\n")],
                               words_zones=zones)
    assert "Quillfeather" in nlp.vocab.strings
    assert "Brambleworth" not in nlp.vocab.strings
