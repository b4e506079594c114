"""A labelled set for the citation checker, built from the gold passages of question files.

Faithful statements are sentences of a gold passage, verbatim or lightly reworded as a writer
would ("shall" → "must", "According to the source, …"). Corrupted ones are the same sentences
with a number or date changed, the negation flipped or a named party swapped for one from
another document, or a sentence of another, similar passage cited against this one.
Everything is deterministic: the same files give the same set.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from apps.assistant.sentences import sentences
from apps.assistant.support import NUMBER_WORDS, entities, words
from apps.evaluation.questions import Question, load_questions
from apps.retrieval.tokenize import analyse

FAITHFUL_KINDS = ("verbatim", "reworded", "framed")
CORRUPTED_KINDS = ("number", "negation", "entity", "wrong_source")
MIN_WORDS, MAX_WORDS = 6, 80
PASSAGE_CHARS = 4000


@dataclass(frozen=True)
class Example:
    dataset: str
    question_id: str
    split: str  # "tune" or "held_out", the question's (apps.evaluation.questions.Question)
    kind: str
    statement: str
    passage: str

    @property
    def faithful(self) -> bool:
        return self.kind in FAITHFUL_KINDS


def labelled_examples(question_files: Iterable[Path], per_file: int) -> list[Example]:
    examples: list[Example] = []
    for path in question_files:
        passages = gold_passages(Path(path), per_file)
        examples.extend(examples_for(Path(path).parent.name, passages))
    return examples


def gold_passages(path: Path, limit: int) -> list[tuple[Question, str]]:
    """(question, passage text) for the first gold span of up to `limit` questions that
    have one, each passage cut to PASSAGE_CHARS as a retrieved chunk would be."""
    wanted = [(q, q.gold[0]) for q in load_questions(path) if q.gold][:limit]
    needed = {document for _, (document, _, _) in wanted}
    texts = {}
    with (path.parent / "documents.jsonl").open(encoding="utf-8") as documents:
        for line in documents:
            document = json.loads(line)
            if document["id"] in needed:
                texts[document["id"]] = document["text"]
    return [
        (question, texts[document][start:end][:PASSAGE_CHARS])
        for question, (document, start, end) in wanted
        if document in texts
    ]


def examples_for(dataset: str, passages: list[tuple[Question, str]]) -> Iterator[Example]:
    rng = random.Random(dataset)
    all_entities = sorted({e for _, passage in passages for e in entities(passage)})
    term_sets = [set(analyse(passage)) for _, passage in passages]
    for index, (question, passage) in enumerate(passages):
        candidates = [s for s in sentences(passage) if MIN_WORDS <= len(s.split()) <= MAX_WORDS]
        if not candidates:
            continue
        sentence = rng.choice(candidates)

        statements = {
            "verbatim": sentence,
            "reworded": reworded(sentence),
            "framed": f"According to the source, {lower_first(sentence)}",
            "number": changed_number(sentence, rng),
            "negation": flipped_negation(sentence),
            "entity": swapped_entity(sentence, passage, all_entities, rng),
        }
        for kind, statement in statements.items():
            if statement and (statement != sentence or kind == "verbatim"):
                yield Example(dataset, question.id, question.split, kind, statement, passage)
        other = most_similar_other(index, term_sets)
        if other is not None:
            # A borrowed sentence whose every content term the cited passage also holds may
            # well be supported by it (boilerplate repeats): it cannot be labelled corrupted.
            borrowed = [
                s
                for s in sentences(passages[other][1])
                if MIN_WORDS <= len(s.split()) <= MAX_WORDS
                and not set(analyse(s)) <= term_sets[index]
            ]
            if borrowed:
                yield Example(
                    dataset,
                    question.id,
                    question.split,
                    "wrong_source",
                    rng.choice(borrowed),
                    passage,
                )


REWORDINGS = (
    (r"\bshall\b", "must"),
    (r"\bis required to\b", "must"),
    (r"\bare required to\b", "must"),
    (r"\bprior to\b", "before"),
    (r"\bin accordance with\b", "under"),
    (r"\bpursuant to\b", "under"),
    (r"\bin respect of\b", "for"),
    (r"\bcommence(s|d)?\b", r"begin\1"),
    (r"\bterminate(s|d)?\b", r"end\1"),
    (r"\bapproximately\b", "about"),
    (r"\butili[sz]e(s|d)?\b", r"use\1"),
    (r"\bobtain(s|ed)?\b", r"get\1"),
    (r"\bensure(s|d)?\b", r"make\1 sure"),
    (r"\brequire(s|d)?\b", r"need\1"),
    (r"\bsufficient\b", "enough"),
    (r"\badditional\b", "further"),
    (r"\bassist(s|ed)?\b", r"help\1"),
    (r"\bdemonstrate(s|d)?\b", r"show\1"),
    (r"\bphysicians?\b", "doctor"),
    (r"\bindividuals\b", "people"),
    (r"\bpurchase(s|d)?\b", r"buy\1"),
    (r"\bmaintain(s|ed)?\b", r"keep\1"),
    (r"\bpromptly\b", "quickly"),
    (r"\bnotify\b", "tell"),
    (r"\bfrequently\b", "often"),
)


def reworded(sentence: str) -> str:
    for pattern, replacement in REWORDINGS:
        sentence = re.sub(pattern, replacement, sentence)
    # Drop a parenthetical aside, unless it qualifies the claim ("(but not any other party)").
    return re.sub(r"\s*\((?![^()]*\b(?:not|no|never|except|unless)\b)[^()]{1,60}\)", "", sentence)


def changed_number(sentence: str, rng: random.Random) -> str | None:
    digits = list(re.finditer(r"(?<![0-9.])[0-9]+(?![0-9.])", sentence))
    if digits:
        match = rng.choice(digits)
        value = int(match.group(0))
        new = value + rng.choice((1, 2, 5, 10)) if value < 1900 or value > 2100 else value - 1
        return sentence[: match.start()] + str(new) + sentence[match.end() :]
    spelled = [m for m in re.finditer(r"\b[a-z]+\b", sentence) if m.group(0) in NUMBER_WORDS]
    if spelled:
        match = rng.choice(spelled)
        new = "seven" if match.group(0) != "seven" else "nine"
        return sentence[: match.start()] + new + sentence[match.end() :]
    return None


NEGATED = re.compile(r"\b(must|shall|may|will|should|can|is|are|was|were|does|do|did) not\b")
NO = re.compile(r"(?<![\w-])no(?![\w.-])(?!\s*[0-9])")
AFFIRMED = re.compile(r"\b(must|shall|may|will|should|is|are|was|were|does|do|did)\b")


def flipped_negation(sentence: str) -> str | None:
    if NEGATED.search(sentence):
        return NEGATED.sub(r"\1", sentence, count=1)
    if NO.search(sentence):
        return NO.sub("a", sentence, count=1)
    if AFFIRMED.search(sentence):
        return AFFIRMED.sub(r"\1 not", sentence, count=1)
    return None


def swapped_entity(
    sentence: str, passage: str, all_entities: list[str], rng: random.Random
) -> str | None:
    own = sorted(entities(sentence))
    present = words(passage)
    foreign = [e for e in all_entities if e not in present]
    if not own or not foreign:
        return None
    target, replacement = rng.choice(own), rng.choice(foreign)
    pattern = re.compile(rf"\b{re.escape(target)}\b", re.IGNORECASE)
    return pattern.sub(replacement.capitalize(), sentence, count=1)


def most_similar_other(index: int, term_sets: list[set[str]]) -> int | None:
    best, best_overlap = None, 0.0
    for other, terms in enumerate(term_sets):
        if other == index or not terms or term_sets[other] == term_sets[index]:
            continue
        overlap = len(terms & term_sets[index]) / len(terms | term_sets[index])
        if overlap > best_overlap:
            best, best_overlap = other, overlap
    return best


def lower_first(sentence: str) -> str:
    first = sentence.split(" ", 1)[0]
    return (
        sentence if first.isupper() or first[1:2].isupper() else sentence[:1].lower() + sentence[1:]
    )
