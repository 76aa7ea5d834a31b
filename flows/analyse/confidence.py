"""speaker_confidence: how likely a quote's speaker is right, from how the speaker was found.

An attribution falls in a cell: the rule group that found it (the parse's verb and subject,
a cue after or before the quote, a continued speaker, ...), how the speaker is referred to
at the attribution (name / pronoun / description), for the parse whether the cue-list rules
name the same speaker, and whether the quote reads as an utterance or a fragment. Each cell's share of right speaker mentions was counted on
PolNeAR train (scripts/dev_attribution.py --calibrate writes speaker_confidence.json); a
pronoun or description must then still be resolved to the right person, so those cells are
multiplied by the share of pronouns resolved right on that set (measured by treating named
subjects as pronouns). Cells with few quotes fall back to their rule group.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

CALIBRATION = Path(__file__).with_name("speaker_confidence.json")
MIN_CELL = 30  # fewer quotes in a cell than this: use the coarser cell
METHOD_GROUPS = {
    "parse": "parse",
    "trailing": "trailing", "trailing_inverted": "trailing", "dash": "trailing",
    "leading": "leading", "leading_inverted": "leading", "according_to": "leading", "trailing_far": "leading",
    "colon_paragraph": "leading", "colon_paragraph_inverted": "leading",
    "continuation": "continuation", "continuation_paragraph": "continuation", "continuation_forward": "continuation",
}
RESOLVED_CLASSES = ("pronoun", "description")  # classes whose mention must still be resolved to a name


def method_group(method: str | None) -> str:
    return METHOD_GROUPS.get(method or "", "other")


def agreement_word(agreement: bool | None, method: str | None) -> str:
    if method != "parse":
        return "-"
    return "alone" if agreement is None else "agree" if agreement else "differ"


def cell_keys(method: str | None, mention_class: str, agreement: bool | None, utterance: bool) -> list[str]:
    """The calibration cells of an attribution, finest first. ``utterance``: the quote reads as
    a sentence of its own (syntax.reads_as_utterance), not a fragment of the writer's."""
    group = method_group(method)
    agree = agreement_word(agreement, method)
    shape = "utterance" if utterance else "fragment"
    return [f"{group}|{mention_class}|{agree}|{shape}", f"{group}|{mention_class}|*|{shape}",
            f"{group}|*|*|{shape}", f"*|*|*|{shape}", "*|*|*|*"]


@cache
def calibration(path: Path = CALIBRATION) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def confidence(speaker: str | None, method: str | None, mention_class: str | None, agreement: bool | None,
               utterance: bool, table: dict | None = None) -> float:
    """A probability in [0, 1] that ``speaker`` is right; 0 when there is none."""
    if not speaker or mention_class is None:
        return 0.0
    table = table if table is not None else calibration()
    cells = table["mention"]
    share = 0.0
    for key in cell_keys(method, mention_class, agreement, utterance):
        n, right = cells.get(key, (0, 0))
        if n >= MIN_CELL:
            share = (right + 1) / (n + 2)  # Laplace: a cell all right is not certainty
            break
    if mention_class in RESOLVED_CLASSES:
        n, right = table["resolution"]
        share *= (right + 1) / (n + 2)
    return round(min(1.0, max(0.0, share)), 3)
