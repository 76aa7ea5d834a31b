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

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from functools import cache
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from quotewire.document import ArticleStructure, Mention, Paragraph
from quotewire.settings import DEFAULT_SPACY_MODEL, FALLBACK_SPACY_MODELS

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
    """The spaCy pipeline reduced to what NER needs (see NOT_NEEDED_FOR_NER, drop_unheard_embedders)."""
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


def mentions_in_paragraph(doc: Doc, paragraph: Paragraph) -> list[Mention]:
    """The doc's entities as Mentions whose offsets index the article text (name not yet canonical)."""
    return [
        Mention(
            start=paragraph.start + ent.start_char,
            end=paragraph.start + ent.end_char,
            text=ent.text,
            label=ent.label_,
            name=ent.text,
            paragraph_position=paragraph.position,
        )
        for ent in doc.ents
    ]


def recognise(nlp: Language, articles: Sequence[ArticleStructure], batch_size: int = 256) -> list[list[Mention]]:
    """NER mentions of each article, with canonical names; one list per article, in text order.

    All paragraphs of all articles go through one ``nlp.pipe`` stream so spaCy batches across
    article boundaries (short articles would otherwise make tiny, slow batches).
    """
    found: list[list[Mention]] = [[] for _ in articles]
    docs = nlp.pipe(paragraph_stream(articles), as_tuples=True, batch_size=batch_size)
    for doc, (article_index, paragraph) in docs:
        found[article_index].extend(mentions_in_paragraph(doc, paragraph))
    return [canonicalise(mentions, text=article.text) for mentions, article in zip(found, articles)]


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
            "rev", "reverend", "fr", "father", "bishop", "cardinal", "pope", "king", "queen", "prince",
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
POSSESSIVE = re.compile(r"(?:['’]s|(?<=s)['’])$", re.IGNORECASE)

NameKey = tuple[str, ...]


def strip_possessive(form: str) -> str:
    """'Sessions’s' / "Sessions'" / "Jones's" -> the name alone."""
    stripped = POSSESSIVE.sub("", form)
    return stripped or form


def strip_leading_titles(tokens: list[str]) -> list[str]:
    """Drop leading role words ("Attorney General", "Mr.", "former"), never the whole name."""
    while True:
        folded = [token.casefold().rstrip(".") for token in tokens]
        title = next((t for t in PERSON_TITLES if tuple(folded[: len(t)]) == t and len(t) < len(tokens)), None)
        if title is None:
            return tokens
        tokens = tokens[len(title):]


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


def name_key(form: str) -> NameKey:
    """What two spellings of one name share: casefolded tokens without trailing periods."""
    return tuple(token.casefold().rstrip(".") or token for token in form.split())


def is_subsequence(short: NameKey, long: NameKey) -> bool:
    """Every token of ``short`` appears in ``long`` in the same order ("Hillary Clinton" in
    "Hillary Rodham Clinton", "Sessions" in "Jeff Sessions")."""
    remaining = iter(long)
    return all(token in remaining for token in short)


def looks_like_acronym(form: str) -> bool:
    letters = form.replace(".", "").replace("&", "")
    return " " not in form and 2 <= len(letters) <= 10 and letters.isalnum() and letters.isupper()


def initials(key: NameKey, skip_stopwords: bool) -> str:
    return "".join(token[0] for token in key if not (skip_stopwords and token in INITIALS_STOPWORDS))


def expands_acronym(acronym: NameKey, full: NameKey) -> bool:
    """"NAIJ" abbreviates "National Association of Immigration Judges" (stopwords skipped or not)."""
    letters = acronym[0].replace(".", "").replace("&", "")
    return len(full) >= 2 and letters in (initials(full, True), initials(full, False))


def majority_label(labels: Sequence[str]) -> str:
    """Most frequent label; a tie goes to the label seen first (Counter keeps insertion order)."""
    return Counter(labels).most_common(1)[0][0]


def labels_in_the_running(labels: Sequence[str]) -> frozenset[str]:
    """Every label with the top count: a name tagged PERSON once and ORG once may be either."""
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


def fuller_names(
    key: NameKey,
    labels: frozenset[str],
    forms: dict[NameKey, str],
    group_labels: dict[NameKey, frozenset[str]],
    definitions: dict[NameKey, NameKey],
) -> set[NameKey]:
    """The longer names in the article that this name may be a short form of.

    Each rule only fires for the label it is safe for: "Washington" (GPE) is not a short form
    of "George Washington"; "Trump" (PERSON) is not a short form of "Trump Organization".
    """
    candidates: set[NameKey] = set()
    may_be_person = "PERSON" in labels or labels <= WEAK_LABELS
    if key in definitions:
        candidates.add(definitions[key])
    for other, other_labels in group_labels.items():
        if len(other) <= len(key):
            continue
        if may_be_person and "PERSON" in other_labels and is_subsequence(key, other):
            candidates.add(other)  # surname, first name, or name without middle name
        if "ORG" in labels and "ORG" in other_labels and other[: len(key)] == key:
            candidates.add(other)  # "BuzzFeed" -> "BuzzFeed News"
        if "PERSON" not in other_labels and looks_like_acronym(forms[key]) and expands_acronym(key, other):
            candidates.add(other)  # "NAIJ", "US" -> "United States"
    return candidates


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
      ("Sessions", "Jeff" -> "Jeff Sessions"); titles and possessives are already gone.
    - ORG: a token prefix of a longer ORG is it ("BuzzFeed" -> "BuzzFeed News"); an acronym
      defined in parentheses after a name (needs ``text``), or equal to a longer non-person
      name's initials, is that name ("NAIJ" -> "National Association of Immigration Judges").
    - Chains resolve to the end ("Sessions" -> "Jeff Sessions" -> "Jeff B. Sessions").
    - Ambiguity (a short name fits several different full names, e.g. two people sharing a
      surname): the full name mentioned nearest before the mention wins; if none comes before,
      the nearest after. For an ORG prefix fitting several ORGs ("Apple": "Apple Music",
      "Apple TV") no link is made: the short name most likely names the parent.
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
    candidates = {
        key: fuller_names(key, group_labels[key], first_form, group_labels, definitions) for key in group_labels
    }

    def resolve(key: NameKey, position: int) -> NameKey:
        # Terminates: every candidate has more tokens than the name (definitions: 1 -> >= 2).
        options = candidates[key]
        if not options:
            return key
        roots = {resolve(option, position) for option in options}
        if len(roots) == 1:
            return roots.pop()
        if "PERSON" not in group_labels[key] and all(option[: len(key)] == key for option in options):
            # Only ORG prefix links compete (a PERSON tie would also allow the person rule).
            return key  # ambiguous ORG prefix: leave it alone
        return resolve(nearest_preceding(options, position, starts), position)

    roots = [resolve(key, mention.start) if key is not None else None for mention, key in zip(mentions, keys)]

    cluster_labels: dict[NameKey, list[str]] = defaultdict(list)
    for mention, root in zip(mentions, roots):
        if root is not None:
            cluster_labels[root].append(mention.label)

    def cluster_label(root: NameKey) -> str:
        counts = Counter(cluster_labels[root])
        top = max(counts.values())
        tied = [label for label, count in counts.items() if count == top]
        own = majority_label(labels_by_key[root])
        return own if own in tied else tied[0]

    display = {root: Counter(forms_by_key[root]).most_common(1)[0][0] for root in cluster_labels}
    label_of = {root: cluster_label(root) for root in cluster_labels}
    return [
        replace(mention, name=form) if root is None else replace(mention, name=display[root], label=label_of[root])
        for mention, form, root in zip(mentions, forms, roots)
    ]


def entity_id(name: str) -> str:
    """Stable id of a canonical name, equal across articles: sha1 of the casefolded,
    whitespace-normalised name, first 16 hex digits."""
    return hashlib.sha1(" ".join(name.casefold().split()).encode("utf-8")).hexdigest()[:16]
