"""Score extracted quotes against hand-made gold, by the rules of the gold FORMAT.md.

The rules, in short (the docstrings below say which function implements which):

* a quote's *characters* are the positions of its span that are neither white space nor a
  quotation mark, so predictions that include or drop the marks or a trailing space still match;
* predicted and gold quotes are paired one-to-one, greedily by descending Dice coefficient of
  those character sets, and a pair needs Dice >= 0.5;
* gold quotes of kind ``other`` (titles, scare quotes) are neutral;
* two scopes: ``direct`` (only predictions labelled direct take part, only direct gold is
  recalled) and ``direct+partial`` (all predictions, direct and partial gold);
* speaker accuracy compares normalised names and is split by how the gold speaker is
  referred to at the attribution (a name, a pronoun, a description).

Nothing here runs the pipeline: :func:`evaluate` takes the analysis as a callable, so the
CLI can hand in exactly the code path that production runs use.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from quotewire.read.document import Quote

SCOPES = ("direct", "direct+partial")
GOLD_KINDS = ("direct", "partial", "other")
# Which gold kinds each scope recalls.
SCOPE_GOLD_KINDS: dict[str, frozenset[str]] = {
    "direct": frozenset({"direct"}),
    "direct+partial": frozenset({"direct", "partial"}),
}
MIN_DICE = 0.5
QUOTATION_MARKS = frozenset("\"'“”‘’„«»")
CONTEXT_CHARS = 100  # each side of an error's span: about 200 characters of context in all

MentionType = Literal["name", "pronoun", "description"]
MENTION_TYPES: tuple[str, ...] = ("name", "pronoun", "description", "unknown")


# --------------------------------------------------------------------------------------
# Gold files


class GoldFormatError(ValueError):
    """A gold file that does not follow FORMAT.md; the message names the file and line."""


@dataclass(frozen=True)
class GoldQuote:
    start: int
    end: int
    text: str
    speaker: str | None
    kind: str  # "direct" | "partial" | "other"
    speaker_mention: str | None = None


@dataclass(frozen=True)
class GoldArticle:
    id: str
    text: str
    quotes: tuple[GoldQuote, ...]
    raw: dict[str, Any] = field(repr=False, compare=False)


def load_gold(paths: Sequence[Path]) -> list[GoldArticle]:
    """Read gold articles from ``*.gold.jsonl`` (one per line) and ``*.gold.json`` (one object).

    A directory stands for the gold files directly inside it. Article ids must be unique
    across all files, because predictions are looked up by id.
    """
    articles: list[GoldArticle] = []
    first_seen_in: dict[str, str] = {}
    for path in _expand_gold_paths(paths):
        for where, record in _read_gold_records(path):
            article = _parse_article(record, where)
            if article.id in first_seen_in:
                raise GoldFormatError(
                    f"{where}: article id {article.id!r} already given in {first_seen_in[article.id]}"
                )
            first_seen_in[article.id] = where
            articles.append(article)
    return articles


def _expand_gold_paths(paths: Sequence[Path]) -> list[Path]:
    expanded: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            expanded.extend(sorted([*path.glob("*.gold.jsonl"), *path.glob("*.gold.json")]))
        else:
            expanded.append(path)
    return expanded


def _read_gold_records(path: Path) -> Iterable[tuple[str, Any]]:
    """Yield (location for error messages, decoded JSON value) for each article in a file."""
    try:
        content = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise GoldFormatError(f"{path}: cannot read gold file: {error}") from error
    if path.suffix == ".jsonl":
        for line_number, line in enumerate(content.splitlines(), start=1):
            if line.strip():
                yield f"{path}:{line_number}", _decode_json(line, f"{path}:{line_number}")
    elif path.suffix == ".json":
        yield str(path), _decode_json(content, str(path))
    else:
        raise GoldFormatError(f"{path}: gold files end in .gold.jsonl or .gold.json")


def _decode_json(source: str, where: str) -> Any:
    try:
        return json.loads(source)
    except json.JSONDecodeError as error:
        raise GoldFormatError(f"{where}: invalid JSON: {error}") from error


def _parse_article(record: Any, where: str) -> GoldArticle:
    if not isinstance(record, dict):
        raise GoldFormatError(f"{where}: an article is a JSON object, got {type(record).__name__}")
    article_id, text, quotes = record.get("id"), record.get("text"), record.get("quotes")
    if not isinstance(article_id, str) or not article_id:
        raise GoldFormatError(f"{where}: article needs a non-empty string 'id'")
    if not isinstance(text, str):
        raise GoldFormatError(f"{where}: article {article_id!r} needs a string 'text'")
    if not isinstance(quotes, list):
        raise GoldFormatError(f"{where}: article {article_id!r} needs a list 'quotes'")
    parsed = tuple(
        _parse_quote(quote, text, f"{where}: article {article_id!r}, quote {index}")
        for index, quote in enumerate(quotes)
    )
    return GoldArticle(id=article_id, text=text, quotes=parsed, raw=record)


def _parse_quote(quote: Any, article_text: str, where: str) -> GoldQuote:
    if not isinstance(quote, dict):
        raise GoldFormatError(f"{where}: a quote is a JSON object")
    start, end = quote.get("start"), quote.get("end")
    # bool is an int subclass; true/false offsets are a data error, not 1/0.
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)):
        raise GoldFormatError(f"{where}: 'start' and 'end' must be integers")
    if not 0 <= start <= end <= len(article_text):
        raise GoldFormatError(f"{where}: span [{start}, {end}) outside the text (length {len(article_text)})")
    if quote.get("text") != article_text[start:end]:
        raise GoldFormatError(
            f"{where}: 'text' {quote.get('text')!r} is not text[{start}:{end}] {article_text[start:end]!r}"
        )
    if quote.get("kind") not in GOLD_KINDS:
        raise GoldFormatError(f"{where}: 'kind' must be one of {', '.join(GOLD_KINDS)}, got {quote.get('kind')!r}")
    speaker, mention = quote.get("speaker"), quote.get("speaker_mention")
    if speaker is not None and not isinstance(speaker, str):
        raise GoldFormatError(f"{where}: 'speaker' must be a string or null")
    if mention is not None and not isinstance(mention, str):
        raise GoldFormatError(f"{where}: 'speaker_mention' must be a string or null")
    return GoldQuote(start=start, end=end, text=quote["text"], speaker=speaker, kind=quote["kind"],
                     speaker_mention=mention)


# --------------------------------------------------------------------------------------
# Pairing


def quote_chars(text: str, start: int, end: int) -> frozenset[int]:
    """Positions in [start, end) that are neither white space nor a quotation mark."""
    return frozenset(
        position for position in range(start, end)
        if not text[position].isspace() and text[position] not in QUOTATION_MARKS
    )


def dice(a: frozenset[int], b: frozenset[int]) -> float:
    if not a and not b:
        return 0.0  # two empty spans are not evidence of the same quote
    return 2 * len(a & b) / (len(a) + len(b))


class SpanLike(Protocol):
    """Anything with offsets and its own text: GoldQuote and Quote both qualify."""

    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def text(self) -> str: ...


def pair_quotes(
    gold: Sequence[SpanLike], predicted: Sequence[SpanLike], article_text: str
) -> list[tuple[int, int, float]]:
    """Pair gold and predicted quotes one-to-one, greedily by descending Dice (>= 0.5).

    Returns (gold index, predicted index, dice) triples in the order they were chosen.
    Ties go to the lower gold index, then the lower predicted index, so the result never
    depends on set or dict ordering. Characters come from ``article_text``.
    """
    def chars(quote: SpanLike) -> frozenset[int]:
        return quote_chars(article_text, quote.start, quote.end)

    gold_chars = [chars(q) for q in gold]
    predicted_chars = [chars(q) for q in predicted]
    candidates = [
        (score, gi, pi)
        for gi, g in enumerate(gold_chars)
        for pi, p in enumerate(predicted_chars)
        if g & p and (score := dice(g, p)) >= MIN_DICE
    ]
    candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
    pairs: list[tuple[int, int, float]] = []
    used_gold: set[int] = set()
    used_predicted: set[int] = set()
    for score, gi, pi in candidates:
        if gi not in used_gold and pi not in used_predicted:
            pairs.append((gi, pi, score))
            used_gold.add(gi)
            used_predicted.add(pi)
    return pairs


# --------------------------------------------------------------------------------------
# Speakers

# Titles dropped from the front of a speaker name before comparing. Multi-word titles are
# token tuples; the longest one that fits is dropped first, repeatedly ("former Sen." too).
_SPEAKER_TITLES: frozenset[tuple[str, ...]] = frozenset(
    tuple(title.split())
    for title in (
        "the", "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "professor",
        "sen", "senator", "rep", "representative", "del", "delegate", "congressman", "congresswoman",
        "gov", "governor", "lt gov", "lieutenant governor", "president", "vice president",
        "attorney general", "secretary", "secretary of state", "secretary general",
        "speaker", "house speaker", "mayor", "judge", "justice", "chief justice",
        "rev", "reverend", "gen", "general", "lt", "lieutenant", "col", "colonel", "capt",
        "captain", "sgt", "sergeant", "adm", "admiral", "maj", "major", "sir", "dame",
        "prime minister", "chancellor", "chairman", "chairwoman", "former", "retired",
    )
)
_LONGEST_TITLE = max(len(title) for title in _SPEAKER_TITLES)
_POSSESSIVE = re.compile(r"['’]s\b")
# Punctuation becomes a space, so "G.K." and "G. K." normalise alike.
_NOT_WORD = re.compile(r"[^\w\s]|_")


def normalise_speaker(name: str) -> tuple[str, ...]:
    """Tokens of a speaker name: lowercased, possessive 's, punctuation and leading titles gone."""
    tokens = _NOT_WORD.sub(" ", _POSSESSIVE.sub("", name.lower())).split()
    stripped = _strip_leading_titles(tokens)
    # A name that is nothing but a title ("the President") keeps its words.
    return tuple(stripped or tokens)


def _strip_leading_titles(tokens: list[str]) -> list[str]:
    while tokens:
        for length in range(min(_LONGEST_TITLE, len(tokens)), 0, -1):
            if tuple(tokens[:length]) in _SPEAKER_TITLES:
                tokens = tokens[length:]
                break
        else:
            return tokens
    return tokens


def speaker_matches(predicted: str | None, gold: str) -> bool:
    """Whether a predicted speaker names the gold speaker, by FORMAT.md's rule.

    Equal normalised token lists match; so do two names of at least two tokens sharing the
    first and last token ("Hillary Rodham Clinton" ~ "Hillary Clinton"). A bare surname never
    matches a full name, because canonical names are full names.
    """
    if predicted is None:
        return False
    p, g = normalise_speaker(predicted), normalise_speaker(gold)
    if not p or not g:
        return False
    if p == g:
        return True
    return len(p) >= 2 and len(g) >= 2 and p[0] == g[0] and p[-1] == g[-1]


# --------------------------------------------------------------------------------------
# How the speaker is mentioned at the attribution

_PRONOUNS = frozenset(
    "i me my we us our you your he him his she her hers it its they them their theirs"
    " who whom whose which".split()
)
# Words that precede a name as a title or rank; a mention ending in one ("the President",
# "Retired General") describes its speaker rather than naming them.
_TITLE_WORDS = frozenset(
    "mr mrs ms miss mx dr prof professor sen senator rep representative del delegate gov governor"
    " lt gen general col capt sgt adm maj president vice secretary attorney chief chairman"
    " chairwoman speaker mayor judge justice rev reverend sir dame minister chancellor"
    " spokesman spokeswoman".split()
)
# Plural common nouns that open news sentences capitalised ("Officials said", "Police say").
_GENERIC_HEADS = frozenset(
    "officials police protesters demonstrators critics analysts experts residents witnesses"
    " sources aides supporters opponents voters lawmakers leaders investigators prosecutors"
    " authorities officers".split()
)
# Words that start a post-modifier: what follows them does not name the speaker
# ("Mr. Morgan of the Sierra Club", "a document on the campaign website").
_POSTMODIFIER_STARTS = frozenset(
    "of at in on from for with to by about who whom whose which that".split()
)
_PARENTHETICAL = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_QUOTED_NICKNAME = re.compile(r"[\"“][^\"”]*[\"”]")
_APPOSITION = re.compile(r",|;|\s+--?\s+|\s+—\s+")


def mention_type(speaker_mention: str | None) -> MentionType | None:
    """Classify the words at an attribution as a name, a pronoun or a description.

    ``None`` when there is no mention. A mention is a *name* when some appositive part of it
    ("Kenneth Baer, a former official" -> "Kenneth Baer") ends in a capitalised word that is
    not a title: that covers "Sen. Claire McCaskill (D-Mo.)", "Trump's", "The New York Times"
    and "White House press secretary Josh Earnest". A lone pronoun is a *pronoun*; anything
    else ("the attorney general", "a spokeswoman", "the Vermont senator") a *description*.
    """
    if speaker_mention is None or not speaker_mention.strip():
        return None
    words = _mention_words(speaker_mention)
    if len(words) == 1 and words[0].lower() in _PRONOUNS:
        return "pronoun"
    cleaned = _QUOTED_NICKNAME.sub(" ", _PARENTHETICAL.sub(" ", speaker_mention))
    # An apposition puts the name first or second ("Another critic, Laurence H. Tribe"); later
    # parts are descriptions that may well contain other names.
    appositives = [part for part in _APPOSITION.split(cleaned) if part.strip()][:2]
    heads = (_cut_postmodifier(_mention_words(part)) for part in appositives)
    # Coordinated speakers ("Neera Tanden and Blair Effron") are split after the cut, so that
    # "and" inside an organisation after "of" ("Securities and Exchange") is already gone.
    conjuncts = (conjunct for head in heads for conjunct in _split_on_and(head))
    if any(_head_names_someone(conjunct) for conjunct in conjuncts):
        return "name"
    return "description"


def _mention_words(text: str) -> list[str]:
    """Words without surrounding punctuation or a possessive ending."""
    words = (_POSSESSIVE.sub("", word).strip(".,;:!?'’\"“”()[]") for word in text.split())
    return [word for word in words if word]


def _split_on_and(words: list[str]) -> list[list[str]]:
    conjuncts: list[list[str]] = [[]]
    for word in words:
        if word == "and":
            conjuncts.append([])
        else:
            conjuncts[-1].append(word)
    return [conjunct for conjunct in conjuncts if conjunct]


def _head_names_someone(head: list[str]) -> bool:
    if not head:
        return False
    last = head[-1]
    if not _is_capitalised(last) or _is_title(last):
        return False
    # A single capitalised plural like "Officials" is a sentence start, not a name.
    return not (len(head) == 1 and last.lower() in _GENERIC_HEADS)


def _cut_postmodifier(words: list[str]) -> list[str]:
    for index, word in enumerate(words):
        # Lowercase only: "Of" may be part of a name. After a title the "of" belongs to the
        # title ("Secretary of State John Kerry"), so the cut waits for a later one.
        if index > 0 and word in _POSTMODIFIER_STARTS and not _is_title(words[index - 1]):
            return words[:index]
    return words


def _is_title(word: str) -> bool:
    return word.lower().rstrip(".") in _TITLE_WORDS


def _is_capitalised(word: str) -> bool:
    letters = [ch for ch in word if ch.isalpha()]
    return bool(letters) and letters[0].isupper()


# --------------------------------------------------------------------------------------
# Scores


@dataclass
class Tally:
    correct: int = 0
    total: int = 0

    @property
    def share(self) -> float | None:
        return self.correct / self.total if self.total else None

    def add(self, is_correct: bool) -> None:
        self.total += 1
        self.correct += int(is_correct)


# Confidence bins of the reliability table: (label, lowest confidence in the bin).
CONFIDENCE_BINS = (("0.0-0.5", 0.0), ("0.5-0.7", 0.5), ("0.7-0.8", 0.7), ("0.8-0.9", 0.8), ("0.9-1.0", 0.9))
HIGH_CONFIDENCE = 0.9  # analysts' filter: at least HIGH_CONFIDENCE_ACCURACY of these should be right
HIGH_CONFIDENCE_ACCURACY = 0.95


def confidence_bin(confidence: float) -> str:
    return [label for label, low in CONFIDENCE_BINS if confidence >= low][-1]


@dataclass
class ScopeScore:
    """Scores of one scope over all articles.

    Recall and precision have different numerators: ``tp_gold`` counts paired in-scope gold
    quotes, ``tp_pred`` counts predictions paired with any non-``other`` gold quote.
    """

    scope: str
    tp_gold: int = 0
    n_gold: int = 0
    tp_pred: int = 0
    n_pred: int = 0
    neutral_pred: int = 0  # predictions paired with an `other` gold quote: not counted at all
    speaker: Tally = field(default_factory=Tally)
    speaker_by_mention: dict[str, Tally] = field(
        default_factory=lambda: {kind: Tally() for kind in MENTION_TYPES}
    )
    # speaker accuracy per bin of the predicted quote's speaker_confidence
    reliability: dict[str, Tally] = field(default_factory=lambda: {label: Tally() for label, _ in CONFIDENCE_BINS})
    high_confidence: Tally = field(default_factory=Tally)  # speaker_confidence >= HIGH_CONFIDENCE

    @property
    def recall(self) -> float | None:
        return self.tp_gold / self.n_gold if self.n_gold else None

    @property
    def precision(self) -> float | None:
        return self.tp_pred / self.n_pred if self.n_pred else None

    @property
    def f1(self) -> float | None:
        return f1_score(self.precision, self.recall)

    def to_dict(self) -> dict[str, Any]:
        return {
            "scope": self.scope,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "tp_gold": self.tp_gold,
            "n_gold": self.n_gold,
            "tp_pred": self.tp_pred,
            "n_pred": self.n_pred,
            "neutral_pred": self.neutral_pred,
            "speaker_accuracy": self.speaker.share,
            "speaker_correct": self.speaker.correct,
            "speaker_total": self.speaker.total,
            "speaker_by_mention": {
                kind: {"accuracy": tally.share, **asdict(tally)}
                for kind, tally in self.speaker_by_mention.items()
            },
            "reliability": {label: {"accuracy": tally.share, **asdict(tally)} for label, tally in self.reliability.items()},
            "high_confidence": {"threshold": HIGH_CONFIDENCE, "accuracy": self.high_confidence.share,
                                **asdict(self.high_confidence)},
        }


def f1_score(precision: float | None, recall: float | None) -> float | None:
    """Harmonic mean; with one side undefined (nothing predicted, or nothing to find) it is 0."""
    if precision is None and recall is None:
        return None
    if precision is None or recall is None:
        return 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


@dataclass
class Report:
    scopes: dict[str, ScopeScore]
    n_articles: int
    gold_kinds: dict[str, int]
    n_predicted: int
    # Predicted quotes whose text is not text[start:end]: their offsets index some other
    # text, so they cannot match anything. Non-zero means the caller's wiring is wrong.
    offset_mismatches: int = 0
    missing_articles: list[str] = field(default_factory=list)  # gold ids without predictions

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_articles": self.n_articles,
            "gold_kinds": dict(self.gold_kinds),
            "n_predicted": self.n_predicted,
            "offset_mismatches": self.offset_mismatches,
            "missing_articles": list(self.missing_articles),
            "scopes": {name: scope.to_dict() for name, scope in self.scopes.items()},
        }


def in_scope_predictions(predicted: Sequence[Quote], scope: str) -> list[int]:
    """Indices of the predictions that take part in a scope."""
    if scope == "direct":
        return [i for i, quote in enumerate(predicted) if quote.kind == "direct"]
    return list(range(len(predicted)))


@dataclass(frozen=True)
class _ArticleOutcome:
    """Pairing of one article in one scope, indices into the full gold and predicted lists."""

    gold_of_pred: dict[int, int]  # predicted index -> gold index
    pred_of_gold: dict[int, int]  # gold index -> predicted index
    taking_part: list[int]  # predicted indices in this scope


def _pair_article(article: GoldArticle, predicted: Sequence[Quote], scope: str) -> _ArticleOutcome:
    taking_part = in_scope_predictions(predicted, scope)
    pairs = pair_quotes(article.quotes, [predicted[i] for i in taking_part], article.text)
    gold_of_pred = {taking_part[pi]: gi for gi, pi, _ in pairs}
    return _ArticleOutcome(
        gold_of_pred=gold_of_pred,
        pred_of_gold={gi: pi for pi, gi in gold_of_pred.items()},
        taking_part=taking_part,
    )


def _add_article(total: ScopeScore, article: GoldArticle, predicted: Sequence[Quote]) -> None:
    outcome = _pair_article(article, predicted, total.scope)
    recalled_kinds = SCOPE_GOLD_KINDS[total.scope]
    for pi in outcome.taking_part:
        gi = outcome.gold_of_pred.get(pi)
        if gi is not None and article.quotes[gi].kind == "other":
            total.neutral_pred += 1
            continue
        total.n_pred += 1
        total.tp_pred += int(gi is not None)
    for gi, gold in enumerate(article.quotes):
        if gold.kind not in recalled_kinds:
            continue
        total.n_gold += 1
        pi = outcome.pred_of_gold.get(gi)
        if pi is None:
            continue
        total.tp_gold += 1
        if gold.speaker is not None:
            is_correct = speaker_matches(predicted[pi].speaker, gold.speaker)
            total.speaker.add(is_correct)
            total.speaker_by_mention[mention_type(gold.speaker_mention) or "unknown"].add(is_correct)
            confidence = predicted[pi].speaker_confidence
            total.reliability[confidence_bin(confidence)].add(is_correct)
            if confidence >= HIGH_CONFIDENCE:
                total.high_confidence.add(is_correct)


def score(gold_articles: Sequence[GoldArticle], predictions: Mapping[str, Sequence[Quote]]) -> Report:
    """Score predictions (article id -> predicted quotes) against gold, in both scopes.

    A gold article with no entry in ``predictions`` counts as one where nothing was found.
    """
    scopes = {name: ScopeScore(scope=name) for name in SCOPES}
    gold_kinds = {kind: 0 for kind in GOLD_KINDS}
    n_predicted = offset_mismatches = 0
    for article in gold_articles:
        predicted = predictions.get(article.id, [])
        for quote in article.quotes:
            gold_kinds[quote.kind] += 1
        n_predicted += len(predicted)
        offset_mismatches += sum(article.text[q.start:q.end] != q.text for q in predicted)
        for total in scopes.values():
            _add_article(total, article, predicted)
    return Report(
        scopes=scopes,
        n_articles=len(gold_articles),
        gold_kinds=gold_kinds,
        n_predicted=n_predicted,
        offset_mismatches=offset_mismatches,
        missing_articles=[a.id for a in gold_articles if a.id not in predictions],
    )


# --------------------------------------------------------------------------------------
# Error records


def error_records(
    gold_articles: Sequence[GoldArticle],
    predictions: Mapping[str, Sequence[Quote]],
    scope: str = "direct+partial",
) -> list[dict[str, Any]]:
    """One record per mistake in a scope, for reading or grepping as JSON Lines.

    Error types: ``missed`` (in-scope gold quote nothing paired with), ``false_positive``
    (prediction paired with no gold quote), ``wrong_speaker`` (paired, speaker does not match)
    and ``wrong_kind`` (paired with a direct/partial gold quote of the other kind: in the
    ``direct`` scope such a quote is missed or merely not counted, and this says why).
    """
    records: list[dict[str, Any]] = []
    for article in gold_articles:
        predicted = predictions.get(article.id, [])
        outcome = _pair_article(article, predicted, scope)
        for gi, gold in enumerate(article.quotes):
            if gold.kind in SCOPE_GOLD_KINDS[scope] and gi not in outcome.pred_of_gold:
                records.append(_record(article, "missed", scope, gold=gold))
        for pi in outcome.taking_part:
            quote = predicted[pi]
            gi = outcome.gold_of_pred.get(pi)
            if gi is None:
                records.append(_record(article, "false_positive", scope, predicted=quote))
                continue
            gold = article.quotes[gi]
            if gold.kind == "other":
                continue
            if gold.kind in SCOPE_GOLD_KINDS[scope] and gold.speaker is not None \
                    and not speaker_matches(quote.speaker, gold.speaker):
                records.append(_record(article, "wrong_speaker", scope, gold=gold, predicted=quote))
            if gold.kind != quote.kind:
                records.append(_record(article, "wrong_kind", scope, gold=gold, predicted=quote))
    return records


def _record(
    article: GoldArticle,
    error: str,
    scope: str,
    gold: GoldQuote | None = None,
    predicted: Quote | None = None,
) -> dict[str, Any]:
    spans = [q for q in (gold, predicted) if q is not None]
    start, end = min(q.start for q in spans), max(q.end for q in spans)
    return {
        "article_id": article.id,
        "error": error,
        "scope": scope,
        "gold_start": gold.start if gold else None,
        "gold_end": gold.end if gold else None,
        "gold_text": gold.text if gold else None,
        "gold_kind": gold.kind if gold else None,
        "gold_speaker": gold.speaker if gold else None,
        "speaker_mention": gold.speaker_mention if gold else None,
        "mention_type": mention_type(gold.speaker_mention) if gold else None,
        "pred_start": predicted.start if predicted else None,
        "pred_end": predicted.end if predicted else None,
        "pred_text": predicted.text if predicted else None,
        "pred_kind": predicted.kind if predicted else None,
        "pred_speaker": predicted.speaker if predicted else None,
        "pred_speaker_mention": predicted.speaker_mention if predicted else None,
        "pred_method": predicted.method if predicted else None,
        "context": article.text[max(0, start - CONTEXT_CHARS): end + CONTEXT_CHARS],
    }


def write_error_records(records: Iterable[Mapping[str, Any]], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


# --------------------------------------------------------------------------------------
# Presentation


def _fmt(value: float | None) -> str:
    return "  n/a" if value is None else f"{value:.3f}"


def _fmt_tally(tally: Tally) -> str:
    return f"{_fmt(tally.share)} ({tally.correct}/{tally.total})"


def format_report(report: Report) -> str:
    """A plain-text table for the terminal."""
    kinds = ", ".join(f"{n} {kind}" for kind, n in report.gold_kinds.items())
    lines = [
        f"quotewire eval: {report.n_articles} articles; gold quotes: {kinds}; "
        f"predicted quotes: {report.n_predicted}",
        "",
        f"{'scope':<16}{'precision':>10}{'recall':>8}{'F1':>8}"
        f"{'gold found':>13}{'pred right':>13}{'speaker acc':>22}",
    ]
    for scope in report.scopes.values():
        lines.append(
            f"{scope.scope:<16}{_fmt(scope.precision):>10}{_fmt(scope.recall):>8}{_fmt(scope.f1):>8}"
            f"{f'{scope.tp_gold}/{scope.n_gold}':>13}{f'{scope.tp_pred}/{scope.n_pred}':>13}"
            f"{_fmt_tally(scope.speaker):>22}"
        )
    lines += ["", "speaker accuracy by how the gold speaker is mentioned at the attribution:",
              f"{'scope':<16}" + "".join(f"{kind:>22}" for kind in MENTION_TYPES)]
    for scope in report.scopes.values():
        lines.append(f"{scope.scope:<16}" + "".join(
            f"{_fmt_tally(scope.speaker_by_mention[kind]):>22}" for kind in MENTION_TYPES))
    lines += ["", "speaker accuracy by the predicted speaker_confidence (reliability):",
              f"{'scope':<16}" + "".join(f"{label:>22}" for label, _ in CONFIDENCE_BINS)]
    for scope in report.scopes.values():
        lines.append(f"{scope.scope:<16}" + "".join(
            f"{_fmt_tally(scope.reliability[label]):>22}" for label, _ in CONFIDENCE_BINS))
    for scope in report.scopes.values():
        high = scope.high_confidence
        verdict = "n/a" if high.share is None else "met" if high.share >= HIGH_CONFIDENCE_ACCURACY else "NOT met"
        lines.append(f"{scope.scope}: speaker_confidence >= {HIGH_CONFIDENCE}: {_fmt_tally(high)} right "
                     f"(target >= {HIGH_CONFIDENCE_ACCURACY}: {verdict})")
    lines += ["", "precision = predictions paired with a gold quote / predictions not paired with an"
                  " `other` quote; recall = gold quotes of the scope paired / gold quotes of the scope."]
    if report.offset_mismatches:
        lines.append(f"WARNING: {report.offset_mismatches} predicted quotes have text != article text"
                     " at their offsets; the analysis is indexing a different text.")
    if report.missing_articles:
        lines.append(f"WARNING: no predictions for {len(report.missing_articles)} articles.")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# Running


def evaluate(
    gold_paths: Sequence[Path],
    analyse: Callable[[str], list[Quote]],
    errors_path: Path | None = None,
) -> Report:
    """Run ``analyse`` over every gold article's text and score what it finds.

    ``analyse`` must return quotes whose offsets index the text it was given. With
    ``errors_path``, the ``direct+partial`` error records are written there as JSON Lines.
    """
    articles = load_gold(gold_paths)
    predictions = {article.id: list(analyse(article.text)) for article in articles}
    if errors_path is not None:
        write_error_records(error_records(articles, predictions), errors_path)
    return score(articles, predictions)
