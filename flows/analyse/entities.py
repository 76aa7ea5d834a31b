"""Named entities: spaCy NER per paragraph, then one canonical name per thing an article names.

Two stages, kept apart so the second can be tested without a model:

    recognise     spaCy NER over every paragraph of every article in ONE ``nlp.pipe`` stream,
                  offsets mapped back to ``ArticleStructure.text``
    canonicalise  pure: within one article, give each mention the fullest name the article
                  uses for the thing it refers to ("Sessions" -> "Jeff Sessions",
                  "NAIJ" -> "National Association of Immigration Judges")

NER runs per paragraph, not on the whole text: run on the whole text, the model glues the
section line onto the headline ("Jeff Sessions\\n\\nJeff Sessions Tells ...") into one entity.
"""

from __future__ import annotations

import bisect
import hashlib
import re
import struct
import weakref
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from functools import cache, lru_cache
from pathlib import Path

import spacy
from spacy.language import Language

from quotewire.analyse.attribution import FEMALE_FIRST_NAMES, MALE_FIRST_NAMES, NAME_SUFFIXES, is_subsequence
from quotewire.read.document import ArticleStructure, Mention, Paragraph
from quotewire.analyse.literals import find_literals
from quotewire.settings import DEFAULT_SPACY_MODEL, FALLBACK_SPACY_MODELS
from quotewire.runtime.stage_clock import StageClock

# ---------------------------------------------------------------------------------------------
# Loading the model
# ---------------------------------------------------------------------------------------------

# Components NER never reads from; ``exclude`` means they are not even loaded.
NOT_NEEDED_FOR_NER = ("parser", "tagger", "lemmatizer", "attribute_ruler", "senter")


class ModelNotInstalledError(OSError):
    """No spaCy model of the requested name (nor its fallback) is installed."""


def is_model_installed(name: str) -> bool:
    """A model is loadable by name when it is an installed package or a model directory."""
    return spacy.util.is_package(name) or Path(name).is_dir()


def resolve_model_name(requested: str, is_installed: Callable[[str], bool] = is_model_installed) -> str:
    """The model to load: the one requested, or, only for the default, its upstream twin.

    An explicitly chosen model never silently falls back: whoever set QUOTEWIRE_SPACY_MODEL
    meant that model, and results from another would be mislabelled.
    """
    candidates = [requested]
    if requested == DEFAULT_SPACY_MODEL:
        candidates += FALLBACK_SPACY_MODELS
    for name in candidates:
        if is_installed(name):
            return name
    installed = sorted(spacy.util.get_installed_models()) or ["none"]
    raise ModelNotInstalledError(
        f"spaCy model {requested!r} is not installed (tried: {', '.join(candidates)}). "
        f"Installed spaCy models: {', '.join(installed)}. Set QUOTEWIRE_SPACY_MODEL (or --spacy-model) "
        f"to one of them, or install {DEFAULT_SPACY_MODEL} (see requirements.lock)."
    )


def drop_unheard_embedders(nlp: Language) -> None:
    """Remove shared embedding layers (tok2vec, transformer) that no remaining component listens to.

    In the en_core_web_sm family only tagger and parser listen to the shared tok2vec; NER
    embeds its own. With those two excluded, the shared tok2vec would run for nothing.
    A model whose NER does listen keeps it.
    """
    for name in list(nlp.pipe_names):
        listeners = getattr(nlp.get_pipe(name), "listening_components", None)
        if listeners is not None and not listeners:
            nlp.remove_pipe(name)


@cache  # one load per process: every batch a worker analyses reuses it
def load_nlp(model_name: str = DEFAULT_SPACY_MODEL) -> Language:
    """The spaCy pipeline reduced to what NER needs (see NOT_NEEDED_FOR_NER, drop_unheard_embedders);
    the process running it is tuned by the runtime (runtime/process.py)."""
    name = resolve_model_name(model_name)
    nlp = spacy.load(name, exclude=list(NOT_NEEDED_FOR_NER))
    if "ner" not in nlp.pipe_names:
        raise ValueError(f"spaCy model {name!r} has no 'ner' component (it has {nlp.pipe_names})")
    drop_unheard_embedders(nlp)
    return nlp


# ---------------------------------------------------------------------------------------------
# Recognising
# ---------------------------------------------------------------------------------------------


def paragraph_stream(articles: Sequence[ArticleStructure]) -> Iterator[tuple[str, tuple[int, Paragraph]]]:
    """(paragraph text, (article index, paragraph)) for every non-blank paragraph, in order."""
    for article_index, article in enumerate(articles):
        for paragraph in article.paragraphs:
            if article.text[paragraph.start:paragraph.end] != paragraph.text:
                # Offsets are the contract every table relies on: fail loudly, never mis-place.
                raise ValueError(f"paragraph {paragraph.position} text does not match text[start:end]")
            if paragraph.text.strip():
                yield paragraph.text, (article_index, paragraph)


# A paragraph longer than this goes to NER in pieces. spaCy refuses a text over nlp.max_length
# (1,000,000 chars), and NER holds working memory for a quarter of a batch at once (docs
# sorted by length), about 3 KB per character. A 3 MB one-line article peaks at 188 MB RSS
# with the model at the pipeline's batch size of 32, 643 MB at 256; 100,000-char pieces took
# 9.5 GB at 256. Of PolNeAR's 18,164 paragraphs 37 are longer.
NER_CHUNK_CHARS = 2_000
# A sentence end to cut after: a stop after a lower-case word of three letters or more (not
# "St." or "Nov."), then white space and a capital letter or an opening quote.
SENTENCE_END_AND_SPACE = re.compile(r"(?<=[a-z]{3})[.!?][\"'”’)\]]*\s+(?=[\"'“‘]?[A-Z])")


# Where to cut a piece when it holds no sentence end, best first: after a clause mark, then
# before a lower-case word (so never inside a run of capitalised name words), then any space.
CLAUSE_BREAK = re.compile(r"[,;:]\s+")
BEFORE_LOWER_CASE = re.compile(r"\s+(?=[a-z])")
ANY_SPACE = re.compile(r"\s+")


def chunk_bounds(text: str, limit: int = NER_CHUNK_CHARS) -> list[tuple[int, int]]:
    """[start, end) pieces covering ``text``, none longer than ``limit``: each cut falls after
    the last sentence end in the second half of a piece, failing that at the last clause break
    or space there (see CLAUSE_BREAK), and inside a word only when the half has no space at
    all. A text within the limit is one piece."""
    pieces = []
    start = 0
    while len(text) - start > limit:
        window_end = start + limit
        cut = window_end
        for pattern in (SENTENCE_END_AND_SPACE, CLAUSE_BREAK, BEFORE_LOWER_CASE, ANY_SPACE):
            last = None
            for last in pattern.finditer(text, start + limit // 2, window_end):
                pass
            if last is not None and last.end() < window_end:
                cut = last.end()
                break
        pieces.append((start, cut))
        start = cut
    pieces.append((start, len(text)))
    return pieces


def ner_stream(articles: Sequence[ArticleStructure], limit: int = NER_CHUNK_CHARS
               ) -> Iterator[tuple[str, tuple[int, Paragraph, int]]]:
    """(text, (article index, paragraph, offset in the paragraph)) for every piece of every
    non-blank paragraph: a paragraph within ``limit`` is one piece."""
    for text, (article_index, paragraph) in paragraph_stream(articles):
        if len(text) <= limit:
            yield text, (article_index, paragraph, 0)
            continue
        for start, end in chunk_bounds(text, limit):
            if text[start:end].strip():
                yield text[start:end], (article_index, paragraph, start)


# Wire copy repeats itself: sign-offs ("Reuter"), "Terms were not disclosed.", a paragraph
# of a story filed again with a new lead. Of the non-blank paragraphs of the first 2,000 BBC
# articles 2.3 % repeat an earlier one (2.1 % of the characters); of 20,000 BBC + Reuters
# 4.0 % (3.5 %). A piece's entities depend only on its text (spaCy runs each doc on its own,
# whatever else shares its batch: tested), so each process keeps what NER found in the pieces
# it ran, by a digest of the text, and runs NER once per distinct text. Two generations of
# at most REMEMBERED_PIECES // 2 entries bound the memory (about 130 bytes an entry, 2.6 MB
# in all). Simulated over the batches of the 20,000-article plan, two workers taking turns
# reuse 2.9 % of the characters so (3.0 % remembering everything; one memory for both, 3.5 %).
REMEMBERED_PIECES = 20_000
_SPAN = struct.Struct("<IIH")  # start, end, label index: an entity in 10 bytes


class RememberedEntities:
    """The entities NER found in the piece texts one model has already seen: ``get`` gives
    (start, end, label) triples or None; ``put`` remembers a piece's (empty ones too). With
    capacity 0 it remembers nothing (NO_MEMORY: every piece goes to NER)."""

    def __init__(self, capacity: int = REMEMBERED_PIECES) -> None:
        self.capacity = capacity
        self._current: dict[bytes, bytes] = {}
        self._previous: dict[bytes, bytes] = {}
        self._labels: list[str] = []
        self._label_index: dict[str, int] = {}

    @staticmethod
    def key(text: str) -> bytes:
        return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()

    def get(self, key: bytes) -> list[tuple[int, int, str]] | None:
        packed = self._current.get(key)
        if packed is None:
            packed = self._previous.get(key)
            if packed is None:
                return None
            self._store(key, packed)  # still in use: keep it when the older generation goes
        labels = self._labels
        return [(start, end, labels[label]) for start, end, label in _SPAN.iter_unpack(packed)]

    def put(self, key: bytes, spans: Sequence[tuple[int, int, str]]) -> None:
        if self.capacity <= 0:
            return
        index = self._label_index
        for _, _, label in spans:
            if label not in index:
                # The label is in the list before its index is published, so a thread
                # reading the index (a threads runner shares the model) always finds it.
                self._labels.append(label)
                index[label] = self._labels.index(label)
        self._store(key, b"".join(_SPAN.pack(start, end, index[label]) for start, end, label in spans))

    def _store(self, key: bytes, packed: bytes) -> None:
        if len(self._current) >= self.capacity // 2:
            self._previous, self._current = self._current, {}
        self._current[key] = packed


NO_MEMORY = RememberedEntities(capacity=0)
_remembered: "weakref.WeakKeyDictionary[Language, RememberedEntities]" = weakref.WeakKeyDictionary()


def remembered_entities(nlp: Language) -> RememberedEntities:
    """This process's memory of ``nlp``'s NER results (one per model: another model may find
    other entities in the same text)."""
    memory = _remembered.get(nlp)
    if memory is None:
        memory = _remembered[nlp] = RememberedEntities()
    return memory


def entity_spans(nlp: Language, pieces: Sequence[str], batch_size: int,
                 memory: RememberedEntities | None = None, clock: StageClock | None = None
                 ) -> list[list[tuple[int, int, str]]]:
    """(start, end, label) of each piece's entities, in the piece's own offsets: NER runs once
    per text this process has not met before (see REMEMBERED_PIECES), in one ``nlp.pipe``
    stream so spaCy batches across article boundaries."""
    memory = memory if memory is not None else remembered_entities(nlp)
    if memory.capacity <= 0:
        keys, spans, first_of, to_run = [b""] * len(pieces), [None] * len(pieces), {}, range(len(pieces))
    else:
        keys = [memory.key(text) for text in pieces]
        spans = [memory.get(key) for key in keys]
        first_of, to_run = {}, []
        for index, key in enumerate(keys):
            if spans[index] is None and key not in first_of:
                first_of[key] = index
                to_run.append(index)
    for doc, index in nlp.pipe(((pieces[i], i) for i in to_run), as_tuples=True, batch_size=batch_size):
        found = [(ent.start_char, ent.end_char, ent.label_) for ent in doc.ents]
        memory.put(keys[index], found)
        spans[index] = found
    for index, key in enumerate(keys):
        if spans[index] is None:  # a repeat of a text earlier in this same call
            spans[index] = spans[first_of[key]]
    if clock is not None:
        clock.count("ner_pieces", len(pieces))
        clock.count("ner_pieces_reused", len(pieces) - len(to_run))
    return spans


def mentions_from_spans(spans: Sequence[tuple[int, int, str]], paragraph: Paragraph, offset: int = 0
                        ) -> list[Mention]:
    """A piece's entities as Mentions whose offsets index the article text (name not yet
    canonical); ``offset``: where the piece starts in the paragraph.

    An entity's text is sliced from the paragraph, not taken from spaCy's ``ent.text``, which
    joins the tokens up again: that made this loop about three times as slow, 0.2 s for 600
    articles whose NER took 26 s."""
    mentions = []
    for ent_start, ent_end, label in spans:
        start, end = offset + ent_start, offset + ent_end
        text = paragraph.text[start:end]
        mentions.append(Mention(paragraph.start + start, paragraph.start + end, text, label, text,
                                paragraph.position))
    return mentions


def recognise(nlp: Language, articles: Sequence[ArticleStructure], batch_size: int = 256,
              clock: StageClock | None = None, memory: RememberedEntities | None = None) -> list[list[Mention]]:
    """NER mentions of each article, with canonical names; one list per article, in text order.

    A paragraph over NER_CHUNK_CHARS goes in pieces cut at sentence ends (see chunk_bounds);
    a piece whose text this process has recognised before is not run again (entity_spans;
    ``memory``: whose results to reuse, by default this process's for ``nlp``).
    """
    clock = clock or StageClock()
    found: list[list[Mention]] = [[] for _ in articles]
    limit = min(NER_CHUNK_CHARS, nlp.max_length)
    with clock("ner"):
        pieces, places = [], []
        for text, place in ner_stream(articles, limit):
            pieces.append(text)
            places.append(place)
        for spans, (article_index, paragraph, offset) in zip(
                entity_spans(nlp, pieces, batch_size, memory, clock), places):
            found[article_index].extend(mentions_from_spans(spans, paragraph, offset))
    with clock("entities"):
        return [resolve_mentions(mentions, article) for mentions, article in zip(found, articles)]


def resolve_mentions(mentions: Sequence[Mention], article: ArticleStructure) -> list[Mention]:
    """One article's raw NER mentions made into its entity mentions: over-extended spans
    trimmed (``trim_spans``), canonical names (``canonicalise``), then the later mentions NER
    missed added (``match_aliases``). Linear regex work per article, no model."""
    trimmed = trim_spans(join_institution_names(mentions, article.text), article)
    return match_aliases(canonicalise(trimmed, text=article.text), article)


# Heads of a public body's name that go on with "for the …" / "of the …" naming its part or
# remit: "Court of Appeals for the Ninth Circuit", "Office of the Inspector General".
INSTITUTION_HEADS = frozenset({"court", "appeals", "office", "directorate", "commission", "committee", "council",
                               "department", "bureau", "agency", "board", "tribunal"})
INSTITUTION_LINK = re.compile(r"\s+(?:for|of)\s+(the\s+)?")


def join_institution_names(mentions: Sequence[Mention], text: str) -> list[Mention]:
    """One ORG for a body NER cut in two at "for the" / "of the" ("the U.S. Court of Appeals"
    + "the Sixth Circuit"): only when the first ends in the head of a public body's name, so
    "Edison Research for the Associated Press" stays two."""
    ordered = sorted(mentions, key=lambda m: m.start)
    joined: list[Mention] = []
    for mention in ordered:
        previous = joined[-1] if joined else None
        link = INSTITUTION_LINK.fullmatch(text, previous.end, mention.start) if previous is not None else None
        if (link is not None and previous.label == mention.label == "ORG"
                and previous.paragraph_position == mention.paragraph_position
                and previous.text.split()[-1].casefold() in INSTITUTION_HEADS
                and (link.group(1) or mention.text.lower().startswith("the "))):
            joined[-1] = replace(previous, end=mention.end, text=text[previous.start:mention.end],
                                 name=text[previous.start:mention.end])
            continue
        joined.append(mention)
    return joined


# ---------------------------------------------------------------------------------------------
# Canonical names
# ---------------------------------------------------------------------------------------------

# Labels that name a thing; numeric and temporal labels (DATE, MONEY, CARDINAL, ...) are
# values, keep their own text as name, and never cluster with names ("May" the date is not
# "May" the prime minister).
NAME_LABELS = frozenset(
    {"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "LANGUAGE"}
)
# Non-person names whose leading "the" is not part of the name ("the Justice Department").
# WORK_OF_ART is left out: "The Godfather" is the title.
THE_DROPPING_LABELS = NAME_LABELS - {"PERSON", "WORK_OF_ART"}

# Leading words that are a role, not part of a person's name. Compared casefolded, without
# a trailing period. Bare "general" is left out ("General Motors" mislabelled PERSON would
# lose its first word); "Gen." is in.
PERSON_TITLES: tuple[tuple[str, ...], ...] = tuple(
    tuple(title.split())
    for title in sorted(
        [
            "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "professor", "sir", "dame", "lord", "lady",
            "sen", "senator", "rep", "representative", "congressman", "congresswoman", "gov", "governor",
            "president", "president-elect", "vice president", "prime minister", "attorney general",
            "deputy attorney general", "solicitor general", "surgeon general", "secretary of state",
            "secretary", "home secretary", "foreign secretary", "chancellor", "minister", "speaker",
            "mayor", "judge", "justice", "chief justice", "ambassador", "commissioner", "sheriff",
            "gen", "lt", "col", "maj", "capt", "cmdr", "adm", "sgt", "cpl", "pvt", "det", "insp",
            "rev", "reverend", "fr", "father", "del", "delegate", "bishop", "cardinal", "pope", "king", "queen", "prince",
            "princess", "chairman", "chairwoman", "chief executive", "ceo", "coach", "first lady",
            "former", "acting", "then", "late", "deputy", "interim", "incoming", "outgoing",
        ],
        key=lambda title: -len(title.split()),  # longest first: "attorney general" before "attorney"
    )
)

# Labels the small model gives a bare surname by mistake, typically right after a closing
# quote ("...one city," Whitcombe told ... -> WORK_OF_ART). A name carrying only these labels
# may still be the short form of a PERSON named in full elsewhere in the article.
WEAK_LABELS = frozenset({"WORK_OF_ART", "PRODUCT", "EVENT", "LAW", "LANGUAGE"})

# Words skipped when forming initials: "National Association of Immigration Judges" -> NAIJ.
INITIALS_STOPWORDS = frozenset({"of", "and", "for", "the", "&", "on", "in", "to", "de", "du", "la", "des"})

# "(NAIJ)" right after a name defines NAIJ as that name.
ACRONYM_DEFINITION = re.compile(r"\s*\(\s*([A-Z][A-Za-z0-9&.\-]{1,11})\s*\)")

EDGE_PUNCTUATION = "\"“”«»()[]{},;:"
QUOTE_MARKS = "\"“”‘’«»"
POSSESSIVE = re.compile(r"(?:['’]s|(?<=s)['’])$", re.IGNORECASE)
POSSESSIVE_LAST_CHARS = frozenset("sSſ'’\n")  # what a POSSESSIVE match ends with (ſ: IGNORECASE), or a final newline after it

NameKey = tuple[str, ...]


TITLES_BY_FIRST_WORD: dict[str, tuple[tuple[str, ...], ...]] = {}
for _title in PERSON_TITLES:
    TITLES_BY_FIRST_WORD[_title[0]] = TITLES_BY_FIRST_WORD.get(_title[0], ()) + (_title,)
MAX_TITLE_WORDS = max(map(len, PERSON_TITLES))


def strip_possessive(form: str) -> str:
    """'Sessions’s' / "Sessions'" / "Jones's" -> the name alone."""
    if form[-1:] not in POSSESSIVE_LAST_CHARS:  # most names: no regex run (every mention asks)
        return form
    stripped = POSSESSIVE.sub("", form)
    return stripped or form


def strip_leading_titles(tokens: list[str]) -> list[str]:
    """Drop leading role words ("Attorney General", "Mr.", "former"), never the whole name."""
    while tokens:
        folded = [token.casefold().rstrip(".") for token in tokens[:MAX_TITLE_WORDS]]
        # Only the titles starting with this word can match; they keep PERSON_TITLES' order.
        title = next((t for t in TITLES_BY_FIRST_WORD.get(folded[0], ())
                      if tuple(folded[: len(t)]) == t and len(t) < len(tokens)), None)
        if title is None:
            return tokens
        tokens = tokens[len(title):]
    return tokens


@lru_cache(maxsize=4096)  # pure, and an article names the same things again and again (bounded: workers live long)
def clean_form(text: str, label: str) -> str:
    """The mention as a name: whitespace normalised; for people possessive and titles removed,
    for other names a leading 'the' removed.

    Only people lose a possessive here: "McDonald's" or "Sainsbury's" is an organisation's
    whole name. An organisation's possessive goes in ``drop_org_possessives``, when the
    article also uses the bare name.
    """
    spaced = " ".join(text.split())
    form = spaced.strip(EDGE_PUNCTUATION).strip() or spaced
    if label not in NAME_LABELS:
        return form
    tokens = form.split()
    if label == "PERSON":
        tokens = strip_leading_titles(strip_possessive(form).split())
    elif label in THE_DROPPING_LABELS and len(tokens) > 1 and tokens[0].casefold() == "the":
        tokens = tokens[1:]
    return " ".join(tokens) or form


def drop_org_possessives(forms: Sequence[str]) -> list[str]:
    """"Harbour Wire's" -> "Harbour Wire" when the article also names "Harbour Wire", bare or
    as the start of a longer name ("Harbour Wire Daily")."""
    keys = [name_key(form) for form in forms]

    def used_elsewhere(bare: NameKey) -> bool:
        return any(key[: len(bare)] == bare for key in keys)

    return [
        bare if (bare := strip_possessive(form)) != form and used_elsewhere(name_key(bare)) else form
        for form in forms
    ]


@lru_cache(maxsize=4096)
def name_key(form: str) -> NameKey:
    """What two spellings of one name share: casefolded tokens without trailing periods."""
    return tuple(token.strip(QUOTE_MARKS).casefold().rstrip(".") or token for token in form.split())


def looks_like_acronym(form: str) -> bool:
    letters = form.replace(".", "").replace("&", "")
    return " " not in form and 2 <= len(letters) <= 10 and letters.isalnum() and letters.isupper()


def initials(key: NameKey, skip_stopwords: bool) -> str:
    return "".join(token[0] for token in key if not (skip_stopwords and token in INITIALS_STOPWORDS))


def expands_acronym(acronym: NameKey, full: NameKey) -> bool:
    """"NAIJ" abbreviates "National Association of Immigration Judges" (stopwords skipped or not)."""
    letters = acronym[0].replace(".", "").replace("&", "")
    return len(full) >= 2 and letters in (initials(full, True), initials(full, False))


def most_common_form(forms: Sequence[str]) -> str:
    """The spelling used most; a tie goes to the one seen first."""
    return forms[0] if len(forms) == 1 else Counter(forms).most_common(1)[0][0]


def majority_label(labels: Sequence[str]) -> str:
    """Most frequent label; a tie goes to the label seen first (Counter keeps insertion order)."""
    return Counter(labels).most_common(1)[0][0]


@cache
def _one_label(label: str) -> frozenset[str]:
    return frozenset((label,))


def labels_in_the_running(labels: Sequence[str]) -> frozenset[str]:
    """Every label with the top count: a name tagged PERSON once and ORG once may be either."""
    if len(labels) == 1:  # most names: no counting needed, nor a new set
        return _one_label(labels[0])
    counts = Counter(labels)
    top = max(counts.values())
    return frozenset(label for label, count in counts.items() if count == top)


def acronym_definitions(mentions: Sequence[Mention], keys: Sequence[NameKey | None], text: str | None) -> dict[NameKey, NameKey]:
    """Acronyms defined in parentheses right after a non-person name: "... Judges (NAIJ)"."""
    if text is None:
        return {}
    definitions: dict[NameKey, NameKey] = {}
    for mention, key in zip(mentions, keys):
        if key is None or mention.label == "PERSON" or len(key) < 2:
            continue
        match = ACRONYM_DEFINITION.match(text, mention.end)
        if match and looks_like_acronym(match.group(1)):
            definitions.setdefault(name_key(match.group(1)), key)
    return definitions


def last_name_key(key: NameKey) -> NameKey:
    """The surname of a person's name key, a suffix (Jr., III) aside."""
    words = [word for word in key[1:] if word not in NAME_SUFFIXES]
    return words[-1:] and (words[-1],) or ()


LOCATIVE = re.compile(r"\b(?:in|from|to|across|near|at|of|outside|inside)\s+$", re.IGNORECASE)


def surnames_mislabelled(
    labels_by_key: dict[NameKey, list[str]],
    starts: dict[NameKey, list[int]],
    text: str | None,
) -> frozenset[NameKey]:
    """One-word names NER tagged mostly ORG (or, with ``text``, GPE/LOC) that are the surname
    of a person the article names in full: "Roe said" with "Ann Roe" earlier is Ann Roe, whatever
    the label. A GPE is only taken when the article never writes it as a place ("in Roe")."""
    person_surnames = {
        last_name_key(key) for key, labels in labels_by_key.items() if len(key) >= 2 and "PERSON" in labels
    }
    found = set()
    for key, labels in labels_by_key.items():
        top = labels_in_the_running(labels)
        if len(key) != 1 or key not in person_surnames or "PERSON" in top:
            continue
        if "ORG" in top:
            found.add(key)
        elif text is not None and top <= {"GPE", "LOC"} and not any(
            LOCATIVE.search(text, max(0, start - 12), start) for start in starts[key]
        ):
            found.add(key)
    return frozenset(found)


def fuller_names(
    key: NameKey,
    labels: frozenset[str],
    forms: dict[NameKey, str],
    names_longest_first: Sequence[tuple[NameKey, frozenset[str]]],
    definitions: dict[NameKey, NameKey],
    mislabelled_surnames: frozenset[NameKey] = frozenset(),
) -> set[NameKey]:
    """The longer names in the article (``names_longest_first``: every name with its labels,
    by token count, longest first) that this name may be a short form of.

    Each rule only fires for the label it is safe for: "Washington" (GPE) is not a short form
    of "George Washington"; "Trump" (PERSON) is not a short form of "Trump Organization".
    """
    candidates: set[NameKey] = set()
    may_be_person = "PERSON" in labels or labels <= WEAK_LABELS
    if key in definitions:
        candidates.add(definitions[key])
    # This runs for every pair of names in an article: what depends on ``key`` alone is
    # worked out once, outside the loop.
    size = len(key)
    is_org = "ORG" in labels
    mislabelled = key in mislabelled_surnames
    acronym = looks_like_acronym(forms[key])
    for other, other_labels in names_longest_first:
        if len(other) <= size:
            break  # the rest are no longer than this name
        other_is_person = "PERSON" in other_labels
        if other_is_person:
            if may_be_person and is_subsequence(key, other):
                candidates.add(other)  # surname, first name, or name without middle name
            elif mislabelled and last_name_key(other) == key:
                candidates.add(other)  # a surname NER tagged ORG ("Roe said" -> ORG)
        if is_org and "ORG" in other_labels and (
                other[:size] == key  # "BuzzFeed" -> "BuzzFeed News"
                or other[-size:] == key  # "Security Council" -> "United Nations Security Council", "Times"
                or abbreviates_head(key, other, forms[key])):  # "U.N. Security Council" -> the same
            candidates.add(other)
        if not other_is_person and acronym and expands_acronym(key, other):
            candidates.add(other)  # "NAIJ", "US" -> "United States"
    return candidates


def abbreviates_head(key: NameKey, other: NameKey, form: str) -> bool:
    """"U.N. Security Council" is "United Nations Security Council": an acronym standing for
    the words before the same tail."""
    tail = len(key) - 1
    if tail < 1 or len(other) <= len(key) or other[len(other) - tail:] != key[1:]:
        return False
    return looks_like_acronym(form.split()[0]) and expands_acronym(key[:1], other[: len(other) - tail])


def nearest_preceding(candidates: set[NameKey], position: int, starts: dict[NameKey, list[int]]) -> NameKey:
    """The candidate mentioned last before ``position``; if none precedes, the one mentioned next."""
    def distance(candidate: NameKey) -> tuple[int, int]:
        before = [start for start in starts[candidate] if start < position]
        if before:
            return (0, position - max(before))
        return (1, min(starts[candidate]) - position)

    return min(sorted(candidates), key=distance)  # sorted: a full tie resolves the same way every run


def canonicalise(mentions: Sequence[Mention], text: str | None = None) -> list[Mention]:
    """Mentions of one article with ``name`` set to the fullest name the article uses for the
    same thing, and ``label`` set to that thing's label. Pure; same order as given.

    Rules (names compared casefolded, after ``clean_form``):
    - Same name, any labels: one thing. NER tags one string differently in different
      paragraphs ("BuzzFeed" PERSON here, ORG there); the labels with the top count decide
      which rules below apply to the name.
    - PERSON: a name whose tokens appear in order in a longer PERSON name is that person
      ("Sessions", "Jeff" -> "Jeff Sessions"); titles and possessives are already gone. A
      one-word ORG that is a full name's surname is that person too, and counts as PERSON
      for the label (the small model often tags a lone surname ORG); so is a one-word
      GPE/LOC surname the article never writes as a place (``surnames_mislabelled``).
    - ORG: a token prefix of a longer ORG is it ("BuzzFeed" -> "BuzzFeed News"), and so is a
      token suffix ("Security Council" -> "United Nations Security Council"); an acronym
      defined in parentheses after a name (needs ``text``), or equal to a longer non-person
      name's initials, is that name ("NAIJ" -> "National Association of Immigration Judges").
    - Chains resolve to the end ("Sessions" -> "Jeff Sessions" -> "Jeff B. Sessions").
    - Ambiguity (a short name fits several different full names, e.g. two people sharing a
      surname): the full name mentioned nearest before the mention wins; if none comes before,
      the nearest after. For an ORG prefix (or suffix) fitting several ORGs ("Apple": "Apple
      Music", "Apple TV") no link is made: the short name most likely names the parent.
    - Label: every mention of one thing gets the thing's majority label (ties: the label of
      the fullest name), so one entity is not split across labels in the tables. The row's
      own NER guess is not kept; ``text`` still shows what was written.
    Value labels (DATE, MONEY, CARDINAL, ...) keep their label and whitespace-normalised text.
    """
    forms = drop_org_possessives([clean_form(m.text, m.label) for m in mentions])
    keys: list[NameKey | None] = [
        name_key(form) or None if m.label in NAME_LABELS else None for m, form in zip(mentions, forms)
    ]

    labels_by_key: dict[NameKey, list[str]] = defaultdict(list)
    forms_by_key: dict[NameKey, list[str]] = defaultdict(list)
    starts: dict[NameKey, list[int]] = defaultdict(list)
    for mention, form, key in zip(mentions, forms, keys):
        if key is not None:
            labels_by_key[key].append(mention.label)
            forms_by_key[key].append(form)
            starts[key].append(mention.start)
    group_labels = {key: labels_in_the_running(labels) for key, labels in labels_by_key.items()}
    first_form = {key: group[0] for key, group in forms_by_key.items()}
    definitions = acronym_definitions(mentions, keys, text)
    mislabelled = surnames_mislabelled(labels_by_key, starts, text)
    names_longest_first = sorted(group_labels.items(), key=lambda item: -len(item[0]))
    candidates = {
        key: fuller_names(key, group_labels[key], first_form, names_longest_first, definitions, mislabelled)
        for key in group_labels
    }

    def resolve(key: NameKey, position: int) -> NameKey:
        # Terminates: every candidate has more tokens than the name (definitions: 1 -> >= 2).
        options = candidates[key]
        if not options:
            return key
        roots = {resolve(option, position) for option in options}
        if len(roots) == 1:
            return roots.pop()
        if "PERSON" not in group_labels[key] and all(key in (option[: len(key)], option[-len(key):]) for option in options):
            # Only ORG prefix/suffix links compete (a PERSON tie would also allow the person rule).
            return key  # ambiguous ORG prefix or suffix: leave it alone
        return resolve(nearest_preceding(options, position, starts), position)

    roots = [resolve(key, mention.start) if key is not None else None for mention, key in zip(mentions, keys)]

    cluster_labels: dict[NameKey, list[str]] = defaultdict(list)
    for mention, key, root in zip(mentions, keys, roots):
        if root is not None:
            person_surname = key in mislabelled and root != key and "PERSON" in group_labels[root]
            cluster_labels[root].append("PERSON" if person_surname else mention.label)

    def cluster_label(root: NameKey) -> str:
        if len(set(cluster_labels[root])) == 1:  # most things: one label, nothing to weigh
            return cluster_labels[root][0]
        counts = Counter(cluster_labels[root])
        top = max(counts.values())
        tied = [label for label, count in counts.items() if count == top]
        own = majority_label(labels_by_key[root])
        return own if own in tied else tied[0]

    display = {root: most_common_form(forms_by_key[root]) for root in cluster_labels}
    label_of = {root: cluster_label(root) for root in cluster_labels}
    return [
        mention.renamed(form) if root is None else mention.renamed(display[root], label_of[root])
        for mention, form, root in zip(mentions, forms, roots)
    ]


# ---------------------------------------------------------------------------------------------
# Span repair (before canonical names) and alias matching (after)
# ---------------------------------------------------------------------------------------------

# A dash with space around it (or an em/horizontal bar dash) never sits inside one name:
# "Scott - Jane Roe" is two names glued by NER.
SPACED_DASH = re.compile(r"\s+[-–—―]+\s+|\s*[—―]+\s*")
TOKEN = re.compile(r"\S+")
LOWERCASE_WORD = re.compile(r"(?<![\w'’-])([a-z][a-z]+)(?![\w'’-])")
# Single title words (from PERSON_TITLES) that may stand before a surname: "Sen. Roe", "General Roe".
TITLE_WORDS = frozenset(word for title in PERSON_TITLES for word in title) | {"general", "gen", "state", "u.s"}
# Common given names ("Crooked Ann Roe": the span starts before the person's first name).
COMMON_FIRST_NAMES = FEMALE_FIRST_NAMES | MALE_FIRST_NAMES
# Lower-case words that begin a surname ("de Blasio", "van Gogh", "bin Laden").
NAME_PARTICLES = frozenset({"de", "da", "di", "del", "della", "der", "den", "van", "von", "bin", "ibn", "al", "el",
                            "la", "le", "du", "dos", "das", "ter", "ten", "zu", "y"})
# Kinds of paragraph written in title case, where capitalised words glue onto a name.
TITLE_CASE_KINDS = frozenset({"headline", "dek", "section"})


@lru_cache(maxsize=4)  # trim_spans and match_aliases both ask, for the same article text
def lowercase_words(text: str) -> frozenset[str]:
    """Words the article writes in lower case somewhere: a capitalised one of them next to a
    name is a common word in title case ("Obama Speech"), not part of the name."""
    return frozenset(LOWERCASE_WORD.findall(text))


def person_token_sets(mentions: Sequence[Mention]) -> list[tuple[int, tuple[str, ...]]]:
    """(index, name tokens) of every PERSON mention, titles and possessive gone."""
    return [
        (i, tuple(clean_form(m.text, "PERSON").split())) for i, m in enumerate(mentions) if m.label == "PERSON"
    ]


def trimmed(mention: Mention, text: str, start: int, end: int, label: str | None = None) -> Mention:
    return replace(mention, start=start, end=end, text=text[start:end], name=text[start:end],
                   label=label or mention.label)


def trim_spans(mentions: Sequence[Mention], article: ArticleStructure) -> list[Mention]:
    """Repair NER spans that run past a name, using only the article's own evidence:

    - a spaced dash splits a span in two ("Roe - Jane Doe" -> "Roe", "Jane Doe");
    - trailing capitalised words the article also writes in lower case come off a PERSON
      span when what is left ends in a word of another person mention ("Obama Speech",
      "Roe Hid Past Health" in a headline -> "Obama", "Roe");
    - a word between a title and a person's full name the article uses on its own comes off
      ("Miss Universe Ana Roe" -> "Ana Roe");
    - in a title-case paragraph (headline, dek, section) a span that opens with a person's
      full name used elsewhere is that name ("Jane Roe Tells Judges" -> "Jane Roe").
    """
    text = article.text
    split: list[Mention] = []
    for mention in join_nicknames(mentions, text):
        if mention.label in NAME_LABELS and SPACED_DASH.search(mention.text):
            offset = mention.start
            for part in SPACED_DASH.split(mention.text):
                begin = text.index(part, offset) if part else offset
                if part.strip(EDGE_PUNCTUATION).strip():
                    split.append(trimmed(mention, text, begin, begin + len(part)))
                offset = begin + len(part)
        else:
            split.append(mention)
    lower = lowercase_words(text)
    persons = person_token_sets(split)
    full_forms = {tokens for _, tokens in persons if len(tokens) >= 2}
    kinds = {p.position: p.kind for p in article.paragraphs}

    # how many person mentions use each word, so that "a word of another person mention" is
    # one look-up rather than a pass over every person
    word_counts = Counter(word for _, tokens in persons for word in set(tokens))
    own_words = {i: set(tokens) for i, tokens in persons}

    def words_of_others(index: int) -> Callable[[str], bool]:
        own = own_words.get(index, set())
        return lambda word: word_counts[word] - (word in own) > 0

    repaired: list[Mention] = []
    for index, mention in enumerate(split):
        if mention.label not in NAME_LABELS:
            repaired.append(mention)
            continue
        tokens = [(t.start() + mention.start, t.end() + mention.start, t.group()) for t in TOKEN.finditer(mention.text)]
        title_case = kinds.get(mention.paragraph_position) in TITLE_CASE_KINDS
        if title_case and len(tokens) >= 3:
            words = [w for _, _, w in tokens]
            glued = next((n for n in range(len(words) - 1, 1, -1) if tuple(words[:n]) in full_forms), None)
            if glued is not None:
                repaired.append(trimmed(mention, text, tokens[0][0], tokens[glued - 1][1], "PERSON"))
                continue
        if mention.label == "PERSON":
            # stray marks at either end ("Roe -", "Ann Roe ''") and a leading determiner or
            # other lower-case word ("a Roe", "the Ann Roe"); name particles (de, van) stay
            while tokens and not any(c.isalnum() for c in tokens[-1][2]):
                tokens.pop()
            while len(tokens) > 1 and (not any(c.isalnum() for c in tokens[0][2])
                                       or (tokens[0][2][:1].islower() and tokens[0][2] not in NAME_PARTICLES)):
                tokens.pop(0)
            if tokens and (tokens[0][0], tokens[-1][1]) != (mention.start, mention.end):
                mention = trimmed(mention, text, tokens[0][0], tokens[-1][1])
        if mention.label == "PERSON" and len(tokens) >= 2:
            others = words_of_others(index)
            keep = len(tokens)
            # title case: every capitalised word may be a common word
            while keep > 1 and tokens[keep - 1][2][:1].isupper() and (
                    tokens[keep - 1][2].casefold() in lower or (title_case and not others(tokens[keep - 1][2]))):
                keep -= 1
            if keep < len(tokens) and others(tokens[keep - 1][2].strip(EDGE_PUNCTUATION)):
                mention = trimmed(mention, text, tokens[0][0], tokens[keep - 1][1])
                tokens = tokens[:keep]
            if len(tokens) >= 3:
                rest = tuple(w for _, _, w in tokens[1:])
                before = text[max(0, tokens[0][0] - 20):tokens[0][0]].split()
                after_title = bool(before) and before[-1].casefold().rstrip(".") in TITLE_WORDS
                if rest in full_forms and (after_title or tokens[0][2].casefold() in lower
                                           or rest[0].casefold() in COMMON_FIRST_NAMES):
                    mention = trimmed(mention, text, tokens[1][0], tokens[-1][1])
        repaired.append(mention)
    return repaired


# A name with a quoted nickname before the surname: Robert C. "Bobby" Roe. NER splits it
# at the quotation marks.
NICKNAMED = re.compile(r"(?<![\w'’])(?:[A-Z][\w'’-]*\.?\s+){1,3}[\"“][A-Z][\w.'’-]*[\"”]\s+[A-Z][\w'’-]+")


def join_nicknames(mentions: Sequence[Mention], text: str) -> list[Mention]:
    """One PERSON mention for a nicknamed name NER cut in pieces ('Ann "Nan' + 'Roe'): from
    the first PERSON piece to the surname."""
    joined: list[Mention] = list(mentions)
    if '"' not in text and "“" not in text:
        return joined
    for match in NICKNAMED.finditer(text):
        pieces = [m for m in joined if m.start < match.end() and match.start() < m.end]
        persons = [m for m in pieces if m.label == "PERSON"]
        if not persons or not all(match.start() <= m.start and m.end <= match.end() + 1 for m in pieces):
            continue
        start = min(m.start for m in persons)
        whole = trimmed(persons[0], text, start, match.end(), "PERSON")
        joined = [m for m in joined if m not in pieces]
        joined.append(whole)
    return sorted(joined, key=lambda m: m.start)


def surname(tokens: Sequence[str]) -> str | None:
    """The last word of a person's name that is not a suffix (Jr., III)."""
    for token in reversed(tokens[1:]):
        if token.casefold().rstrip(".") not in NAME_SUFFIXES:
            return token
    return None


def is_other_name_word(word: str, text: str, start: int, paragraph_start: int,
                       lower: frozenset[str], person_words: set[str]) -> bool:
    """Whether a capitalised word right before a surname makes it someone else's name: not a
    title ("Sen."), not a word the article writes in lower case, and, opening a sentence,
    a word some person's name holds or a common first name ("Later Roe" is Roe)."""
    if not word[:1].isupper() or word.casefold().rstrip(".") in TITLE_WORDS or word.casefold() in lower:
        return False
    lead = text[paragraph_start:start].rstrip(" \t\xa0\"“‘'(")
    if not lead or lead[-1] in ".!?:":
        return word in person_words or word.casefold() in COMMON_FIRST_NAMES
    return True


# An alias stands as a whole name: not inside a word, a hyphenation or an abbreviation, and
# not followed by a possessive-looking suffix other than "'s" ("Roe's" is Roe, "O'Roe" is not).
ALIAS_BEFORE = re.compile(r"(?<![\w'’.-])")
ALIAS_AFTER = re.compile(r"(?![\w-]|['’][a-rt-z])")


def match_aliases(mentions: Sequence[Mention], article: ArticleStructure) -> list[Mention]:
    """Alias matching: the later mentions of a named thing that NER missed.

    The small model often tags a person once and then misses the bare surname repeated
    through the article. For each PERSON and ORG entity the article names, its canonical
    name and the other multi-word forms NER found for it (and for a person the surname;
    for an organisation its one-word forms, "NAIJ") are searched for in every paragraph:
    capitalised and word-bounded as written, outside every existing mention. A surname is
    only the person's when no other capitalised word stands before it ("Heidi Roe" is not
    "Ted Roe") or after it ("Roe Foundation"), and not at a sentence start when the article
    also uses the word in lower case ("Price rose"). A surname two people share goes to the
    one named nearest before (as ``canonicalise`` does); a form that is also another
    entity's name ("Washington" the place) is not matched. One regex pass per article.
    """
    text = article.text
    named = [m for m in mentions if m.label in ("PERSON", "ORG") and m.name]
    if not named:
        return list(mentions)
    owners: dict[str, set[tuple[str, str]]] = defaultdict(set)  # form -> {(name, label)}
    surnames: set[str] = set()
    for mention in named:
        entity = (mention.name, mention.label)
        owners[mention.name].add(entity)
        form = clean_form(mention.text, mention.label)
        if len(form.split()) >= 2 or (mention.label == "ORG" and looks_like_acronym(form)):
            owners[form].add(entity)
        if mention.label == "PERSON" and (last := surname(mention.name.split())):
            owners[last].add(entity)
            surnames.add(last)
    # a form that is the whole name of an entity of another kind is that entity's
    other_names = {clean_form(m.text, m.label) for m in mentions if m.label in NAME_LABELS - {"PERSON", "ORG"}}
    forms = [f for f in owners if f[:1].isupper() and len(f) >= 2 and f not in other_names]
    if not forms:
        return list(mentions)
    ordered = sorted(mentions, key=lambda m: m.start)
    starts = [m.start for m in ordered]
    # where each entity's own mentions are, to settle a shared surname
    positions: dict[tuple[str, str], list[int]] = defaultdict(list)
    for mention in named:
        positions[(mention.name, mention.label)].append(mention.start)
    lower = lowercase_words(text)
    person_words = {word for m in mentions if m.label == "PERSON" for word in m.name.split()}
    paragraph_starts = [p.start for p in article.paragraphs]
    added: list[Mention] = []
    for start, end, form in find_literals(text, forms, ALIAS_BEFORE, ALIAS_AFTER):
        index = bisect.bisect_right(starts, end - 1) - 1
        if any(m.start < end and start < m.end for m in ordered[max(0, index - 3):index + 1]):
            continue  # inside (or overlapping) a mention NER found
        p_index = bisect.bisect_right(paragraph_starts, start) - 1
        if p_index < 0 or not (article.paragraphs[p_index].start <= start and end <= article.paragraphs[p_index].end):
            continue
        paragraph = article.paragraphs[p_index]
        candidates = owners[form]
        if len(form.split()) == 1 and any(label == "PERSON" for _, label in candidates):
            previous = re.search(r"([\w'’.-]+)[ \t\xa0]+$", text[max(paragraph.start, start - 40):start])
            if previous and is_other_name_word(previous.group(1), text, previous.start(1) + max(paragraph.start, start - 40),
                                               paragraph.start, lower, person_words):
                continue  # another first name ("Heidi Roe") or a longer name
            if re.match(r"[ \t\xa0]+[A-Z]", text[end:end + 3]):
                continue  # "Roe Foundation", "Roe Tells"
            lead = text[paragraph.start:start].rstrip(" \t\xa0\"“‘'(")
            if form.casefold() in lower and (not lead or lead[-1] in ".!?:"):
                continue  # a sentence-opening common word
        if len(candidates) > 1:
            before = {c: max((p for p in positions[c] if p < start), default=None) for c in candidates}
            known = [c for c in candidates if before[c] is not None]
            if form not in surnames or not known:
                continue  # a full form two entities share: leave it
            candidates = {max(known, key=lambda c: before[c])}
        [(name, label)] = candidates
        added.append(Mention(start, end, form, label, name, paragraph.position))
    if not added:
        return list(mentions)
    return sorted([*mentions, *added], key=lambda m: m.start)


def speaker_key(name: str, article_names: Sequence[str] = (), person: bool = True) -> NameKey:
    """What every form of one speaker shares across articles: casefolded, and for a person
    without possessive, leading titles and middle initials ("President Donald J. Trump" ->
    donald trump); a surname alone becomes the full name among ``article_names`` (the
    article's own names, repeats counted) that ends in it, the most used one when several do."""
    key = name_key(name)
    if not person or not key:
        return key
    key = name_key(" ".join(strip_leading_titles(strip_possessive(name).split())))
    if len(key) > 2:  # a lone letter between first name and surname is a middle initial
        key = key[:1] + tuple(word for word in key[1:-1] if len(word) > 1) + key[-1:]
    if len(key) != 1:
        return key
    fuller = Counter(full for full in (speaker_key(other) for other in article_names)
                     if len(full) > 1 and last_name_key(full) == key)
    ranked = fuller.most_common(2)
    if ranked and (len(ranked) == 1 or ranked[0][1] > ranked[1][1]):
        return ranked[0][0]
    return key


# Entity labels of a name that can speak.
SPEAKER_LABELS = frozenset({"PERSON", "ORG"})
NAME_WORD = re.compile(r"[A-Z][a-z'’-]+|[A-Z]\.")


def looks_like_a_person_name(name: str) -> bool:
    """Two or three capitalised words, the last not a first name ("Auditor John" is a title and a first name)."""
    words = name.split()
    return (2 <= len(words) <= 3 and all(NAME_WORD.fullmatch(word) for word in words)
            and words[-1].casefold() not in COMMON_FIRST_NAMES)


def speaker_id(name: str | None, labels: Counter | None, article_names: Sequence[str] = ()) -> str | None:
    """Warehouse-wide id of a speaker: ``entity_id`` of its ``speaker_key``. ``labels``: the
    labels of the article's mentions with this canonical name. None when the speaker is not a
    name: mentioned, but never as a person or organisation ("Thursday"), or never mentioned as
    an entity and not shaped like a person's name ("They", "Skills")."""
    if not name:
        return None
    if labels:
        if not SPEAKER_LABELS & labels.keys():
            return None
        person = majority_label(list(labels.elements())) != "ORG"
    elif looks_like_a_person_name(name):
        person = True
    else:
        return None
    return entity_id(" ".join(speaker_key(name, article_names, person)))


@lru_cache(maxsize=4096)  # an article names the same few things in many rows
def entity_id(name: str) -> str:
    """Stable id of a canonical name, equal across articles: sha1 of the casefolded,
    whitespace-normalised name, first 16 hex digits."""
    return hashlib.sha1(" ".join(name.casefold().split()).encode("utf-8")).hexdigest()[:16]
