"""Edits that turn a gold sentence into a labelled statement: the faithful ones (reworded,
attributed) and the older corruptions (a number changed, a negation flipped, a name swapped).

Each edit is a table of patterns with the replacements a writer, or a language model, would
put there; one applicable pattern is chosen at random. An edit that leaves the sentence as it
was, or that puts a word twice in a row, is not made.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass

from apps.evaluation.example_text import (
    FUNCTION_WORDS,
    ORDINALS,
    SPELLED,
    WORD,
    fix_articles,
    introduces_repetition,
    lower_words,
    match_case,
    names,
    split_sentences,
)


@dataclass(frozen=True)
class Rule:
    pattern: re.Pattern[str]
    replacements: tuple[str, ...]
    exact_case: bool = False  # "USD", "mL": the pattern's case is the word's


def rule_table(table: dict[str, str], *, exact_case: bool = False) -> tuple[Rule, ...]:
    """Rules from {pattern: "replacement|replacement|…"}."""
    flags = 0 if exact_case else re.IGNORECASE
    return tuple(
        Rule(re.compile(pattern, flags), tuple(replacements.split("|")), exact_case)
        for pattern, replacements in table.items()
    )


def casing_fits(match: re.Match) -> bool:
    """A lower-case word, or one capitalised because it opens the sentence: "May" in the
    middle of a sentence is a month, "Will" a name, not the modal verb."""
    text = match.group(0)
    if not any(c.isupper() for c in text):
        return True
    opens = not match.string[: match.start()].strip('"“‘( ')
    return opens and not any(c.isupper() for c in text[1:])


def replacements(rules: tuple[Rule, ...], sentence: str) -> Iterator[tuple[re.Match, str]]:
    for rule in rules:
        for match in rule.pattern.finditer(sentence):
            if rule.exact_case or casing_fits(match):
                for replacement in rule.replacements:
                    yield match, replacement


def replaced(match: re.Match, replacement: str) -> str:
    sentence = match.string
    new = match_case(match.group(0), match.expand(replacement))
    edited = sentence[: match.start()] + new + sentence[match.end() :]
    return fix_articles(edited, (match.start(), match.start() + len(new)))


def acceptable(before: str, after: str) -> bool:
    return after != before and not introduces_repetition(before, after) and "  " not in after


def edit_once(rules: tuple[Rule, ...], sentence: str, rng: random.Random) -> str | None:
    """The sentence with one of the rules applied at one place, chosen at random."""
    options = list(replacements(rules, sentence))
    rng.shuffle(options)
    for match, replacement in options:
        edited = replaced(match, replacement)
        if acceptable(sentence, edited):
            return edited
    return None


REWORDINGS = rule_table(
    {
        r"\bshall\b": "must",
        r"\b(?:is|are) required to\b": "must",
        r"\bprior to\b": "before",
        r"\b(?:in accordance with|pursuant to)\b": "under",
        r"\bin respect of\b": "for",
        r"\b(?:with respect to|in relation to)\b": "regarding",
        r"\bin order to\b": "to",
        r"\bin the event that\b": "if",
        r"\bin the event of\b": "in case of",
        r"\bsuch as\b": "like",
        r"\bcommence\b": "start",
        r"\bcommences\b": "starts",
        r"\bcommenced\b": "started",
        r"\bcommencement\b": "start",
        r"\bterminate\b": "end",
        r"\bterminates\b": "ends",
        r"\bapproximately\b": "about",
        r"\butili[sz]e(s|d)?\b": r"use\1",
        r"\bobtain\b": "get",
        r"\bobtains\b": "gets",
        r"\bensure\b": "make sure",
        r"\bensures\b": "makes sure",
        r"\brequires\b": "needs",
        r"\bsufficient\b": "enough",
        r"\badditional\b": "further",
        r"\bassist(s|ed)?\b": r"help\1",
        r"\bdemonstrates\b": "shows",
        r"\bdemonstrated\b": "showed",
        r"\bphysician(s?)\b": r"doctor\1",
        r"\bindividuals\b": "people",
        r"\bmaintain\b": "keep",
        r"\bmaintains\b": "keeps",
        r"\bmaintained\b": "kept",
        r"\bpromptly\b": "quickly",
        r"\bnotif(?:y|ies|ied)\b(?= (?:the|a|an|its|his|her|their|your|any)\b)": "inform",
        r"\bfrequently\b": "often",
        r"\bwhilst\b": "while",
        r"\bamongst\b": "among",
        r"\bupon\b": "on",
        r"\ba number of\b": "several",
        r"\bwhether or not\b": "whether",
        r"\bprovided that\b": "as long as",
        r"\b(?:is|are) able to\b": "can",
        r"\badminister(s|ed)?\b": "give",
        r"\b(do|does|is|are) not\b": r"\1n't",
    }
)
# A verb whose form the rewording cannot carry over is given its own forms.
VERB_FORMS = {"notifies": "informs", "notified": "informed", "administers": "gives"}
VERB_FORMS |= {"administered": "given"}
# Discourse markers carry no claim; a qualifier ("where appropriate", "generally") does.
MARKERS = (
    "however|moreover|furthermore|for example|for instance|in particular|in addition|"
    "of course|therefore|accordingly|as a result|also|indeed|in practice"
)
OPENING_MARKER = re.compile(rf"^(?:{MARKERS}),\s+", re.IGNORECASE)
INNER_MARKER = re.compile(rf",\s+(?:{MARKERS}),(?=\s)", re.IGNORECASE)
# An aside in brackets, unless it qualifies the claim ("(but not any other party)").
# A bracketed reference ("subsection (1)", "Rule 2.3(a)") is part of the claim too.
ASIDE = re.compile(
    r"(?<![0-9])(?<!section)(?<!rule)(?<!paragraph)(?<!article)(?<!clause)(?<!schedule)"
    r"(?<!part)(?<!chapter)(?<!item)\s+"
    r"\((?![^()]*\b(?:not|no|never|except|unless|or|only|other than|excluding|but|if)\b)"
    r"[^()]{1,60}\)(?!\w)",
    re.IGNORECASE,
)


def reworded(sentence: str) -> str | None:
    """The sentence as a careful writer would paraphrase it, every rewording applied."""
    text = sentence
    for rule in REWORDINGS:
        text = rule.pattern.sub(
            lambda m, r=rule: reword(m, r.replacements[0]) if casing_fits(m) else m.group(0),
            text,
        )
    text = INNER_MARKER.sub("", ASIDE.sub("", text))
    opener = OPENING_MARKER.match(text)
    if opener:
        rest = text[opener.end() :]
        text = rest[:1].upper() + rest[1:]
    text = fix_articles(text, (0, len(text)))
    return text if acceptable(sentence, text) else None


def reword(match: re.Match, replacement: str) -> str:
    word = match.group(0)
    new = VERB_FORMS.get(word.lower()) or match.expand(replacement)
    return match_case(word, new)


FRAMES = ("According to the source, {}", "The source states that {}", "As the text puts it, {}")
DOMAIN_FRAMES = {
    "obliqa": ("The rule states that {}", "Under the rules, {}"),
    "cuad": ("The contract states that {}", "Under the agreement, {}"),
    "medquad": ("The health information explains that {}", "According to the article, {}"),
    "pubmedqa": ("The abstract reports that {}", "According to the study, {}"),
    "scotus": ("The syllabus states that {}", "According to the opinion, {}"),
}


def framed(sentence: str, dataset: str, passage_names: set[str], rng: random.Random) -> str:
    """The sentence attributed to its source, as a writer would introduce a quotation."""
    frame = rng.choice(FRAMES + DOMAIN_FRAMES.get(dataset, ()))
    return frame.format(lower_first(sentence, passage_names))


def lower_first(sentence: str, passage_names: set[str]) -> str:
    """The sentence's first letter in lower case, unless its first word is a name: one the
    passage capitalises in mid-sentence too, an acronym or a word like "McDonald"."""
    first = WORD.match(sentence)
    if first is None:
        return sentence
    word = first.group(0)
    if word.lower() in FUNCTION_WORDS:
        return sentence[:1].lower() + sentence[1:]
    if word in passage_names or word.isupper() or any(c.isupper() for c in word[1:]):
        return sentence
    return sentence[:1].lower() + sentence[1:]


DIGITS = re.compile(
    r"(?<![\w.,/-])([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(\.[0-9]+)?(?![\w/-]|[.,][0-9])"
)
SPELLED_NUMBER = re.compile(rf"\b(?:{'|'.join(SPELLED[2:-1])})\b", re.IGNORECASE)
ORDINAL = re.compile(rf"\b(?:{'|'.join(ORDINALS)})\b", re.IGNORECASE)


def changed_number(sentence: str, rng: random.Random) -> str | None:
    """The sentence with one number, number word or ordinal changed."""
    options = [*DIGITS.finditer(sentence), *SPELLED_NUMBER.finditer(sentence)]
    options += [m for m in ORDINAL.finditer(sentence) if casing_fits(m)]
    if not options:
        return None
    match = rng.choice(options)
    word = match.group(0)
    if match.re is DIGITS:
        new = other_value(match.group(1), rng) + (match.group(2) or "")
    else:
        pool = ORDINALS if match.re is ORDINAL else SPELLED[2:-1]
        new = match_case(word, rng.choice([w for w in pool if w != word.lower()]))
    return sentence[: match.start()] + new + sentence[match.end() :]


def other_value(digits: str, rng: random.Random) -> str:
    value = int(digits.replace(",", ""))
    year = 1900 <= value <= 2100 and "," not in digits
    new = value + rng.choice((-3, -2, -1, 1, 2, 3)) if year else value + rng.choice((1, 2, 5, 10))
    return f"{new:,}" if "," in digits else str(new)


MODALS_AND_BE = "must|shall|may|will|should|could|would|might|is|are|was|were"
NEGATION = rule_table(
    {
        rf"\b({MODALS_AND_BE}|has|have|had|does|do|did|can) not\b": r"\1",
        r"\bcannot\b": "can",
        r"\b(does|do|did|is|are|was|were|has|have|had|could|would|should)n['’]t\b": r"\1",
        r"\bnever\b": "always",
        r"\bno longer\b": "still",
        r"\bwithout\b": "with",
        r"\bunless\b": "if",
        r"\bno(?= [a-z]+s\b)(?! (?:less|longer|fewer)\b)": "some",
        r"\bno(?= [a-z]*[a-rt-z]\b)(?! (?:more|later|earlier|sooner|greater|further)\b)": "a",
        rf"\b({MODALS_AND_BE})\b(?= (?!not\b|no\b|never\b)[a-z])": r"\1 not",
        r"\b(has|have|had)\b(?= (?:been|[a-z]+ed)\b)": r"\1 not",
        r"\bcan\b(?! not\b)(?=\s+[a-z])": "cannot",
        r"\b(does|do|did)\b(?=\s+[a-z])(?! not\b)": r"\1 not",
    }
)


def flipped_negation(sentence: str, rng: random.Random) -> str | None:
    """The sentence with a negation taken out or put in."""
    return edit_once(NEGATION, sentence, rng)


def swapped_name(sentence: str, passage: str, pool: list[str], rng: random.Random) -> str | None:
    """One name of the sentence replaced by a name of the same shape from another passage
    that this passage never mentions."""
    own = sorted(set(names(sentence)))
    present = lower_words(passage)
    if not own:
        return None
    target = rng.choice(own)
    shape = str.isupper if target.isupper() else (lambda w: not w.isupper())
    foreign = [n for n in pool if n.lower() not in present and shape(n)]
    if not foreign:
        return None
    replacement = rng.choice(foreign)
    pattern = re.compile(rf"(?<![\w-]){re.escape(target)}(?![\w-])")
    return pattern.sub(replacement, sentence, count=1)


def passage_names(passage: str) -> set[str]:
    return {name for sentence in split_sentences(passage) for name in names(sentence)}
