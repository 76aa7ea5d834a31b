"""Development check of quote finding and kind on PolNeAR's train split (not a check set).

Reads ../shared/eval/polnear/train.jsonl at run time (nothing from it is stored here) and
measures, against PolNeAR's own attributions that carry quote marks:

- recall: a content paragraph (the attribution's content cut at line breaks) counts as found
  when predicted quotes cover at least half of its characters (letters and digits outside
  quotation marks); by scope ``direct`` (PolNeAR type direct, predicted kind direct) and
  ``direct+partial`` (types direct and mixed, any predicted kind);
- kind agreement: among found content paragraphs, how often the covering quotes' kind
  (direct/partial) matches PolNeAR's (direct/mixed);
- speaker agreement: for found content paragraphs whose PolNeAR source is written as a name
  (capitalised words), whether the covering quote's speaker ends with the same word;
- unsupported: predicted direct quotes with no character inside any attribution content
  that carries quote marks (scare quotes and titles land here as well as true errors).

Usage: .venv/bin/python scripts/polnear_train_check.py [--limit N] [--show-kind-errors N] [--cache /tmp/x.pkl]
"""

from __future__ import annotations

import argparse
import json
import pickle
from collections import Counter
from pathlib import Path

from quotewire.analyse.entities import load_nlp, recognise
from quotewire.analyse.quotes import extract_quotes
from quotewire.settings import Settings
from quotewire.analyse.structure import parse_article

TRAIN = Path(__file__).resolve().parents[2] / "shared" / "eval" / "polnear" / "train.jsonl"
MARKS = set("\"'“”‘’„«»")
PRONOUNS = {"he", "she", "they", "we", "i", "it", "you"}
MIN_UNIT_CHARS = 5  # shorter content pieces are stray marks or punctuation


def content_units(text: str, attribution: dict) -> list[frozenset[int]]:
    """The attribution's content characters, one set per line of text it spans."""
    units = []
    for start, end in attribution["content_spans"]:
        line_start = start
        for line in text[start:end].split("\n"):
            chars = frozenset(i for i in range(line_start, line_start + len(line))
                              if text[i].isalnum() and text[i] not in MARKS)
            if len(chars) >= MIN_UNIT_CHARS:
                units.append(chars)
            line_start += len(line) + 1
    return units


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=0, help="only the first N articles")
    parser.add_argument("--show-kind-errors", type=int, default=0, help="print N kind disagreements")
    parser.add_argument("--show-misses", type=int, default=0, help="print N missed direct units")
    parser.add_argument("--cache", type=Path, default=None,
                        help="keep structures and NER mentions in this pickle (outside the repo) between runs")
    args = parser.parse_args()
    analysed = pickle.loads(args.cache.read_bytes()) if args.cache and args.cache.exists() else {}
    nlp = None
    tally: Counter = Counter()
    kind_errors, misses = [], []
    with TRAIN.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines):
            if args.limit and number >= args.limit:
                break
            article = json.loads(line)
            text = article["text"]
            if article["id"] not in analysed:
                nlp = nlp or load_nlp(Settings().spacy_model)
                structure = parse_article(text)
                analysed[article["id"]] = (structure, recognise(nlp, [structure])[0])
            predicted = extract_quotes(*analysed[article["id"]])
            pred_chars = [(q, frozenset(i for i in range(q.start, q.end) if text[i].isalnum())) for q in predicted]
            supported: set[int] = set()
            for attribution in article["attributions"]:
                if not attribution["content_has_quote_mark"] or attribution["quote_type"] not in ("direct", "mixed"):
                    continue
                gold_kind = "direct" if attribution["quote_type"] == "direct" else "partial"
                for unit in content_units(text, attribution):
                    supported |= unit
                    covering = [(q, chars & unit) for q, chars in pred_chars if chars & unit]
                    covered = sum(len(c) for _, c in covering)
                    tally[f"{gold_kind}_units"] += 1
                    if 2 * covered < len(unit):
                        if gold_kind == "direct" and len(misses) < args.show_misses:
                            s, e = min(unit), max(unit) + 1
                            misses.append(text[max(0, s - 60):e + 20].replace("\n", "|"))
                        continue
                    tally[f"{gold_kind}_found"] += 1
                    weight = Counter()
                    for q, c in covering:
                        weight[q.kind] += len(c)
                    kind = weight.most_common(1)[0][0]
                    source = attribution.get("source") or ""
                    words = source.split()
                    if 1 <= len(words) <= 4 and all(w[:1].isupper() for w in words) and words[0].lower() not in PRONOUNS:
                        q = max(covering, key=lambda pair: len(pair[1]))[0]
                        tally["named_units"] += 1
                        said = (q.speaker or "").split()
                        if said and said[-1].lower().rstrip("’'s") == words[-1].lower().rstrip("’'s"):
                            tally["named_agree"] += 1
                    if kind == "direct" and gold_kind == "direct":
                        tally["direct_found_as_direct"] += 1
                    tally["kind_agree" if kind == gold_kind else f"kind_{gold_kind}_as_{kind}"] += 1
                    if kind != gold_kind and len(kind_errors) < args.show_kind_errors:
                        q = max(covering, key=lambda pair: len(pair[1]))[0]
                        kind_errors.append(f"gold {gold_kind}, said {kind}: …{text[max(0, q.start - 80):q.end + 30]}…".replace("\n", "|"))
            for q, chars in pred_chars:
                if q.kind == "direct":
                    tally["pred_direct"] += 1
                    if chars and not chars & supported:
                        tally["pred_direct_unsupported"] += 1
            tally["articles"] += 1
    if args.cache:
        args.cache.write_bytes(pickle.dumps(analysed))
    found = tally["direct_found"] + tally["partial_found"]
    units = tally["direct_units"] + tally["partial_units"]
    print(f"articles {tally['articles']}")
    print(f"direct recall (found as direct) {tally['direct_found_as_direct'] / max(1, tally['direct_units']):.3f} "
          f"({tally['direct_found_as_direct']}/{tally['direct_units']})")
    print(f"direct+partial recall {found / max(1, units):.3f} ({found}/{units})")
    print(f"kind agreement {tally['kind_agree'] / max(1, found):.3f} ({tally['kind_agree']}/{found}); "
          f"direct as partial {tally['kind_direct_as_partial']}, partial as direct {tally['kind_partial_as_direct']}, "
          f"as other {tally['kind_direct_as_other'] + tally['kind_partial_as_other']}")
    print(f"speaker agreement with name sources {tally['named_agree'] / max(1, tally['named_units']):.3f} "
          f"({tally['named_agree']}/{tally['named_units']})")
    print(f"predicted direct with no quote-marked attribution content: {tally['pred_direct_unsupported']}/{tally['pred_direct']}")
    for line in kind_errors:
        print(line)
    for line in misses:
        print("MISS", line)


if __name__ == "__main__":
    main()
