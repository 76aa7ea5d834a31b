"""Development harness for speaker attribution on PolNeAR train (mention level).

    .venv/bin/python scripts/dev_attribution.py [--train ../shared/eval/polnear/train.jsonl]
        [--cache /tmp/quotewire-dev-ner.pkl] [--limit N] [--errors FILE] [--json]

For every annotated attribution of kind ``direct`` whose content has quote marks, the quote
the pipeline finds over it (most overlap) is attributed, and scored:

- ``mention``: the words our rule took as the speaker overlap the annotated source span;
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

from quotewire.attribution import attribute_spans, confidence_of
from quotewire.evaluate import mention_type
from quotewire.quotes import SKIPPED_PARAGRAPH_KINDS, find_spans, is_plausible_quote
from quotewire.settings import DEFAULT_SPACY_MODEL
from quotewire.structure import parse_article
from quotewire.syntax import sentence_parser

DEFAULT_TRAIN = Path(__file__).resolve().parents[2] / "shared" / "eval" / "polnear" / "train.jsonl"


def load_articles(path: Path, limit: int | None) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        articles = [json.loads(line) for line in handle if line.strip()]
    return articles[:limit] if limit else articles


def recognised(articles: list[dict], cache: Path) -> dict[str, tuple]:
    """(structure, mentions) per article id, from the cache when it holds them all."""
    known: dict[str, tuple] = {}
    if cache.exists():
        known = pickle.loads(cache.read_bytes())
    missing = [a for a in articles if a["id"] not in known]
    if missing:
        from quotewire.entities import load_nlp, recognise
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
    errors = []
    missed = 0
    for article in articles:
        structure, mentions = known[article["id"]]
        spans = spans_of(structure)
        found = attribute_spans(structure, list(mentions), spans, parse)
        for gold in article["attributions"]:
            if gold["quote_type"] != "direct" or not gold["content_has_quote_mark"] or not gold["has_source"]:
                continue
            best, best_overlap = None, 0
            for span, attribution in zip(spans, found):
                overlap = sum(max(0, min(span.end, e) - max(span.start, s)) for s, e in gold["content_spans"])
                if overlap > best_overlap:
                    best, best_overlap = (span, attribution), overlap
            if best is None:
                missed += 1
                continue
            span, attribution = best
            mention_right = overlaps(attribution.mention_start, attribution.mention_end, gold["source_spans"])
            kind = mention_type(gold["source"]) or "description"
            source_words = words(gold["source"])
            lenient = mention_right or (kind == "name" and bool(source_words)
                                        and words(attribution.speaker)[-1:] == source_words[-1:])
            confidence = confidence_of(attribution)
            for key in ("all", f"class:{kind}", f"method:{attribution.method}", f"bin:{min(9, int(confidence * 10)) / 10:.1f}"):
                row = tally[key]
                row["n"][0] += 1
                row["mention"][0] += mention_right
                row["lenient"][0] += lenient
            if not lenient:
                errors.append({"article": article["id"], "source": gold["source"], "cue": gold["cue"],
                               "kind": kind, "method": attribution.method, "ours": attribution.speaker_mention,
                               "speaker": attribution.speaker, "confidence": confidence,
                               "context": structure.text[max(0, span.outer_start - 150):span.outer_end + 150]})
    summary = {key: {"n": row["n"][0], "mention": row["mention"][0] / row["n"][0],
                     "lenient": row["lenient"][0] / row["n"][0]} for key, row in tally.items()}
    summary["missed_spans"] = {"n": missed}
    return summary, errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, default=DEFAULT_TRAIN)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/quotewire-dev-ner.pkl"))
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--errors", type=Path, default=None, help="write the wrong attributions here (JSONL)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-parse", action="store_true", help="the rules alone, without the dependency parse")
    args = parser.parse_args(argv)
    articles = load_articles(args.train, args.limit)
    parse = None if args.no_parse else sentence_parser(DEFAULT_SPACY_MODEL)
    summary, errors = score(articles, recognised(articles, args.cache), parse)
    if args.errors:
        args.errors.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in errors), encoding="utf-8")
    if args.json:
        print(json.dumps(summary, indent=1))
        return 0
    print(f"{'group':32} {'n':>6} {'mention':>8} {'lenient':>8}")
    for key in sorted(k for k in summary if k != "missed_spans"):
        row = summary[key]
        print(f"{key:32} {row['n']:6d} {row['mention']:8.3f} {row['lenient']:8.3f}")
    print(f"direct attributions with no quote found over them: {summary['missed_spans']['n']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
