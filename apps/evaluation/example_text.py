"""Text handling for the checker's labelled examples: sentences, words, numbers and names.

Written apart from the checker's own sentence splitter, analyser and gates, on purpose: an
example set built with the checker's helpers would share their blind spots and could only
confirm them.
"""

from __future__ import annotations

import re
from itertools import pairwise

WORD = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)*")
SPELLED = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy "
    "eighty ninety hundred"
).split()
NUMBER_WORDS = frozenset(SPELLED)
ORDINALS = (
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth".split()
)
MONTHS = frozenset(
    "january february march april may june july august september october november december".split()
)
WEEKDAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday".split())
# Words that are capitalised for their place in a sentence, not because they name something.
FUNCTION_WORDS = frozenset(
    (
        "a an the this that these those it its if in on at by for from to of with as and or "
        "but nor not no so when where while which who whom whose what how why each every any "
        "all some there here such other another following under upon after before during until "
        "unless although however moreover furthermore therefore thus also only both either "
        "neither we you they he she i our your their his her my me us them is are was were be "
        "been being has have had do does did can could may might must shall should will would "
        "than then once into onto over about against between through without within one out "
        "up off down away back cannot hereby thereby herein hereunder hereto thereof therein "
        "whereby"
    ).split()
)
STRUCTURAL = frozenset(
    (
        "section sections article articles rule rules chapter chapters part parts schedule "
        "schedules appendix annex clause clauses paragraph paragraphs exhibit table figure page "
        "pages volume note notes item items held pp"
    ).split()
)
ABBREVIATIONS = frozenset(
    (
        "mr mrs ms dr prof st jr sr no nos v vs inc ltd co corp llc plc art arts sec secs ch "
        "cl para paras fig figs al etc approx cf pp p ed eds vol app cir ct supp fed stat dept "
        "govt jan feb mar apr jun jul aug sep sept oct nov dec hon rev gen gov mg kg ml min hr"
    ).split()
)

# A sentence ends at terminal punctuation (with any closing quotes or brackets) before a word
# that can start one.
SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*\s+(?=[\"“‘(]?[A-Z0-9])")
LINE_END = re.compile(r"[.!?:;][\"'”’)\]]*\s*$")
LIST_MARKER = re.compile(r"^\s*(?:\([0-9a-zA-Z]{1,4}\)|[0-9]+(?:\.[0-9]+)*[.)]?|[•*\-–])\s+")
# "RESULTS: ", "DESIGN, SETTING, AND PARTICIPANTS: ", "Held: ", "SPECIFIC DISCLOSURE RULES "
HEADING = re.compile(
    r"^(?:[A-Z][A-Z ,&/–-]{2,60}:\s+|[A-Z][a-z]+:\s+|(?:[A-Z][A-Z–-]* ){2,}(?=[A-Z][a-z]))"
)
# List items run into one line (" - dizziness - "), glued rule numbers ("2.49.(5)"), direction
# marks, a question run into the next sentence, a heading run into its first line
# ("Constipation Constipation can…"): the text around them is not a sentence to state.
NOT_PROSE = re.compile(r" - |[0-9]\.\(|\u200e|\u200f|\?|\b(\w+) \1\b", re.IGNORECASE)
SHORT_LINE = 50


def split_sentences(text: str) -> list[str]:
    """The sentences of `text`, each on one line with single spaces."""
    found: list[str] = []
    for line in joined_lines(text):
        found.extend(line_sentences(" ".join(line.split())))
    return found


def joined_lines(text: str) -> list[str]:
    """Lines put back together where a hard wrap broke a sentence: a line break ends one only
    after terminal punctuation, before a list item, or after a short line (a heading)."""
    lines: list[str] = []
    for line in text.split("\n"):
        if not line.strip():
            lines.append("")
            continue
        previous = lines[-1] if lines else ""
        starts_new = (
            not previous.strip()
            or LINE_END.search(previous)
            or LIST_MARKER.match(line)
            or (heading(previous) and line.strip()[0].isupper())
        )
        if starts_new:
            lines.append(line)
        else:
            lines[-1] = f"{previous} {line}"
    return [line for line in lines if line.strip()]


def heading(line: str) -> bool:
    """A short line, or one in title case ("Market Abuse, Transaction Reporting and …")."""
    long_words = [w for w in WORD.findall(line) if len(w) > 3]
    capitalised = sum(w[0].isupper() for w in long_words)
    return len(line.strip()) < SHORT_LINE or capitalised >= 0.6 * len(long_words)


def line_sentences(line: str) -> list[str]:
    parts, start = [], 0
    for end in SENTENCE_END.finditer(line):
        if ends_sentence(line[start : end.start() + 1]):
            parts.append(line[start : end.end()].strip())
            start = end.end()
    parts.append(line[start:].strip())
    return [part for part in parts if part]


def ends_sentence(text: str) -> bool:
    words = text.split()
    if not words:
        return False
    last = words[-1].rstrip(".!?").lstrip('("“‘')
    if "." in last and re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]", last):
        return False  # "e.g.", "i.e.", "U.S."
    if len(last) == 1 and last.isalpha():
        return False  # an initial
    return last.lower() not in ABBREVIATIONS


def statement_from(sentence: str) -> str | None:
    """A sentence as a statement a writer could make of it: without a list marker or a
    section heading in front, whole (capitalised, ending in a full stop), not a fragment."""
    text = HEADING.sub("", LIST_MARKER.sub("", sentence)).strip()
    if not re.match(r"[\"“]?[A-Z]", text) or not re.search(r"\.[\"”’)]?$", text):
        return None
    if re.search(r"[a-z]- [a-z]", text) or NOT_PROSE.search(text):
        return None  # a word hyphenated across a line break, or not prose
    if text.count("(") != text.count(")") or sum(c.isupper() for c in text) > len(text) / 3:
        return None
    return text


def words(text: str) -> list[str]:
    return WORD.findall(text)


def lower_words(text: str) -> set[str]:
    return {word.lower() for word in WORD.findall(text)}


def is_name(word: str) -> bool:
    """A capitalised word or an acronym that names something (a party, drug, place, body)."""
    lower = word.lower().split("’")[0].split("'")[0]
    return (
        len(word) >= 2
        and word[0].isupper()
        and lower not in FUNCTION_WORDS | STRUCTURAL | MONTHS | WEEKDAYS
        and not lower.isdigit()
    )


def names(sentence: str) -> list[str]:
    """The names in a sentence, leaving out its first word, which is capitalised anyway."""
    found = []
    for index, match in enumerate(WORD.finditer(sentence)):
        if (
            index
            and is_name(match.group(0))
            and sentence[match.start() - 2 : match.start()] != ": "
        ):
            found.append(match.group(0))
    return found


def match_case(original: str, replacement: str) -> str:
    if original[:1].isupper() and not original.isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement


VOWEL_SOUND = re.compile(
    r"(?!u[bnrst][aeiou]|uni|use|usu|eu|one|once)[aeiou]|h(?:our|onou?r|onest)"
)


def article_for(following: str) -> str:
    return "an" if VOWEL_SOUND.match(following.lower()) else "a"


def fix_articles(text: str, around: tuple[int, int]) -> str:
    """Make "a"/"an" agree with the next word, for the articles in `around` (start, end): an
    edit changes only the words next to it, and the rest of the sentence stays as written."""
    start, end = around

    def agree(match: re.Match) -> str:
        if not start - 4 <= match.start() <= end:
            return match.group(0)
        wanted = article_for(match.group(2))
        return (
            match.group(0)
            if match.group(1).lower() == wanted
            else (match_case(match.group(1), wanted) + match.group(0)[len(match.group(1)) :])
        )

    return re.sub(r"\b([Aa]n?) ([A-Za-z]+)", agree, text)


def introduces_repetition(before: str, after: str) -> bool:
    """Whether an edit put the same word twice in a row ("may may", "the the")."""

    def doubles(text: str) -> int:
        found = [w.lower() for w in WORD.findall(text)]
        return sum(a == b for a, b in pairwise(found))

    return doubles(after) > doubles(before)


def squash(text: str) -> str:
    return " ".join(text.split())
