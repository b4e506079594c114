"""Which other gold passage is most like this one, and which of its sentences this one does
not support: the wrong passage a retriever could well have cited."""

from __future__ import annotations

import random
import re

from apps.evaluation.example_text import FUNCTION_WORDS, squash, words

SUFFIX = re.compile(r"(?:ies|es|s|ed|ing|ly)$")
MIN_FOREIGN_TERMS = 2


def term_set(text: str) -> frozenset[str]:
    """Content words, crudely stemmed, so that "records" and "recorded" meet."""
    return frozenset(
        SUFFIX.sub("", word) or word
        for word in (w.lower() for w in words(text))
        if word not in FUNCTION_WORDS and len(word) > 2
    )


def most_similar(index: int, term_sets: list[frozenset[str]]) -> int | None:
    """The other passage sharing the largest share of terms with passage `index`."""
    own = term_sets[index]
    best, best_overlap = None, 0.0
    for other, terms in enumerate(term_sets):
        if other == index or not terms or terms == own:
            continue
        overlap = len(terms & own) / len(terms | own)
        if overlap > best_overlap:
            best, best_overlap = other, overlap
    return best


def borrowed_sentence(candidates: list[str], passage: str, rng: random.Random) -> str | None:
    """A sentence of another passage that this one does not hold. One whose content terms
    this passage mostly has too may well be supported by it (health pages and rulebooks
    repeat themselves, in other words), so it cannot be labelled unsupported."""
    own_terms, held = term_set(passage), squash(passage)
    usable = [s for s in candidates if foreign(term_set(s), own_terms) and squash(s) not in held]
    return rng.choice(usable) if usable else None


def foreign(terms: frozenset[str], own_terms: frozenset[str]) -> bool:
    """At least MIN_FOREIGN_TERMS terms, and a third of them, that the passage lacks."""
    missing = len(terms - own_terms)
    return missing >= MIN_FOREIGN_TERMS and missing * 3 >= len(terms)
