"""The BM25 analyser: `analyse` turns document and query text into terms, and `index_terms`
adds each pair of neighbouring terms, which is what the BM25 index holds and is queried with.

Ordinary words are lowercased, English stopwords dropped and the rest Snowball-stemmed. What
lawyers and clinicians search for verbatim stays one term:

- rule numbers: "4.15.16" stays one term, so "Rule 4.15.16" and "4.15.16" share it. Each
  parenthesised level adds a term, the ADGM dot before the bracket dropped: "1.1.1.(1)" and
  "1.1.1(1)" -> "1.1.1", "1.1.1(1)"; "4.1.1(4)(b)" -> "4.1.1", "4.1.1(4)", "4.1.1(4)(b)", so a
  question citing a sub-paragraph still meets the rule. Dotted ancestors ("4.15") are not
  added: on the ObliQA dev questions with BM25 they cost MAP@10 (0.795 -> 0.774 on questions
  naming a rule) for no real recall gain, and chunk heading paths already carry the section;
- section marks: "§ 1983", "§1983", "§§ 1983" -> "§1983"; subsections nest like rule levels:
  "§117(a)(1)" -> "§117", "§117(a)", "§117(a)(1)";
- dotted reporter and code citations with a volume: "580 U. S." / "580 U.S." -> "580us",
  "42 U.S.C." -> "42usc", "769 F. 3d" -> "769f3d"; "U.S.C." and "C.F.R." without a volume ->
  "usc", "cfr". Undotted "42 USC" stays "42", "usc" (the query rewriter adds the dotted form):
  joining it would also join a "42" and a "usc" that happen to meet when terms are re-analysed;
- hyphenated forms with a purely numeric part, en and em dashes between digits read as
  hyphens: "No. 15–420" -> "15-420", "COVID-19" -> "covid-19", "IL-6" -> "il-6". Other
  hyphenated words split into their parts ("anti-money" -> "anti", "money");
- words with digits are lowercased but never stemmed: "BRCA1" -> "brca1", "HbA1c" -> "hba1c";
  grouped numbers lose their commas: "1,000,000" -> "1000000";
- capitalised abbreviations go through the ordinary path: "AML" -> "aml", "PEPs" -> "pep";
- the irregular past forms of verbs that rulings are reported with, which no stemmer joins to
  their base, are read as the base: "Held:" -> "hold", as "holding" and "holds" stem, so
  "What did the Court hold in ..." meets an opinion's "Held:" paragraph.

Text is folded first: compatibility decomposition (ligatures, full-width forms, accents),
soft hyphens, zero-width and bidi marks removed, apostrophes and curly quotes ignored
("Shari’a" -> "sharia"). Stems are taken to a fixed point of the stemmer ("agreed" -> "agre"
-> "agr"), so analysing the terms of a query again gives the same set of terms.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import threading
import unicodedata
from functools import lru_cache
from pathlib import Path

import Stemmer

# The NLTK English list with apostrophes removed, as the analyser removes them, and without the
# fragments ("ll", "ve", "won") that only a tokenizer splitting at apostrophes produces; "would"
# and "could" are added because questions are full of them and documents are not.
_STOPWORD_LIST = """
    a about above after again against all am an and any are arent as at be because been
    before being below between both but by can couldnt could did didnt do does doesnt doing
    dont down during each few for from further had hadnt has hasnt have havent having he her
    here hers herself him himself his how i if in into is isnt it its itself just me mightnt
    more most mustnt my myself neednt no nor not now of off on once only or other our ours
    ourselves out over own same shant she shes should shouldnt shouldve so some such than that
    thatll the their theirs them themselves then there these they this those through to too
    under until up very was wasnt we were werent what when where which while who whom why will
    with wont would wouldnt you youd youll your youre yours yourself yourselves youve s t
"""
STOPWORDS = frozenset(_STOPWORD_LIST.split())
IRREGULAR_PAST = {
    "held": "hold",
    "found": "find",
    "sought": "seek",
    "brought": "bring",
    "struck": "strike",
    "overrode": "override",
}

_HYPHEN_CHARS = "\\-\u2010\u2011"
_DASH_CHARS = "\u2012\u2013\u2014\u2015\u2212"
_REPORTERS = (
    r"(?:u\.\s?s\.\s?c\.|u\.\s?s\.|c\.\s?f\.\s?r\.|s\.\s?ct\.|l\.\s?ed\.(?:\s?2d)?"
    r"|f\.\s?(?:supp\.(?:\s?[23]d)?|appx|[23]d|4th)|fed\.\s?reg\.|stat\.)(?![0-9a-z])"
)
_LEVELS = r"(?:\([0-9a-z]{1,4}\))"
_TOKEN = re.compile(
    "|".join(
        (
            rf"§+\s*[0-9]+[a-z]{{0,3}}(?:[.:{_HYPHEN_CHARS}{_DASH_CHARS}][0-9]+[a-z]{{0,3}})*"
            rf"{_LEVELS}*",
            rf"[0-9]{{1,4}}\s+{_REPORTERS}",
            r"u\.\s?s\.\s?c\.|c\.\s?f\.\s?r\.",
            rf"[0-9]+(?:\.[0-9]+)+(?:\.?{_LEVELS})*",
            r"[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])",
            rf"[^\W_]+(?:(?:[{_HYPHEN_CHARS}]|(?<=[0-9])[{_DASH_CHARS}](?=[0-9]))[^\W_]+)*",
        )
    )
)
_HYPHENS = re.compile(f"[{_HYPHEN_CHARS}{_DASH_CHARS}]")
_LEVEL = re.compile(r"\(([0-9a-z]+)\)")
_CITATION_PUNCTUATION = re.compile(r"[\s.]+")
_WHITESPACE = re.compile(r"\s")
# Removed after decomposition: combining marks, soft hyphen, zero-width and bidi controls,
# apostrophes, curly single quotes and primes (used as apostrophes in converted PDFs).
_DROPPED = re.compile(
    "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
    "\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
    "'`\u2018\u2019\u201b\u02bc\u2032]"
)

# Recorded with every answer so that a replay knows which analyser indexed and queried BM25.
# It is read from this module's own bytes (rules, word lists and all) and the Snowball
# library's version, so any change to the analyser changes it; no one has to remember to.
ANALYSER_VERSION = (
    "sha256:"
    + hashlib.sha256(Path(__file__).read_bytes() + Stemmer.version().encode()).hexdigest()[:16]
)


class _ThreadStemmer(threading.local):
    # PyStemmer instances are not thread-safe; each thread gets its own.
    def __init__(self) -> None:
        self.english = Stemmer.Stemmer("english")


_STEMMER = _ThreadStemmer()


def analyse(text: str) -> list[str]:
    """The index or query terms of `text`, in reading order (see the module docstring)."""
    return [term for token in _TOKEN.findall(_fold(text)) for term in _token_terms(token)]


def index_terms(text: str) -> list[str]:
    """The BM25 index or query terms of `text`: its terms, then each pair of neighbouring terms
    (stopwords already gone), so that a phrase such as "reputational risk" or "early
    amortisation" counts for more than its words scattered apart. On the ObliQA dev questions,
    pairs lift BM25 recall@10 / nDCG@10 from 0.778 / 0.665 to 0.795 / 0.695 and leave MedQuAD
    unchanged."""
    terms = analyse(text)
    return terms + [f"{first} {second}" for first, second in itertools.pairwise(terms)]


def _fold(text: str) -> str:
    if text.isascii():
        return text.lower().replace("'", "").replace("`", "")
    return _DROPPED.sub("", unicodedata.normalize("NFKD", text).lower())


@lru_cache(maxsize=1 << 18)
def _token_terms(token: str) -> tuple[str, ...]:
    if token[0] == "§":
        return _section_terms(token)
    if "." in token:
        if token[0].isalpha() or _WHITESPACE.search(token):
            return (_CITATION_PUNCTUATION.sub("", token),)
        return _rule_terms(token)
    if "," in token:
        return (token.replace(",", ""),)
    return _word_terms(token)


def _section_terms(token: str) -> tuple[str, ...]:
    number, levels = _split_levels(token.lstrip("§").lstrip())
    return _nested("§" + _HYPHENS.sub("-", number), levels)


def _rule_terms(token: str) -> tuple[str, ...]:
    number, levels = _split_levels(token)
    return _nested(number.rstrip("."), levels)


def _split_levels(token: str) -> tuple[str, str]:
    opening = token.find("(")
    return (token, "") if opening < 0 else (token[:opening], token[opening:])


def _nested(base: str, levels: str) -> tuple[str, ...]:
    terms = [base]
    for level in _LEVEL.findall(levels):
        terms.append(f"{terms[-1]}({level})")
    return tuple(terms)


def _word_terms(token: str) -> tuple[str, ...]:
    parts = _HYPHENS.split(token)
    if len(parts) > 1 and any(part.isdigit() for part in parts):
        return ("-".join(parts),)
    return tuple(term for part in parts if (term := _plain_term(part)))


def _plain_term(word: str) -> str:
    if word in STOPWORDS:
        return ""
    if not word.isalpha():
        return word
    stem = _fixed_stem(IRREGULAR_PAST.get(word, word))
    return "" if stem in STOPWORDS else stem


def _fixed_stem(word: str) -> str:
    stem_word = _STEMMER.english.stemWord
    stem = stem_word(word)
    # Snowball only shortens a word or turns a final y into i, so this ends within a few passes.
    while (again := stem_word(stem)) != stem:
        stem = again
    return stem
