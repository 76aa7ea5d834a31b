"""HTML pages, JSON Lines dumps and gzip files -> article text in the structure parser's shape."""

from __future__ import annotations

import gzip
import json

import pytest

from quotewire.read.document import Rejection
from quotewire.read.formats import (
    BadGzip,
    GzipTooLarge,
    article_text,
    body_paragraphs,
    gunzip_if_needed,
    html_to_article_text,
    is_furniture_line,
    jsonl_articles,
    split_body,
)

# An invented article page: metadata in <head>, site chrome around the article, an ad slot.
ARTICLE_PARAGRAPHS = [
    "The Harbour Council voted on Tuesday to rebuild the old north pier, ending a dispute "
    "that has divided fishermen and shop owners in the town for more than three years.",
    "\u201cWe finally have a plan everyone can live with,\u201d said Mara Quill, who chairs the "
    "council's works committee and has pushed for the repairs since the winter storms.",
    "The work will begin in the spring and is expected to take eighteen months. The pier "
    "will stay partly open to boats while the crews replace the rotten timber supports.",
    "Local traders, who feared a long closure, welcomed the decision. Several said they "
    "would hold a small celebration on the quay at the end of the month.",
]

ARTICLE_PAGE = f"""<!DOCTYPE html>
<html lang="en"><head>
<meta charset="utf-8">
<title>Council backs pier rebuild | Harbour Gazette</title>
<meta property="og:title" content="Council backs pier rebuild">
<meta property="og:site_name" content="Harbour Gazette">
<meta name="author" content="Jane Doe">
<meta property="article:published_time" content="2024-03-05T09:30:00+00:00">
<link rel="canonical" href="https://gazette.example.org/news/council-backs-pier-rebuild">
</head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li>
<li><a href="/sport">Sport</a></li><li><a href="/about">About us</a></li></ul></nav>
<main><article>
<h1>Council backs pier rebuild</h1>
<p class="byline">By Jane Doe</p>
<p>{ARTICLE_PARAGRAPHS[0]}</p>
<p>{ARTICLE_PARAGRAPHS[1]}</p>
<div class="ad-slot"><p>Advertisement</p></div>
<p>{ARTICLE_PARAGRAPHS[2]}</p>
<p>{ARTICLE_PARAGRAPHS[3]}</p>
</article></main>
<footer><p>&copy; 2024 Harbour Gazette. All rights reserved.</p>
<p><a href="/privacy">Privacy policy</a> | <a href="/contact">Contact</a></p></footer>
</body></html>
"""

NO_ARTICLE_PAGE = """<!DOCTYPE html><html><head><title>Menu</title></head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li></ul></nav>
<footer><a href="/privacy">Privacy</a></footer>
</body></html>"""


def split_front_matter(text: str) -> tuple[dict[str, str], list[str]]:
    """The test's own reader of the output shape: front matter dict and paragraphs."""
    assert text.startswith("---\n")
    head, _, rest = text[4:].partition("\n---\n")
    fields = dict(line.split(": ", 1) for line in head.split("\n"))
    return fields, [block for block in rest.strip().split("\n\n")]


# ---------------------------------------------------------------- HTML


def test_article_page_becomes_front_matter_headline_and_body():
    text = html_to_article_text(ARTICLE_PAGE.encode("utf-8"), "pages/pier.html")
    assert text is not None
    fields, paragraphs = split_front_matter(text)
    assert fields["headline"] == "Council backs pier rebuild"
    assert fields["author"] == "Jane Doe"
    assert fields["published_at"].startswith("2024-03-05")
    assert fields["outlet"] == "Harbour Gazette"
    assert fields["url"] == "https://gazette.example.org/news/council-backs-pier-rebuild"
    # The headline once, as the first paragraph (the page's <h1> is not repeated).
    assert paragraphs[0] == "Council backs pier rebuild"
    assert paragraphs.count("Council backs pier rebuild") == 1
    for expected in ARTICLE_PARAGRAPHS:
        assert expected in paragraphs
    body = "\n".join(paragraphs)
    for boilerplate in ("Advertisement", "Privacy policy", "All rights reserved", "Sport"):
        assert boilerplate not in body


def test_article_text_is_read_back_by_the_structure_parser():
    structure = pytest.importorskip("quotewire.analyse.structure")
    text = html_to_article_text(ARTICLE_PAGE, "pages/pier.html")
    article = structure.parse_article(text)
    assert article.headline == "Council backs pier rebuild"
    assert article.outlet == "Harbour Gazette"
    assert [p.text for p in article.paragraphs if p.kind == "body"][-1] == ARTICLE_PARAGRAPHS[-1]


def test_page_without_an_article_gives_none():
    assert html_to_article_text(NO_ARTICLE_PAGE.encode(), "pages/menu.html") is None
    assert html_to_article_text(b"", "pages/empty.html") is None
    assert html_to_article_text(b"   \n", "pages/blank.html") is None


@pytest.mark.parametrize("body", ["<p>Home</p>", "<p>Menu Search</p>", "<h1>Harbour Gazette</h1><p>Menu</p><p>Search</p>"])
def test_a_page_whose_body_is_a_word_or_two_has_no_article(body):
    page = f"<html><head><title>Harbour Gazette</title></head><body><main><article>{body}</article></main></body></html>"
    assert html_to_article_text(page, "pages/index.html") is None


def test_a_one_sentence_brief_page_is_an_article():
    page = ("<html><head><title>Road closed</title></head><body><article><h1>Road closed</h1>"
            "<p>Police closed the harbour road.</p></article></body></html>")
    text = html_to_article_text(page, "pages/brief.html")
    assert text is not None and text.endswith("Police closed the harbour road.\n")


@pytest.mark.parametrize(
    "line",
    [
        "Advertisement",
        "ADVERTISEMENT",
        "Related: Ten more things about piers",
        "[Related: Ten more things about piers]",
        "READ MORE: Council votes on budget",
        "You may also like...",
        "Follow Jane Doe on Twitter and Instagram.",
        "Questions? Email the desk or follow us @gazette on Twitter.",
        "Subscribe to the Morning Brief newsletter",
        "Get the day's headlines delivered to your inbox every morning.",
        "(Reporting by Jane Doe; Editing by John Roe)",
        "John Roe contributed to this report.",
        "Filed under: Harbour |",
        "Comments",
    ],
)
def test_furniture_lines_are_recognised(line):
    assert is_furniture_line(line)


@pytest.mark.parametrize(
    "line",
    [
        "More than 100 people attended the meeting.",
        "Also, the council approved a new budget.",
        "The advertisement ran in three newspapers last week.",
        "Police asked residents not to follow them into the building.",
        "She said 5,000 readers subscribe to the town's printed newsletter each year, more than ever.",
        "Click here to download the council's report.",
        "http://example.org/report.pdf",
    ],
)
def test_body_sentences_are_not_furniture(line):
    assert not is_furniture_line(line)


def test_body_paragraphs_drop_furniture_and_the_links_under_a_related_heading():
    extracted = "\n".join(
        [
            "First paragraph of the story.",
            "Related: Other stories",
            "- Story one",
            "- Story two",
            "Second paragraph.",
            "- A list item in the body stays",
            "Great advice for everyone.Click To Tweet",
        ]
    )
    assert body_paragraphs(extracted) == [
        "First paragraph of the story.",
        "Second paragraph.",
        "- A list item in the body stays",
        "Great advice for everyone.",
    ]


def test_front_matter_values_are_single_line_and_survive_unquoting():
    text = article_text(
        {"headline": "Line one\nline two", "author": '"Yes" she said, "no"'}, ["Body."]
    )
    fields, paragraphs = split_front_matter(text)
    assert fields["headline"] == "Line one line two"
    # structure.py strips one pair of outer quotes: the value is wrapped so the original survives.
    assert fields["author"] == '""Yes" she said, "no""'
    assert paragraphs == ["Line one line two", "Body."]


def test_article_text_without_metadata_has_no_front_matter():
    assert article_text({}, ["One.", "Two."]) == "One.\n\nTwo.\n"


# ---------------------------------------------------------------- gzip


def test_gzip_round_trip_drops_the_suffix():
    data = "Harbour news\n\nA paragraph.".encode()
    for name in ("a/story.txt.gz", "a/page.html.gz", "a/dump.jsonl.gz", "a/STORY.TXT.GZ"):
        assert gunzip_if_needed(gzip.compress(data), name) == (data, name[:-3])


def test_non_gzip_names_pass_through_untouched():
    assert gunzip_if_needed(b"plain", "story.txt") == (b"plain", "story.txt")


def test_concatenated_gzip_members_are_all_read():
    data = gzip.compress(b"first ") + gzip.compress(b"second")
    assert gunzip_if_needed(data, "x.txt.gz")[0] == b"first second"


def test_gzip_bomb_is_stopped_at_the_cap():
    bomb = gzip.compress(b"\0" * (8 * 1024 * 1024))  # ~8 KB that inflates to 8 MB
    with pytest.raises(GzipTooLarge) as caught:
        gunzip_if_needed(bomb, "bomb.txt.gz", max_bytes=1024 * 1024)
    assert caught.value.reason == "too_large"
    # Under a larger cap the same file is fine.
    assert len(gunzip_if_needed(bomb, "bomb.txt.gz", max_bytes=16 * 1024 * 1024)[0]) == 8 * 1024 * 1024


@pytest.mark.parametrize(
    "data",
    [b"this is not gzip at all", gzip.compress(b"some article text " * 50)[:-30], b""],
    ids=["not-gzip", "truncated", "empty"],
)
def test_bad_gzip_is_reported(data):
    with pytest.raises(BadGzip) as caught:
        gunzip_if_needed(data, "x.html.gz")
    assert caught.value.reason == "bad_gzip"


# ---------------------------------------------------------------- JSON Lines


def test_jsonl_lines_become_articles_or_rejections_with_line_ids():
    lines = [
        json.dumps(
            {
                "title": "Pier vote",
                "text": "First paragraph.\n\nSecond paragraph.",
                "url": "https://example.org/pier",
                "published": "2024-03-05",
                "source": "Harbour Gazette",
                "author": ["Jane Doe", "John Roe"],
            }
        ),
        "{not json",
        "",
        json.dumps({"title": "No body here", "url": "https://example.org/x"}),
        "   ",
        json.dumps({"headline": "Empty", "body": "   "}),
        json.dumps(["a", "list"]),
        json.dumps({"articleBody": "Only a body."}),
    ]
    results = list(jsonl_articles("\n".join(lines).encode(), "dumps/day.jsonl"))
    assert [line_id for line_id, _ in results] == [
        "dumps/day.jsonl#L1",
        "dumps/day.jsonl#L2",
        "dumps/day.jsonl#L4",
        "dumps/day.jsonl#L6",
        "dumps/day.jsonl#L7",
        "dumps/day.jsonl#L8",
    ]
    outcomes = dict(results)
    fields, paragraphs = split_front_matter(outcomes["dumps/day.jsonl#L1"])
    assert fields == {
        "headline": "Pier vote",
        "author": "Jane Doe, John Roe",
        "published_at": "2024-03-05",
        "outlet": "Harbour Gazette",
        "url": "https://example.org/pier",
    }
    assert paragraphs == ["Pier vote", "First paragraph.", "Second paragraph."]
    reasons = {
        line_id: (outcome.reason, outcome.source_path)
        for line_id, outcome in results
        if isinstance(outcome, Rejection)
    }
    assert reasons == {
        "dumps/day.jsonl#L2": ("bad_json", "dumps/day.jsonl#L2"),
        "dumps/day.jsonl#L4": ("no_text", "dumps/day.jsonl#L4"),
        "dumps/day.jsonl#L6": ("no_text", "dumps/day.jsonl#L6"),
        "dumps/day.jsonl#L7": ("bad_json", "dumps/day.jsonl#L7"),
    }
    assert outcomes["dumps/day.jsonl#L8"] == "Only a body.\n"


def test_jsonl_crlf_bom_and_publisher_object():
    record = {"headline": "H", "content": "Para.", "publisher": {"name": "Valley Courier"}, "byline": "By Ann Lee"}
    data = b"\xef\xbb\xbf" + json.dumps(record).encode() + b"\r\n\r\n"
    [(line_id, text)] = list(jsonl_articles(data, "d.jsonl"))
    assert line_id == "d.jsonl#L1"
    fields, paragraphs = split_front_matter(text)
    assert fields["outlet"] == "Valley Courier"
    assert fields["author"] == "By Ann Lee"
    assert paragraphs == ["H", "Para."]


def test_invalid_utf8_line_is_bad_json():
    [(_, outcome)] = list(jsonl_articles(b'{"text": "caf\xe9"}', "d.jsonl"))
    assert isinstance(outcome, Rejection) and outcome.reason == "bad_json"


def test_body_with_single_newlines_has_a_paragraph_per_line():
    assert split_body("One.\nTwo.\r\nThree.") == ["One.", "Two.", "Three."]
    # With blank lines, they alone separate paragraphs; hard-wrapped lines stay together.
    assert split_body("One line\nwrapped.\n\nTwo.") == ["One line\nwrapped.", "Two."]


def test_precision_mode_is_replaced_when_it_lost_the_article(monkeypatch):
    from types import SimpleNamespace

    from quotewire.read import formats

    article = " ".join(["word"] * 200)
    outputs = {True: "This copy is for your personal use only.", False: article}
    monkeypatch.setattr(
        formats, "extract_html", lambda html, favor_precision=True: SimpleNamespace(text=outputs[favor_precision])
    )
    assert formats.extract_article("<html></html>").text == article
    # When precision mode keeps most of the text, its (cleaner) output is the one used.
    outputs[True] = " ".join(["word"] * 150)
    assert formats.extract_article("<html></html>").text == outputs[True]
    # Precision mode finding nothing means no article, whatever the default mode scrapes.
    outputs[True] = ""
    assert formats.extract_article("<html></html>") is None
