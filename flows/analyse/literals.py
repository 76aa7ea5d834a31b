"""Finding an article's own names in its text without compiling a regex per article.

Attribution and alias matching look for a handful of literal forms (the names an article
uses) bounded by context rules. An alternation regex built per article did that, but
compiling it cost more than the search (about 0.5 ms an article, 3 % of a worker's time):
Python's regex cache cannot help, since no two articles share a name list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

WORD_CHAR = re.compile(r"\w")


def find_literals(text: str, forms: Iterable[str], before: re.Pattern, after: re.Pattern
                  ) -> Iterator[tuple[int, int, str]]:
    """(start, end, form) of each occurrence of one of ``forms``, exactly as
    ``re.finditer(before + "(" + "|".join(escaped forms, longest first) + ")" + after)``
    would give them: leftmost first, the longest form at a position, no overlaps.
    ``before`` and ``after`` are zero-width patterns (look-behind / look-ahead) that must
    match at the start and at the end of an occurrence."""
    found = []
    for form in set(forms):
        if not form:
            continue
        at = text.find(form)
        while at != -1:
            if before.match(text, at) and after.match(text, at + len(form)):
                found.append((at, -len(form), form))
            at = text.find(form, at + 1)
    found.sort()
    last_end = 0
    for start, negative_length, form in found:
        if start >= last_end:
            last_end = start - negative_length
            yield start, last_end, form


def word_offsets(text: str, word: str) -> list[int]:
    """Offsets where ``word`` stands as a whole word (as ``\\b\\w+`` would find it)."""
    offsets, at = [], text.find(word)
    while at != -1:
        end = at + len(word)
        if (at == 0 or not WORD_CHAR.match(text, at - 1)) and not WORD_CHAR.match(text, end):
            offsets.append(at)
        at = text.find(word, at + 1)
    return offsets


def is_word_boundary(text: str, at: int) -> bool:
    """Whether ``\\b`` matches at ``at`` (a word character on exactly one side of it)."""
    before = at > 0 and WORD_CHAR.match(text, at - 1) is not None
    return before != (WORD_CHAR.match(text, at) is not None)
