"""Entity recognition and canonical names.

canonicalise is pure, so most tests hand it Mention lists built from invented sentences;
one test runs the real model on a small invented article.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
import spacy

from quotewire.analyse import entities
from quotewire.read.document import ArticleStructure, Mention, Paragraph
from quotewire.analyse.entities import (
    chunk_bounds,
    ModelNotInstalledError,
    canonicalise,
    clean_form,
    entity_id,
    NO_MEMORY,
    RememberedEntities,
    entity_spans,
    load_nlp,
    recognise,
    resolve_mentions,
    resolve_model_name,
)
from quotewire.settings import DEFAULT_SPACY_MODEL, FALLBACK_SPACY_MODELS
from quotewire.runtime.stage_clock import StageClock


def mentions_in(text: str, *spans: tuple[str, str]) -> list[Mention]:
    """Mentions for (surface, label) pairs, each found at its next occurrence in ``text``."""
    found, cursor = [], 0
    for surface, label in spans:
        start = text.index(surface, cursor)
        found.append(Mention(start, start + len(surface), surface, label, surface, 0))
        cursor = start + len(surface)
    return found


def names(mentions: list[Mention]) -> list[str]:
    return [m.name for m in mentions]


# --- canonicalise: PERSON ---------------------------------------------------------------------


def test_surname_takes_the_full_name_used_earlier():
    text = "Mara Quillfeather opened the fair. Later Quillfeather left early."
    result = canonicalise(mentions_in(text, ("Mara Quillfeather", "PERSON"), ("Quillfeather", "PERSON")))
    assert names(result) == ["Mara Quillfeather", "Mara Quillfeather"]


def test_full_name_used_only_later_still_names_an_earlier_surname():
    text = "Quillfeather spoke first; Mara Quillfeather is the mayor."
    result = canonicalise(mentions_in(text, ("Quillfeather", "PERSON"), ("Mara Quillfeather", "PERSON")))
    assert names(result) == ["Mara Quillfeather", "Mara Quillfeather"]


def test_possessives_are_stripped_before_matching():
    text = "Tobin Garrow arrived. Garrow's plan failed, Garrow’s aide said."
    result = canonicalise(mentions_in(text, ("Tobin Garrow", "PERSON"), ("Garrow's", "PERSON"),
                                      ("Garrow’s", "PERSON")))
    assert set(names(result)) == {"Tobin Garrow"}


def test_plural_possessive_of_a_name_ending_in_s():
    text = "Lena Hollis met Hollis' rival."
    result = canonicalise(mentions_in(text, ("Lena Hollis", "PERSON"), ("Hollis'", "PERSON")))
    assert names(result) == ["Lena Hollis", "Lena Hollis"]


@pytest.mark.parametrize("titled", ["Attorney General Nora Vasquez-Bell", "Mr. Nora Vasquez-Bell",
                                    "Dr Nora Vasquez-Bell", "Former President Nora Vasquez-Bell",
                                    "Sen. Nora Vasquez-Bell"])
def test_leading_titles_are_not_part_of_the_name(titled):
    text = f"{titled} spoke. Vasquez-Bell smiled."
    result = canonicalise(mentions_in(text, (titled, "PERSON"), ("Vasquez-Bell", "PERSON")))
    assert names(result) == ["Nora Vasquez-Bell", "Nora Vasquez-Bell"]


def test_a_title_alone_is_kept_rather_than_emptied():
    assert clean_form("President", "PERSON") == "President"


def test_titles_are_only_stripped_from_people():
    assert clean_form("General Motors", "ORG") == "General Motors"
    assert clean_form("Judge Institute", "ORG") == "Judge Institute"


def test_name_without_middle_name_is_the_same_person():
    text = "Ada Rennick Pole wrote. Ada Pole replied."
    result = canonicalise(mentions_in(text, ("Ada Rennick Pole", "PERSON"), ("Ada Pole", "PERSON")))
    assert names(result) == ["Ada Rennick Pole", "Ada Rennick Pole"]


def test_chains_resolve_to_the_fullest_name():
    text = "Ada Pole wrote. Ada Rennick Pole signed. Pole left."
    result = canonicalise(mentions_in(text, ("Ada Pole", "PERSON"), ("Ada Rennick Pole", "PERSON"),
                                      ("Pole", "PERSON")))
    assert set(names(result)) == {"Ada Rennick Pole"}


def test_shared_surname_goes_to_the_nearest_preceding_full_name():
    text = ("Ivo Marchetti sued. Marchetti lost. Bea Marchetti appealed. Marchetti won. "
            "Ivo Marchetti paid. Marchetti sighed.")
    result = canonicalise(mentions_in(
        text, ("Ivo Marchetti", "PERSON"), ("Marchetti", "PERSON"), ("Bea Marchetti", "PERSON"),
        ("Marchetti", "PERSON"), ("Ivo Marchetti", "PERSON"), ("Marchetti", "PERSON")))
    assert names(result) == ["Ivo Marchetti", "Ivo Marchetti", "Bea Marchetti", "Bea Marchetti",
                             "Ivo Marchetti", "Ivo Marchetti"]


def test_a_place_is_not_the_surname_of_a_person():
    text = "Ormond Lake won. The Lake district flooded; Lake was muddy."
    result = canonicalise(mentions_in(text, ("Ormond Lake", "PERSON"), ("Lake", "GPE"), ("Lake", "GPE")))
    assert names(result) == ["Ormond Lake", "Lake", "Lake"]
    assert [m.label for m in result] == ["PERSON", "GPE", "GPE"]


# --- canonicalise: ORG ------------------------------------------------------------------------


def test_acronym_defined_in_parentheses_names_the_organisation():
    # "FEDLAM" is not the initials of the name, so only the parenthesised definition links it.
    text = "The Federation of Lantern Makers (FEDLAM) met. Later FEDLAM voted."
    mentions = mentions_in(text, ("Federation of Lantern Makers", "ORG"), ("FEDLAM", "ORG"))
    assert names(canonicalise(mentions, text=text)) == ["Federation of Lantern Makers"] * 2
    assert names(canonicalise(mentions)) == ["Federation of Lantern Makers", "FEDLAM"]  # no text, no definition


def test_acronym_equal_to_initials_names_the_organisation():
    text = "Members of the Northern Alliance of Kite Flyers grew. NAKF now has members."
    result = canonicalise(mentions_in(text, ("the Northern Alliance of Kite Flyers", "ORG"), ("NAKF", "ORG")))
    assert names(result) == ["Northern Alliance of Kite Flyers"] * 2


def test_a_capitalised_word_that_is_not_an_acronym_is_not_expanded():
    text = "Nova Alpha Kite Foundry shut. Nakf is a surname."
    result = canonicalise(mentions_in(text, ("Nova Alpha Kite Foundry", "ORG"), ("Nakf", "ORG")))
    assert names(result) == ["Nova Alpha Kite Foundry", "Nakf"]


def test_short_org_that_prefixes_a_longer_org_is_it():
    text = "Harbour Wire reported it first. Harbour Wire Daily has the story; Harbour says so."
    result = canonicalise(mentions_in(text, ("Harbour Wire", "ORG"), ("Harbour Wire Daily", "ORG"),
                                      ("Harbour", "ORG")))
    assert set(names(result)) == {"Harbour Wire Daily"}


def test_org_prefix_of_several_orgs_is_left_alone():
    text = "Plumtree Radio and Plumtree Press belong to Plumtree."
    result = canonicalise(mentions_in(text, ("Plumtree Radio", "ORG"), ("Plumtree Press", "ORG"),
                                      ("Plumtree", "ORG")))
    assert names(result) == ["Plumtree Radio", "Plumtree Press", "Plumtree"]


def test_a_person_is_not_the_prefix_of_an_organisation():
    text = "Odell spoke. Then the Odell Foundation paid."
    result = canonicalise(mentions_in(text, ("Odell", "PERSON"), ("the Odell Foundation", "ORG")))
    assert names(result) == ["Odell", "Odell Foundation"]


def test_leading_the_is_dropped_for_organisations():
    text = "the Treasury Office said so; the Treasury Office agreed."
    result = canonicalise(mentions_in(text, ("the Treasury Office", "ORG"), ("the Treasury Office", "ORG")))
    assert names(result) == ["Treasury Office", "Treasury Office"]
    assert [m.text for m in result] == ["the Treasury Office"] * 2  # what was written stays


# --- canonicalise: labels ---------------------------------------------------------------------


def test_one_name_tagged_differently_takes_the_majority_label_on_every_row():
    text = "Fennick said. Fennick added. Fennick left."
    result = canonicalise(mentions_in(text, ("Fennick", "ORG"), ("Fennick", "PERSON"), ("Fennick", "ORG")))
    assert [m.label for m in result] == ["ORG", "ORG", "ORG"]
    assert len({m.name for m in result}) == 1


def test_a_label_tie_lets_an_org_rule_link_and_the_cluster_majority_decide():
    text = "Harbour Wire Daily broke it. Harbour Wire agreed. Harbour Wire said."
    result = canonicalise(mentions_in(text, ("Harbour Wire Daily", "ORG"), ("Harbour Wire", "PERSON"),
                                      ("Harbour Wire", "ORG")))
    assert names(result) == ["Harbour Wire Daily"] * 3
    assert [m.label for m in result] == ["ORG"] * 3


def test_values_keep_their_label_and_text_and_never_join_names():
    text = "Juniper Hale arrived in Juniper.  On 3\nJune Hale left."
    result = canonicalise(mentions_in(text, ("Juniper Hale", "PERSON"), ("3\nJune", "DATE")))
    assert [(m.name, m.label) for m in result] == [("Juniper Hale", "PERSON"), ("3 June", "DATE")]


def test_canonicalise_keeps_order_offsets_and_text():
    text = "Kit Arden met Arden's sister at the Lantern Guild."
    given = mentions_in(text, ("Kit Arden", "PERSON"), ("Arden's", "PERSON"), ("the Lantern Guild", "ORG"))
    result = canonicalise(given)
    assert [(m.start, m.end, m.text, m.paragraph_position) for m in result] == \
        [(m.start, m.end, m.text, m.paragraph_position) for m in given]
    assert canonicalise([]) == []


# --- entity_id --------------------------------------------------------------------------------


def test_entity_id_ignores_case_and_spacing_but_not_the_name():
    assert entity_id("Mara Quillfeather") == entity_id("mara  QUILLFEATHER ")
    assert entity_id("Mara Quillfeather") != entity_id("Bea Quillfeather")
    assert re.fullmatch(r"[0-9a-f]{16}", entity_id("Mara Quillfeather"))


# --- loading the model ------------------------------------------------------------------------


def test_default_model_falls_back_to_its_upstream_twin():
    installed = {FALLBACK_SPACY_MODELS[0]}
    assert resolve_model_name(DEFAULT_SPACY_MODEL, installed.__contains__) == FALLBACK_SPACY_MODELS[0]


def test_an_explicitly_chosen_model_never_falls_back():
    installed = {FALLBACK_SPACY_MODELS[0]}
    with pytest.raises(ModelNotInstalledError, match="QUOTEWIRE_SPACY_MODEL"):
        resolve_model_name("xx_chosen_model", installed.__contains__)


def test_missing_model_error_names_the_setting_and_the_installed_models():
    with pytest.raises(ModelNotInstalledError) as error:
        load_nlp.__wrapped__("xx_quotewire_no_such_model")
    message = str(error.value)
    assert "xx_quotewire_no_such_model" in message and "QUOTEWIRE_SPACY_MODEL" in message
    for installed in spacy.util.get_installed_models():
        assert installed in message


@pytest.mark.slow
def test_load_nlp_falls_back_when_the_default_is_missing(monkeypatch):
    # Pretend the default is missing and the (really installed) model is its fallback.
    monkeypatch.setattr(entities, "DEFAULT_SPACY_MODEL", "xx_quotewire_missing_default")
    monkeypatch.setattr(entities, "FALLBACK_SPACY_MODELS", (DEFAULT_SPACY_MODEL,))
    nlp = load_nlp.__wrapped__("xx_quotewire_missing_default")
    assert "ner" in nlp.pipe_names


@pytest.mark.slow
def test_only_what_ner_needs_runs(nlp):
    assert "ner" in nlp.pipe_names
    assert set(nlp.pipe_names) <= {"tok2vec", "ner"}
    if "tok2vec" in nlp.pipe_names:  # kept only when NER listens to it
        assert nlp.get_pipe("tok2vec").listening_components


@pytest.mark.slow
def test_the_reduced_pipeline_finds_what_the_full_pipeline_finds(nlp):
    full = spacy.load(DEFAULT_SPACY_MODEL if entities.is_model_installed(DEFAULT_SPACY_MODEL)
                      else FALLBACK_SPACY_MODELS[0])
    text = ("Senator Mara Quillfeather told the Harbour Wire Daily in Glasgow on Monday that "
            "the Northern Alliance of Kite Flyers would get 40 million pounds.")
    assert [(e.start_char, e.label_) for e in nlp(text).ents] == [(e.start_char, e.label_) for e in full(text).ents]


# --- recognise with the real model ------------------------------------------------------------


def structure_from_blank_lines(text: str) -> ArticleStructure:
    paragraphs = [Paragraph(i, "body", m.start(), m.end(), m.group())
                  for i, m in enumerate(re.finditer(r"[^\n]+(?:\n[^\n]+)*", text))]
    return ArticleStructure(text=text, paragraphs=paragraphs)


INVENTED_ARTICLE = """Harbour news

Mayor Eleanor Whitcombe Opens New Bridge in Bristol

Photo: Daniel Okafor/Harbour Wire

Mayor Eleanor Whitcombe opened the new bridge in Bristol on Tuesday, the city council said.

"This bridge joins two halves of one city," Whitcombe told reporters. Critics from the Green Party said the cost had doubled.
"""


@pytest.mark.slow
def test_recognise_maps_offsets_to_the_article_and_names_surnames_in_full(nlp):
    article = structure_from_blank_lines(INVENTED_ARTICLE)
    [mentions] = recognise(nlp, [article])
    assert mentions, "the model found nothing"
    for mention in mentions:
        assert article.text[mention.start:mention.end] == mention.text
        paragraph = article.paragraphs[mention.paragraph_position]
        assert paragraph.start <= mention.start < mention.end <= paragraph.end
    surname = [m for m in mentions if m.text == "Whitcombe"]
    assert surname and all(m.name == "Eleanor Whitcombe" and m.label == "PERSON" for m in surname)
    assert len({m.start for m in mentions}) == len(mentions)  # mention ids (article:e<start>) are unique


@pytest.mark.slow
def test_recognise_streams_several_articles_and_keeps_them_apart(nlp):
    first = structure_from_blank_lines(INVENTED_ARTICLE)
    second = structure_from_blank_lines("Whitcombe is a village.\n\nNobody lives in Whitcombe now.")
    together = recognise(nlp, [first, second, first], batch_size=2, memory=NO_MEMORY)  # NER on each
    assert together[0] == together[2] == recognise(nlp, [first], memory=NO_MEMORY)[0]
    # The full name belongs to the first article only: the second cannot borrow it.
    assert all(m.name != "Eleanor Whitcombe" for m in together[1])


def test_recognise_rejects_paragraphs_whose_offsets_do_not_match_the_text():
    broken = ArticleStructure(text="Hello there.", paragraphs=[Paragraph(0, "body", 0, 5, "there")])
    with pytest.raises(ValueError, match="does not match"):
        recognise(spacy.blank("en"), [broken])


def test_a_surname_mislabelled_as_a_title_still_names_the_person():
    text = 'Eli Stroud came. "Hello," Stroud said.'
    result = canonicalise(mentions_in(text, ("Eli Stroud", "PERSON"), ("Stroud", "WORK_OF_ART")))
    assert [(m.name, m.label) for m in result] == [("Eli Stroud", "PERSON")] * 2


def test_an_organisation_keeps_a_possessive_that_is_part_of_its_name():
    text = "Dunmore's opened a shop. Dunmore's sells bread."
    result = canonicalise(mentions_in(text, ("Dunmore's", "ORG"), ("Dunmore's", "ORG")))
    assert names(result) == ["Dunmore's", "Dunmore's"]


def test_an_organisation_possessive_goes_when_the_bare_name_is_used_too():
    text = "Harbour Wire Daily ran it. Harbour Wire's editor agreed."
    result = canonicalise(mentions_in(text, ("Harbour Wire Daily", "ORG"), ("Harbour Wire's", "ORG")))
    assert names(result) == ["Harbour Wire Daily", "Harbour Wire Daily"]


# --- resolve_mentions: span repair and alias matching ------------------------------------------


def article_with(text: str, *spans: tuple[str, str], kinds: tuple[str, ...] = ()) -> tuple[ArticleStructure, list[Mention]]:
    """An article of blank-line paragraphs (kinds given in order, then body) and raw mentions
    for (surface, label) pairs found in order, each in its own paragraph's position."""
    article = structure_from_blank_lines(text)
    article.paragraphs = [replace(p, kind=kinds[p.position]) if p.position < len(kinds) else p
                          for p in article.paragraphs]
    mentions = []
    for mention in mentions_in(text, *spans):
        position = next(p.position for p in article.paragraphs if p.start <= mention.start < p.end)
        mentions.append(replace(mention, paragraph_position=position))
    return article, mentions


def named(mentions: list[Mention]) -> list[tuple[str, str, str]]:
    return [(m.text, m.label, m.name) for m in mentions]


def test_alias_matching_adds_the_surnames_ner_missed():
    text = "Orla Penhallow won the vote.\n\nLater Penhallow thanked staff, and Penhallow's aides cheered."
    article, raw = article_with(text, ("Orla Penhallow", "PERSON"))
    result = resolve_mentions(raw, article)
    assert named(result) == [("Orla Penhallow", "PERSON", "Orla Penhallow"),
                             ("Penhallow", "PERSON", "Orla Penhallow"), ("Penhallow", "PERSON", "Orla Penhallow")]
    assert [m.paragraph_position for m in result] == [0, 1, 1]
    assert all(text[m.start:m.end] == m.text for m in result)


def test_alias_matching_skips_another_first_name_a_longer_name_and_a_common_word():
    text = ("Orla Penhallow spoke, but Bram Penhallow did not. The Penhallow Trust paid.\n\n"
            "Price rose. Ivo Price agreed, and Price left.\n\nA price was set.")
    article, raw = article_with(text, ("Orla Penhallow", "PERSON"), ("Ivo Price", "PERSON"))
    added = [m for m in resolve_mentions(raw, article) if m not in raw]
    assert [(m.text, m.start) for m in added] == [("Price", text.index("Price left"))]


def test_alias_matching_gives_a_shared_surname_to_the_person_named_nearest_before():
    text = "Ted Garrow spoke. Then Garrow sat.\n\nNell Garrow replied. Garrow was brief."
    article, raw = article_with(text, ("Ted Garrow", "PERSON"), ("Nell Garrow", "PERSON"))
    result = resolve_mentions(raw, article)
    assert [m.name for m in result] == ["Ted Garrow", "Ted Garrow", "Nell Garrow", "Nell Garrow"]


def test_alias_matching_leaves_a_surname_that_names_a_place():
    text = "Iris Dunmore lives in Dunmore.\n\nShe liked Dunmore."
    article, raw = article_with(text, ("Iris Dunmore", "PERSON"), ("Dunmore", "GPE"))
    assert resolve_mentions(raw, article) == canonicalise(raw, text=text)


def test_alias_matching_finds_an_organisation_full_name_and_its_acronym():
    text = "The Guild of Kite Makers (GKM) met.\n\nLater the Guild of Kite Makers voted, and GKM said so."
    article, raw = article_with(text, ("The Guild of Kite Makers", "ORG"), ("GKM", "ORG"))
    result = resolve_mentions(raw, article)
    assert [m.name for m in result] == ["Guild of Kite Makers"] * 4
    assert [m.label for m in result] == ["ORG"] * 4


def test_a_spaced_dash_splits_a_span_into_two_names():
    text = "Pell Arnott met Arnott - Jo Vance, who left."
    article, raw = article_with(text, ("Pell Arnott", "PERSON"), ("Arnott - Jo Vance", "PERSON"))
    result = resolve_mentions(raw, article)
    assert [(m.text, m.name) for m in result] == [("Pell Arnott", "Pell Arnott"), ("Arnott", "Pell Arnott"),
                                                  ("Jo Vance", "Jo Vance")]


def test_a_trailing_common_word_in_title_case_comes_off_a_person():
    text = "Ada Quell spoke after the speech.\n\nWatch: Quell Speech at the Dock"
    article, raw = article_with(text, ("Ada Quell", "PERSON"), ("Quell Speech", "PERSON"))
    assert [m.name for m in resolve_mentions(raw, article)] == ["Ada Quell", "Ada Quell"]


def test_a_surname_ending_in_a_word_the_article_never_writes_in_lower_case_keeps_it():
    text = "Ada Quell met Tom Speech. Quell Speech was his cousin."
    article, raw = article_with(text, ("Ada Quell", "PERSON"), ("Tom Speech", "PERSON"), ("Quell Speech", "PERSON"))
    assert "Quell Speech" in [m.name for m in resolve_mentions(raw, article)]


def test_a_headline_name_glued_to_the_next_words_is_the_name():
    text = "Ada Quell Tells Dockers To Strike\n\nAda Quell spoke on Monday."
    article, raw = article_with(text, ("Ada Quell Tells Dockers", "ORG"), ("Ada Quell", "PERSON"),
                                kinds=("headline",))
    result = resolve_mentions(raw, article)
    assert named(result) == [("Ada Quell", "PERSON", "Ada Quell"), ("Ada Quell", "PERSON", "Ada Quell")]


def test_stray_marks_and_a_leading_article_come_off_a_person_span():
    text = 'Rosa Lind spoke. "Not a Rosa Lind," he said. Rosa Lind -'
    article, raw = article_with(text, ("Rosa Lind", "PERSON"), ("a Rosa Lind", "PERSON"), ("Rosa Lind -", "PERSON"))
    assert [m.text for m in resolve_mentions(raw, article)] == ["Rosa Lind"] * 3


def test_a_word_between_a_title_and_a_full_name_is_not_the_name():
    text = "The former Miss Harbour Nina Veldt spoke. Nina Veldt smiled."
    article, raw = article_with(text, ("Harbour Nina Veldt", "PERSON"), ("Nina Veldt", "PERSON"))
    assert [m.name for m in resolve_mentions(raw, article)] == ["Nina Veldt", "Nina Veldt"]


def test_a_double_surname_is_kept_whole():
    text = "Ilario Bosch Ferran spoke. Bosch Ferran left."
    article, raw = article_with(text, ("Ilario Bosch Ferran", "PERSON"), ("Bosch Ferran", "PERSON"))
    assert [m.name for m in resolve_mentions(raw, article)] == ["Ilario Bosch Ferran"] * 2


def test_a_nicknamed_name_cut_by_ner_is_one_person():
    text = 'Rep. Walter J. "Wally" Crane spoke. Wally Crane left.'
    article, raw = article_with(text, ('Walter J. "Wally', "PERSON"), ("Crane", "ORG"), ("Wally Crane", "PERSON"))
    result = resolve_mentions(raw, article)
    assert named(result) == [('Walter J. "Wally" Crane', "PERSON", 'Walter J. "Wally" Crane'),
                             ("Wally Crane", "PERSON", 'Walter J. "Wally" Crane')]


def test_a_surname_tagged_org_is_the_person():
    text = "Lena Ostrova arrived. Ostrova said no. Ostrova left. Ostrova slept."
    result = canonicalise(mentions_in(text, ("Lena Ostrova", "PERSON"), ("Ostrova", "ORG"), ("Ostrova", "ORG"),
                                      ("Ostrova", "PERSON")))
    assert [(m.name, m.label) for m in result] == [("Lena Ostrova", "PERSON")] * 4


def test_a_surname_tagged_as_a_place_is_the_person_unless_written_as_a_place():
    text = "Lena Ostrova arrived. Ostrova said no."
    result = canonicalise(mentions_in(text, ("Lena Ostrova", "PERSON"), ("Ostrova", "GPE")), text=text)
    assert [m.name for m in result] == ["Lena Ostrova"] * 2
    text = "Lena Ostrova arrived in Ostrova."
    result = canonicalise(mentions_in(text, ("Lena Ostrova", "PERSON"), ("Ostrova", "GPE")), text=text)
    assert [m.name for m in result] == ["Lena Ostrova", "Ostrova"]


def test_an_organisation_suffix_and_an_acronym_head_name_the_full_organisation():
    text = "The Northern Kite Safety Board met. The Safety Board and the N.K. Safety Board agreed."
    result = canonicalise(mentions_in(text, ("The Northern Kite Safety Board", "ORG"), ("The Safety Board", "ORG"),
                                      ("the N.K. Safety Board", "ORG")))
    assert names(result) == ["Northern Kite Safety Board"] * 3


def test_an_organisation_suffix_shared_by_two_organisations_is_left_alone():
    text = "The Kite Safety Board and the Boat Safety Board met; the Safety Board chose."
    result = canonicalise(mentions_in(text, ("The Kite Safety Board", "ORG"), ("the Boat Safety Board", "ORG"),
                                      ("the Safety Board", "ORG")))
    assert names(result) == ["Kite Safety Board", "Boat Safety Board", "Safety Board"]


def test_a_one_word_organisation_suffix_is_the_organisation():
    text = "The Harbour Daily Courier ran it. The Courier said so."
    result = canonicalise(mentions_in(text, ("The Harbour Daily Courier", "ORG"), ("The Courier", "ORG")))
    assert names(result) == ["Harbour Daily Courier"] * 2


# --- paragraphs too long for one NER doc ---------------------------------------------------------


def ruler_nlp(monkeypatch, max_length: int = 1_000_000):
    """A model-free pipeline whose 'NER' is an entity ruler, and the lengths of the docs it gets."""
    nlp = spacy.blank("en")
    nlp.add_pipe("entity_ruler").add_patterns([
        {"label": "PERSON", "pattern": [{"TEXT": "Tova"}, {"TEXT": "Renk"}]},
        {"label": "GPE", "pattern": "Marlow"},
    ])
    nlp.max_length = max_length
    nlp("Marlow")  # the ruler makes its phrase patterns into docs (through nlp.pipe) on first use
    lengths = []
    original = nlp.pipe

    def recording(texts, **kwargs):
        def noted():
            for item in texts:
                text = item[0] if kwargs.get("as_tuples") else item
                if isinstance(text, str):  # spaCy's pipe calls itself again with the docs it made
                    lengths.append(len(text))
                yield item
        return original(noted(), **kwargs)

    monkeypatch.setattr(nlp, "pipe", recording)
    return nlp, lengths


def test_chunk_bounds_cover_the_text_and_cut_after_sentence_ends():
    text = "The ferry to Marlow left at noon. " * 40 + "Tova Renk waved."
    pieces = chunk_bounds(text, limit=200)
    assert pieces[0][0] == 0 and pieces[-1][1] == len(text)
    assert all(end == next_start for (_, end), (next_start, _) in zip(pieces, pieces[1:]))
    assert all(0 < end - start <= 200 for start, end in pieces)
    assert all(text[end - 2:end] == ". " for _, end in pieces[:-1])  # after a stop and its space


def test_chunk_bounds_without_sentence_ends_cut_at_a_space_outside_names():
    text = ("we met Dr. Tova Renk at St. Marlow on Nov. 8 and " * 30).strip()
    pieces = chunk_bounds(text, limit=300)
    for _, end in pieces[:-1]:
        assert text[end - 1] == " " and text[end].islower()  # never between Dr. and Tova Renk
    assert "".join(text[start:end] for start, end in pieces) == text
    unbroken = "x" * 1000
    assert chunk_bounds(unbroken, limit=300) == [(0, 300), (300, 600), (600, 900), (900, 1000)]
    assert chunk_bounds("short", limit=300) == [(0, 5)]


def test_a_paragraph_longer_than_the_models_max_length_is_recognised_in_pieces(monkeypatch):
    nlp, lengths = ruler_nlp(monkeypatch, max_length=1_000)
    sentence = "Tova Renk crossed to Marlow again. "
    text = "Crossings\n\n" + sentence * 300  # one paragraph of 10,500 characters
    article = structure_from_blank_lines(text)
    [mentions] = recognise(nlp, [article])
    assert max(lengths) <= min(entities.NER_CHUNK_CHARS, 1_000)
    people = [m for m in mentions if m.label == "PERSON"]
    places = [m for m in mentions if m.label == "GPE"]
    assert len(people) == len(places) == 300  # none lost or split at a cut
    for mention in mentions:
        assert text[mention.start:mention.end] == mention.text
        assert mention.paragraph_position == 1
    assert [m.start for m in people] == [11 + i * len(sentence) for i in range(300)]


def test_short_paragraphs_go_to_ner_whole(monkeypatch):
    nlp, lengths = ruler_nlp(monkeypatch)
    article = structure_from_blank_lines("Tova Renk came home.\n\nMarlow was quiet. " + "It rained. " * 100)
    recognise(nlp, [article])
    assert lengths == [len(p.text) for p in article.paragraphs]


def test_a_public_body_cut_at_for_the_is_one_organisation():
    text = "A panel of the Court of Appeals for the Ninth Circuit ruled. Polls by Veldt Research for the Daily Ledger agree."
    raw = mentions_in(text, ("the Court of Appeals", "ORG"), ("the Ninth Circuit", "ORG"),
                      ("Veldt Research", "ORG"), ("the Daily Ledger", "ORG"))
    article = ArticleStructure(text=text, paragraphs=[Paragraph(0, "body", 0, len(text), text)])
    names = [m.name for m in resolve_mentions(raw, article) if m.label == "ORG"]
    assert "Court of Appeals for the Ninth Circuit" in names
    assert "Veldt Research" in names and "Daily Ledger" in names  # a pollster for a paper stays two


def test_a_renamed_mention_keeps_every_other_field():
    from dataclasses import fields, replace

    from quotewire.read.document import Mention

    mention = Mention(start=3, end=8, text="Roe's", label="ORG", name="Roe's", paragraph_position=2)
    assert mention.renamed("Ann Roe") == replace(mention, name="Ann Roe")
    assert mention.renamed("Ann Roe", "PERSON") == replace(mention, name="Ann Roe", label="PERSON")
    # a field added to Mention must be carried over by renamed() too
    assert {f.name for f in fields(Mention)} == {"start", "end", "text", "label", "name", "paragraph_position"}


# --- NER results reused for repeated texts -------------------------------------------------------


def test_remembered_entities_give_back_what_was_put_including_nothing():
    memory = RememberedEntities(capacity=10)
    spans = [(0, 9, "PERSON"), (20, 26, "GPE"), (70_000, 70_005, "ORG")]
    memory.put(memory.key("one"), spans)
    memory.put(memory.key("two"), [])
    assert memory.get(memory.key("one")) == spans
    assert memory.get(memory.key("two")) == []
    assert memory.get(memory.key("three")) is None
    assert NO_MEMORY.get(NO_MEMORY.key("one")) is None
    NO_MEMORY.put(NO_MEMORY.key("one"), spans)
    assert NO_MEMORY.get(NO_MEMORY.key("one")) is None


def test_remembered_entities_forget_the_oldest_beyond_capacity_but_keep_what_is_in_use():
    memory = RememberedEntities(capacity=4)  # two generations of two
    keys = [memory.key(f"text {i}") for i in range(6)]
    for key in keys[:5]:
        memory.put(key, [(0, 4, "ORG")])
    assert memory.get(keys[0]) is None and memory.get(keys[1]) is None  # the oldest generation went
    assert memory.get(keys[2]) == [(0, 4, "ORG")]  # used again: carried into the newest generation
    memory.put(keys[5], [])
    assert memory.get(keys[2]) == [(0, 4, "ORG")] and memory.get(keys[3]) is None
    assert memory.get(keys[4]) == [(0, 4, "ORG")] and memory.get(keys[5]) == []
    assert len(memory._current) + len(memory._previous) <= 4


def test_a_repeated_text_goes_to_ner_once_and_gets_the_same_entities(monkeypatch):
    nlp, lengths = ruler_nlp(monkeypatch)
    memory, clock = RememberedEntities(), StageClock()
    pieces = ["Tova Renk left Marlow.", "Reuter", "Tova Renk left Marlow.", "Marlow slept."]
    first = entity_spans(nlp, pieces, batch_size=2, memory=memory, clock=clock)
    assert lengths == [22, 6, 13]  # the repeat inside the call did not reach NER
    assert first[0] == first[2] == [(0, 9, "PERSON"), (15, 21, "GPE")] and first[1] == []
    again = entity_spans(nlp, ["Marlow slept.", "Reuter", "Renk, of Marlow."], batch_size=2, memory=memory,
                         clock=clock)
    assert lengths == [22, 6, 13, 16]  # only the new text
    assert again[:2] == [first[3], first[1]] and again[2] == [(9, 15, "GPE")]
    assert clock.counts == {"ner_pieces": 7, "ner_pieces_reused": 3}
    assert entity_spans(nlp, pieces, batch_size=2, memory=NO_MEMORY) == first
    assert lengths[4:] == [22, 6, 22, 13]  # without memory every piece goes to NER


@pytest.mark.slow
def test_reused_entities_are_those_ner_finds_in_any_batch(nlp):
    """The same paragraphs among different neighbours: reusing a paragraph's entities gives
    the mentions NER gives when it runs on every paragraph, in any batch."""
    shared = "Mayor Eleanor Whitcombe met officials of the Green Party in Bristol on Tuesday."
    articles = [structure_from_blank_lines(text) for text in (
        INVENTED_ARTICLE,
        f"Port report\n\n{shared}\n\nThe harbour in Avonmouth was closed, Daniel Okafor said.",
        f"{shared}\n\nTerms were not disclosed.\n\nTerms were not disclosed.",
    )]
    every_time = [recognise(nlp, [article], batch_size=1, memory=NO_MEMORY)[0] for article in articles]
    memory = RememberedEntities()
    assert recognise(nlp, articles, batch_size=3, memory=memory) == every_time
    assert recognise(nlp, articles[::-1], batch_size=2, memory=memory) == every_time[::-1]  # all reused
