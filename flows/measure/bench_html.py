"""``quotewire bench-html DIR``: how well HTML pages become article bodies (html-aeb benchmark).

The corpus is the article-extraction-benchmark layout (scrapinghub/zyte): ``html/<id>.html.gz``
pages and ``ground-truth.json`` mapping each id to ``{"articleBody": ...}``.

What is scored is what the pipeline would keep as body text: the page goes through
``formats.html_to_article_text`` and ``structure.parse_article``, and the paragraphs of kind
``body`` are joined by newlines (headline, byline and photo credit paragraphs are not body).

The metric is the benchmark's own (its ``evaluate.py``), reimplemented so the figures compare
with its published table:

- tokens are ``\\w+`` matches, shingles are runs of 4 consecutive tokens (a text of fewer
  than 4 tokens is one shorter shingle); counts are multisets;
- per page, tp/fp/fn are the multiset overlaps, normalised by their sum so that long pages
  weigh no more than short ones;
- precision is averaged over pages that predicted something or had something to find
  (tp + fp > 0), recall over pages with tp + fn > 0, and F1 comes from the two averages.
"""

from __future__ import annotations

import gzip
import json
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from quotewire.read.formats import html_to_article_text

SHINGLE_SIZE = 4
TpFpFn = tuple[float, float, float]

_TOKEN = re.compile(r"\w+", re.UNICODE)


# ---------------------------------------------------------------- the benchmark's metric


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text or "")


def shingles(text: str, size: int = SHINGLE_SIZE) -> Counter[tuple[str, ...]]:
    """Multiset of ``size``-token shingles; a shorter text is one shingle, an empty one none."""
    tokens = tokenize(text)
    runs = (tuple(tokens[i : i + size]) for i in range(max(1, len(tokens) - size + 1)))
    return Counter(run for run in runs if run)


def shingle_matching(true: str, pred: str, size: int = SHINGLE_SIZE) -> TpFpFn:
    """(tp, fp, fn) of the predicted shingles against the true ones, normalised to sum to 1."""
    true_shingles = shingles(true, size)
    pred_shingles = shingles(pred, size)
    tp = float(sum((true_shingles & pred_shingles).values()))
    fp = float(sum((pred_shingles - true_shingles).values()))
    fn = float(sum((true_shingles - pred_shingles).values()))
    total = tp + fp + fn
    if total == 0:
        return (0.0, 0.0, 0.0)
    return (tp / total, fp / total, fn / total)


def precision_score(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    if tp == fp == 0:
        return 0.0
    return tp / (tp + fp)


def recall_score(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    if tp == fn == 0:
        return 0.0
    return tp / (tp + fn)


def metrics_from_counts(counts: list[TpFpFn]) -> dict[str, float]:
    """Precision and recall averaged over pages (as the benchmark does), F1 from the averages."""
    precisions = [precision_score(*c) for c in counts if c[0] + c[1] > 0]
    recalls = [recall_score(*c) for c in counts if c[0] + c[2] > 0]
    precision = statistics.mean(precisions) if precisions else 0.0
    recall = statistics.mean(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"f1": f1, "precision": precision, "recall": recall}


def page_f1(counts: TpFpFn) -> float:
    precision, recall = precision_score(*counts), recall_score(*counts)
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


# ---------------------------------------------------------------- the prediction


def body_from_article_text(text: str) -> str:
    """The paragraphs the structure parser classes as body, joined by newlines."""
    try:
        from quotewire.analyse.structure import parse_article
    except ImportError:  # structure.py is another engineer's and may not be there yet
        return body_without_structure_parser(text)
    structure = parse_article(text)
    return "\n".join(p.text for p in structure.paragraphs if p.kind == "body")


def body_without_structure_parser(text: str) -> str:
    """Fallback: the blocks after the front matter, less the headline block that opens them."""
    fence = "---\n"
    has_front_matter = text.startswith(fence) and "\n---\n" in text[len(fence) :]
    rest = text.split("\n---\n", 1)[1] if has_front_matter else text
    blocks = [block.strip() for block in rest.strip().split("\n\n") if block.strip()]
    has_headline = has_front_matter and "\nheadline: " in "\n" + text.split("\n---\n", 1)[0]
    return "\n".join(blocks[1:] if has_headline else blocks)


def predict_body(html: bytes, page_id: str) -> str:
    """What the pipeline keeps as the article body of one page ('' when it finds no article)."""
    text = html_to_article_text(html, f"html/{page_id}.html.gz")
    return body_from_article_text(text) if text is not None else ""


# ---------------------------------------------------------------- running it


def load_corpus(corpus_dir: Path, limit: int | None) -> list[tuple[str, str]]:
    """(page id, true article body) pairs in id order, the first ``limit`` of them."""
    ground_truth = json.loads((corpus_dir / "ground-truth.json").read_text(encoding="utf-8"))
    pairs = [(page_id, entry.get("articleBody") or "") for page_id, entry in sorted(ground_truth.items())]
    return pairs[:limit] if limit is not None else pairs


def main_bench_html(
    corpus_dir: Path,
    limit: int | None = None,
    predict: Callable[[bytes, str], str] = predict_body,
) -> dict[str, Any]:
    """Score ``predict`` on the corpus; returns the metrics, counts and the worst pages."""
    started = time.perf_counter()
    pages: list[dict[str, Any]] = []
    for page_id, true_body in load_corpus(Path(corpus_dir), limit):
        html = gzip.decompress((Path(corpus_dir) / "html" / f"{page_id}.html.gz").read_bytes())
        predicted = predict(html, page_id)
        counts = shingle_matching(true_body, predicted)
        pages.append({"id": page_id, "counts": counts, "f1": page_f1(counts), "empty": not predicted.strip()})
    metrics = metrics_from_counts([page["counts"] for page in pages])
    worst = sorted(pages, key=lambda page: page["f1"])[:10]
    return {
        **metrics,
        "pages": len(pages),
        "empty_predictions": sum(page["empty"] for page in pages),
        "worst": [{"id": page["id"], "f1": page["f1"], "counts": page["counts"]} for page in worst],
        "seconds": time.perf_counter() - started,
    }


def format_bench(result: dict[str, Any]) -> str:
    lines = [
        f"html-aeb: {result['pages']} pages, {result['empty_predictions']} with no body found, "
        f"{result['seconds']:.1f} s",
        f"F1 {result['f1']:.4f}   precision {result['precision']:.4f}   recall {result['recall']:.4f}",
        "worst pages (page F1, tp/fp/fn shares):",
    ]
    for page in result["worst"]:
        tp, fp, fn = page["counts"]
        lines.append(f"  {page['id'][:16]}  F1 {page['f1']:.3f}  tp {tp:.2f} fp {fp:.2f} fn {fn:.2f}")
    return "\n".join(lines)


def command_bench_html(args) -> int:
    """`quotewire bench-html DIR [--limit N]`: the figure, then the worst pages; last line JSON."""
    corpus = Path(args.corpus)
    if not (corpus / "ground-truth.json").is_file():
        raise FileNotFoundError(f"{corpus} has no ground-truth.json: not an article-extraction-benchmark folder")
    result = main_bench_html(corpus, args.limit)
    print(format_bench(result))
    print(json.dumps({key: result[key] for key in ("f1", "precision", "recall", "pages", "empty_predictions")}))
    return 0
