"""Who said it: attribute quoted spans to speakers without a dependency parse.

The rules work on the article text with every quote's content masked out (so words inside
a quote are never taken for its attribution), a small lexicon of reporting verbs, pronouns
and role nouns, and the NER mentions. For each quote, in order:

1. ``trailing``: an attribution right after the closing mark — ``"…," she said`` /
   ``"…," said Dana Marks, a judge`` / ``"…" — Senator Smith``;
2. ``leading``: a reporting verb before the opening mark in the same sentence —
   ``Ms Hewitt said: "…"``, ``Sessions warned that lawyers would "…"``;
3. ``trailing_far``: a reporting verb later in the same sentence —
   ``It is a "correct reading" of the law, Sessions said``;
4. ``according_to``: ``according to CNN`` anywhere in the sentence;
5. ``continuation``: a quote with no attribution of its own continues the speaker of the
   quote before it in the paragraph, or of the previous paragraph's last quote when its
   paragraph opens with a quote (multi-paragraph quotes, quote-only follow-ups);
6. ``headline``: a quote in a headline is given to the headline's first person.

The words found at the attribution (the ``speaker_mention``) are then resolved to a
canonical name: a name through the overlapping NER mention (or the earlier person whose
name ends with the same word), a pronoun to the nearest earlier person of compatible
gender, a description ("the attorney general") to the person the article introduced with
that title or role.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import Counter
from functools import lru_cache
from itertools import accumulate, islice
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

from quotewire.analyse.confidence import confidence
from quotewire.read.document import ArticleStructure, Mention
from quotewire.measure.evaluate import mention_type
from quotewire.analyse.literals import find_literals, is_word_boundary, word_offsets
from quotewire.analyse.syntax import Parse, ParsedCue, find_cues, reads_as_utterance

# ---------------------------------------------------------------------------- lexicon
# Reporting verbs (base forms) mined from attribution cues in news text; inflections are
# generated below. Verbs of speech plus the verbs that frame a partial quote ("called it").
REPORTING_VERBS = """
say tell add write tweet ask continue note report explain declare reply respond conclude state
recall argue acknowledge suggest insist promise warn claim assure shout chant urge announce admit
vow lament predict remark answer joke yell complain assert charge post quip boast concede agree
testify observe comment counter caution stress emphasize emphasise mention retort whisper scream
exclaim muse sing read describe call accuse praise blast slam mock criticize criticise dismiss
deny confirm insist maintain contend allege pledge propose demand plead announce estimate
indicate point concur opine reckon grumble complain cite quote dub label brand term
""".split()
IRREGULAR_FORMS = {
    "say": ["said", "says", "saying"],
    "tell": ["told", "tells", "telling"],
    "write": ["wrote", "writes", "writing", "written"],
    "read": ["reads", "reading"],
    "sing": ["sang", "sung", "sings", "singing"],
    "shout": ["shouts", "shouted", "shouting"],
}
# Cues that are a phrase rather than one verb.
PHRASE_CUES = ["according to", "in the words of", "put it", "puts it", "went on", "goes on"]
# Verbs that can introduce their subject after them: '"…," said Smith' / 'added the senator'.
INVERTIBLE = {"said", "says", "added", "adds", "asked", "asks", "wrote", "writes", "continued", "explained",
              "noted", "replied", "recalled", "tweeted", "reported", "reports", "declared", "responded",
              "concluded", "answered", "insisted", "warned", "argued", "told", "tells", "observed",
              "countered", "quipped", "stated", "cautioned", "recounted", "remarked", "sang", "sings"}

PRONOUN_GENDER = {"he": "m", "she": "f", "him": "m", "her": "f"}
PLURAL_OR_NEUTER = {"they", "it", "we"}
PRONOUNS = set(PRONOUN_GENDER) | PLURAL_OR_NEUTER | {"i"}
DETERMINERS = {"the", "a", "an", "his", "her", "its", "their", "our", "one", "this", "that", "another"}
# Words between a subject and its verb that do not belong to either: "Smith also said".
ADVERBS = {"also", "later", "then", "has", "had", "have", "would", "will", "once", "previously", "recently",
           "again", "simply", "repeatedly", "just", "further", "since", "now", "had", "earlier", "often",
           "flatly", "publicly", "privately", "famously", "reportedly", "allegedly", "frequently", "would",
           "could", "might", "did", "does", "do", "has", "went", "on", "to", "was", "is", "first", "finally",
           "still", "even", "only", "quickly", "bluntly", "angrily"}
# Leading titles dropped when a capitalised speaker phrase is not a recognised mention.
TITLES = {"mr", "mrs", "ms", "miss", "dr", "sen", "senator", "rep", "representative", "gov", "governor",
          "president", "gen", "general", "prof", "professor", "rev", "judge", "justice", "secretary",
          "chairman", "chairwoman", "mayor", "sir", "lord", "lady", "dame", "adm", "col", "lt", "sgt",
          "capt", "cmdr", "chief", "officer", "del", "delegate", "atty", "supt", "fr", "msgr", "minister", "speaker", "leader", "former", "presidential",
          "candidate", "nominee", "attorney", "vice", "state", "the", "u.s.", "us"}
# Role nouns that say which pronoun fits (used as gender evidence from appositives/titles).
FEMALE_WORDS = {"mrs", "ms", "miss", "madam", "dame", "lady", "spokeswoman", "congresswoman", "chairwoman",
                "businesswoman", "councilwoman", "mother", "wife", "daughter", "sister", "grandmother",
                "actress", "woman", "girl", "queen", "princess", "widow", "aunt", "niece", "first"}
MALE_WORDS = {"mr", "sir", "lord", "spokesman", "congressman", "chairman", "businessman", "councilman",
              "father", "husband", "son", "brother", "grandfather", "actor", "man", "boy", "king", "prince",
              "widower", "uncle", "nephew"}
# Heads of descriptions that name organisations or documents rather than people.
ORG_HEADS = {"company", "campaign", "agency", "group", "committee", "department", "organization",
             "organisation", "report", "statement", "newspaper", "network", "paper", "magazine", "website",
             "site", "firm", "government", "administration", "party", "union", "association", "council",
             "ministry", "office", "board", "commission", "court", "team", "club", "bank", "fund", "study",
             "survey", "poll", "letter", "article", "ad", "advertisement", "clip", "video", "book", "piece",
             "memo", "release", "lawsuit", "complaint", "ruling", "decision", "opinion", "filing", "foundation", "institute",
             "center", "centre", "coalition", "alliance", "network", "outlet", "station", "broadcaster",
             "service", "corporation", "regulator", "authority", "police", "times", "post", "journal",
             "daily", "weekly", "tabloid", "broadsheet"}
# A small, general list of common English first names (frequent US/UK given names, not taken
# from any evaluation data), used only when the article itself gives no gender evidence
# for a person (no Mr/Ms, no role noun, no pronoun right after the name).
FEMALE_FIRST_NAMES = set("""
mary patricia jennifer linda elizabeth barbara susan jessica sarah karen nancy lisa betty margaret sandra
ashley kimberly emily donna michelle dorothy carol amanda melissa deborah stephanie rebecca sharon laura
cynthia kathleen amy angela shirley anna brenda pamela emma nicole helen samantha katherine christine
debra rachel carolyn janet catherine maria heather diane ruth julie olivia joyce virginia victoria kelly
lauren christina joan evelyn judith megan andrea cheryl hannah jacqueline martha gloria teresa ann sara
madison frances kathryn janice jean abigail alice judy sophia grace denise amber doris marilyn danielle
beverly isabella theresa diana natalie brittany charlotte marie kayla alexis lori hillary nancy elaine
jane claire kate katie anne susanna louise sally wendy tina valerie gwen kamala condoleezza madeleine
ivanka melania chelsea huma kellyanne sheila nikki michele elena sonia ruth janet lynn dana donna
""".split())
MALE_FIRST_NAMES = set("""
james robert john michael david william richard joseph thomas charles christopher daniel matthew anthony
mark donald steven paul andrew joshua kenneth kevin brian george timothy ronald edward jason jeffrey ryan
jacob gary nicholas eric jonathan stephen larry justin scott brandon benjamin samuel gregory alexander
frank patrick raymond jack dennis jerry tyler aaron jose adam nathan henry douglas zachary peter kyle
ethan walter noah jeremy christian keith roger terry gerald harold sean austin carl arthur lawrence dylan
jesse jordan bryan billy joe bruce gabriel logan albert willie alan juan wayne elijah randy roy vincent
ralph eugene russell bobby mason philip louis barack bill bernie mike mitch ted marco jeb chris rand
ben newt rudy reince sean tim joe hugh jeff tom bob jim dick ron ken greg doug steve dan rick chuck
harry barry lindsey al jim hank lou vladimir boris xi
""".split()) - {"lindsey"}
NER_SPEAKER_LABELS = ("PERSON", "ORG", "GPE", "NORP", "FAC", "WORK_OF_ART", "PRODUCT", "LAW", "EVENT")
ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "sen", "rep", "gov", "gen", "st", "jr", "sr", "lt", "col", "sgt",
                 "capt", "prof", "rev", "no", "vs", "inc", "corp", "co", "ltd", "u.s", "u.k", "u.n", "mt",
                 "ft", "ave", "jan", "feb", "aug", "sept", "sep", "oct", "nov", "dec", "adm", "cmdr", "d",
                 "r", "i", "e.g", "i.e", "etc", "pres", "del", "atty", "supt", "fr", "msgr"}
QUOTE_CHARS = "\"“”„«»'‘’‛"
DASHES = "—–―-"
MASK = "x"


def verb_forms(base: str) -> list[str]:
    """Inflections of a regular English verb (say -> says, said are listed as irregular)."""
    if base in IRREGULAR_FORMS:
        return [base, *IRREGULAR_FORMS[base]]
    if base.endswith("e"):
        return [base, base + "s", base + "d", base[:-1] + "ing"]
    if base.endswith("y") and base[-2] not in "aeiou":
        return [base, base[:-1] + "ies", base[:-1] + "ied", base + "ing"]
    if re.fullmatch(r"[^aeiou]*[aeiou][bdglmnprt]", base) or base in {"admit", "commit", "quip", "regret"}:
        return [base, base + "s", base + base[-1] + "ed", base + base[-1] + "ing"]
    if base.endswith(("sh", "ch", "ss", "x")):
        return [base, base + "es", base + "ed", base + "ing"]
    return [base, base + "s", base + "ed", base + "ing"]


# Verbs whose base and -s forms are usually nouns ("a tweet", "the reports"): those forms only
# count as cues right after a pronoun or before a colon / "that" ("it reports:", "she calls").
NOUN_LIKE_VERBS = {
    "tweet", "report", "call", "post", "comment", "quote", "state", "claim", "charge", "promise", "read",
    "answer", "reply", "remark", "joke", "boast", "counter", "stress", "mention", "whisper", "scream",
    "chant", "shout", "vow", "pledge", "estimate", "label", "brand", "term", "dub", "cite", "demand",
    "propose", "note", "praise", "blast", "slam", "mock", "point", "plead", "comment", "sing", "continue",
    "respond", "concur", "maintain", "confirm", "add", "deny", "muse",
}
NOUN_LIKE_FORMS = {f for verb in NOUN_LIKE_VERBS for f in verb_forms(verb)[:2]} - {"add", "adds", "continues", "maintains", "confirms", "denies", "responds", "notes", "sings"}
CUE_FORMS = {form for verb in REPORTING_VERBS for form in verb_forms(verb)}
CUE_WORDS = sorted(CUE_FORMS, key=len, reverse=True)  # longest first, so "says" wins over "say"
CUE_PATTERN = re.compile(
    r"(?<![\w'’])(" + "|".join(re.escape(p) for p in PHRASE_CUES) + "|" + "|".join(CUE_WORDS) + r")(?![\w'’])",
    re.IGNORECASE,
)
WORD = re.compile(r"[\w'’.\-]*\w\.?|[^\w\s]")


# Every look-back and look-ahead around a quote is bounded, so that attributing one quote
# costs the same however long its paragraph is (a whole article may be one line).
SENTENCE_WINDOW_CHARS = 2000  # a quote's sentence reaches at most this far either side
PRONOUN_WINDOW_CHARS = 8000  # how far back a pronoun's antecedents are weighed
FOLLOWING_QUOTES = 12  # later quotes of the paragraph that may lend their attribution
ORGANISATIONS_BACK = 200  # earlier organisations searched for one holding a word
ROLE_CANDIDATES = 64  # people nearest a description whose introductions are compared


# ---------------------------------------------------------------------------- data
class IntervalSet:
    """Quote intervals (outer marks included), queried in log time."""

    def __init__(self, intervals: Sequence[tuple[int, int]]) -> None:
        self.intervals = sorted(intervals)
        self.starts = [start for start, _ in self.intervals]
        # reach[i]: the furthest end of intervals[0..i] (intervals may nest)
        self.reach = list(accumulate((end for _, end in self.intervals), max))
        self.ends = sorted(end for _, end in self.intervals)

    def contains(self, offset: int) -> bool:
        index = bisect_right(self.starts, offset) - 1
        return index >= 0 and self.reach[index] > offset

    def first_start(self, start: int, limit: int) -> int:
        """The first interval start in [start, limit), else ``limit``."""
        index = bisect_left(self.starts, start)
        return self.starts[index] if index < len(self.starts) and self.starts[index] < limit else limit

    def last_end(self, start: int, limit: int) -> int | None:
        """The last interval end in [start, limit], else None."""
        index = bisect_right(self.ends, limit) - 1
        return self.ends[index] if index >= 0 and self.ends[index] >= start else None


@dataclass(frozen=True)
class MarkedSpan:
    """A quoted span: content [start, end) inside marks spanning [outer_start, outer_end)."""

    start: int
    end: int
    outer_start: int
    outer_end: int
    paragraph_position: int
    closed: bool = True  # False: the opening mark runs to the paragraph end (multi-paragraph quote)
    # A transcript speaker label ("SMITH:") that opened the quote, outside the content.
    label_start: int = 0
    label_end: int = 0


@dataclass(frozen=True)
class Attribution:
    speaker: str | None = None
    speaker_mention: str | None = None
    cue: str | None = None
    method: str | None = None
    # where the speaker_mention stands in the text ((-1, -1): not known); for scoring mentions
    mention_start: int = -1
    mention_end: int = -1
    agreement: bool | None = None  # the parse's speaker: do the cue-list rules name the same one (None: they name none)
    confidence: float = 0.0  # speaker_confidence (quotewire.analyse.confidence)


@dataclass
class Context:
    """What the rules need about one article, computed once."""

    text: str
    masked: str  # text with quote contents replaced, so cues inside quotes are invisible
    mentions: list[Mention]
    mention_starts: list[int]
    persons: list[Mention]  # PERSON mentions outside quotes, in order
    genders: dict[str, str]  # canonical name -> "m" | "f"
    paragraph_bounds: dict[int, tuple[int, int]]
    paragraph_kinds: dict[int, str]
    quotes: IntervalSet = field(default_factory=lambda: IntervalSet([]))
    sentence_starts: list[int] = field(default_factory=list)  # every sentence of every paragraph
    sentence_marks: dict[int, int] = field(default_factory=dict)  # sentence start -> its end mark
    lowercase_words: set[str] = field(default_factory=set)  # words the article writes in lower case
    person_forms: set[str] = field(default_factory=set)  # person mention texts, titles stripped
    names_cache: dict[tuple[int, int, str], str] = field(default_factory=dict)
    # (start, end) of a person mention -> its weight as a referent (mention_salience); every
    # pronoun after it weighs it again
    salience_cache: dict[tuple[int, int], float] = field(default_factory=dict)
    person_token_forms: list[tuple[int, list[str]]] | None = None
    # he/she/his/her outside quotes, resolved in text order: (offset, name, salience weight)
    pronoun_mentions: list[tuple[int, str, float]] = field(default_factory=list)
    # speakers already attributed, as (offset of their quote, name): a pronoun chain
    # ("…," he said. … "…," he added) keeps referring to the person last quoted
    speakers_so_far: list[tuple[int, str]] = field(default_factory=list)
    # indexes built once, so that no quote rescans the article
    person_starts: list[int] = field(default_factory=list)
    pronoun_offsets: list[int] = field(default_factory=list)
    speaker_offsets: list[int] = field(default_factory=list)
    organisations: list[Mention] = field(default_factory=list)  # ORG mentions outside quotes
    organisation_starts: list[int] = field(default_factory=list)
    content_starts: dict[int, int] = field(default_factory=dict)  # paragraph -> first non-space offset
    last_attributed: dict[int, int] = field(default_factory=dict)  # paragraph -> its last attributed quote
    roles: dict[int, str] = field(default_factory=dict)  # person index -> expanded role context
    # role word -> (indices, offsets) of the persons introduced with it
    role_index: dict[str, tuple[list[int], list[int]]] | None = None
    forms_by_surname: tuple[dict, dict] | None = None  # see forms_index
    fullest_cache: dict[tuple[str, ...], list[str]] = field(default_factory=dict)
    text_name_cache: dict[tuple[str, str | None], str | None] = field(default_factory=dict)
    parsed: dict[int, ParsedCue] = field(default_factory=dict)  # span index -> its parsed verb and subject


# ---------------------------------------------------------------------------- entry point
def attribute_spans(article: ArticleStructure, mentions: list[Mention], spans: Sequence[MarkedSpan],
                    parse: Parse | None = None) -> list[Attribution]:
    """One Attribution per span (same order). Never raises: a span that breaks a rule is
    left unattributed rather than failing the article. With ``parse`` (a spaCy pipeline with
    a dependency parser), the sentences holding quotes are parsed for their speech verbs."""
    return attribute_articles([(article, mentions, spans)], parse)[0]


ARTICLES_PER_PARSE = 64  # articles whose quote sentences share one parser stream (its overhead is per call)


def attribute_articles(items: Sequence[tuple[ArticleStructure, list[Mention], Sequence[MarkedSpan]]],
                       parse: Parse | None = None) -> list[list[Attribution]]:
    """attribute_spans for several articles, parsing their quote sentences in one stream per
    ARTICLES_PER_PARSE articles."""
    results = []
    for first in range(0, len(items), ARTICLES_PER_PARSE):
        chunk = items[first:first + ARTICLES_PER_PARSE]
        # most of the cost is the article-wide context (genders, pronouns): none without quotes
        contexts = [build_context(article, mentions, spans) if spans else None for article, mentions, spans in chunk]
        if parse is not None:
            try:
                wanted = [(article.text, spans, [sentence_around(context, span) for span in spans])
                          for (article, _, spans), context in zip(chunk, contexts) if context is not None]
                cues = iter(find_cues(wanted, parse))
                for context in contexts:
                    if context is not None:
                        context.parsed = next(cues)
            except Exception:  # noqa: BLE001 - without a parse the rules still attribute every quote
                for context in contexts:
                    if context is not None:
                        context.parsed = {}
        results.extend(attribute_in(context, article, spans) if context is not None else []
                       for (article, _, spans), context in zip(chunk, contexts))
    return results


def attribute_in(context: Context, article: ArticleStructure, spans: Sequence[MarkedSpan]) -> list[Attribution]:
    results: list[Attribution] = []
    for index, span in enumerate(spans):
        try:
            found = attribute_one(context, spans, index, results)
            utterance = reads_as_utterance(article.text[span.start:span.end])
            found = replace(found, confidence=confidence(found.speaker, found.method, mention_type(found.speaker_mention),
                                                         found.agreement, utterance))
        except Exception:  # noqa: BLE001 - one odd span must not sink the article
            found = Attribution(method="error")
        results.append(found)
        if found.speaker:
            context.speakers_so_far.append((span.outer_start, found.speaker))
            context.speaker_offsets.append(span.outer_start)
            context.last_attributed[span.paragraph_position] = index
    return results


NON_SPACE = re.compile(r"\S")


def build_context(article: ArticleStructure, mentions: list[Mention], spans: Sequence[MarkedSpan]) -> Context:
    text = article.text
    # a nickname inside a name (Ann "Nan" Roe) is part of the name, not a quote to mask
    spans = [s for s in spans if not is_nickname(text, s)]
    masked = mask_quotes(text, spans)
    intervals = sorted((s.outer_start, s.outer_end) for s in spans)
    quotes = IntervalSet(intervals)
    ordered = sorted((m for m in mentions if 0 <= m.start < m.end <= len(text)), key=lambda m: m.start)
    persons = [m for m in ordered if m.label == "PERSON" and not quotes.contains(m.start)]
    # a lone surname NER labelled otherwise ("Caddell" as ORG) is still that person
    surnames = {tokens[-1] for m in persons if len(tokens := name_tokens(strip_titles(m.text))) >= 2}
    persons = sorted(
        persons + [m for m in ordered if m.label != "PERSON" and strip_titles(m.text) in surnames
                   and not quotes.contains(m.start)],
        key=lambda m: m.start,
    )
    persons = sorted(persons + missed_surnames(masked, ordered, surnames, article), key=lambda m: m.start)
    context = Context(
        text=text,
        masked=masked,
        mentions=ordered,
        mention_starts=[m.start for m in ordered],
        persons=persons,
        genders={},
        paragraph_bounds={p.position: (p.start, p.end) for p in article.paragraphs},
        paragraph_kinds={p.position: p.kind for p in article.paragraphs},
        quotes=quotes,
    )
    context.person_starts = [m.start for m in persons]
    context.organisations = [m for m in ordered if m.label == "ORG" and not quotes.contains(m.start)]
    context.organisation_starts = [m.start for m in context.organisations]
    for paragraph in article.paragraphs:
        content = NON_SPACE.search(text, paragraph.start, paragraph.end)
        context.content_starts[paragraph.position] = content.start() if content else paragraph.end
    # where each sentence starts, found once per paragraph; each boundary maps to the offset
    # of the punctuation that ends the sentence before it (a paragraph start to itself)
    context.sentence_marks = {lo: lo for lo, _ in context.paragraph_bounds.values()}
    for lo, hi in context.paragraph_bounds.values():
        context.sentence_marks.update((end, mark) for mark, end in sentence_end_marks(masked, lo, hi))
    context.sentence_starts = sorted(context.sentence_marks)
    context.lowercase_words = set(re.findall(r"(?<![\w'’])([a-z]+)\b", masked))
    context.person_forms = {strip_titles(m.text) for m in ordered if m.label == "PERSON"}
    context.genders = infer_genders(context)
    # A name chosen for a mention after "Mr"/"Ms" (a title's gender) can now use the
    # article's genders, so it is chosen again; every other name never looks at genders and
    # stays (on 650 BBC articles: 6,534 names chosen instead of 10,208, the same quotes).
    for key in [key for key in context.names_cache if gender_of_title(context, key[0]) is not None]:
        del context.names_cache[key]
    for key in [key for key in context.text_name_cache if key[1] is not None]:
        del context.text_name_cache[key]
    context.pronoun_mentions = resolve_pronoun_chain(context)
    context.pronoun_offsets = [offset for offset, _, _ in context.pronoun_mentions]
    return context


NICKNAME_BEFORE = re.compile(r"[A-Z][\w.'’-]*\s+$")
NICKNAME_AFTER = re.compile(r"\s+[A-Z][\w'’-]+")


def is_nickname(text: str, span: MarkedSpan) -> bool:
    """A quoted capitalised word between two capitalised words: the nickname of a name."""
    content = text[span.start:span.end]
    return (bool(re.fullmatch(r"[A-Z][\w.'’-]*", content))
            and NICKNAME_BEFORE.search(text, max(0, span.outer_start - 30), span.outer_start) is not None
            and NICKNAME_AFTER.match(text, span.outer_end) is not None)


def resolve_pronoun_chain(context: Context) -> list[tuple[int, str, float]]:
    """Every he/she/him/his/her outside quotes, resolved in text order, each resolution
    counting as a mention of its person for the pronouns after it: a run of "She said ...
    She has ..." keeps its referent even when others are named in between."""
    chain: list[tuple[int, str, float]] = []
    context.pronoun_mentions = chain
    context.pronoun_offsets = []
    for match in re.finditer(r"\b([Hh]e|[Ss]he|him|[Hh]is|[Hh]er)\b", context.masked):
        word = match.group(1).lower()
        gendered = "he" if word in ("he", "him", "his") else "she"
        name = resolve_pronoun(context, gendered, match.start())
        if name is None:
            continue
        if word in ("he", "she"):
            weight = 310.0 if is_subject_at(context, match.start(), match.end()) else 230.0
        elif word == "him":
            weight = 180.0
        else:
            weight = 150.0  # his / her: a possessive
        chain.append((match.start(), name, weight))
        context.pronoun_offsets.append(match.start())
    return chain


SURNAME_BEFORE = re.compile(r"(?<![\w'’.-])")
SURNAME_AFTER = re.compile(r"(?![\w-])")


def missed_surnames(masked: str, mentions: list[Mention], surnames: set[str], article: ArticleStructure) -> list[Mention]:
    """Surnames of people the article names in full, where NER found nothing: a surname that is
    also a word ("Ham", "Price") is often missed on its own, yet the article means the person."""
    if not surnames:
        return []
    covered = [(m.start, m.end) for m in mentions]
    starts = [m.start for m in mentions]
    found = []
    paragraph_starts = [p.start for p in article.paragraphs]
    for start, end, surname in find_literals(masked, surnames, SURNAME_BEFORE, SURNAME_AFTER):
        index = bisect_right(starts, start) - 1
        if index >= 0 and covered[index][0] <= start < covered[index][1]:
            continue
        if any(lo <= start < hi for lo, hi in covered[max(0, index - 3):index + 2]):
            continue
        at = bisect_right(paragraph_starts, start) - 1
        paragraph = article.paragraphs[at] if at >= 0 else None
        position = paragraph.position if paragraph is not None and start < paragraph.end else -1
        found.append(Mention(start, end, surname, "PERSON", surname, position))
    return found


def mask_quotes(text: str, spans: Sequence[MarkedSpan]) -> str:
    """Replace each quote's content with a filler, keeping its final punctuation (which may
    end the sentence) and the marks themselves."""
    chars = list(text)
    for span in spans:
        # \S is exactly "not str.isspace()"; one C-level pass per quote, not a Python loop per character
        chars[span.start:span.end] = NON_SPACE.sub(MASK, text[span.start:span.end])
        if span.end > span.start and text[span.end - 1] in ".?!,":
            chars[span.end - 1] = text[span.end - 1]
    return "".join(chars)


# ---------------------------------------------------------------------------- rules
def attribute_one(context: Context, spans: Sequence[MarkedSpan], index: int, done: list[Attribution]) -> Attribution:
    span = spans[index]
    if span.label_end > span.label_start:
        return transcript_label(context, span)
    sentence_start, sentence_end = sentence_around(context, span)
    cue = context.parsed.get(index)
    parsed = None
    if cue is not None:  # the parse's verb and subject first; the rules where it names nobody
        parsed = resolved(context, cue.subject_start, cue.subject_end, cue.verb, "parse", span, cue.description)
        if parsed is not None and cue.alias_end > cue.alias_start:
            parsed = with_alias(context, parsed, cue)
    ruled = None
    for rule in (trailing_attribution, leading_attribution, trailing_far_attribution):
        found = rule(context, span, sentence_start, sentence_end)
        if found is not None and found.speaker_mention:
            ruled = found
            break
    if parsed is not None and parsed.speaker:
        agreement = None if ruled is None or not ruled.speaker else ruled.speaker == parsed.speaker
        return replace(parsed, agreement=agreement)
    if ruled is not None:
        return ruled if ruled.speaker or parsed is None or not parsed.speaker_mention else parsed
    if parsed is not None and parsed.speaker_mention:
        return parsed
    found = continuation(context, spans, index, done)
    if found is not None:
        return found
    if context.paragraph_kinds.get(span.paragraph_position) in ("headline", "dek", "section"):
        found = headline_subject(context, span)
        if found is not None:
            return found
    found = sentence_subject_attribution(context, span, sentence_start)
    if found is not None:
        return found
    return Attribution(method="none")


def trailing_attribution(context: Context, span: MarkedSpan, sentence_start: int, sentence_end: int) -> Attribution | None:
    """``"…," she said`` / ``"…," said Smith`` / ``"…" — Smith``: right after the closing mark."""
    if not span.closed:
        return None
    masked = context.masked
    region_end = next_mark_or(context, span.outer_end, sentence_end)
    region = masked[span.outer_end:region_end]
    lead = len(region) - len(region.lstrip(" ,\xa0\t"))
    after = span.outer_end + lead
    if after < region_end and masked[after] in DASHES:
        # Dash attribution: "…" — Senator Smith
        name_start = after + 1
        while name_start < region_end and masked[name_start] in " \xa0":
            name_start += 1
        phrase_end = phrase_boundary(masked, name_start, region_end)
        if phrase_end > name_start and masked[name_start].isupper() and len(masked[name_start:phrase_end].split()) <= 6:
            return resolved(context, name_start, phrase_end, "—", "dash", span)
        return None
    cue = first_cue(masked, after, min(region_end, after + 160))
    if cue is None:
        return None
    cue_start, cue_end, cue_text = cue
    if not masked[after:cue_start].strip(" ,\xa0"):
        # Inverted: "…," said Smith, a lawyer
        if cue_text.lower() not in INVERTIBLE and cue_text.lower() != "according to":
            return None
        subject_start = skip_spaces(masked, cue_end)
        subject_end = phrase_boundary(masked, subject_start, region_end)
        return resolved(context, subject_start, subject_end, cue_text, "trailing_inverted", span)
    if ends_its_sentence(context, span) and cue_clause_goes_on(context, cue_end):
        return None  # the next sentence's cue, not this quote's
    subject = subject_before(context, after, cue_start, sentence_start)
    if subject is None:
        return None
    return resolved(context, subject[0], subject[1], cue_text, "trailing", span)


def ends_its_sentence(context: Context, span: MarkedSpan) -> bool:
    """The quote closes on a full stop and a capitalised word follows: what comes after is
    the next sentence (``"…at home." Meanwhile Smith said: "…"``)."""
    if not span.closed or span.end <= span.start or context.text[span.end - 1] != ".":
        return False
    after = skip_spaces(context.masked, span.outer_end)
    return after < len(context.masked) and context.masked[after].isupper()


def cue_clause_goes_on(context: Context, cue_end: int) -> bool:
    """More than a few words follow the cue before its sentence ends, or it runs on into
    another quote: ``Smith said the vote was lost.`` / ``Smith said: "…"``, not ``Smith said.``"""
    masked = context.masked
    limit = min(len(masked), cue_end + CUE_CLAUSE_CHARS)
    next_quote = next_mark_or(context, cue_end, limit)
    stop = SENTENCE_STOP.search(masked, cue_end, next_quote)
    if stop is None and next_quote < limit:
        return True  # the cue introduces that quote
    return len(masked[cue_end:stop.start() if stop else next_quote].split()) > CUE_TAIL_WORDS


CUE_CLAUSE_CHARS = 200  # how far after a cue its clause is looked at
CUE_TAIL_WORDS = 3  # "said on Monday": words a cue may take before its sentence ends
SENTENCE_STOP = re.compile(r"[.!?]")


def leading_attribution(context: Context, span: MarkedSpan, sentence_start: int, _end: int) -> Attribution | None:
    """A reporting verb before the opening mark in the same sentence: the last one wins."""
    return last_cue_attribution(context, sentence_start, span.outer_start, span, "leading")


def last_cue_attribution(context: Context, region_start: int, region_end: int, span: MarkedSpan, method: str) -> Attribution | None:
    masked = context.masked
    for cue_start, cue_end, cue_text in reversed(all_cues(masked, region_start, region_end)):
        if cue_text.lower() == "according to":
            after = skip_spaces(masked, cue_end)
            phrase_end = phrase_boundary(masked, after, region_end)
            return resolved(context, after, phrase_end, cue_text, "according_to", span)
        clause_start = clause_start_before(context, region_start, cue_start)
        subject = subject_before(context, clause_start, cue_start, region_start)
        if subject is not None:
            found = resolved(context, subject[0], subject[1], cue_text, method, span)
            if found is not None:
                return found
        if cue_text.lower() in INVERTIBLE:
            after = skip_spaces(masked, cue_end)
            phrase_end = phrase_boundary(masked, after, region_end)
            if phrase_end > after and masked[after:after + 1].isupper():
                return resolved(context, after, phrase_end, cue_text, method + "_inverted", span)
    return None


def trailing_far_attribution(context: Context, span: MarkedSpan, sentence_start: int, sentence_end: int) -> Attribution | None:
    """A reporting verb later in the sentence: ``a "correct reading" of it, Smith said``."""
    if ends_its_sentence(context, span):
        return None  # a later cue belongs to the next sentence
    masked = context.masked
    for cue_start, cue_end, cue_text in all_cues(masked, span.outer_end, sentence_end):
        if cue_text.lower() == "according to":
            after = skip_spaces(masked, cue_end)
            return resolved(context, after, phrase_boundary(masked, after, sentence_end), cue_text, "according_to", span)
        clause_start = clause_start_before(context, span.outer_end, cue_start)
        subject = subject_before(context, clause_start, cue_start, sentence_start)
        if subject is not None:
            return resolved(context, subject[0], subject[1], cue_text, "trailing_far", span)
        if cue_text.lower() in INVERTIBLE:
            after = skip_spaces(masked, cue_end)
            phrase_end = phrase_boundary(masked, after, sentence_end)
            if phrase_end > after and masked[after:after + 1].isupper():
                return resolved(context, after, phrase_end, cue_text, "trailing_inverted", span)
    return None


def continuation(context: Context, spans: Sequence[MarkedSpan], index: int, done: list[Attribution]) -> Attribution | None:
    """A quote without its own attribution continues the previous quote's speaker: within the
    paragraph, or from the previous paragraph when this paragraph opens with the quote. A
    paragraph ending in a colon ("The Times reports:") introduces the quote after it."""
    span = spans[index]
    earlier = context.last_attributed.get(span.paragraph_position)
    if earlier is not None and earlier < index and done[earlier].speaker:
        return carried(done[earlier], "continuation")
    opens_paragraph = span.outer_start <= context.content_starts.get(span.paragraph_position, paragraph_start(context, span))
    if not opens_paragraph:
        return following_in_paragraph(context, spans, index)
    previous_bounds = context.paragraph_bounds.get(span.paragraph_position - 1)
    if previous_bounds is not None:
        lo, hi = previous_bounds
        if context.text[lo:hi].rstrip().endswith(":"):
            # the last sentence of that paragraph (boundaries were found once, in build_context)
            before = bisect_left(context.sentence_starts, hi - 1) - 1
            sentence_start = max(lo, context.sentence_starts[before]) if before >= 0 else lo
            found = last_cue_attribution(context, sentence_start, hi, span, "colon_paragraph")
            if found is not None and found.speaker:
                return found
    if index > 0:
        previous = spans[index - 1]
        if span.paragraph_position - previous.paragraph_position <= 1 and done[index - 1].speaker:
            return carried(done[index - 1], "continuation_paragraph")
    return following_in_paragraph(context, spans, index)


def following_in_paragraph(context: Context, spans: Sequence[MarkedSpan], index: int) -> Attribution | None:
    """``"First." "Second," she said.``: an unattributed quote takes the attribution of the
    next quote in the same paragraph, when that one has its own."""
    span = spans[index]
    for later in spans[index + 1:index + 1 + FOLLOWING_QUOTES]:
        if later.paragraph_position != span.paragraph_position:
            return None
        start, end = sentence_around(context, later)
        found = trailing_attribution(context, later, start, end)
        if found is not None and found.speaker:
            return carried(found, "continuation_forward")
    return None


def with_alias(context: Context, found: Attribution, cue: ParsedCue) -> Attribution:
    """"DJ Max, real name Max Ortega": the fuller person name in apposition is the speaker."""
    mention = best_mention_in(context, cue.alias_start, cue.alias_end)
    if mention is None or mention.label != "PERSON":
        return found
    name = best_name(context, mention)
    if len(name.split()) >= max(2, len((found.speaker or "").split())):
        return replace(found, speaker=name)
    return found


def carried(source: Attribution, method: str) -> Attribution:
    return Attribution(source.speaker, source.speaker_mention, source.cue, method, source.mention_start, source.mention_end)


def transcript_label(context: Context, span: MarkedSpan) -> Attribution:
    """``"SMITH: We will…"``: a transcript's speaker label at the start of the quote."""
    label = context.text[span.label_start:span.label_end].strip()
    speaker = resolve_bare_name(context, label.title(), span.label_start)
    return Attribution(speaker, label, ":", "transcript_label", span.label_start, span.label_end)


def headline_subject(context: Context, span: MarkedSpan) -> Attribution | None:
    """A headline quote belongs to the name before a colon ("Smith: …") or the headline's first person."""
    start, _ = context.paragraph_bounds.get(span.paragraph_position, (0, 0))
    colon = context.masked.find(":", start, span.outer_start)
    candidates = [m for m in mentions_between(context, start, span.outer_start) if m.label in NER_SPEAKER_LABELS]
    if colon >= 0:
        for mention in candidates:
            if not context.text[mention.end:colon].strip():
                return Attribution(best_name(context, mention), mention.text, ":", "headline_colon", mention.start, mention.end)
    for mention in candidates:
        if mention.label == "PERSON":
            return Attribution(best_name(context, mention), mention.text, None, "headline", mention.start, mention.end)
    return None


def sentence_subject_attribution(context: Context, span: MarkedSpan, sentence_start: int) -> Attribution | None:
    """A fragment in a sentence whose subject is a named person ("Smith doesn't want a
    'surrender'") is that person's wording, even without a reporting verb."""
    if not context.text[sentence_start:span.outer_start].strip():
        return None
    subject = sentence_subject(context, sentence_start, span.outer_start)
    if subject is None:
        return None
    mention = best_mention_in(context, subject[0], subject[1])
    if mention is None or mention.label != "PERSON":
        return None
    return Attribution(best_name(context, mention), context.text[subject[0]:subject[1]], None, "sentence_subject",
                       subject[0], subject[1])


# ---------------------------------------------------------------------------- text helpers
def paragraph_start(context: Context, span: MarkedSpan) -> int:
    return context.paragraph_bounds.get(span.paragraph_position, (0, 0))[0]


def skip_spaces(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \xa0\t":
        i += 1
    return i


def next_mark_or(context: Context, start: int, limit: int) -> int:
    return context.quotes.first_start(start, limit)


def mentions_between(context: Context, start: int, limit: int) -> list[Mention]:
    """The mentions starting in [start, limit), in text order."""
    return context.mentions[bisect_left(context.mention_starts, start):bisect_left(context.mention_starts, limit)]


def first_cue(masked: str, start: int, end: int) -> tuple[int, int, str] | None:
    cues = all_cues(masked, start, end)
    return cues[0] if cues else None


def all_cues(masked: str, start: int, end: int) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group()) for m in cue_matches(masked, start, end) if is_verb_use(masked, m)]


# CUE_PATTERN is an alternation of some 375 cues, which the regex engine tries one by one at
# every character. A cue can only start a word that is a cue word or a phrase cue's first
# word, so only there is it tried: the same matches as CUE_PATTERN.finditer, several times
# faster.
WORD_RUN = re.compile(r"[\w'’]+")  # what the cue pattern's look-arounds treat as inside a word
CUE_FIRST_WORDS = frozenset(CUE_FORMS) | {phrase.split()[0] for phrase in PHRASE_CUES}
# Characters besides A-Z that re.IGNORECASE matches with an ASCII letter.
IGNORECASE_VARIANTS = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})


def cue_matches(masked: str, start: int, end: int) -> Iterator[re.Match]:
    """CUE_PATTERN.finditer(masked, start, end), found by word lookup."""
    resume = start
    for word in WORD_RUN.finditer(masked, start, end):
        if word.start() < resume:
            continue  # inside the previous cue ("to" of "according to")
        key = word.group()
        key = key.lower() if key.isascii() else key.translate(IGNORECASE_VARIANTS).lower()
        if key in CUE_FIRST_WORDS:
            match = CUE_PATTERN.match(masked, word.start(), end)
            if match is not None:
                resume = match.end()
                yield match


def is_verb_use(masked: str, match: re.Match) -> bool:
    """Rejects noun uses of noun-like cues ("a Trump tweet", "the reports")."""
    word = match.group().lower()
    if word not in NOUN_LIKE_FORMS:
        return True
    before = masked[max(0, match.start() - 12):match.start()].split()
    after = masked[match.end():match.end() + 8]
    if before and before[-1].lower().strip(",") in PRONOUNS | {"who", "which", "that", "what"}:
        return True
    if re.match(r"\s*(?::|that\b|,\s*[\"“])", after):
        return True
    if before and before[-1][:1].isupper() and not re.match(r"\s+(?:of|on|about|from|by|in|to|and)\b", after):
        return word.endswith("s")  # "Smith tweets", not "Smith tweet"
    if re.match(r"\s*[.,;]", after) and re.search(r"(?:^|\s)(?:the|this|that|its|his|her|their)\s+[a-z]+\s*$",
                                                  masked[max(0, match.start() - 30):match.start()]):
        return True  # "…," the article read. / the report states,
    return False


def sentence_around(context: Context, span: MarkedSpan) -> tuple[int, int]:
    """The sentence of the masked paragraph holding the quote's opening mark, at most
    SENTENCE_WINDOW_CHARS either side of the quote."""
    lo, hi = context.paragraph_bounds.get(span.paragraph_position, (span.outer_start, span.outer_end))
    masked = context.masked
    starts = context.sentence_starts
    before = bisect_right(starts, span.outer_start) - 1
    start = max(lo, starts[before]) if before >= 0 else lo
    after = bisect_right(starts, span.outer_end)
    while after < len(starts) and context.sentence_marks[starts[after]] < span.outer_end:
        after += 1  # punctuation that began inside the quote ends no sentence after it
    end = min(hi, starts[after]) if after < len(starts) else hi
    start = max(start, span.outer_start - SENTENCE_WINDOW_CHARS)
    end = min(end, span.outer_end + SENTENCE_WINDOW_CHARS)
    # a line break inside a paragraph (one-newline layouts) ends a sentence too
    line_start = masked.rfind("\n", start, span.outer_start)
    if line_start >= 0:
        start = line_start + 1
    line_end = masked.find("\n", span.outer_end, end)
    if line_end >= 0:
        end = line_end
    return start, end


SENTENCE_END = re.compile(r"[.!?]+[\"”’'»)]*(?=\s+[\"“‘'(\[A-Z0-9]|\s*$)")


LAST_WORD_WITH_STOPS = re.compile(r"([\w.]+)$")
INITIALS = re.compile(r"(?:[a-z]\.)*[a-z]")


def sentence_end_marks(masked: str, start: int, end: int) -> list[tuple[int, int]]:
    """(start, end) of each sentence-ending punctuation run in masked[start:end]
    (abbreviations skipped): a sentence starts at each end."""
    ends = []
    for match in SENTENCE_END.finditer(masked, start, end):
        word = LAST_WORD_WITH_STOPS.search(masked[max(start, match.start() - 12):match.start()])
        token = word.group(1).lower().rstrip(".") if word else ""
        if token in ABBREVIATIONS or INITIALS.fullmatch(token):  # "Sen.", "G.K."
            continue
        if token and set(token) == {MASK}:
            # a quote's own final stop only ends the sentence when its closing mark follows
            if masked[match.end() - 1] not in "\"”’'»":
                continue
        ends.append((match.start(), match.end()))
    return ends


def clause_start_before(context: Context, region_start: int, cue_start: int) -> int:
    """Start of the clause holding a cue: after the last quote or semicolon before it."""
    last_quote_end = context.quotes.last_end(region_start, cue_start)
    start = region_start if last_quote_end is None else last_quote_end
    semicolon = context.masked.rfind(";", start, cue_start)
    return semicolon + 1 if semicolon >= 0 else start


_PHRASE_END = re.compile(
    r"[,.;:!?()\[\]\"“”«»\n]|\s(?:who|which|in|on|at|during|after|before|that|to|from|about|when|while|"
    r"as|because|and|but|for|of\s+(?:the\s+)?(?:[a-z]))\b|\s[-—–―]\s"
)
_ENDS_IN_ABBREVIATION = re.compile(
    r"(?:^|[\s.])(?:[A-Z]|Mr|Mrs|Ms|Dr|Sen|Rep|Gov|Gen|St|Jr|Sr|Lt|Col|Del|Rev|Prof|Sgt|Capt|Adm|Cmdr|Atty|Supt|Fr|Msgr)$"
)
_PHRASE_END_AFTER_ABBREVIATION = re.compile(r"[,;:!?()\[\]\"“”«»\n]|\.(?!\w)|\s(?:who|which|in|on|at|during|after)\b")


def phrase_boundary(masked: str, start: int, limit: int) -> int:
    """End of the noun phrase starting at ``start``: the first comma, stop, bracket, mark or
    clause word (who, in, on, at, during, after, before, that, to)."""
    match = _PHRASE_END.search(masked, start, limit)
    end = match.start() if match else limit
    # "said Smith." - keep an abbreviation's stop inside ("Sen." is not an end)
    while end < limit and masked[end] == "." and _ENDS_IN_ABBREVIATION.search(masked[start:end]):
        nxt = _PHRASE_END_AFTER_ABBREVIATION.search(masked, end + 1, limit)
        end = nxt.start() if nxt else limit
    return end


PARTICIPLE_LINKS = {"by", "before", "after", "while", "when", "without", "for", "of", "in", "on", "to", "and", "then"}
RELATIVE_PRONOUNS = {"who", "which", "that"}
# Sentence openers to skip when looking for a sentence's subject ("But", "In a statement,").
INTRO_WORDS = {"but", "and", "yet", "so", "still", "meanwhile", "however", "then", "also", "later", "earlier",
               "now", "instead", "indeed", "in", "on", "at", "after", "during", "before", "since", "speaking",
               "asked", "when", "while", "last", "this", "on", "from", "with", "as", "for", "under", "like"}


def subject_before(context: Context, clause_start: int, cue_start: int, sentence_start: int | None = None) -> tuple[int, int] | None:
    """The speaker phrase before a reporting verb: the nearest noun phrase, skipping
    adverbs ("also said"), a parenthesis ("(R-Utah)") and an appositive between commas
    ("Smith, a lawyer, said"). Participles and infinitives ("..., adding", "to tell") take
    the subject of the sentence."""
    masked = context.masked
    cue_word = re.sub(r"\W+$", "", masked[cue_start:cue_start + 20].split()[0].lower()) if masked[cue_start:cue_start + 20].split() else ""
    non_finite = cue_word.endswith("ing")
    words = list(WORD.finditer(masked, clause_start, cue_start))
    while words and words[-1].group().lower() in ADVERBS:
        words.pop()
    if words and re.fullmatch(r"\w+[’']s", words[-1].group()) and re.sub(r"[’']s$", "", words[-1].group().lower()) in PRONOUNS:
        return words[-1].start(), words[-1].end()  # "He's claiming"
    fallback_start = clause_start if sentence_start is None else sentence_start
    if not words:
        return sentence_subject(context, fallback_start, cue_start) if non_finite else None
    last = words[-1].group().lower()
    if last == "to" or (non_finite and (last in PARTICIPLE_LINKS or last == ",")):
        return sentence_subject(context, fallback_start, cue_start)
    if last in RELATIVE_PRONOUNS:
        words.pop()
        if words and words[-1].group() == ",":
            words.pop()
    words = strip_parenthesis(words)
    if not words:
        return None
    if words[-1].group() == ",":
        stripped = strip_appositive(words)
        if stripped is None:
            # "His niece, Ann Roe (D-Ohio), said": a description, then the name between commas
            stripped = named_appositive(context, words)
            if stripped is None:
                return None
        words = strip_parenthesis(stripped)  # "Smith (R-Ohio), a member, said"
    if not words or masked[words[-1].start()] == MASK:
        return None
    return noun_phrase(context, words)


def strip_parenthesis(words: list[re.Match]) -> list[re.Match]:
    """``Smith (R-Ohio)`` -> ``Smith``: drop a parenthesis ending the word list."""
    words = list(words)
    if words and words[-1].group() == ")":
        depth = 0
        while words:
            token = words.pop().group()
            depth += token == ")"
            depth -= token == "("
            if depth <= 0:
                break
    return words


SUBJECT_WORDS = 60


def sentence_subject(context: Context, sentence_start: int, limit: int) -> tuple[int, int] | None:
    """The subject opening a sentence: a pronoun or a named mention among its first words,
    after an introductory phrase ("In a statement, ...")."""
    masked = context.masked
    # the subject is among the first words: a long sentence is not read to its end
    words = list(islice(WORD.finditer(masked, sentence_start, limit), SUBJECT_WORDS))
    index = 0
    if words and words[0].group().lower() in INTRO_WORDS:
        comma = next((i for i, w in enumerate(words[:10]) if w.group() == ","), None)
        index = comma + 1 if comma is not None else 1
    while index < len(words) and words[index].group().lower() in {"but", "and", "so", "yet", "then"}:
        index += 1
    if index >= len(words):
        return None
    first = words[index]
    if first.group().lower() in PRONOUNS:
        return first.start(), first.end()
    for mention in mentions_between(context, first.start(), first.start() + 1):
        if mention.label in ("PERSON", "ORG", "GPE", "NORP"):
            return mention.start, mention.end
    if first.group()[:1].isupper() and index + 1 < len(words):
        # a title run before a name: "Attorney General Jeff Sessions doesn't ..."
        run_end = index
        while run_end + 1 < len(words) and words[run_end + 1].group()[:1].isupper():
            run_end += 1
        for mention in mentions_between(context, first.start(), words[run_end].end()):
            if mention.end <= words[run_end].end() and mention.label == "PERSON":
                return first.start(), mention.end
    return None


def named_appositive(context: Context, words: list[re.Match]) -> list[re.Match] | None:
    """The words of the comma-enclosed segment ending the list, when it holds a person mention."""
    commas = [i for i, w in enumerate(words) if w.group() == ","]
    if len(commas) < 2:
        return None
    segment = strip_parenthesis(words[commas[-2] + 1:commas[-1]])
    if not segment:
        return None
    lo, hi = segment[0].start(), segment[-1].end()
    # the segment must end in the name: "state Del. Ann Roe (D-Ohio)", not "Roe attacked Lee"
    if any(m.label == "PERSON" and m.end == hi for m in mentions_between(context, lo, hi)):
        return segment
    return None


def strip_appositive(words: list[re.Match]) -> list[re.Match] | None:
    """``Smith, a lawyer at X,`` -> ``Smith``: drop the trailing comma-enclosed segment when the
    segment before it ends in a name or pronoun."""
    commas = [i for i, w in enumerate(words) if w.group() == ","]
    if len(commas) < 2:
        return None
    for index in range(len(commas) - 2, -1, -1):
        before = words[:commas[index]]
        if not before:
            return None
        last = before[-1].group()
        if last[:1].isupper() or last.lower() in PRONOUNS or last == ")":
            return before
    return None


def noun_phrase(context: Context, words: list[re.Match]) -> tuple[int, int] | None:
    """The noun phrase ending the word list: a pronoun, a run of capitalised words (with an
    NER mention inside it), or a determiner-led description ("the former senator")."""
    last = words[-1]
    end = last.end()
    if re.sub(r"[’']s$", "", last.group().lower()) in PRONOUNS:
        return last.start(), end
    if last.group().lower() in STOP_WORDS or not last.group()[:1].isalnum():
        return None
    start_index = len(words) - 1
    saw_determiner = False
    for i in range(len(words) - 1, max(-1, len(words) - 13), -1):
        token = words[i].group()
        if token.lower() in DETERMINERS:
            start_index = i
            saw_determiner = True
            break
        if token in {",", ";", ":", "(", ")", "—", "–"} or token.lower() in STOP_WORDS:
            break
        if context.masked[words[i].start()] == MASK:
            break
        start_index = i
    if not saw_determiner:
        # without a determiner the phrase is a name: drop lowercase words before it
        while start_index < len(words) and not words[start_index].group()[:1].isupper():
            start_index += 1
        if start_index >= len(words):
            return None
    return words[start_index].start(), end


STOP_WORDS = {"that", "and", "but", "or", "when", "while", "because", "after", "before", "as", "if", "so",
              "which", "who", "where", "in", "on", "at", "to", "for", "with", "by", "from", "about", "of",
              "than", "said", "says", "told", "where", "since", "although", "though", "yet", "also"}


# ---------------------------------------------------------------------------- resolution
def resolved(context: Context, start: int, end: int, cue: str, method: str, span: MarkedSpan,
             description: bool = False) -> Attribution | None:
    phrase = context.text[start:end].strip(" ,\xa0")
    if not phrase or MASK * 3 in context.masked[start:end]:
        return None
    speaker = resolve_phrase(context, start, end, phrase, span, description)
    return Attribution(speaker, phrase, cue, method, start, end)


def resolve_phrase(context: Context, start: int, end: int, phrase: str, span: MarkedSpan,
                   description: bool = False) -> str | None:
    """The canonical name for the words at an attribution; ``description``: the parse found a
    common noun at their head ("Clinton supporters", "the senator's son")."""
    lowered = re.sub(r"[’']s$", "", phrase.lower())  # "He's claiming"
    if lowered in PRONOUN_GENDER or lowered in PLURAL_OR_NEUTER:
        return resolve_pronoun(context, lowered, start)
    words = phrase.split()
    mention = best_mention_in(context, start, end)
    possessive_led = len(words) >= 2 and re.search(r"[’']s$", words[0]) is not None and words[1][:1].islower()
    is_description = description or words[0].lower() in DETERMINERS or phrase[:1].islower() or possessive_led
    head = re.sub(r"[^\w]", "", words[-1])
    if is_description and head[:1].islower():
        # "the Indiana governor": a name inside a description only modifies it, except for
        # organisations' products ("the IMF report", "Smith's campaign")
        if mention is not None and head.lower() in ORG_HEADS and mention.label in ("ORG", "PERSON"):
            return best_name(context, mention)
        if words[0].lower() in INDEFINITES:
            # "a spokeswoman", "one official": someone new, never a person named before; speaking
            # for a named organisation ("a Jive spokesman", "a spokesman for Unison"), that organisation
            return organisation_in(context, start, end)
        return resolve_description(context, phrase, start)
    if mention is not None:
        return best_name(context, mention)
    if is_description:
        return resolve_description(context, phrase, start)
    return resolve_bare_name(context, phrase, start)


INDEFINITES = {"a", "an", "one", "another", "some", "several", "two", "three"}
ORGANISATION_AFTER = re.compile(r"\s+(?:for|of|at|from|with)\s+(?:the\s+)?")


def organisation_in(context: Context, start: int, end: int) -> str | None:
    """The organisation named inside [start, end) or right after it (``… for Unison``)."""
    after = ORGANISATION_AFTER.match(context.masked, end)
    limit = after.end() + 1 if after else end
    for mention in mentions_between(context, start, limit):
        if mention.label == "ORG" and not context.quotes.contains(mention.start):
            return best_name(context, mention)
    return None


def best_mention_in(context: Context, start: int, end: int) -> Mention | None:
    """The mention inside [start, end) most likely to be the speaker: a person first."""
    inside = [m for m in mentions_between(context, start, end + 1) if m.end <= end + 1 and m.label in NER_SPEAKER_LABELS]
    if not inside:
        return None
    for label in ("PERSON", "ORG"):
        ranked = [m for m in inside if m.label == label]
        if ranked:
            return ranked[-1]
    return inside[-1]


def best_name(context: Context, mention: Mention) -> str:
    """The speaker's full name (memoised per mention)."""
    key = (mention.start, mention.end, mention.label)
    if key not in context.names_cache:
        context.names_cache[key] = compute_best_name(context, mention)
    return context.names_cache[key]


def compute_best_name(context: Context, mention: Mention) -> str:
    """Organisations keep the canonical name entities.py gave them; a person's name is rebuilt
    from the article's own forms of it, because NER spans can swallow a neighbouring word
    ("What Obama", "Crooked Hillary Clinton"), a bare surname needs the nearest full form of
    it (two Johnsons in one article stay apart), and the fullest form the article uses is the
    canonical one ("Suu Kyi" -> "Aung San Suu Kyi")."""
    title_gender = gender_of_title(context, mention.start)
    if mention.label != "PERSON":
        bare = strip_titles(mention.text)
        if len(bare.split()) == 1:
            # NER often labels a lone surname ORG/GPE/NORP ("Caddell said"): a person the
            # article names in full with that surname wins
            person = full_name_for(context, bare, mention.start, title_gender)
            if person:
                return person
        return strip_titles(mention.name or mention.text)
    tokens = clean_person_tokens(context, strip_titles(mention.text).split())
    if len(tokens) >= 2:
        return " ".join(fullest_form(context, tokens))
    surname = tokens[-1] if tokens else strip_titles(mention.name or mention.text)
    fuller = full_name_for(context, surname, mention.start, title_gender) or named_by_first_name(context, surname)
    if fuller:
        return fuller
    canonical = strip_titles(mention.name or "")
    if len(canonical.split()) >= 2 and canonical.split()[-1].lower() == surname.lower():
        return " ".join(clean_person_tokens(context, canonical.split()))
    return surname


NAME_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv"})


def surname_of(tokens: Sequence[str]) -> str:
    """The last word of a name that is not a suffix (Jr., III), lower case, without stops."""
    for token in reversed(tokens):
        word = token.lower().rstrip(".").replace("’", "'")
        if word not in NAME_SUFFIXES:
            return word
    return ""


HONORIFIC_AT_END = re.compile(r"\b(Mr|Mrs|Ms|Miss|Sir|Madam)\.?\s*$")


def gender_of_title(context: Context, position: int) -> str | None:
    """Mr/Mrs/Ms right before a mention says which of two same-surname people it is."""
    title = HONORIFIC_AT_END.search(context.text[max(0, position - 8):position])
    if not title:
        return None
    return "f" if title.group(1).lower() in FEMALE_WORDS | {"madam"} else "m"


def person_forms(context: Context) -> list[tuple[int, list[str]]]:
    """(offset, cleaned name tokens) of every person mention named with two or more words."""
    if context.person_token_forms is None:
        forms = []
        for mention in context.persons:
            tokens = clean_person_tokens(context, strip_titles(mention.text).split())
            if len(tokens) >= 2:
                forms.append((mention.start, tokens))
        context.person_token_forms = forms
    return context.person_token_forms


def is_subsequence(short: Sequence[str], long: Sequence[str]) -> bool:
    """Every token of ``short`` appears in ``long`` in the same order ("Hillary Clinton" in
    "Hillary Rodham Clinton", "Sessions" in "Jeff Sessions")."""
    remaining = iter(long)
    return all(token in remaining for token in short)


def fullest_form(context: Context, tokens: list[str]) -> list[str]:
    """The longest form of the name the article uses that holds all its words, in order, and
    ends the same way: "Suu Kyi" -> "Aung San Suu Kyi", "Bobby Scott" -> "Robert C. Bobby Scott".
    A form that only adds a suffix (Jr.) may be another person (a son): not taken."""
    memo = tuple(tokens)
    if memo in context.fullest_cache:
        return context.fullest_cache[memo]
    key = [t.lower().rstrip(".") for t in tokens]
    best = tokens
    for form in forms_index(context)[1].get(key[-1], []):
        if len(form) <= len(best):
            continue
        form_key = [t.lower().rstrip(".") for t in form]
        if not is_subsequence(key, form_key):
            continue
        best = form
    context.fullest_cache[memo] = best
    return best


def forms_index(context: Context) -> tuple[dict[str, tuple[list[int], list[list[str]]]], dict[str, list[list[str]]]]:
    """The person forms grouped by surname (offsets and tokens, in text order) and by last word."""
    if context.forms_by_surname is None:
        by_surname: dict[str, tuple[list[int], list[list[str]]]] = {}
        by_last: dict[str, list[list[str]]] = {}
        for start, tokens in person_forms(context):
            starts, forms = by_surname.setdefault(surname_of(tokens), ([], []))
            starts.append(start)
            forms.append(tokens)
            by_last.setdefault(tokens[-1].lower().rstrip("."), []).append(tokens)
        context.forms_by_surname = (by_surname, by_last)
    return context.forms_by_surname


def name_tokens(name: str) -> list[str]:
    """The words of a person's name: no possessive, no stray punctuation or quotation marks
    ("Vanita Gupta -" -> Vanita Gupta)."""
    return list(_name_tokens(name))


POSSESSIVE_END = re.compile(r"[’']s?$")


@lru_cache(maxsize=4096)  # asked again and again for the same mention texts of an article
def _name_tokens(name: str) -> tuple[str, ...]:
    tokens = [POSSESSIVE_END.sub("", t.strip(QUOTE_CHARS + DASHES + ",;:()")) for t in name.split()]
    return tuple(t for t in tokens if t[:1].isalpha())


def clean_person_tokens(context: Context, tokens: list[str]) -> list[str]:
    """Drop leading words that are not part of a name: a word the article also writes in
    lower case ("What Obama") when a shorter form of the name exists, words before an
    honorific inside the span ("Describing Mr Jackson"), and the first of two names NER glued
    together ("Anna Berg Tom Reed", when the article also names one of them alone)."""
    tokens = name_tokens(" ".join(tokens))
    inner_title = [i for i, token in enumerate(tokens[:-1]) if i >= 1 and token.lower().rstrip(".") in HONORIFICS]
    if inner_title:
        tokens = tokens[inner_title[-1] + 1:]
    if len(tokens) >= 4 and is_first_name(tokens[0]):
        for i in range(2, len(tokens) - 1):
            if is_first_name(tokens[i]) and len(tokens[i - 1].rstrip(".")) > 1 and (
                    " ".join(tokens[i:]) in context.person_forms or " ".join(tokens[:i]) in context.person_forms):
                tokens = tokens[i:]
                break
    while len(tokens) >= 3 or (len(tokens) == 2 and context.lowercase_words and tokens[0].lower() in context.lowercase_words):
        rest_is_full_name = " ".join(tokens[1:]) in context.person_forms and (
            tokens[1].lower() in FEMALE_FIRST_NAMES or tokens[1].lower() in MALE_FIRST_NAMES)
        if tokens[0].lower() in context.lowercase_words or rest_is_full_name:
            tokens = tokens[1:]
            continue
        break
    return tokens


HONORIFICS = frozenset({"mr", "mrs", "ms", "miss", "dr", "sir", "dame", "lord", "lady"})


def is_first_name(word: str) -> bool:
    return word.lower() in FEMALE_FIRST_NAMES or word.lower() in MALE_FIRST_NAMES


POSSESSIVE_S_AT_END = re.compile(r"[’']s$")


@lru_cache(maxsize=4096)  # as name_tokens
def strip_titles(phrase: str) -> str:
    words = POSSESSIVE_S_AT_END.sub("", phrase.strip()).split()
    while len(words) > 1 and words[0].lower().rstrip(".") in TITLES:
        words.pop(0)
    return " ".join(words).strip(" ,.'’")


def full_name_for(context: Context, surname: str, position: int, gender: str | None = None) -> str | None:
    """The full person name ending in ``surname`` (a suffix such as Jr. aside): the nearest
    earlier one, else the first later one, of the gender a title asks for (Mr. Obama is not
    Michelle Obama); failing NER, a capitalised run in the text ending in the surname."""
    target = surname.lower().rstrip(".").replace("’", "'")
    starts, forms = forms_index(context)[0].get(target, ([], []))

    def fits(index: int) -> bool:
        return gender is None or gender_of_name(context, " ".join(forms[index])) in (None, gender)

    split = bisect_right(starts, position)
    # the nearest earlier form (the first of those at that offset), and the nearest later one
    earlier = next((i for i in range(split - 1, max(-1, split - 1 - PERSONS_BACK), -1) if fits(i)), None)
    while earlier is not None and earlier > 0 and starts[earlier - 1] == starts[earlier] and fits(earlier - 1):
        earlier -= 1
    later = next((i for i in range(split, min(len(forms), split + PERSONS_BACK)) if fits(i)), None)
    if earlier is not None and (later is None or position - starts[earlier] <= 10 * (starts[later] - position)):
        return " ".join(fullest_form(context, forms[earlier]))
    if later is not None:
        return " ".join(fullest_form(context, forms[later]))
    variant = spelling_variant(context, target)
    if variant:
        return variant
    if (surname, gender) not in context.text_name_cache:
        context.text_name_cache[surname, gender] = name_in_text(context, surname, gender)
    return context.text_name_cache[surname, gender]


MIN_VARIANT_LETTERS = 5  # shorter surnames one letter apart are too often different names


def spelling_variant(context: Context, surname: str) -> str | None:
    """The one full name whose surname is one edit away ("Kowalsky" for "Kowalski"): an
    article spelling a name two ways; None when no such name, or more than one, exists."""
    if len(surname) < MIN_VARIANT_LETTERS:
        return None
    names = {" ".join(fullest_form(context, forms[-1])) for key, (_, forms) in forms_index(context)[0].items()
             if key != surname and forms and one_edit_apart(key, surname)}
    return names.pop() if len(names) == 1 else None


def one_edit_apart(a: str, b: str) -> bool:
    """One letter substituted, inserted or deleted."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = next((k for k in range(len(a)) if a[k] != b[k]), len(a))
    return a[i + (len(a) == len(b)):] == b[i + 1:]


def named_by_first_name(context: Context, word: str) -> str | None:
    """A lone first name ("Dame Ann", "Ann said") is the one person the article names in full
    with it, when nobody has it as a surname."""
    if not is_first_name(word):
        return None
    key = word.lower()
    if key in forms_index(context)[0]:
        return None
    names = {" ".join(fullest_form(context, tokens)) for _, tokens in person_forms(context) if tokens[0].lower() == key}
    return names.pop() if len(names) == 1 else None


NAME_RUN_BEFORE = re.compile(r"\b((?:(?:[A-Z]\.|[A-Z][\w'’-]+)\s+){1,3})\Z")
NAME_RUN_CHARS = 200  # how far back of a surname its capitalised run is read




def name_in_text(context: Context, surname: str, gender: str | None) -> str | None:
    """A capitalised run of one to three words right before ``surname`` in the text, as the
    person's full name: the article's prose first; failing that, a full form written only
    inside a quote. Each occurrence of the surname is looked up, not the whole text."""
    first_word = re.match(r"\w+", surname)
    if first_word is None:
        return None
    for masked in (True, False):
        text = context.masked if masked else context.text
        for offset in word_offsets(text, first_word.group()):
            # the surname whole (a regex per surname would be compiled anew for each article)
            if not (text.startswith(surname, offset) and is_word_boundary(text, offset + len(surname))):
                continue
            match = NAME_RUN_BEFORE.search(text, max(0, offset - NAME_RUN_CHARS), offset)
            if match is None:
                continue
            words = [w for w in match.group(1).split() if w.lower().rstrip(".") not in TITLES]
            while words and words[0].lower() in context.lowercase_words:
                words = words[1:]
            if words and all(w[:1].isupper() for w in words) and not any(w.lower() in STOP_WORDS for w in words):
                name = " ".join(words + [surname])
                if gender is None or gender_of_name(context, name) in (None, gender):
                    return name
    return None


def resolve_bare_name(context: Context, phrase: str, start: int) -> str | None:
    """A capitalised phrase NER missed: strip titles, then prefer an earlier full name."""
    name = strip_titles(re.sub(r"\s*\(.*?\)", "", phrase))
    capitalised = [w for w in name.split() if w[:1].isupper()]
    if not capitalised:
        return None
    name = " ".join(capitalised)
    if len(capitalised) == 1:
        return full_name_for(context, capitalised[0], start) or name
    return name


PREPOSITIONS = {"of", "for", "with", "by", "against", "about", "to", "from", "under", "than", "at", "on", "in",
                "into", "over", "between", "among", "toward", "towards", "like", "behind", "after", "before",
                "including", "alongside", "without", "through", "during", "via", "per", "as"}
# Words that, right after a name, show the name is the subject of a clause ("Smith said", "Smith, 69, has").
VERBISH = {"is", "was", "are", "were", "has", "had", "have", "will", "would", "could", "can", "should", "may",
           "might", "must", "did", "does", "do", "went", "made", "got", "gets", "took", "takes", "gave", "came",
           "comes", "became", "seems", "seemed", "wants", "wanted", "thinks", "thought", "knows", "knew", "says",
           "said", "told", "tells", "also", "then", "later", "once", "never", "still", "already", "just", "now"}
PRONOUN_WINDOW_SENTENCES = 10


def most_salient_person(context: Context, position: int, wanted: str | None) -> str | None:
    return resolve_pronoun(context, {"m": "he", "f": "she"}.get(wanted or "", "they"), position, any_gender=wanted is None)


def resolve_pronoun(context: Context, pronoun: str, position: int, any_gender: bool = False) -> str | None:
    """The person a he/she refers to, by salience (in the manner of Lappin and Leass, with
    word-level stand-ins for grammatical roles): every mention of a person in the last few
    sentences adds weight to that person, halved for each sentence back; subjects and people
    just quoted weigh most, possessives ("Smith's plan") and names after a preposition
    ("under Smith") least. People of the other gender never count; persons named inside
    quotes are not mentions at all."""
    if pronoun in PLURAL_OR_NEUTER and not any_gender:
        return nearest_organisation(context, position) if pronoun in ("it", "they") else None
    wanted = PRONOUN_GENDER.get(pronoun, "any")
    here = bisect_right(context.sentence_starts, position) - 1
    window_start = context.sentence_starts[max(0, here - PRONOUN_WINDOW_SENTENCES)] if context.sentence_starts else 0
    window_start = max(window_start, position - PRONOUN_WINDOW_CHARS)
    scores: Counter = Counter()
    first = bisect_left(context.person_starts, window_start)
    for mention in context.persons[first:bisect_left(context.person_starts, position)]:
        name = best_name(context, mention)
        if not gender_fits(context, name, wanted):
            continue
        distance = here - (bisect_right(context.sentence_starts, mention.start) - 1)
        scores[name] += mention_salience(context, mention) / 2 ** distance
    first = bisect_left(context.pronoun_offsets, window_start)
    for offset, name, weight in context.pronoun_mentions[first:bisect_left(context.pronoun_offsets, position)]:
        if gender_fits(context, name, wanted):
            distance = here - (bisect_right(context.sentence_starts, offset) - 1)
            scores[name] += weight / 2 ** distance
    first = bisect_left(context.speaker_offsets, window_start)
    for offset, name in context.speakers_so_far[first:bisect_left(context.speaker_offsets, position)]:
        if gender_fits(context, name, wanted):
            distance = here - (bisect_right(context.sentence_starts, offset) - 1)
            scores[name] += QUOTED_SPEAKER_SALIENCE / 2 ** distance
    if scores:
        return max(scores.items(), key=lambda item: item[1])[0]
    # nobody in the window: the last person of a fitting gender named before it
    last = bisect_left(context.person_starts, position)
    for mention in reversed(context.persons[max(0, last - PERSONS_BACK):last]):
        name = best_name(context, mention)
        if gender_fits(context, name, wanted):
            return name
    return None


PERSONS_BACK = 200  # earlier person mentions searched for one of a fitting gender


QUOTED_SPEAKER_SALIENCE = 310


def gender_fits(context: Context, name: str, wanted: str) -> bool:
    if wanted == "any":
        return True
    return context.genders.get(name) in (None, wanted) and gender_of_name(context, name) in (None, wanted)


def mention_salience(context: Context, mention: Mention) -> float:
    """Weight of one mention as a referent: recency 100, a head noun (not a possessive) 80,
    not inside a prepositional phrase 50, a subject 80."""
    key = (mention.start, mention.end)
    weight = context.salience_cache.get(key)
    if weight is None:
        weight = context.salience_cache[key] = _mention_salience(context, mention)
    return weight


POSSESSIVE_AFTER = re.compile(r"[’']s?\b|[’']")
WORD_OR_MARK = re.compile(r"[\w’'.]+|[^\w\s]")


def _mention_salience(context: Context, mention: Mention) -> float:
    masked = context.masked
    weight = 100.0
    possessive = bool(POSSESSIVE_AFTER.match(masked, mention.end, mention.end + 2)) or mention.text.endswith(("'s", "’s"))
    before = masked[max(0, mention.start - 60):mention.start]
    words_before = WORD_OR_MARK.findall(before)
    def title_word(word: str) -> bool:
        return word[:1].isupper() and word.lower().rstrip(".") in TITLES

    while words_before and (title_word(words_before[-1]) or (
            words_before[-1] == "of" and len(words_before) > 1 and title_word(words_before[-2]))):
        words_before.pop()  # the title run of "under Governor Smith", "Secretary of State Smith"
    previous = words_before[-1].lower() if words_before else ""
    oblique = previous in PREPOSITIONS
    if not possessive:
        weight += 80
    if not oblique:
        weight += 50
    if not possessive and not oblique and is_subject(context, mention):
        weight += 80
        if reports_speech(context, mention):
            weight += REPORTER_SALIENCE
    return weight


REPORTER_SALIENCE = 400.0


def reports_speech(context: Context, mention: Mention) -> bool:
    """The subject of a reporting verb ("Conrad said the plan ..."): who the next quote is likely from."""
    after = LEADING_APPOSITIVE.sub("", LEADING_PARENTHESIS.sub("", context.masked[mention.end:mention.end + 60]))
    following = NEXT_LOWER_CASE_WORD.match(after)
    return following is not None and following.group(1) in CUE_FORMS


def is_subject(context: Context, mention: Mention) -> bool:
    return is_subject_at(context, mention.start, mention.end)


SUBJECT_LEAD_CHARS = 400
LEAD_WORD = re.compile(r"[\w’']+")
ENDS_IN_COMMA = re.compile(r",\s*$")
LEADING_PARENTHESIS = re.compile(r"^\s*\([^)]*\)")
LEADING_APPOSITIVE = re.compile(r"^\s*,[^,]{1,40},")
NEXT_LOWER_CASE_WORD = re.compile(r"\s+([a-z]+)")


def is_subject_at(context: Context, start: int, end: int) -> bool:
    """A mention opening its sentence or clause, or followed by a verb-like word."""
    masked = context.masked
    sentence = bisect_right(context.sentence_starts, start) - 1
    sentence_start = context.sentence_starts[sentence] if sentence >= 0 else 0
    # a lead of more than a few words is not a sentence opening: longer ones are not read
    if start - sentence_start <= SUBJECT_LEAD_CHARS:
        lead = masked[sentence_start:start]
        lead_words = LEAD_WORD.findall(lead)
        if not lead_words or all(w.lower() in TITLES or w.lower() in INTRO_WORDS or w[:1].isupper() for w in lead_words[-4:]) and len(lead_words) <= 4:
            return True
        if ENDS_IN_COMMA.search(lead) and len(lead_words) <= 8:
            return True  # after an introductory phrase: "In an interview, Smith ..."
    after = masked[end:end + 60]
    after = LEADING_PARENTHESIS.sub("", after)  # "(R-Ohio)"
    after = LEADING_APPOSITIVE.sub("", after)  # an appositive
    following = NEXT_LOWER_CASE_WORD.match(after)
    if not following:
        return False
    word = following.group(1)
    return word in VERBISH or word in CUE_FORMS or (word.endswith("ed") and len(word) > 4)


def gender_of_name(context: Context, name: str) -> str | None:
    """Gender known for a name, or failing that for the person with the same surname."""
    if name in context.genders:
        return context.genders[name]
    first = name.split()[0].lower() if len(name.split()) > 1 else ""
    if first in FEMALE_FIRST_NAMES:
        return "f"
    if first in MALE_FIRST_NAMES:
        return "m"
    return None


def nearest_organisation(context: Context, position: int, word: str | None = None) -> str | None:
    """The last organisation named before ``position`` outside quotes (whose name holds
    ``word``, when given)."""
    last = bisect_left(context.organisation_starts, position)
    for mention in reversed(context.organisations[max(0, last - ORGANISATIONS_BACK):last]):
        name = mention.name or mention.text
        if word is None or re.search(r"\b" + re.escape(word) + r"\b", name, re.IGNORECASE):
            return name
    return None


ROLE_ABBREVIATIONS = {"gov": "governor", "sen": "senator", "rep": "representative", "gen": "general",
                      "pres": "president", "sec": "secretary", "lt": "lieutenant", "col": "colonel",
                      "capt": "captain", "adm": "admiral", "sgt": "sergeant", "supt": "superintendent"}
GENERIC_DESCRIPTION_WORDS = {"former", "current", "then", "new", "top", "first", "longtime", "veteran", "outgoing",
                             "incoming", "acting", "of", "and", "for", "in", "at", "s", "’s", "'s"}


def resolve_description(context: Context, phrase: str, position: int) -> str | None:
    """``the attorney general`` -> the person introduced as "Attorney General X" or
    "X, the attorney general"; organisation-like heads (the company) -> nearest organisation."""
    words = [w for w in re.findall(r"[\w'’-]+", phrase.lower()) if w not in DETERMINERS]
    words = [w for w in words if w not in GENERIC_DESCRIPTION_WORDS]
    if not words:
        return None
    head = words[-1]
    if head in WRITTEN_WORKS:
        # "the book said": its author, when the article said who wrote one
        author = author_of_work(context, position)
        if author:
            return author
    if head in ORG_HEADS:
        # "the union", "the report": an organisation (one named with that word first), not a
        # person whose introduction happens to hold the word; a ruling is a court's
        organisation = (nearest_organisation(context, position, head)
                        or (head in COURT_DOCUMENTS and nearest_organisation(context, position, "court"))
                        or nearest_organisation(context, position))
        if organisation:
            return organisation
    best: tuple[int, int, str] | None = None
    for index in role_candidates(context, head, position):
        mention = context.persons[index]
        role = expanded_role(context, index)
        if not re.search(r"\b" + re.escape(head) + r"\b", role):
            continue
        overlap = sum(1 for w in words if re.search(r"\b" + re.escape(w) + r"\b", role))
        distance = position - mention.start if mention.start < position else 10 * (mention.start - position)
        key = (overlap, -distance, best_name(context, mention))
        if best is None or key[:2] > best[:2]:
            best = key
    if best is not None:
        return best[2]
    if head in ORG_HEADS:
        return nearest_organisation(context, position)
    if POSSESSOR.search(phrase):
        return None  # "the minister's spokesman": someone else than the person the article is about
    if head in PERSON_HEADS or head in FEMALE_WORDS or head in MALE_WORDS:
        # a role the article never gave anyone by name: the most salient person of a fitting
        # gender, as for a pronoun ("the New York businessman said" after a paragraph on him)
        gender = "f" if head in FEMALE_WORDS else "m" if head in MALE_WORDS else None
        return most_salient_person(context, position, gender)
    return None


POSSESSOR = re.compile(r"[’']s?\s+\w|^(?:his|her|their)\s", re.IGNORECASE)  # "the senator's son", "her husband"


# Works a person writes: "the book said" is its author's.
WRITTEN_WORKS = {"book", "memoir", "memoirs", "autobiography", "novel", "essay", "column", "op-ed", "piece",
                 "letter", "diary", "biography"}
AUTHORED_WORK = re.compile(
    r"\b(?:wrote|writes|authored|penned|published)\s+(?:a|an|the|his|her|their)\s+(?:[\w'’-]+\s+){0,3}?"
    r"(?:" + "|".join(sorted(WRITTEN_WORKS)) + r")\b", re.IGNORECASE)
AUTHOR_WINDOW_CHARS = 3000


def author_of_work(context: Context, position: int) -> str | None:
    """The person who, in the prose shortly before ``position``, wrote a book, memoir, column…:
    "Roe wrote a memoir of her years at the school." … "…," the book said."""
    masked = context.masked
    matches = list(AUTHORED_WORK.finditer(masked, max(0, position - AUTHOR_WINDOW_CHARS), position))
    for match in reversed(matches):
        sentence = bisect_right(context.sentence_starts, match.start()) - 1
        sentence_start = context.sentence_starts[sentence] if sentence >= 0 else 0
        subject = subject_before(context, sentence_start, match.start(), sentence_start)
        if subject is None:
            continue
        phrase = masked[subject[0]:subject[1]].lower()
        if phrase in PRONOUN_GENDER:
            return resolve_pronoun(context, phrase, subject[0])
        mention = best_mention_in(context, subject[0], subject[1])
        if mention is not None and mention.label == "PERSON":
            return best_name(context, mention)
    return None


# Documents a court issues: "the ruling said" is the court's.
COURT_DOCUMENTS = {"ruling", "decision", "opinion", "order", "judgment", "judgement"}
# Heads of descriptions that denote one person (a role or occupation), for the salience fallback.
PERSON_HEADS = {"businessman", "businesswoman", "candidate", "nominee", "strategist", "adviser", "advisor",
                "aide", "spokesman", "spokeswoman", "spokesperson", "official", "senator", "governor",
                "president", "lawmaker", "congressman", "congresswoman", "mogul", "billionaire", "developer",
                "director", "chairman", "chairwoman", "secretary", "leader", "minister", "mayor", "judge",
                "lawyer", "attorney", "prosecutor", "officer", "executive", "founder", "host", "anchor",
                "reporter", "author", "writer", "columnist", "commentator", "analyst", "economist",
                "professor", "scholar", "expert", "activist", "veteran", "pollster", "manager", "chief",
                "democrat", "republican", "star", "actor", "actress", "singer", "rapper", "comedian"}


def expanded_role(context: Context, index: int) -> str:
    """The role context of ``context.persons[index]``, lower case, abbreviations spelt out (memoised)."""
    if index not in context.roles:
        context.roles[index] = expand_abbreviations(role_context(context, context.persons[index]).lower())
    return context.roles[index]


def role_candidates(context: Context, head: str, position: int) -> list[int]:
    """Indices of the persons whose introduction may hold the word ``head``: those whose role
    context has its last word, the ROLE_CANDIDATES nearest before and after ``position``."""
    if context.role_index is None:
        context.role_index = {}
        for index, mention in enumerate(context.persons):
            for word in set(re.findall(r"\w+", expanded_role(context, index))):
                indices, starts = context.role_index.setdefault(word, ([], []))
                indices.append(index)
                starts.append(mention.start)
    pieces = re.findall(r"\w+", head)
    if not pieces or not re.search(r"\w$", head):
        # no word to look up: every person
        indices, starts = range(len(context.persons)), context.person_starts
    else:
        indices, starts = context.role_index.get(pieces[-1], ([], []))
    split = bisect_left(starts, position)
    return list(indices[max(0, split - ROLE_CANDIDATES):split + ROLE_CANDIDATES])


def expand_abbreviations(role: str) -> str:
    return re.sub(r"\b([a-z]+)\.", lambda m: ROLE_ABBREVIATIONS.get(m.group(1), m.group(0)), role)


# Words that end the title run before a name (role_context).
NOT_IN_A_TITLE_RUN = frozenset(STOP_WORDS | PREPOSITIONS | CUE_FORMS | VERBISH)


CLAUSE_MARK = re.compile(r"[.;:\"“”\n]|,")
APPOSITIVE_AFTER = re.compile(r",\s*([^,.;\n]{1,80})")


def role_context(context: Context, mention: Mention) -> str:
    """Words that introduce a person: a title run before the name and an appositive after."""
    text = context.masked
    before = text[max(0, mention.start - 60):mention.start]
    before = CLAUSE_MARK.split(before)[-1]
    # only the title run right before the name: "the businessman says of Smith" does not
    # introduce Smith as the businessman
    clause_words = list(LEAD_WORD.finditer(before))
    for word in reversed(clause_words):
        if word.group().lower() in NOT_IN_A_TITLE_RUN:
            before = before[word.end():]
            break
    after_match = APPOSITIVE_AFTER.match(text[mention.end:mention.end + 90])
    after = after_match.group(1) if after_match else ""
    return before + " | " + after


ROLE_WORD_VOTE = 4
TITLE_BEFORE_NAME = re.compile(r"\b(mr|mrs|ms|miss|sir|lord|lady|dame)\.?\s*$")
GENDERED_PRONOUN = re.compile(r"\b(he|she|his|her|him)\b", re.IGNORECASE)
CAPITALISED_WORD = re.compile(r"\b[A-Z][a-z]+\b")
LOWER_CASE_LETTERS = re.compile(r"[a-z]+")


def infer_genders(context: Context) -> dict[str, str]:
    """Gender per person name from the article itself: titles and role nouns next to the
    name (Mr, Ms, spokeswoman), then which pronoun follows the person's mentions."""
    votes: dict[str, Counter] = {}
    text = context.masked
    names_by_surname: dict[str, set[str]] = {}
    for mention in context.persons:
        name = best_name(context, mention)
        names_by_surname.setdefault(surname_of(name.split()), set()).add(name)
    for mention in context.persons:
        name = best_name(context, mention)
        tally = votes.setdefault(name, Counter())
        near = text[max(0, mention.start - 12):mention.start].lower()
        title = TITLE_BEFORE_NAME.search(near)
        if title:
            tally["f" if title.group(1) in FEMALE_WORDS else "m"] += 5
        if len(name_tokens(strip_titles(mention.text))) < 2:
            # a bare surname may be another person of that name (a husband, a son): only a
            # title next to it is evidence, or, for a person no other evidence genders and
            # no other named person shares the surname with, the pronoun that follows
            if len(names_by_surname[surname_of(name.split())]) == 1:
                pronoun = GENDERED_PRONOUN.search(text[mention.end:mention.end + 200])
                if pronoun and not CAPITALISED_WORD.search(text[mention.end:mention.end + pronoun.start()]):
                    tally["f_bare" if pronoun.group(1).lower() in ("she", "her") else "m_bare"] += 1
            continue
        role = role_context(context, mention).lower()
        for word in LOWER_CASE_LETTERS.findall(role):
            # the article's own word for the person outweighs the first-name prior
            if word in FEMALE_WORDS and word != "first":
                tally["f"] += ROLE_WORD_VOTE
            elif word in MALE_WORDS:
                tally["m"] += ROLE_WORD_VOTE
        # the first subject pronoun after the mention, in the same or next sentence
        following = text[mention.end:mention.end + 200]
        pronoun = GENDERED_PRONOUN.search(following)
        if pronoun and not CAPITALISED_WORD.search(following[:pronoun.start()]):
            # only when no other name stands between the person and the pronoun
            tally["f_pronoun" if pronoun.group(1).lower() in ("she", "her") else "m_pronoun"] += 1
    genders = {}
    for name, tally in votes.items():
        # the first-name prior counts once per person, however often they are named
        first = name.split()[0].lower() if len(name.split()) > 1 else ""
        if first in FEMALE_FIRST_NAMES:
            tally["f"] += 3
        elif first in MALE_FIRST_NAMES:
            tally["m"] += 3
        # pronoun votes are noisy (the pronoun may refer to someone else): capped
        tally["m"] += min(2, tally["m_pronoun"])
        tally["f"] += min(2, tally["f_pronoun"])
        if tally["m"] == tally["f"] == 0:
            tally["m"], tally["f"] = tally["m_bare"], tally["f_bare"]
        if tally["m"] != tally["f"]:
            genders[name] = "m" if tally["m"] > tally["f"] else "f"
            continue
        first = name.split()[0].lower() if len(name.split()) > 1 else ""
        if first in FEMALE_FIRST_NAMES:
            genders[name] = "f"
        elif first in MALE_FIRST_NAMES:
            genders[name] = "m"
    return genders
