"""Does a passage support a statement? Deterministic gates, then a calibrated score.

The statement is first matched to its anchor: the passage sentence sharing most of its content
terms, with the sentences on either side. Gates, each a hard rejection with its own reason:
- every number, date, month and rule or section number in the statement is in the anchor
  ("30 days" and "thirty (30) days" agree, "§ 271(f)(1)" must match to the last level);
- the statement and its anchor sentence carry the same number of negations;
- every named party or entity (a capitalised word that is not an ordinary sentence opener) is
  in the passage.

Then the score: the share of the statement's content terms (the BM25 analyser's stems) that the
passage holds; a statement copied from the passage scores 1.0. Between Cutoffs.review_below and
Cutoffs.support the terms alone do not decide, and the cosine similarity of the statement to its
anchor (the packaged MiniLM) is blended in. A leading attribution ("According to the source,")
is not part of the claim and is set aside. The cut-offs were fitted by
`manage.py evaluate_checker` on the tuning half of the dev sets; the README reports the rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate

from apps.assistant import meaning
from apps.assistant.meaning import NUMBER_WORDS, ORDINALS
from apps.assistant.sentences import sentences
from apps.retrieval.tokenize import STOPWORDS, analyse

SUPPORTED = "supported"
NUMBER_MISSING = "number_missing"
NEGATION_MISMATCH = "negation_mismatch"
ENTITY_MISSING = "entity_missing"
WEAK_SUPPORT = "weak_support"


@dataclass(frozen=True)
class Cutoffs:
    support: float  # the lowest score that is support
    review_below: float  # below this share of terms, similarity is not consulted
    similarity_weight: float = 0.5


FITTED = Cutoffs(support=0.85, review_below=0.30)


@dataclass(frozen=True)
class Support:
    supported: bool
    reason: str
    score: float


@dataclass(frozen=True)
class Evidence:
    """What the gates and the score are computed from, before any cut-off is applied."""

    gate: str | None  # the failed gate's reason, or None
    coverage: float
    anchor: str


def assess(statement: str, passage: str, cutoffs: Cutoffs = FITTED) -> Support:
    """Each sentence of a statement is a claim of its own; the statement is as well supported
    as its weakest sentence, so that a supported sentence cannot carry an unsupported one."""
    claims = sentences(claim(statement)) or [statement]
    return min((assess_claim(c, passage, cutoffs) for c in claims), key=lambda s: s.score)


def assess_claim(statement: str, passage: str, cutoffs: Cutoffs) -> Support:
    evidence = gather(statement, passage)
    if evidence.gate:
        return Support(False, evidence.gate, 0.0)
    score = evidence.coverage
    if reviewable(score, cutoffs):
        score = blend(score, similarity(claim(statement), evidence.anchor), cutoffs)
    supported = score >= cutoffs.support
    return Support(supported, SUPPORTED if supported else WEAK_SUPPORT, round(score, 3))


def reviewable(coverage: float, cutoffs: Cutoffs) -> bool:
    """Whether similarity is consulted: the terms alone fall short, and even a perfect
    similarity could still lift the blend to the support cut-off."""
    reachable = (cutoffs.support - cutoffs.similarity_weight) / (1 - cutoffs.similarity_weight)
    return max(cutoffs.review_below, reachable) <= coverage < cutoffs.support


def blend(coverage: float, similarity_score: float, cutoffs: Cutoffs) -> float:
    return (1 - cutoffs.similarity_weight) * coverage + cutoffs.similarity_weight * similarity_score


def gather(statement: str, passage: str) -> Evidence:
    text = claim(statement)
    terms = set(analyse(text))
    profile = passage_profile(passage)
    if not terms:
        return Evidence(WEAK_SUPPORT, 0.0, "")
    first, last = profile.anchor_span(text, terms)
    anchor = " ".join(profile.sentences[first : last + 1])
    window = profile.sentences[max(first - 1, 0) : last + 2]
    coverage = len(terms & profile.terms) / len(terms)
    if squash(text) in profile.joined:
        # A quote holds its numbers, names, markers and word order as the passage does; only
        # a negation outside it ("does not consider that firms must…") can turn it around.
        gate = NEGATION_MISMATCH if negations(text) != negations(anchor) else None
        return Evidence(gate, coverage, anchor)
    if not numbers(text) <= set().union(*(numbers(s) for s in window)) or not in_order(
        number_sequence(text), number_sequence(" ".join(window))
    ):
        return Evidence(NUMBER_MISSING, coverage, anchor)
    if not entities(text) <= set().union(*(sentence_words(s) for s in window)):
        return Evidence(ENTITY_MISSING, coverage, anchor)
    if negations(text) != negations(anchor):
        return Evidence(NEGATION_MISMATCH, coverage, anchor)
    claim_words, anchor_words = meaning.tokens(text), meaning.tokens(anchor)
    gate = meaning.mismatched(claim_words, anchor_words)
    if gate is None and meaning.unit_mismatched(claim_words, meaning.tokens(" ".join(window))):
        gate = meaning.UNIT_MISMATCH
    if gate is None and meaning.roles_swapped(claim_words, anchor_words):
        gate = meaning.ROLE_SWAP
    return Evidence(gate, coverage, anchor)


@dataclass(frozen=True)
class PassageProfile:
    sentences: tuple[str, ...]  # whitespace-normalised
    sentence_terms: tuple[frozenset[str], ...]
    terms: frozenset[str]
    joined: str  # the sentences joined by single spaces
    ends: tuple[int, ...]  # where each sentence ends in `joined`

    def anchor_span(self, text: str, terms: set[str]) -> tuple[int, int]:
        """The first and last passage sentence the claim rests on: those it overlaps when it
        is quoted verbatim (so that a quote cut from inside a sentence meets the whole
        sentence, negations included), else the one sharing most of its terms."""
        start = self.joined.find(squash(text))
        if start >= 0:
            end = start + len(squash(text))
            first = next(i for i, e in enumerate(self.ends) if e > start)
            last = next(i for i, e in enumerate(self.ends) if e >= end)
            return first, last
        overlaps = [len(terms & sentence_terms) for sentence_terms in self.sentence_terms]
        best = max(range(len(overlaps)), key=overlaps.__getitem__)
        return best, best


@lru_cache(maxsize=512)
def passage_profile(passage: str) -> PassageProfile:
    """A passage is checked against every statement that cites it: analyse it once."""
    parts = tuple(squash(part) for part in sentences(passage)) or (squash(passage),)
    sentence_terms = tuple(frozenset(analyse(part)) for part in parts)
    ends = tuple(accumulate(len(part) + 1 for part in parts))
    return PassageProfile(
        sentences=parts,
        sentence_terms=sentence_terms,
        terms=frozenset().union(*sentence_terms),
        joined=" ".join(parts),
        ends=tuple(end - 1 for end in ends),
    )


# Typographic and plain quotation marks are one mark: writers and models swap them freely.
QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "′": "'", "″": '"'})


@lru_cache(maxsize=1024)
def squash(text: str) -> str:
    """The text with runs of whitespace as one space and quotation marks plain."""
    return " ".join(text.split()).translate(QUOTES)


def similarity(statement: str, anchor: str) -> float:
    from apps.corpora.embedding import get_embedder

    first, second = get_embedder().encode([statement, anchor])
    return float(first @ second)


_SOURCE_NOUN = (
    r"(?:the |this |that |these )?(?:cited |quoted |above |health |medical )?"
    r"(?:source|passage|document|text|article|abstract|study|paper|page|guidance|rules?|"
    r"rulebook|regulations?|opinion|court|contract|agreement|information|authors?|report|"
    r"literature|record|excerpt|extract|provision|section|clause)s?(?: \[?[0-9]+\]?(?=[,\s]))?"
)
_SOURCE_VERB = (
    r"(?:states?|stated|says?|said|notes?|noted|explains?|explained|reports?|reported|"
    r"indicates?|indicated|finds|found|holds|held|shows?|showed|describes?|described|"
    r"provides?|provided|specifies|specified|sets? out|mentions?|mentioned|puts? it|"
    r"makes? clear|confirms?|confirmed)"
)
ATTRIBUTION = re.compile(
    rf"^\s*(?:(?:according to|as (?:stated|set out|noted|described|explained|provided|"
    rf"specified|reported) in) {_SOURCE_NOUN},?"
    rf"|(?:per|under|in) {_SOURCE_NOUN},"
    rf"|as {_SOURCE_NOUN} {_SOURCE_VERB},?"
    rf"|{_SOURCE_NOUN} {_SOURCE_VERB}(?: that)?,?)\s*",
    re.IGNORECASE,
)


def claim(statement: str) -> str:
    """The statement without a leading attribution to its source."""
    return ATTRIBUTION.sub("", statement, count=1)


MONTHS = frozenset(
    (
        "january february march april may june july august september october november december"
    ).split()
)
WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")


def number_sequence(text: str) -> list[str]:
    """The numbers of a text in reading order, words as digits: "1 to 3 days" is [1, 3]."""
    return [
        str(NUMBER_WORDS.get(word, word.replace(",", "")))
        for word in meaning.tokens(text)
        if meaning.is_number(word)
    ]


def in_order(wanted: list[str], found: list[str]) -> bool:
    """`wanted` is `found` with items left out, order kept: "3 to 3 days" is not in "1 to 3
    days", though both of its numbers are."""
    remaining = iter(found)
    return all(any(item == seen for seen in remaining) for item in wanted)


@lru_cache(maxsize=4096)
def numbers(text: str) -> frozenset[str]:
    """Numeric terms as the BM25 analyser keeps them ("4.15.16", "§271(f)(1)", "1000000",
    "covid-19"), numbers and ordinals written as words, and capitalised month names."""
    found = {term for term in analyse(text) if any(c.isdigit() for c in term)}
    for word in WORD.findall(text):
        parts = word.lower().split("-")
        if all(part in NUMBER_WORDS for part in parts):
            found.add(str(sum(NUMBER_WORDS[part] for part in parts)))
        elif parts[0] in NUMBER_WORDS:  # "six-year", "three-dimensional"
            found.add(str(NUMBER_WORDS[parts[0]]))
        elif any(part in ORDINALS for part in parts):  # "third-party", "the first test"
            found.update(ORDINALS[part] for part in parts if part in ORDINALS)
        elif word[0].isupper() and word.lower() in MONTHS:
            found.add(word.lower())
    return frozenset(found)


# "unless" is "if not", and "except" takes out what follows.
NEGATION_WORDS = frozenset(
    ("not no never neither nor none nothing nobody nowhere cannot unless except").split()
)
# Not negations: "No. 15", "without limitation", and the "no"/"not" of a comparison or a time
# limit ("no later than", "not less than", "not to exceed"), which the meaning gates compare.
NOT_NEGATIONS = re.compile(
    r"\bno\.?\s*(?=[0-9])|\bwithout limitation\b|\bno-"
    r"|\bno[t]? (?:later|earlier|sooner|less|more|fewer|greater|longer|shorter) than\b"
    r"|\bnot (?:to )?exceed(?:ing)?\b|\bnot (?:before|prior to)\b",
    re.IGNORECASE,
)


def negations(text: str) -> int:
    tokens = WORD.findall(NOT_NEGATIONS.sub(" ", text.lower()).replace("’", "'"))
    return sum(
        token in NEGATION_WORDS or token == "without" or token.endswith("n't") for token in tokens
    )


# Capitalised only because they open a sentence or a clause.
OPENERS = STOPWORDS | frozenset(
    (
        "according also although however moreover furthermore thus therefore hence "
        "accordingly additionally generally notwithstanding subject unless upon whereas "
        "yes"
    ).split()
)


def entities(text: str) -> set[str]:
    """Capitalised words that are not ordinary openers: parties, places, drugs, defined terms."""
    return {
        word.lower()
        for word in WORD.findall(text.translate(QUOTES))
        if word[0].isupper() and word.lower() not in OPENERS and word.lower() not in MONTHS
    }


def words(text: str) -> set[str]:
    return set(WORD.findall(text.lower().translate(QUOTES)))


@lru_cache(maxsize=4096)
def sentence_words(sentence: str) -> frozenset[str]:
    return frozenset(words(sentence))
