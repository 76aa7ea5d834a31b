"""Speech verbs and their subjects from the dependency parse (quotewire.analyse.syntax), on invented
sentences with hand-made NER mentions: verbs no cue list holds, title chains, aliases,
relations and organisations by description."""

from __future__ import annotations

import pytest

from quotewire.analyse.attribution import CUE_FORMS
from quotewire.analyse.quotes import extract_quotes, find_spans
from quotewire.analyse.syntax import build_frames, reads_as_utterance
from test_quotes import article_from, person

pytestmark = pytest.mark.slow  # loads the spaCy model's parser


@pytest.fixture(scope="module")
def parser():
    from quotewire.settings import Settings
    from quotewire.analyse.syntax import sentence_parser

    return sentence_parser(Settings().spacy_model)


def attributed(parser, article, mentions):
    return [(q.speaker, q.speaker_mention) for q in extract_quotes(article, mentions, parser)]


@pytest.mark.parametrize("verb", ["implored", "gushed", "texted", "emailed"])
def test_any_verb_after_the_quote_reports_it(parser, verb):
    assert verb not in CUE_FORMS  # the parse, not the cue list, must find it
    article = article_from("Nora Quist met the board on Monday.", f"“We cannot wait any longer,” Nora Quist {verb}.")
    assert attributed(parser, article, [person(article, "Nora Quist"), person(article, "Nora Quist", nth=1)]) \
        == [("Nora Quist", "Nora Quist")]


def test_any_verb_before_a_colon_reports_the_quote(parser):
    assert "gushed" not in CUE_FORMS
    article = article_from("Coach Anna Berg gushed: “He was brilliant today.”")
    assert attributed(parser, article, [person(article, "Anna Berg")])[0][0] == "Anna Berg"


def test_the_speaker_is_the_name_at_the_end_of_a_title_chain(parser):
    article = article_from("“We cannot wait,” said Trade and Industry Secretary Ann Rowe.")
    mentions = [person(article, "Trade and Industry", label="ORG"), person(article, "Ann Rowe")]
    assert attributed(parser, article, mentions)[0][0] == "Ann Rowe"


def test_a_real_name_in_apposition_is_the_speaker(parser):
    article = article_from("“I never stopped making music,” says DJ Max, real name Max Ortega.")
    mentions = [person(article, "DJ Max"), person(article, "Max Ortega")]
    assert attributed(parser, article, mentions)[0][0] == "Max Ortega"


def test_a_relative_of_a_named_person_is_not_that_person(parser):
    article = article_from("Senator Paul Grant faced questions on Monday.", "“My father did nothing wrong,” the senator's son said.")
    speaker, mention = attributed(parser, article, [person(article, "Paul Grant")])[0]
    assert mention == "the senator's son"
    assert speaker != "Paul Grant"


def test_a_newspaper_by_description_is_the_newspaper_the_article_named(parser):
    article = article_from("The Daily Courier printed an editorial on Monday.", "“This plan is a disaster,” the influential daily wrote.")
    mentions = [person(article, "Daily Courier", label="ORG")]
    assert attributed(parser, article, mentions)[0][0] == "Daily Courier"


def test_who_in_a_relative_clause_stands_for_the_person_before_it(parser):
    article = article_from("The bill passed after Rhea Lund, who quipped to reporters: “Finally.”", )
    assert attributed(parser, article, [person(article, "Rhea Lund")])[0][0] == "Rhea Lund"


def test_a_subject_that_names_nobody_leaves_the_speaker_open(parser):
    article = article_from("Nora Quist arrived late.", "“Go home,” the crowd chanted.")
    assert attributed(parser, article, [person(article, "Nora Quist")]) == [(None, "the crowd")]


def test_a_sentence_is_parsed_only_when_it_holds_a_quote_read_as_an_utterance():
    article = article_from("He called it a “political statement” on Monday.", "“We will win,” she insisted. Then she left.")
    spans = [s for p in article.paragraphs for s in find_spans(article.text, p)]
    sentences = [(article.paragraphs[s.paragraph_position].start, article.paragraphs[s.paragraph_position].end) for s in spans]
    frames = build_frames(article.text, spans, sentences)
    assert [reads_as_utterance(article.text[s.start:s.end]) for s in spans] == [False, True]
    assert list(frames) == [sentences[1]]
    assert "We will win" not in next(iter(frames.values())).text  # the quote is replaced, not parsed


def test_without_a_parser_the_cue_rules_still_attribute(parser):
    article = article_from("“We cannot wait,” Nora Quist insisted.")
    mentions = [person(article, "Nora Quist")]
    assert [q.method for q in extract_quotes(article, mentions)] == ["trailing"]
    assert [q.method for q in extract_quotes(article, mentions, parser)] == ["parse"]


def test_a_plain_said_after_the_quote_is_left_to_the_cue_rules_without_parsing(parser):
    article = article_from("“We cannot wait,” Nora Quist said.", "“We cannot wait,” said Nora Quist, a judge.")
    spans = [s for p in article.paragraphs for s in find_spans(article.text, p)]
    sentences = [(p.start, p.end) for p in article.paragraphs]
    assert list(build_frames(article.text, spans, sentences)) == [sentences[1]]
    mentions = [person(article, "Nora Quist"), person(article, "Nora Quist", nth=1)]
    assert [q.speaker for q in extract_quotes(article, mentions, parser)] == ["Nora Quist", "Nora Quist"]
