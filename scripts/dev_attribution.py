"""Development harness for speaker attribution on PolNeAR train (mention level).

    .venv/bin/python scripts/dev_attribution.py [--train ../shared/eval/polnear/train.jsonl]
        [--cache /tmp/quotewire-dev-ner.pkl] [--limit N] [--errors FILE] [--json]

For every annotated attribution of kind ``direct`` whose content has quote marks, the quote
the pipeline finds over it (most overlap) is attributed, and scored:

- ``mention``: the words our rule took as the speaker overlap the annotated source span (or,
  when that is a relative pronoun, end right before it);
- ``lenient``: that, or the annotated source is a name and our speaker ends with its last word.

Reported per class of the annotated source (name / pronoun / description) and per method, with
the share right per confidence bin. The article text is read from ../shared at run time only;
NER mentions are cached (they do not change while attribution rules do).
"""

from __future__ import annotations

import argparse
import json
import pickle
import re
import sys
from collections import defaultdict
from pathlib import Path

from quotewire.analyse import confidence
from quotewire.analyse.attribution import attribute_spans, build_context, resolve_pronoun
from quotewire.measure.evaluate import mention_type
from quotewire.analyse.quotes import SKIPPED_PARAGRAPH_KINDS, find_spans, is_plausible_quote
from quotewire.settings import DEFAULT_SPACY_MODEL
from quotewire.analyse.structure import parse_article
from quotewire.analyse.syntax import reads_as_utterance, sentence_parser

DEFAULT_TRAIN = Path(__file__).resolve().parents[2] / "shared" / "eval" / "polnear" / "train.jsonl"


RELATIVES = {"who", "which", "that"}  # PolNeAR marks these as the source; their antecedent is right too


def load_articles(path: Path, limit: int | None) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        articles = [json.loads(line) for line in handle if line.strip()]
    return articles[:limit] if limit else articles


def recognised(articles: list[dict], cache: Path) -> dict[str, tuple]:
    """(structure, mentions) per article id, from the cache when it holds them all."""
    known: dict[str, tuple] = {}
    if cache.exists():
        try:
            known = pickle.loads(cache.read_bytes())
        except (ImportError, AttributeError, pickle.UnpicklingError):  # written by another version of the code
            known = {}
    missing = [a for a in articles if a["id"] not in known]
    if missing:
        from quotewire.analyse.entities import load_nlp, recognise
        from quotewire.settings import DEFAULT_SPACY_MODEL

        nlp = load_nlp(DEFAULT_SPACY_MODEL)
        structures = [parse_article(a["text"]) for a in missing]
        for article, structure, mentions in zip(missing, structures, recognise(nlp, structures)):
            known[article["id"]] = (structure, mentions)
        cache.write_bytes(pickle.dumps(known))
    return known


def spans_of(structure) -> list:
    spans = []
    for paragraph in structure.paragraphs:
        if paragraph.kind not in SKIPPED_PARAGRAPH_KINDS:
            spans.extend(find_spans(structure.text, paragraph))
    return [s for s in spans if is_plausible_quote(structure.text[s.start:s.end])]


def overlaps(a0: int, a1: int, spans: list[list[int]]) -> bool:
    return any(a0 < e and s < a1 for s, e in spans)


def words(name: str | None) -> list[str]:
    return re.findall(r"[a-z0-9]+", re.sub(r"[’']s\b", "", (name or "").lower()))


def score(articles: list[dict], known: dict[str, tuple], parse=None) -> tuple[dict, list[dict]]:
    tally: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    cells: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    proxy = [0, 0]  # named subjects resolved as if they were pronouns: [n, right]
    errors = []
    missed = 0
    for article in articles:
        structure, mentions = known[article["id"]]
        spans = spans_of(structure)
        found = attribute_spans(structure, list(mentions), spans, parse)
        context = None
        for gold in article["attributions"]:
            if gold["quote_type"] not in ("direct", "mixed") or not gold["content_has_quote_mark"] or not gold["has_source"]:
                continue
            direct = gold["quote_type"] == "direct"
            best, best_overlap = None, 0
            for span, attribution in zip(spans, found):
                overlap = sum(max(0, min(span.end, e) - max(span.start, s)) for s, e in gold["content_spans"])
                if overlap > best_overlap:
                    best, best_overlap = (span, attribution), overlap
            if best is None:
                missed += 1
                continue
            span, attribution = best
            mention_right = (overlaps(attribution.mention_start, attribution.mention_end, gold["source_spans"])
                             or (gold["source"].lower() in RELATIVES
                                 and 0 <= gold["source_start"] - attribution.mention_end <= 3))
            kind = mention_type(gold["source"]) or "description"
            source_words = words(gold["source"])
            lenient = mention_right or (kind == "name" and bool(source_words)
                                        and words(attribution.speaker)[-1:] == source_words[-1:])
            ours_class = mention_type(attribution.speaker_mention)
            utterance = reads_as_utterance(structure.text[span.start:span.end])
            if attribution.speaker and ours_class:
                for key in set(confidence.cell_keys(attribution.method, ours_class, attribution.agreement, utterance)):
                    cells[key][0] += 1
                    cells[key][1] += lenient
            if not direct:  # partial quotes (PolNeAR "mixed") count for the calibration only
                tally["mixed"]["n"][0] += 1
                tally["mixed"]["mention"][0] += mention_right
                tally["mixed"]["lenient"][0] += lenient
                continue
            if lenient and kind == "name" and attribution.speaker and attribution.mention_start >= 0:
                context = context or build_context(structure, list(mentions), spans)
                right = pronoun_proxy(context, spans, found, span, attribution, gold["source_start"])
                if right is not None:
                    proxy[0] += 1
                    proxy[1] += right
            bin_ = f"bin:{min(9, int(attribution.confidence * 10)) / 10:.1f}"
            for key in ("all", f"class:{kind}", f"method:{attribution.method}", bin_):
                row = tally[key]
                row["n"][0] += 1
                row["mention"][0] += mention_right
                row["lenient"][0] += lenient
            if not lenient:
                errors.append({"article": article["id"], "source": gold["source"], "cue": gold["cue"],
                               "kind": kind, "method": attribution.method, "ours": attribution.speaker_mention,
                               "speaker": attribution.speaker, "confidence": attribution.confidence,
                               "context": structure.text[max(0, span.outer_start - 150):span.outer_end + 150]})
    summary = {key: {"n": row["n"][0], "mention": row["mention"][0] / row["n"][0],
                     "lenient": row["lenient"][0] / row["n"][0]} for key, row in tally.items()}
    summary["missed_spans"] = {"n": missed}
    summary["calibration"] = {"mention": {k: v for k, v in sorted(cells.items())}, "resolution": proxy}
    return summary, errors


def pronoun_proxy(context, spans, found, span, attribution, position: int) -> bool | None:
    """Would a he/she at this named subject resolve to the person named? None: not a fair test
    (no gender known, or the person not named before in the article)."""
    gender = context.genders.get(attribution.speaker)
    if gender not in ("m", "f"):
        return None
    earlier = [m for m in context.persons if m.start < position]
    from quotewire.analyse.attribution import best_name
    if not any(best_name(context, m) == attribution.speaker for m in earlier):
        return None
    before = sorted((s.outer_start, a.speaker) for s, a in zip(spans, found) if a.speaker and s.outer_start < span.outer_start)
    context.speakers_so_far = before
    context.speaker_offsets = [offset for offset, _ in before]
    return resolve_pronoun(context, "he" if gender == "m" else "she", position) == attribution.speaker


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, default=DEFAULT_TRAIN)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/quotewire-dev-ner.pkl"))
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--errors", type=Path, default=None, help="write the wrong attributions here (JSONL)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-parse", action="store_true", help="the rules alone, without the dependency parse")
    parser.add_argument("--calibrate", action="store_true", help=f"write the confidence cells to {confidence.CALIBRATION}")
    args = parser.parse_args(argv)
    articles = load_articles(args.train, args.limit)
    parse = None if args.no_parse else sentence_parser(DEFAULT_SPACY_MODEL)
    summary, errors = score(articles, recognised(articles, args.cache), parse)
    if args.errors:
        args.errors.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in errors), encoding="utf-8")
    calibration = summary.pop("calibration")
    if args.calibrate:
        confidence.CALIBRATION.write_text(json.dumps(calibration, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(summary, indent=1))
        return 0
    print(f"{'group':32} {'n':>6} {'mention':>8} {'lenient':>8}")
    for key in sorted(k for k in summary if k != "missed_spans"):
        row = summary[key]
        print(f"{key:32} {row['n']:6d} {row['mention']:8.3f} {row['lenient']:8.3f}")
    print(f"direct attributions with no quote found over them: {summary['missed_spans']['n']}")
    n, right = calibration["resolution"]
    print(f"named subjects resolved as pronouns (pronoun proxy): {right}/{n} = {right / max(1, n):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
