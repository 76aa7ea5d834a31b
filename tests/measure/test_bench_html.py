"""The html-aeb scorer (article-extraction-benchmark's shingle metric) and the bench runner."""

from __future__ import annotations

import gzip
import json

import pytest

from quotewire.measure.bench_html import (
    format_bench,
    main_bench_html,
    metrics_from_counts,
    shingle_matching,
    shingles,
)


def test_identical_texts_score_one():
    counts = shingle_matching("The pier will reopen in May.", "The pier will reopen in May.")
    assert counts == (1.0, 0.0, 0.0)
    assert metrics_from_counts([counts]) == {"f1": 1.0, "precision": 1.0, "recall": 1.0}


def test_tokens_ignore_punctuation_and_layout():
    assert shingle_matching("The pier, will\nreopen!", "the pier will reopen") != (1.0, 0.0, 0.0)  # case counts
    assert shingle_matching("The pier, will\nreopen!", "The pier will reopen") == (1.0, 0.0, 0.0)


def test_disjoint_texts_score_zero():
    counts = shingle_matching("one two three four five", "six seven eight nine ten")
    assert counts[0] == 0.0
    assert metrics_from_counts([counts]) == {"f1": 0.0, "precision": 0.0, "recall": 0.0}


def test_partial_overlap_by_hand():
    # true shingles: abcd, bcde; predicted: abcd, bcdx -> tp 1, fp 1, fn 1, normalised by 3.
    counts = shingle_matching("a b c d e", "a b c d x")
    assert counts == pytest.approx((1 / 3, 1 / 3, 1 / 3))
    # true: abcd, bcde, cdef; predicted: abcd -> precision 1, recall 1/3.
    short = shingle_matching("a b c d e f", "a b c d")
    assert short == pytest.approx((1 / 3, 0.0, 2 / 3))
    # Averaged over pages: precision (1 + 1) / 2, recall (1 + 1/3) / 2, F1 from the averages.
    metrics = metrics_from_counts([(1.0, 0.0, 0.0), short])
    assert metrics["precision"] == pytest.approx(1.0)
    assert metrics["recall"] == pytest.approx(2 / 3)
    assert metrics["f1"] == pytest.approx(2 * 1.0 * (2 / 3) / (1.0 + 2 / 3))


def test_shingles_are_a_multiset():
    assert shingles("a b c d a b c d")[("a", "b", "c", "d")] == 2
    # Repeated text predicted once recovers one of the five true shingles.
    assert shingle_matching("a b c d a b c d", "a b c d") == pytest.approx((0.2, 0.0, 0.8))


def test_short_texts_are_one_shingle_and_empty_texts_none():
    assert shingles("a b") == {("a", "b"): 1}
    assert shingles("") == {}
    assert shingle_matching("", "") == (0.0, 0.0, 0.0)


def test_empty_prediction_counts_for_recall_only():
    missed = shingle_matching("a b c d", "")
    assert missed == (0.0, 0.0, 1.0)
    metrics = metrics_from_counts([(1.0, 0.0, 0.0), missed])
    assert metrics["precision"] == 1.0  # a page predicting nothing has no precision to average
    assert metrics["recall"] == 0.5


PAGE_TEMPLATE = """<html><head><title>{title}</title></head><body>
<nav><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a></nav>
<article><h1>{title}</h1>{paragraphs}</article>
<footer>Copyright Example Times. All rights reserved.</footer></body></html>"""

BODIES = {
    "page-a": [
        "The river festival returned this weekend after a two-year pause, drawing crowds of "
        "families to the banks for boat races, music and food stalls along the old towpath.",
        "Organisers said more volunteers than ever had signed up, and that the rowing club "
        "would host the final race on Sunday afternoon if the weather held up.",
    ],
    "page-b": [
        "A new bus route linking the hospital to the railway station starts running on Monday, "
        "the transport authority announced, with buses every twelve minutes at peak times.",
        "Patients' groups had campaigned for the link for years, saying the walk up the hill "
        "from the station was too hard for many of the people who needed to make it.",
    ],
}


@pytest.fixture()
def corpus(tmp_path):
    (tmp_path / "html").mkdir()
    truth = {}
    for page_id, paragraphs in BODIES.items():
        html = PAGE_TEMPLATE.format(
            title=f"Story {page_id}", paragraphs="".join(f"<p>{p}</p>" for p in paragraphs)
        )
        (tmp_path / "html" / f"{page_id}.html.gz").write_bytes(gzip.compress(html.encode()))
        truth[page_id] = {"articleBody": "\n".join(paragraphs), "url": f"https://example.org/{page_id}"}
    (tmp_path / "ground-truth.json").write_text(json.dumps(truth))
    return tmp_path


def test_bench_scores_the_pipeline_on_a_small_corpus(corpus):
    result = main_bench_html(corpus, None)
    assert result["pages"] == 2
    assert result["empty_predictions"] == 0
    assert result["precision"] == pytest.approx(1.0)
    assert result["recall"] == pytest.approx(1.0)
    report = format_bench(result)
    assert "2 pages" in report and "F1 1.0000" in report


def test_bench_limit_and_a_custom_predictor(corpus):
    def predict_first_only(html: bytes, page_id: str) -> str:
        return "\n".join(BODIES[page_id]) if page_id == "page-a" else ""

    result = main_bench_html(corpus, None, predict=predict_first_only)
    assert (result["precision"], result["recall"]) == (1.0, 0.5)
    assert result["empty_predictions"] == 1
    assert result["worst"][0]["id"] == "page-b"
    assert main_bench_html(corpus, 1, predict=predict_first_only)["pages"] == 1


def test_fallback_body_drops_front_matter_and_headline_only():
    from quotewire.measure.bench_html import body_without_structure_parser

    assert body_without_structure_parser("---\nheadline: H\nurl: u\n---\n\nH\n\nA.\n\nB.\n") == "A.\nB."
    # No headline in the front matter: the first block is body.
    assert body_without_structure_parser("---\nurl: u\n---\n\nA.\n\nB.\n") == "A.\nB."
    assert body_without_structure_parser("A.\n\nB.\n") == "A.\nB."


def test_the_bench_html_command_prints_the_figure_and_a_json_line(corpus, capsys):
    from quotewire.cli import main

    assert main(["bench-html", str(corpus)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert "F1 1.0000" in lines[1]
    assert json.loads(lines[-1])["pages"] == 2
    assert main(["bench-html", str(corpus / "html")]) == 1  # not a benchmark folder: one-line error
