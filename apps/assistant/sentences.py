"""Sentences of legal, regulatory and medical text, as character spans.

A full stop ends a sentence only where the next word starts one, and not after the
abbreviations that fill these texts: "U. S.", "v.", "No. 15", "e.g.", "Inc.", "Art. 5",
"Fed. Cir.", initials, or a rule number such as "4.15.16". A blank line or a list item
("(a)", "1.", "•") always starts a new sentence, since rulebooks and contracts set each
paragraph and sub-rule on its own line.
"""

from __future__ import annotations

import re

ABBREVIATIONS = frozenset(
    (
        "v vs no nos art arts para paras s ss sec secs ch chs cl cls pt pts reg regs r "
        "rr sch e g i al etc cf viz approx ca inc co corp ltd llc llp plc bros dept "
        "govt assn intl mr mrs ms dr prof st jr sr hon j jj cj u s f supp ct ed fed reg "
        "stat app cir dist cl crim civ rev ann jan feb mar apr jun jul aug sep sept oct "
        "nov dec fig figs eq eqs vol vols p pp ed eds op cit id ibid mg kg ml dl mcg hr "
        "hrs min mins wk wks yr yrs"
    ).split()
)

# Where a sentence may end: terminal punctuation, optional closing quotes or brackets, space.
BOUNDARY = re.compile(
    r"[.!?;:][\"'”’)\]]*(?:[0-9]{1,2}(?=\n))?(?=\s)"  # "…countries.1\n": a footnote mark
    r"|\n\s*\n|\n(?=\s*(?:\(\w{1,4}\)|[0-9]+\.\s|[•\-–]\s))"
)
WORD_BEFORE = re.compile(r"([A-Za-z]+)\.?[\"'”’)\]]*$")
MIN_SENTENCE_CHARS = 3


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text`, whitespace trimmed, in order."""
    spans: list[tuple[int, int]] = []
    start = 0
    for boundary in BOUNDARY.finditer(text):
        end = boundary.end()
        if boundary.group(0)[0] in ".;:" and not ends_sentence(text, start, boundary):
            continue
        add_trimmed(text, start, end, spans)
        start = end
    add_trimmed(text, start, len(text), spans)
    return spans


def sentences(text: str) -> list[str]:
    return [text[start:end] for start, end in sentence_spans(text)]


def ends_sentence(text: str, start: int, boundary: re.Match) -> bool:
    mark = boundary.group(0)[0]
    following = text[boundary.end() :].lstrip()
    if mark in ";:":
        # A clause break is a sentence break only before a new line of its own.
        return "\n" in text[boundary.end() : boundary.end() + 3] and bool(following)
    if text[boundary.start() - 1 : boundary.start()] in (" ", "."):
        return False  # an ellipsis: ". . ." or "..."
    before = WORD_BEFORE.search(text[start : boundary.start() + 1])
    if before and before.group(1).lower() in ABBREVIATIONS:
        return False
    if before and len(before.group(1)) == 1 and before.group(1).isupper():
        return False  # an initial: "J. Roberts", "S. Ct."
    if text[boundary.start() - 1 : boundary.start()].isdigit() and following[:1].isdigit():
        return False  # "1. 2" inside a numbering
    return not following or not following[0].islower()


def add_trimmed(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end - start >= MIN_SENTENCE_CHARS:
        spans.append((start, end))
