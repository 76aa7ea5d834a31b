"""parse_article: front matter, paragraph offsets, and the role of each paragraph."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quotewire.read.decode import decode_bytes
from quotewire.read.document import ArticleStructure, DecodedDocument
from quotewire.analyse.structure import is_byline, is_credit, parse_article, split_front_matter

REPO = Path(__file__).resolve().parents[2]
SEED_RAW = REPO / "raw" / "sessions-immigration-judges.txt"
SEED_GOLD = Path(__file__).resolve().parents[1] / "fixtures" / "sessions-immigration-judges.gold.json"


def kinds(article: ArticleStructure) -> list[str]:
    return [paragraph.kind for paragraph in article.paragraphs]


def assert_offsets_consistent(article: ArticleStructure) -> None:
    previous_end = 0
    for position, paragraph in enumerate(article.paragraphs):
        assert paragraph.position == position
        assert article.text[paragraph.start : paragraph.end] == paragraph.text
        assert paragraph.text == paragraph.text.strip() and paragraph.text
        assert previous_end <= paragraph.start < paragraph.end
        previous_end = paragraph.end


# ---------------------------------------------------------------- the seed article


def test_seed_article_parses_as_its_gold_structure():
    gold = json.loads(SEED_GOLD.read_text(encoding="utf-8"))
    document = decode_bytes(SEED_RAW.read_bytes(), SEED_RAW.name)
    assert isinstance(document, DecodedDocument)
    article = parse_article(document.text)

    assert article.text == gold["text"]
    expected = gold["structure"]
    assert article.section == expected["section"]
    assert article.headline == expected["headline"]
    assert article.dek == expected["dek"]
    assert article.credit == expected["credit"]
    assert kinds(article) == ["section", "headline", "dek", "credit"] + ["body"] * expected["body_paragraphs"]
    assert_offsets_consistent(article)


# ---------------------------------------------------------------- invented layouts

PLAIN = """Harbour bridge to close for repairs

The harbour bridge will close for six weeks from March, the city council said on Tuesday.

"We have no choice," said council leader Maria Lopez. "The cables are worn."

Traffic will be diverted through the tunnel.
"""


def test_headline_then_body_gets_no_invented_section_or_dek():
    article = parse_article(PLAIN)
    assert kinds(article) == ["headline", "body", "body", "body"]
    assert article.headline == "Harbour bridge to close for repairs"
    assert article.section is article.dek is article.credit is article.byline is None
    assert_offsets_consistent(article)


def test_short_sentence_case_headline_over_unpunctuated_lede_is_not_a_section():
    text = "Bakers turn to rye\n\nMillers across the region are selling more rye than wheat this year\n\nPrices rose too."
    assert kinds(parse_article(text)) == ["headline", "body", "body"]


@pytest.mark.parametrize(
    "headline",
    [
        "Rail strike ends after talks; \nUnions accepted the offer late on Sunday after a week of stoppages.",
        "Voters Want Change. Not Yet.",
        "Can the club survive?",
    ],
)
def test_other_headline_shapes(headline):
    article = parse_article(headline + "\n\nThe strike, which began last Monday, ended after two days of talks.")
    assert kinds(article) == ["headline", "body"]
    assert article.headline == headline.replace(" \n", " ")


def test_body_only_text_has_no_headline():
    text = (
        "The harbour bridge will close for six weeks from March, the city council said on Tuesday, "
        "after inspectors found that several of the main support cables had worn thin.\n\n"
        "Traffic will be diverted."
    )
    article = parse_article(text)
    assert kinds(article) == ["body", "body"]
    assert article.headline is None


def test_single_paragraph_is_body():
    assert kinds(parse_article("Just one short line")) == ["body"]


def test_section_headline_dek_credit_byline_body():
    text = (
        "City Hall\n\n"
        "Mayor Vows To Rebuild Flooded Market Within A Year\n\n"
        "\"We will not abandon these traders,\" the mayor said.\n\n"
        "Photo: Ana Ruiz/Daily Courier\n\n"
        "By Tom Baker and Lena Cho\n\n"
        "The mayor made the promise at a packed meeting on Thursday.\n\n"
        "Traders said they had heard such promises before."
    )
    article = parse_article(text)
    assert kinds(article) == ["section", "headline", "dek", "credit", "byline", "body", "body"]
    assert article.section == "City Hall"
    assert article.headline == "Mayor Vows To Rebuild Flooded Market Within A Year"
    assert article.dek == "\"We will not abandon these traders,\" the mayor said."
    assert article.credit == "Photo: Ana Ruiz/Daily Courier"
    assert article.byline == "By Tom Baker and Lena Cho"
    assert_offsets_consistent(article)


def test_headline_then_byline():
    text = "Storm Cuts Power To Thousands\n\nBy Jane Q. Doe\n\nThousands of homes lost power overnight."
    article = parse_article(text)
    assert kinds(article) == ["headline", "byline", "body"]
    assert article.byline == "By Jane Q. Doe"


def test_credit_inside_the_body_is_recognised_but_sentences_are_not():
    text = (
        "Storm Cuts Power To Thousands\n\n"
        "Thousands of homes lost power overnight.\n\n"
        "By morning, crews had restored most lines.\n\n"
        "Sam Hill/Getty Images\n\n"
        "Photos show fallen trees on the main road."
    )
    assert kinds(parse_article(text)) == ["headline", "body", "body", "credit", "body"]


@pytest.mark.parametrize(
    "line",
    ["Curtis Lane/TNS/Newscom", "Photo: Jane Doe/Reuters", "AP Photo/Evan Park", "Getty Images", "Photo by Lee Kim"],
)
def test_credit_forms(line):
    assert is_credit(line)


@pytest.mark.parametrize("line", ["He said the photo was fake.", "Photos show the damage.", "Leeds v Hull"])
def test_not_credits(line):
    assert not is_credit(line)


@pytest.mark.parametrize("line", ["By Jane Doe", "By Jane Doe and John Roe", "By JANE DOE, Associated Press"])
def test_byline_forms(line):
    assert is_byline(line)


@pytest.mark.parametrize("line", ["By the end of the day, nobody was left.", "By Monday the river had risen.", "Bypass opens"])
def test_not_bylines(line):
    assert not is_byline(line)


def test_wire_layout_with_date_line_and_indented_paragraphs():
    text = (
        "GRAIN EXPORTS RISE IN MARCH\n"
        "02-APR-1990 10:15:00.00\n"
        "\n"
        "Grain exports rose in March as demand\n"
        "from abroad recovered, the ministry said.\n"
        "    Shipments reached 1.2 mln tonnes against\n"
        "0.9 mln a year earlier.\n"
        "    Officials expect further gains.\n"
    )
    article = parse_article(text)
    assert kinds(article) == ["headline", "body", "body", "body"]
    assert article.headline == "GRAIN EXPORTS RISE IN MARCH"  # the date line stays in the paragraph only
    assert article.paragraphs[0].text.endswith("10:15:00.00")
    assert article.paragraphs[2].text.startswith("Shipments reached")
    assert_offsets_consistent(article)


def test_uniformly_indented_block_is_not_split_per_line():
    text = "Title Here Now\n\n    First sentence here.\n    Second sentence here.\n\nMore body."
    assert kinds(parse_article(text)) == ["headline", "body", "body"]


def test_markdown_heading_is_the_headline_without_its_marks():
    article = parse_article("# River Levels Fall\n\nThe river fell by a metre overnight.")
    assert article.headline == "River Levels Fall"
    assert kinds(article) == ["headline", "body"]


# ---------------------------------------------------------------- front matter

FRONT_MATTER = """---
title: Harbour Bridge To Close
outlet: The Courier
url: https://example.com/bridge
date: 2024-03-05T10:00:00Z
byline: "Maria Lopez"
tags: transport, city
---


Harbour Bridge To Close

The bridge will close for six weeks, the council said.
"""


def test_front_matter_is_removed_and_fills_metadata():
    article = parse_article(FRONT_MATTER)
    assert article.text.startswith("Harbour Bridge To Close\n")
    assert article.headline == "Harbour Bridge To Close"
    assert article.outlet == "The Courier"
    assert article.url == "https://example.com/bridge"
    assert article.published_at == "2024-03-05T10:00:00Z"
    assert article.author == article.byline == "Maria Lopez"
    assert article.front_matter["tags"] == "transport, city"
    assert kinds(article) == ["headline", "body"]
    assert_offsets_consistent(article)


def test_front_matter_headline_overrides_and_body_first_text_keeps_its_body():
    text = "---\nheadline: The Real Title\n---\nA short first paragraph.\n\nAnother paragraph."
    article = parse_article(text)
    assert article.headline == "The Real Title"
    assert kinds(article) == ["body", "body"]


def test_front_matter_headline_still_finds_the_section_above_it():
    text = "---\ntitle: Mayor Vows To Rebuild Market\n---\nCity Hall\n\nMayor Vows To Rebuild Market\n\nBody text here."
    article = parse_article(text)
    assert kinds(article) == ["section", "headline", "body"]
    assert article.section == "City Hall"


@pytest.mark.parametrize(
    "text",
    [
        "---\nnot front matter at all\n---\nBody.",  # a line that is not key: value
        "---\ntitle: never closed\n\nBody.",  # no closing fence
        "Intro\n---\ntitle: x\n---\n",  # does not open the text
    ],
)
def test_things_that_are_not_front_matter_stay_text(text):
    front_matter, rest = split_front_matter(text)
    assert front_matter == {}
    assert rest == text


# ---------------------------------------------------------------- properties

_article_text = st.lists(
    st.one_of(
        st.text(alphabet=st.characters(codec="utf-8"), max_size=80),
        st.sampled_from(["\n", "\n\n", "  \n", "\n    ", "---", "title: T", "By Ann Lee", "Getty Images", "# H", "."]),
    ),
    max_size=20,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(_article_text)
def test_parse_article_never_raises_and_offsets_hold(text):
    article = parse_article(text)
    assert_offsets_consistent(article)
    assert all(p.kind in {"section", "headline", "dek", "credit", "byline", "body"} for p in article.paragraphs)
    assert text.endswith(article.text)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=1500))
def test_decoded_bytes_always_parse(data):
    document = decode_bytes(data, "x.txt")
    if isinstance(document, DecodedDocument):
        article = parse_article(document.text)
        assert_offsets_consistent(article)
        assert article.paragraphs, "a non-empty document has at least one paragraph"
