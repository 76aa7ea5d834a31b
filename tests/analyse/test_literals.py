"""find_literals, word_offsets and is_word_boundary must find exactly what the regexes they
replace found (an alternation of the forms, longest first, between the same look-arounds; \\b)."""

from __future__ import annotations

import re

from hypothesis import given, settings, strategies as st

from quotewire.analyse.literals import find_literals, is_word_boundary, word_offsets

BEFORE = re.compile(r"(?<![\w'’.-])")
AFTER = re.compile(r"(?![\w-]|['’][a-rt-z])")
ALPHABET = "RoeRobMcN .-'’sxé\n"


def by_regex(text: str, forms: list[str]) -> list[tuple[int, int, str]]:
    pattern = re.compile(r"(?<![\w'’.-])(" + "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
                         + r")(?![\w-]|['’][a-rt-z])")
    return [(m.start(), m.end(), m.group(1)) for m in pattern.finditer(text)]


def test_longest_form_wins_and_bounds_hold():
    text = "Roe said. Ted Roe's aide, O'Roe and Roe-Smith disagreed; Ted Roe Foundation. Roe’d"
    found = list(find_literals(text, ["Roe", "Ted Roe", "Ted Roe Foundation"], BEFORE, AFTER))
    assert found == [(0, 3, "Roe"), (10, 17, "Ted Roe"), (57, 75, "Ted Roe Foundation")]


def test_look_behind_sees_text_before_the_occurrence():
    assert list(find_literals("x.Roe Roe", ["Roe"], BEFORE, AFTER)) == [(6, 9, "Roe")]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=60),
       st.lists(st.text(alphabet=ALPHABET, min_size=1, max_size=6), min_size=1, max_size=5))
def test_same_occurrences_as_the_alternation_regex(text, forms):
    assert list(find_literals(text, forms, BEFORE, AFTER)) == by_regex(text, forms)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab _-é1\n", max_size=60), st.text(alphabet="abé1_", min_size=1, max_size=3))
def test_word_offsets_are_the_whole_word_matches(text, word):
    expected = [m.start() for m in re.finditer(r"\b\w+", text) if m.group() == word]
    assert word_offsets(text, word) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab _-'é1\n\u00a0", max_size=20), st.integers(min_value=0, max_value=20))
def test_word_boundary_is_where_backslash_b_matches(text, at):
    at = min(at, len(text))
    assert is_word_boundary(text, at) == (re.compile(r"\b").match(text, at) is not None)
