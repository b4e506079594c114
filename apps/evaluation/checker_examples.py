"""A labelled set for the citation checker, built from the gold passages of question files, and
the JSONL format that it and any other labelled file share.

Supported statements are sentences of a gold passage: verbatim, reworded as a careful writer
would ("shall" -> "must", asides dropped) or attributed ("The rule states that …").
Unsupported ones are the same sentences with their meaning changed: a number, a negation or a
name; the modal, a time relation, a comparison or quantity, the unit of a number, or who does
what to whom; or a sentence of another, similar passage cited against this one.

Every edit is made by this app's own code (example_text, example_edits, meaning_edits,
role_edits), which imports nothing from the checker: a set built with the checker's helpers
would share its blind spots. Everything is deterministic: the same files give the same set,
with the same ids.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from apps.evaluation.example_edits import (
    changed_number,
    flipped_negation,
    framed,
    passage_names,
    reworded,
    swapped_name,
)
from apps.evaluation.example_text import split_sentences, squash, statement_from, words
from apps.evaluation.jsonl import json_object, records_read
from apps.evaluation.meaning_edits import (
    changed_modality,
    changed_quantity,
    changed_time,
    changed_unit,
)
from apps.evaluation.questions import Question, load_questions
from apps.evaluation.role_edits import swapped_roles
from apps.evaluation.similar_passages import borrowed_sentence, most_similar, term_set

SUPPORTED, UNSUPPORTED = "supported", "unsupported"
LABELS = (SUPPORTED, UNSUPPORTED)
FAITHFUL_KINDS = ("verbatim", "reworded", "framed")
MEANING_KINDS = ("modality", "time", "quantity", "unit", "role")
CORRUPTED_KINDS = ("number", "negation", "entity", *MEANING_KINDS, "wrong_source")
KINDS = FAITHFUL_KINDS + CORRUPTED_KINDS
FIELDS = ("id", "statement", "passage", "label", "kind")
MIN_WORDS, MAX_WORDS = 6, 80
PASSAGE_CHARS = 4000


class ExamplesError(Exception):
    """A labelled file that cannot be read, with a message naming the line."""


@dataclass(frozen=True)
class Example:
    id: str
    statement: str
    passage: str
    label: str  # SUPPORTED or UNSUPPORTED
    kind: str
    dataset: str | None = None  # built-in set: the question file's folder
    split: str | None = None  # built-in set: the question's half (Question.split)

    @property
    def supported(self) -> bool:
        return self.label == SUPPORTED

    def record(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in FIELDS}


@dataclass(frozen=True)
class Source:
    """What an edit may draw on besides the sentence: its passage, the names that passage
    capitalises in mid-sentence, and names from the set's other passages."""

    dataset: str
    passage: str
    names: set[str]
    name_pool: list[str]


Edit = Callable[[str, Source, random.Random], "str | None"]
EDITS: dict[str, Edit] = {
    "verbatim": lambda sentence, source, rng: sentence,
    "reworded": lambda sentence, source, rng: reworded(sentence),
    "framed": lambda sentence, source, rng: framed(sentence, source.dataset, source.names, rng),
    "number": lambda sentence, source, rng: changed_number(sentence, rng),
    "negation": lambda sentence, source, rng: flipped_negation(sentence, rng),
    "entity": lambda s, source, rng: swapped_name(s, source.passage, source.name_pool, rng),
    "modality": lambda sentence, source, rng: changed_modality(sentence, rng),
    "time": lambda sentence, source, rng: changed_time(sentence, rng),
    "quantity": lambda sentence, source, rng: changed_quantity(sentence, rng),
    "unit": lambda sentence, source, rng: changed_unit(sentence, rng),
    "role": lambda sentence, source, rng: swapped_roles(sentence, source.names, rng),
}


def labelled_examples(question_files: Iterable[Path], per_file: int) -> list[Example]:
    """The built-in set: for each file, up to `per_file` questions with a gold span."""
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


def candidate_sentences(passage: str) -> list[str]:
    """The passage's whole sentences of a statement's length."""
    found = (statement_from(sentence) for sentence in split_sentences(passage))
    return [s for s in found if s and MIN_WORDS <= len(words(s)) <= MAX_WORDS]


def examples_for(dataset: str, passages: list[tuple[Question, str]]) -> Iterator[Example]:
    names_by_passage = [passage_names(passage) for _, passage in passages]
    name_pool = sorted(set().union(*names_by_passage))
    term_sets = [term_set(passage) for _, passage in passages]
    for index, (question, passage) in enumerate(passages):
        sentences = candidate_sentences(passage)
        if not sentences:
            continue
        source = Source(dataset, passage, names_by_passage[index], name_pool)
        for kind in KINDS[:-1]:
            rng = random.Random(f"{dataset}/{question.id}/{kind}")
            statement = first_edit(kind, sentences, source, rng)
            if statement is not None:
                yield example(dataset, question, kind, statement, passage)
        other = most_similar(index, term_sets)
        if other is not None:
            rng = random.Random(f"{dataset}/{question.id}/wrong_source")
            borrowed = borrowed_sentence(candidate_sentences(passages[other][1]), passage, rng)
            if borrowed is not None:
                yield example(dataset, question, "wrong_source", borrowed, passage)


def first_edit(kind: str, sentences: list[str], source: Source, rng: random.Random) -> str | None:
    """The kind's edit of the first sentence, in a random order, that it applies to. A
    meaning-changing edit that the passage holds word for word elsewhere is not one."""
    order = list(sentences)
    rng.shuffle(order)
    held = squash(source.passage)
    for sentence in order:
        statement = EDITS[kind](sentence, source, rng)
        if statement is None or (statement == sentence and kind != "verbatim"):
            continue
        if kind in CORRUPTED_KINDS and squash(statement) in held:
            continue
        return statement
    return None


def example(dataset: str, question: Question, kind: str, statement: str, passage: str) -> Example:
    label = SUPPORTED if kind in FAITHFUL_KINDS else UNSUPPORTED
    return Example(
        id=f"{dataset}/{question.id}/{kind}",
        statement=statement,
        passage=passage,
        label=label,
        kind=kind,
        dataset=dataset,
        split=question.split,
    )


def write_examples(path: Path, examples: Iterable[Example]) -> int:
    """Write examples as labelled JSONL (the --examples format); returns how many."""
    count = 0
    with Path(path).open("w", encoding="utf-8") as out:
        for item in examples:
            out.write(json.dumps(item.record(), ensure_ascii=False) + "\n")
            count += 1
    return count


def read_examples(path: Path) -> list[Example]:
    """The examples of a labelled JSONL file; a bad line raises ExamplesError naming it."""
    return records_read(path, parse_example, noun="examples", error=ExamplesError)


def parse_example(line: str) -> Example:
    record = json_object(line)
    for name in FIELDS:
        if name not in record:
            raise ValueError(f'missing "{name}"')
        if not isinstance(record[name], str) or not record[name].strip():
            raise ValueError(f'"{name}" must be a non-empty string')
    if record["label"] not in LABELS:
        raise ValueError(
            f'unknown label {record["label"]!r} (expected "supported" or "unsupported")'
        )
    return Example(**{name: record[name] for name in FIELDS})
