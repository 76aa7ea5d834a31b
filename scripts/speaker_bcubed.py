"""B-cubed F1 of the warehouse's speaker_id clusters against the gold speakers.

    .venv/bin/python scripts/speaker_bcubed.py [GOLD ...]
    .venv/bin/python scripts/speaker_bcubed.py --polnear-train ../shared/eval/polnear/train.jsonl --limit 200 [--misses]

Default gold: ../shared/eval/polnear/dev.gold.jsonl and ../shared/gold/sessions-immigration-judges.gold.json
(a check set: read at run time, never committed). Each article is analysed as the pipeline does,
speaker_ids are given as the published quotes table gives them (``tables.quote_speaker_ids``),
predicted quotes are paired with gold ones as ``quotewire eval`` pairs them, and the quotes whose
predicted speaker name is right (``evaluate.speaker_matches``) are clustered two ways: by
speaker_id, and by the speaker name string (the grouping the marts used before speaker_id).
A right-named quote without a speaker_id counts as a cluster of its own. Gold persons are the gold
names' first and last normalised tokens ("Hillary Rodham Clinton" = "Hillary Clinton").

``--polnear-train`` is the development set: PolNeAR train records (not gold files) whose direct
attributions' source text stands for the gold speaker (so only sources written as a name count).
"""

from __future__ import annotations

import argparse
from collections import defaultdict
import json
from collections.abc import Hashable, Sequence
from itertools import islice
from pathlib import Path

from quotewire.analyse.article import analyse_structures
from quotewire.analyse.entities import load_nlp
from quotewire.analyse.structure import parse_article
from quotewire.measure.evaluate import GoldArticle, GoldQuote, load_gold, mention_type, normalise_speaker, pair_quotes, speaker_matches
from quotewire.publish.tables import quote_speaker_ids
from quotewire.settings import Settings

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
DEFAULT_GOLD = [SHARED / "eval/polnear/dev.gold.jsonl", SHARED / "gold/sessions-immigration-judges.gold.json"]


def bcubed_f1(predicted: Sequence[Hashable], gold: Sequence[Hashable]) -> tuple[float, float, float]:
    """(precision, recall, F1) of item i's predicted cluster ``predicted[i]`` against ``gold[i]``."""
    by_predicted, by_gold, by_both = defaultdict(int), defaultdict(int), defaultdict(int)
    for p, g in zip(predicted, gold):
        by_predicted[p] += 1
        by_gold[g] += 1
        by_both[p, g] += 1
    n = len(predicted)
    if n == 0:
        return 0.0, 0.0, 0.0
    precision = sum(by_both[p, g] / by_predicted[p] for p, g in zip(predicted, gold)) / n
    recall = sum(by_both[p, g] / by_gold[g] for p, g in zip(predicted, gold)) / n
    return precision, recall, 2 * precision * recall / (precision + recall)


def gold_person(name: str) -> tuple[str, ...]:
    tokens = normalise_speaker(name)
    return (tokens[0], tokens[-1]) if len(tokens) >= 2 else tokens


def polnear_train(path: Path, limit: int) -> list[GoldArticle]:
    """Train records as gold articles: each attribution with quote marks, its source as the speaker."""
    articles = []
    with path.open(encoding="utf-8") as lines:
        for line in islice(lines, limit):
            record = json.loads(line)
            quotes = tuple(
                GoldQuote(a["content_start"], a["content_end"], a["content"], a["source"], "direct")
                for a in record["attributions"]
                if a.get("content_has_quote_mark") and a.get("source") and mention_type(a["source"]) == "name")
            articles.append(GoldArticle(record["id"], record["text"], quotes, record))
    return articles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("gold", nargs="*", type=Path, default=DEFAULT_GOLD)
    parser.add_argument("--polnear-train", type=Path, help="score on PolNeAR train records instead (development)")
    parser.add_argument("--limit", type=int, default=200, help="train records read with --polnear-train")
    parser.add_argument("--misses", action="store_true", help="list right-named speakers left without a speaker_id")
    args = parser.parse_args()
    articles = polnear_train(args.polnear_train, args.limit) if args.polnear_train else load_gold(args.gold)

    nlp = load_nlp(Settings().spacy_model)
    by_id, by_name, gold_ids, without_id = [], [], [], 0
    for article in articles:
        [(mentions, quotes)] = analyse_structures(nlp, [parse_article(article.text)])
        speaker_ids = quote_speaker_ids(mentions, quotes)
        for gold_index, predicted_index, _ in pair_quotes(article.quotes, quotes, article.text):
            gold, predicted = article.quotes[gold_index], quotes[predicted_index]
            if gold.speaker is None or not speaker_matches(predicted.speaker, gold.speaker):
                continue
            item = (article.id, predicted_index)
            speaker_id = speaker_ids[predicted_index]
            without_id += speaker_id is None
            if speaker_id is None and args.misses:
                labels = sorted({m.label for m in mentions if m.name == predicted.speaker})
                print(f"no speaker_id: {predicted.speaker!r} (mention labels {labels})")
            by_id.append(speaker_id or item)
            by_name.append(predicted.speaker)
            gold_ids.append(gold_person(gold.speaker))
    print(f"gold: {args.polnear_train or ', '.join(str(path) for path in args.gold)}")
    print(f"quotes with the right speaker name: {len(gold_ids)} ({without_id} without a speaker_id),"
          f" gold persons: {len(set(gold_ids))}")
    with_id = [i for i, speaker_id in enumerate(by_id) if isinstance(speaker_id, str)]
    for label, predicted, gold in (
        ("speaker_id", by_id, gold_ids),
        ("name string (baseline)", by_name, gold_ids),
        ("speaker_id, quotes with one only", [by_id[i] for i in with_id], [gold_ids[i] for i in with_id]),
        ("name string, the same quotes", [by_name[i] for i in with_id], [gold_ids[i] for i in with_id]),
    ):
        precision, recall, f1 = bcubed_f1(predicted, gold)
        print(f"B-cubed by {label}: precision {precision:.4f}, recall {recall:.4f}, F1 {f1:.4f},"
              f" clusters {len(set(predicted))} of {len(predicted)} quotes")


if __name__ == "__main__":
    main()
