"""The scorer: pairing, scopes, speaker matching, mention types, gold loading, reports.

Every article here is invented for the test; offsets are found with str.index so the
fixtures stay readable and cannot drift from their texts.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from quotewire.read.document import Quote
from quotewire.measure.evaluate import (
    GoldArticle,
    GoldFormatError,
    GoldQuote,
    error_records,
    evaluate,
    format_report,
    load_gold,
    mention_type,
    pair_quotes,
    quote_chars,
    score,
    speaker_matches,
)

TEXT = (
    'The mayor opened the bridge on Monday. "We built this for everyone," said Maria Delgado.\n\n'
    'Critics called the project a "vanity bridge" and doubted the budget. '
    '"It cost twice what they promised," he said, naming Tomas Ferreira as the source.\n\n'
    'The river, known locally as "the Old Grey", rose again in spring.'
)


def span(text: str, words: str) -> tuple[int, int]:
    start = text.index(words)
    return start, start + len(words)


def gold_quote(words: str, kind: str, speaker: str | None, mention: str | None = None,
               text: str = TEXT) -> GoldQuote:
    start, end = span(text, words)
    return GoldQuote(start=start, end=end, text=words, speaker=speaker, kind=kind, speaker_mention=mention)


def predicted(words: str, kind: str = "direct", speaker: str | None = None, text: str = TEXT) -> Quote:
    start, end = span(text, words)
    return Quote(start=start, end=end, text=words, kind=kind, paragraph_position=0, speaker=speaker)


def article(*quotes: GoldQuote, text: str = TEXT, article_id: str = "bridge") -> GoldArticle:
    return GoldArticle(id=article_id, text=text, quotes=tuple(quotes), raw={})


WE_BUILT = "We built this for everyone,"
IT_COST = "It cost twice what they promised,"
VANITY = "vanity bridge"
OLD_GREY = "the Old Grey"

GOLD = article(
    gold_quote(WE_BUILT, "direct", "Maria Delgado", "Maria Delgado"),
    gold_quote(VANITY, "partial", None),
    gold_quote(IT_COST, "direct", "Tomas Ferreira", "he"),
    gold_quote(OLD_GREY, "other", None),
)


def gold_as_predictions(gold: GoldArticle) -> list[Quote]:
    return [
        Quote(start=q.start, end=q.end, text=q.text, kind=q.kind, paragraph_position=0, speaker=q.speaker)
        for q in gold.quotes if q.kind != "other"
    ]


# --- perfect, missing, extra ---------------------------------------------------------

def test_gold_scored_against_itself_is_perfect_in_both_scopes():
    report = score([GOLD], {GOLD.id: gold_as_predictions(GOLD)})
    for scope in report.scopes.values():
        assert (scope.precision, scope.recall, scope.f1) == (1.0, 1.0, 1.0)
        assert scope.speaker.share == 1.0
    assert report.scopes["direct"].n_gold == 2
    assert report.scopes["direct+partial"].n_gold == 3


def test_a_missing_quote_lowers_recall_only():
    report = score([GOLD], {GOLD.id: [predicted(WE_BUILT, speaker="Maria Delgado")]})
    direct = report.scopes["direct"]
    assert (direct.tp_gold, direct.n_gold) == (1, 2)
    assert direct.recall == 0.5
    assert direct.precision == 1.0
    assert direct.f1 == pytest.approx(2 / 3)


def test_an_extra_quote_lowers_precision_only():
    extra = predicted("doubted the budget")
    report = score([GOLD], {GOLD.id: [*gold_as_predictions(GOLD), extra]})
    scope = report.scopes["direct+partial"]
    assert scope.recall == 1.0
    assert (scope.tp_pred, scope.n_pred) == (3, 4)
    assert scope.precision == 0.75


def test_a_prediction_paired_with_an_other_quote_is_neutral():
    report = score([GOLD], {GOLD.id: [*gold_as_predictions(GOLD), predicted(OLD_GREY)]})
    for scope in report.scopes.values():
        assert scope.precision == 1.0
        assert scope.neutral_pred == 1
    assert report.scopes["direct+partial"].n_pred == 3


def test_other_gold_quotes_are_not_in_recall():
    report = score([GOLD], {GOLD.id: []})
    assert report.scopes["direct+partial"].n_gold == 3  # two direct, one partial, no other


def test_a_prediction_labelled_partial_does_not_take_part_in_the_direct_scope():
    predictions = [predicted(WE_BUILT, kind="partial", speaker="Maria Delgado")]
    report = score([GOLD], {GOLD.id: predictions})
    direct, both = report.scopes["direct"], report.scopes["direct+partial"]
    assert (direct.tp_gold, direct.n_pred) == (0, 0)
    assert (both.tp_gold, both.tp_pred, both.n_pred) == (1, 1, 1)


def test_direct_prediction_on_partial_gold_is_right_for_precision_but_not_recall():
    report = score([GOLD], {GOLD.id: [predicted(VANITY, kind="direct")]})
    direct = report.scopes["direct"]
    assert (direct.tp_pred, direct.n_pred) == (1, 1)
    assert direct.tp_gold == 0


def test_an_article_without_predictions_counts_as_nothing_found():
    report = score([GOLD], {})
    assert report.scopes["direct"].recall == 0.0
    assert report.missing_articles == [GOLD.id]


# --- characters and pairing ----------------------------------------------------------

def test_quote_chars_ignore_white_space_and_quotation_marks():
    text = '“Yes — it’s ‘ours’ » now"'
    chars = quote_chars(text, 0, len(text))
    assert "".join(text[i] for i in sorted(chars)) == "Yes—itsoursnow"


def test_including_the_marks_and_a_trailing_space_still_pairs_exactly():
    start, end = span(TEXT, WE_BUILT)
    with_marks = Quote(start=start - 1, end=end + 2, text=TEXT[start - 1:end + 2], kind="direct",
                       paragraph_position=0)
    [(gi, pi, dice)] = pair_quotes([GOLD.quotes[0]], [with_marks], TEXT)
    assert (gi, pi, dice) == (0, 0, 1.0)


def test_dice_below_one_half_does_not_pair():
    text = "Alpha said: " + '"one two three four five six seven eight"'
    gold = [gold_quote("one two three four five six seven eight", "direct", "Alpha", text=text)]
    short = predicted("one two", text=text)  # 6 of 32 characters: Dice 12/38
    long_enough = predicted("one two three four five", text=text)  # Dice 38/51
    assert pair_quotes(gold, [short], text) == []
    assert [(gi, pi) for gi, pi, _ in pair_quotes(gold, [long_enough], text)] == [(0, 0)]


def test_pairing_is_greedy_and_one_to_one():
    text = 'She said "aaaa bbbb cccc dddd" and "eeee".'
    gold = [gold_quote("aaaa bbbb cccc dddd", "direct", "X", text=text)]
    whole = predicted("aaaa bbbb cccc dddd", text=text)
    most = predicted("aaaa bbbb cccc", text=text)
    pairs = pair_quotes(gold, [most, whole], text)
    # Both reach Dice >= 0.5, but the gold quote goes to the better one, and only once.
    assert pairs == [(0, 1, 1.0)]


def test_greedy_pairing_takes_the_best_pair_first_not_the_first_prediction():
    text = 'He said "aaaa bbbb cccc dddd eeee" twice.'
    gold = [gold_quote("aaaa bbbb cccc dddd", "direct", "X", text=text)]
    early_short = predicted("aaaa bbbb", text=text)  # Dice 16/24: would pair if taken in order
    later_closer = predicted("aaaa bbbb cccc dddd eeee", text=text)  # Dice 32/36
    assert pair_quotes(gold, [early_short, later_closer], text) == [(0, 1, pytest.approx(32 / 36))]


def test_two_golds_two_predictions_pair_by_best_dice():
    text = 'She said "aaaa bbbb" and "cccc dddd eeee".'
    gold = [gold_quote("aaaa bbbb", "direct", "X", text=text),
            gold_quote("cccc dddd eeee", "direct", "X", text=text)]
    predictions = [predicted("cccc dddd", text=text), predicted("aaaa bbbb", text=text)]
    pairs = sorted((gi, pi) for gi, pi, _ in pair_quotes(gold, predictions, text))
    assert pairs == [(0, 1), (1, 0)]


def test_ties_are_broken_by_index_deterministically():
    text = '"abcd" and "abcd"'
    first = GoldQuote(1, 5, "abcd", None, "direct")
    prediction = Quote(1, 5, "abcd", "direct", 0)
    duplicate = Quote(1, 5, "abcd", "direct", 0)
    assert pair_quotes([first], [prediction, duplicate], text) == [(0, 0, 1.0)]
    assert pair_quotes([first], [duplicate, prediction], text) == [(0, 0, 1.0)]


# --- speakers ------------------------------------------------------------------------

@pytest.mark.parametrize(("predicted_name", "gold_name"), [
    ("Maria Delgado", "Maria Delgado"),
    ("maria delgado", "Maria Delgado"),
    ("Hillary Rodham Clinton", "Hillary Clinton"),
    ("Sen. Maria Delgado", "Maria Delgado"),
    ("Attorney General Maria Delgado", "Maria Delgado"),
    ("Maria Delgado's", "Maria Delgado"),
    ("Maria Delgado’s", "Maria Delgado"),
    ("Dr. Tomas J. Ferreira", "Tomas Ferreira"),
    ("Harbor Times", "Harbor Times"),
])
def test_speakers_that_match(predicted_name: str, gold_name: str):
    assert speaker_matches(predicted_name, gold_name)


@pytest.mark.parametrize(("predicted_name", "gold_name"), [
    ("Delgado", "Maria Delgado"),  # a bare surname never stands for a full name
    ("Mr. Delgado", "Maria Delgado"),
    ("Maria Ortega", "Maria Delgado"),
    ("Tomas Delgado", "Maria Delgado"),
    (None, "Maria Delgado"),
])
def test_speakers_that_do_not_match(predicted_name: str | None, gold_name: str):
    assert not speaker_matches(predicted_name, gold_name)


def test_speaker_accuracy_counts_only_paired_in_scope_quotes_with_a_named_speaker():
    predictions = [
        predicted(WE_BUILT, speaker="Delgado"),  # paired, wrong: a bare surname
        predicted(IT_COST, speaker="Tomas Ferreira"),  # paired, right
        predicted(VANITY, kind="partial", speaker="Anyone"),  # gold speaker null: not counted
    ]
    report = score([GOLD], {GOLD.id: predictions})
    tally = report.scopes["direct+partial"].speaker
    assert (tally.correct, tally.total) == (1, 2)


def test_speaker_accuracy_is_split_by_gold_mention_type():
    predictions = [predicted(WE_BUILT, speaker="Delgado"), predicted(IT_COST, speaker="Tomas Ferreira")]
    by_mention = score([GOLD], {GOLD.id: predictions}).scopes["direct"].speaker_by_mention
    assert (by_mention["name"].correct, by_mention["name"].total) == (0, 1)
    assert (by_mention["pronoun"].correct, by_mention["pronoun"].total) == (1, 1)
    assert by_mention["description"].total == 0


# --- mention types -------------------------------------------------------------------

@pytest.mark.parametrize(("mention", "expected"), [
    ("he", "pronoun"),
    ("She", "pronoun"),
    ("they", "pronoun"),
    ("Delgado", "name"),
    ("Maria Delgado", "name"),
    ("Sen. Maria Delgado (D-Ore.)", "name"),
    ("Ms. Delgado's", "name"),
    ("Maria Delgado, a spokeswoman for the council,", "name"),
    ("One critic, Tomas Ferreira,", "name"),
    ("harbor authority spokesman Tomas Ferreira", "name"),
    ("Mr. Ferreira of the Harbor Trust", "name"),
    ("The Harbor Times", "name"),
    ("the attorney general", "description"),
    ("a spokeswoman", "description"),
    ("the Oregon senator", "description"),
    ("The President", "description"),
    ("Officials at the Harbor Trust", "description"),
    ("Ferreira's lawyer", "description"),
    (None, None),
])
def test_mention_type(mention: str | None, expected: str | None):
    assert mention_type(mention) == expected


# --- error records and report --------------------------------------------------------

def test_error_records_name_each_mistake_with_context():
    predictions = [
        predicted(WE_BUILT, speaker="Delgado"),
        predicted("doubted the budget"),
    ]
    records = error_records([GOLD], {GOLD.id: predictions})
    by_type = {}
    for record in records:
        by_type.setdefault(record["error"], []).append(record)
    assert [r["gold_text"] for r in by_type["missed"]] == [VANITY, IT_COST]
    assert [r["pred_text"] for r in by_type["false_positive"]] == ["doubted the budget"]
    [wrong] = by_type["wrong_speaker"]
    assert (wrong["gold_speaker"], wrong["pred_speaker"], wrong["speaker_mention"]) == (
        "Maria Delgado", "Delgado", "Maria Delgado")
    assert WE_BUILT in wrong["context"] and "opened the bridge" in wrong["context"]
    assert all(r["article_id"] == GOLD.id for r in records)


def test_report_renders_both_scopes_and_serialises_to_json():
    report = score([GOLD], {GOLD.id: gold_as_predictions(GOLD)[:1]})
    text = format_report(report)
    assert "direct+partial" in text and "1/2" in text
    decoded = json.loads(json.dumps(report.to_dict()))
    assert decoded["scopes"]["direct"]["recall"] == 0.5
    assert decoded["scopes"]["direct"]["speaker_by_mention"]["name"]["total"] == 1


def test_the_reliability_table_bins_speaker_accuracy_by_the_predicted_confidence():
    sure = replace(predicted(WE_BUILT, speaker="Maria Delgado"), speaker_confidence=0.95)
    wrong_but_sure = replace(predicted(IT_COST, speaker="Maria Delgado"), speaker_confidence=0.92)
    report = score([GOLD], {GOLD.id: [sure, wrong_but_sure]})
    direct = report.scopes["direct"]
    assert (direct.reliability["0.9-1.0"].correct, direct.reliability["0.9-1.0"].total) == (1, 2)
    assert all(tally.total == 0 for label, tally in direct.reliability.items() if label != "0.9-1.0")
    text = format_report(report)
    assert "reliability" in text and "0.500 (1/2)" in text and "NOT met" in text
    unsure = replace(wrong_but_sure, speaker_confidence=0.6)
    report = score([GOLD], {GOLD.id: [sure, unsure]})
    assert report.scopes["direct"].reliability["0.5-0.7"].total == 1
    assert "1.000 (1/1) right (target >= 0.95: met)" in format_report(report)
    assert json.loads(json.dumps(report.to_dict()))["scopes"]["direct"]["high_confidence"]["total"] == 1


def test_offsets_into_another_text_are_reported():
    shifted = Quote(start=0, end=10, text="not there!", kind="direct", paragraph_position=0)
    report = score([GOLD], {GOLD.id: [shifted]})
    assert report.offset_mismatches == 1
    assert "WARNING" in format_report(report)


# --- gold files ----------------------------------------------------------------------

def gold_record(article_id: str = "bridge") -> dict:
    start, end = span(TEXT, WE_BUILT)
    return {"id": article_id, "text": TEXT, "extra": "ignored",
            "quotes": [{"start": start, "end": end, "text": WE_BUILT, "speaker": "Maria Delgado",
                        "kind": "direct", "speaker_mention": "Maria Delgado"}]}


def test_load_gold_reads_jsonl_and_json(tmp_path: Path):
    lines = tmp_path / "two.gold.jsonl"
    lines.write_text("\n".join(json.dumps(gold_record(i)) for i in ("a", "b")) + "\n", encoding="utf-8")
    single = tmp_path / "one.gold.json"
    single.write_text(json.dumps(gold_record("c"), indent=1), encoding="utf-8")
    articles = load_gold([lines, single])
    assert [a.id for a in articles] == ["a", "b", "c"]
    assert articles[2].quotes[0] == GoldQuote(*span(TEXT, WE_BUILT), WE_BUILT, "Maria Delgado", "direct",
                                              "Maria Delgado")
    assert articles[0].raw["extra"] == "ignored"
    # A directory stands for its gold files, in path order.
    assert [a.id for a in load_gold([tmp_path])] == ["c", "a", "b"]


def test_malformed_jsonl_line_is_named(tmp_path: Path):
    path = tmp_path / "bad.gold.jsonl"
    path.write_text(json.dumps(gold_record("a")) + "\n{not json\n", encoding="utf-8")
    with pytest.raises(GoldFormatError, match=r"bad\.gold\.jsonl:2"):
        load_gold([path])


def test_quote_text_must_match_its_offsets(tmp_path: Path):
    record = gold_record()
    record["quotes"][0]["end"] += 3
    path = tmp_path / "shifted.gold.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    with pytest.raises(GoldFormatError, match=r"shifted\.gold\.json.*quote 0"):
        load_gold([path])


def test_duplicate_article_ids_are_refused(tmp_path: Path):
    path = tmp_path / "dup.gold.jsonl"
    path.write_text(json.dumps(gold_record()) + "\n" + json.dumps(gold_record()) + "\n", encoding="utf-8")
    with pytest.raises(GoldFormatError, match="already given"):
        load_gold([path])


def test_evaluate_runs_the_analysis_on_each_text_and_writes_errors(tmp_path: Path):
    path = tmp_path / "one.gold.json"
    path.write_text(json.dumps(gold_record()), encoding="utf-8")
    seen: list[str] = []

    def analyse(text: str) -> list[Quote]:
        seen.append(text)
        return [predicted(WE_BUILT, speaker="Delgado", text=text)]

    errors = tmp_path / "out" / "errors.jsonl"
    report = evaluate([path], analyse, errors_path=errors)
    assert seen == [TEXT]
    assert report.scopes["direct"].f1 == 1.0
    assert report.scopes["direct"].speaker.share == 0.0
    [record] = [json.loads(line) for line in errors.read_text(encoding="utf-8").splitlines()]
    assert record["error"] == "wrong_speaker"
