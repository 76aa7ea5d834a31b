"""Speech verbs and their subjects from a dependency parse of the sentences around quotes.

Only sentences holding a quote that reads as an utterance are parsed, and each such quote's
content is replaced by a short clause (``This is it``) first: the parse then sees the frame
(``"This is it," implored Trade Secretary Ann Rowe.``), costs a fraction of the full text and
cannot take a word inside the quote for its attribution. The quote's clause hangs from the
verb that reports it (ccomp / parataxis ...), whatever that verb is, and that verb's nominal
subject is the speaker mention; the attribution rules resolve it to a name.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # spaCy is imported only where a model is loaded
    from spacy.language import Language

PLACEHOLDER = "This is it"
SUBJECT_DEPS = ("nsubj",)
# Dependents of the quote's clause that are themselves a reporting clause ("…," he said).
REPORTING_CHILD_DEPS = ("parataxis", "ccomp", "advcl", "conj")
# Left dependents of a subject that belong to its words ("the senator's son", "Trade Secretary Ann Rowe").
SUBJECT_LEFT_DEPS = {"compound", "flat", "det", "amod", "poss", "case", "nmod", "nummod", "cc", "conj", "punct", "quantmod"}
RELATIVE_TAGS = ("WP", "WDT")  # who, which, that as a relative clause's subject
MAX_FRAME_CHARS = 1200  # longer sentences are left to the rules
LONG_QUOTE_CHARS = 150  # a quote this long is replaced even when it starts in lower case

Parse = "Language"  # a spaCy pipeline with a dependency parser


@dataclass(frozen=True)
class ParsedCue:
    """The verb reporting a quote and its subject's words, as offsets in the article text."""

    verb: str
    verb_start: int
    subject_start: int
    subject_end: int
    description: bool = False  # the subject's head is a common noun ("the senator's son")
    # a name in apposition to a named subject ("DJ Max, real name Max Ortega"): (-1, -1) if none
    alias_start: int = -1
    alias_end: int = -1


@dataclass
class Frame:
    text: str
    pieces: list[tuple[int, int, int]]  # (frame offset, text offset, length) of copied text
    regions: dict[int, tuple[int, int]]  # span index -> its placeholder's (start, end) in the frame

    def to_text(self, offset: int) -> int | None:
        """The article offset of a frame offset, None inside a placeholder."""
        at = bisect_right([p[0] for p in self.pieces], offset) - 1
        if at < 0:
            return None
        frame_start, text_start, length = self.pieces[at]
        return text_start + offset - frame_start if offset < frame_start + length else None


# The commonest attribution, right after the closing mark: ``"…," he said.`` / ``"…," said
# Ann Rowe.`` / ``"…," Rowe added.`` The cue rules are right there; parsing it would only agree.
_NAME = r"(?:he|she|[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)?)"
_VERB = r"(?:said|says|added|adds)"
PLAIN_ATTRIBUTION = re.compile(rf"\s*(?:{_NAME}\s+{_VERB}|{_VERB}\s+{_NAME})\s*\.")


def plainly_attributed(text: str, span) -> bool:
    return span.closed and PLAIN_ATTRIBUTION.match(text, span.outer_end, span.outer_end + 60) is not None


def reads_as_utterance(content: str) -> bool:
    """A quote the parse replaces by a clause: it starts a sentence of its own or is long."""
    stripped = content.strip()
    return bool(stripped) and (stripped[0].isupper() or len(stripped) > LONG_QUOTE_CHARS)


def build_frames(text: str, spans: Sequence, sentences: Sequence[tuple[int, int]]) -> dict[tuple[int, int], Frame]:
    """One frame per sentence (start, end) holding an utterance quote; ``sentences[i]`` is span i's."""
    wanted: dict[tuple[int, int], list[int]] = {}
    for index, (span, bounds) in enumerate(zip(spans, sentences)):
        if (reads_as_utterance(text[span.start:span.end]) and bounds[1] - bounds[0] <= MAX_FRAME_CHARS
                and not plainly_attributed(text, span)):
            wanted.setdefault(bounds, []).append(index)
    frames = {}
    for (lo, hi), _targets in wanted.items():
        inside = [i for i, s in enumerate(spans) if lo <= s.start and s.end <= hi and reads_as_utterance(text[s.start:s.end])]
        parts: list[str] = []
        pieces: list[tuple[int, int, int]] = []
        regions: dict[int, tuple[int, int]] = {}
        cursor, length = lo, 0
        for i in inside:
            span = spans[i]
            if span.start < cursor:
                continue
            pieces.append((length, cursor, span.start - cursor))
            parts.append(text[cursor:span.start])
            length += span.start - cursor
            last = text[span.end - 1]
            placeholder = PLACEHOLDER + (last if last in ".,?!" else "")
            regions[i] = (length, length + len(placeholder))
            parts.append(placeholder)
            length += len(placeholder)
            cursor = span.end
        pieces.append((length, cursor, hi - cursor))
        parts.append(text[cursor:hi])
        frames[(lo, hi)] = Frame("".join(parts), pieces, regions)
    return frames


def find_cues(articles: Sequence[tuple[str, Sequence, Sequence[tuple[int, int]]]], parse: Parse
              ) -> list[dict[int, ParsedCue]]:
    """Per article (text, its quote spans, each span's sentence bounds): span index -> the verb
    reporting it and its subject, where the parse shows one. One parser stream for them all."""
    frames = [(number, frame) for number, (text, spans, sentences) in enumerate(articles)
              for frame in build_frames(text, spans, sentences).values()]
    found: list[dict[int, ParsedCue]] = [{} for _ in articles]
    if not frames:
        return found
    with parse.memory_zone():  # the words of these sentences are not kept in the vocabulary
        for (number, frame), doc in zip(frames, parse.pipe([frame.text for _, frame in frames], batch_size=256)):
            regions = list(frame.regions.values())
            for index, region in frame.regions.items():
                cue = cue_in(doc, frame, region, regions)
                if cue is not None:
                    found[number][index] = cue
    return found


# Word classes from the tagger's Penn tags: the attribute ruler that maps them to coarse
# classes is not loaded (it costs more than tagging).
def is_verb(token) -> bool:
    return token.tag_.startswith("VB")


def is_proper_noun(token) -> bool:
    return token.tag_ in ("NNP", "NNPS")


def is_common_noun(token) -> bool:
    return token.tag_ in ("NN", "NNS")


def inside_any(token, regions: Sequence[tuple[int, int]]) -> bool:
    return any(lo <= token.idx < hi for lo, hi in regions)


def cue_in(doc, frame: Frame, region: tuple[int, int], regions: Sequence[tuple[int, int]]) -> ParsedCue | None:
    tokens = [t for t in doc if region[0] <= t.idx < region[1]]
    heads = [t for t in tokens if not (region[0] <= t.head.idx < region[1]) or t.head.i == t.i]
    if not heads:
        return None
    head = heads[0]
    verbs = []
    if head.head.i != head.i and not inside_any(head.head, regions) and is_verb(head.head):
        verbs.append(head.head)
    else:
        # "…," he said: the reporting clause may hang from the quote's own clause
        verbs.extend(sorted((c for c in head.children if c.dep_ in REPORTING_CHILD_DEPS and is_verb(c)
                             and not inside_any(c, regions)), key=lambda c: abs(c.i - head.i)))
    for verb in verbs:
        subject = subject_of(verb, regions)
        if subject is None:
            continue
        start, end = subject_words(subject, regions)
        text_start, text_end = frame.to_text(doc[start].idx), frame.to_text(doc[end - 1].idx + len(doc[end - 1]))
        verb_start = frame.to_text(verb.idx)
        if text_start is None or text_end is None or verb_start is None:
            continue
        alias = alias_of(subject, frame, regions)
        return ParsedCue(verb.text, verb_start, text_start, text_end, is_common_noun(subject), *alias)
    return None


def subject_of(verb, regions: Sequence[tuple[int, int]]):
    """The verb's nominal subject, or the one it shares with the verb it is coordinated with."""
    for candidate in (verb, verb.head if verb.dep_ == "conj" else None):
        if candidate is None:
            continue
        for child in candidate.children:
            if child.dep_ in SUBJECT_DEPS and not inside_any(child, regions):
                if child.tag_ in RELATIVE_TAGS and candidate.dep_ == "relcl":
                    return candidate.head  # "Lynch, who told Congress: …"
                return child
    return None


def alias_of(subject, frame: Frame, regions: Sequence[tuple[int, int]]) -> tuple[int, int]:
    """Text offsets of a proper name in apposition to a proper-name subject, else (-1, -1)."""
    if not is_proper_noun(subject):
        return -1, -1
    for child in subject.children:
        if child.dep_ == "appos" and is_proper_noun(child) and not inside_any(child, regions):
            start = child.i
            while start > 0 and is_proper_noun(subject.doc[start - 1]) and subject.doc[start - 1].head.i == child.i:
                start -= 1
            lo = frame.to_text(subject.doc[start].idx)
            hi = frame.to_text(child.idx + len(child) - 1)
            if lo is not None and hi is not None:
                return lo, hi + 1
    return -1, -1


def subject_words(subject, regions: Sequence[tuple[int, int]]) -> tuple[int, int]:
    """Token range [start, end) of the subject's words: its head with the words before it that
    modify it (titles, determiners, possessors), or a named appositive ("a judge, Dana Marks")."""
    appositive = next((c for c in subject.children if c.dep_ == "appos" and is_proper_noun(c)), None)
    if appositive is not None and not is_proper_noun(subject):
        subject = appositive
    start = subject.i
    for token in reversed(list(subject.lefts)):
        if token.dep_ not in SUBJECT_LEFT_DEPS or inside_any(token, regions):
            break
        start = token.left_edge.i if not any(inside_any(t, regions) for t in token.subtree) else token.i
    while start < subject.i and subject.doc[start].is_punct:
        start += 1
    end = subject.i + 1
    while end < len(subject.doc) and subject.doc[end].dep_ in ("flat", "compound") and subject.doc[end].head.i == subject.i:
        end += 1
    return start, end


@cache
def sentence_parser(model: str) -> Parse:
    """The tagger and parser of ``model`` (a name or a model directory), without its NER."""
    import spacy

    from quotewire.analyse.entities import resolve_model_name

    return spacy.load(resolve_model_name(model), exclude=["ner", "lemmatizer", "attribute_ruler"])


def parser_beside(nlp: Language) -> Parse | None:
    """The parser of the model ``nlp`` (an NER pipeline) was loaded from; None when it has none."""
    path = getattr(nlp, "path", None)
    if path is None:
        return None
    parser = sentence_parser(str(path))
    return parser if "parser" in parser.pipe_names else None
