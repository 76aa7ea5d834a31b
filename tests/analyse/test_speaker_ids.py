"""Warehouse-wide speaker ids: one per person or organisation, whatever form of the name a quote carries."""

from __future__ import annotations

from collections import Counter

from quotewire.analyse.entities import speaker_id, speaker_key

PERSON = Counter({"PERSON": 1})


def test_a_middle_initial_and_a_title_do_not_make_another_speaker():
    ids = {speaker_id(name, PERSON) for name in ("Donald Trump", "Donald J. Trump", "President Donald Trump")}
    assert len(ids) == 1 and None not in ids


def test_a_bare_surname_becomes_the_full_name_its_article_gives():
    assert speaker_id("Howard", PERSON, ["Michael Howard", "Ann Lee"]) == speaker_id("Michael Howard", PERSON)
    assert speaker_id("President Trump", PERSON, ["Donald Trump"]) == speaker_id("Donald Trump", PERSON)


def test_a_bare_surname_two_people_share_goes_to_the_one_the_article_names_more_often():
    assert speaker_key("Cruz", ["Ted Cruz", "Heidi Cruz", "Ted Cruz"]) == ("ted", "cruz")
    assert speaker_key("Cruz", ["Ted Cruz", "Heidi Cruz"]) == ("cruz",)  # a tie resolves to neither


def test_people_sharing_a_surname_or_a_father_s_name_stay_apart():
    assert speaker_id("Ted Cruz", PERSON) != speaker_id("Heidi Cruz", PERSON)
    assert speaker_id("Donald Trump", PERSON) != speaker_id("Donald Trump Jr.", PERSON)


def test_an_organisation_keeps_words_that_would_be_a_person_s_title():
    assert speaker_key("General Motors", person=False) == ("general", "motors")
    assert speaker_id("General Motors", Counter({"ORG": 2})) != speaker_id("Motors", Counter({"ORG": 1}))


def test_what_is_not_a_person_or_organisation_name_is_never_a_speaker():
    assert speaker_id("Thursday", Counter({"DATE": 1})) is None
    assert speaker_id("Nowhere Americans", Counter({"NORP": 1})) is None
    for unnamed in ("They", "I've", "Skills", "Auditor John", "Republicans Are Following Trump", None):
        assert speaker_id(unnamed, None) is None


def test_a_name_the_entity_recogniser_missed_still_speaks_when_shaped_like_a_name():
    assert speaker_id("Cora Whitfield", None) == speaker_id("Cora Whitfield", PERSON)


def test_a_speaker_id_is_the_entity_id_of_the_plain_name():
    from quotewire.analyse.entities import entity_id

    assert speaker_id("Sen. Ann Lee", PERSON) == entity_id("Ann Lee")
