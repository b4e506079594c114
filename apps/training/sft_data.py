"""Supervised fine-tuning examples built from question files, through the product's own path.

For each question of a tuning half (Question.split == "tune"; the held-out halves never go in):
the passages are retrieved as an answer retrieves them, the prompt is built by
assistant.prompts.build, and the target is the answer JSON a careful writer would give:

- answer: one statement per gold passage among the sources (at most MAX_STATEMENTS), each a
  sentence copied from that passage's gold span, written as the answer layout asks: the
  passage's number first, then the sentence's first words as the quote, then the sentence;
  every statement passes the citation checker with the question's focus, as it would have to
  at answer time;
- abstention: the question is unanswerable, or no gold passage was retrieved.

The sources are shuffled (seeded per question) before they are numbered: retrieval ranks the
gold passage first most of the time, and a model taught on that order learns to cite [1].
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from apps.adapters.files import file_sha256
from apps.assistant import citations, prompts
from apps.assistant.answer_format import DraftStatement
from apps.assistant.answering import find_passages, question_focus
from apps.assistant.clause_cues import search_query
from apps.assistant.injection import without_instructions
from apps.assistant.sentences import sentence_spans
from apps.assistant.support import squash
from apps.corpora.models import Corpus
from apps.evaluation.questions import (
    Question,
    corpus_for_questions,
    load_questions,
    question_filters,
)
from apps.retrieval.search import Hit
from apps.retrieval.tokenize import analyse
from apps.review.examples import sft_corrections
from apps.review.selectors import effective_reviews

EXAMPLES_FILE = "examples.jsonl"
MANIFEST_FILE = "manifest.json"
MAX_STATEMENTS = 2
MAX_STATEMENT_CHARS = 400  # longer sentences make long targets; the next gold sentence is tried
QUOTE_WORDS = 8
MIN_STATEMENT_WORDS = 6
SENTENCE_ENDS = (".", ";", ":", ",")
ABSTAIN_UNANSWERABLE = "none of the sources answers the question"
ABSTAIN_NOT_FOUND = "none of the sources states what the question asks"
ATTRIBUTIONS = "ABOUT.md"


class DatasetError(Exception):
    """Bad input to the dataset builder, with a message fit for the command line."""


@dataclass(frozen=True)
class DatasetConfig:
    """How a dataset is built: what is recorded in its manifest and must match at training."""

    sources: int = 3  # passages retrieved and numbered per prompt (the product's ANSWER_SOURCES)
    seed: int = 0  # shuffles each prompt's sources, by question id
    limit_per_file: int | None = None  # at most this many tuning questions of each file
    shuffle_sources: bool = True
    # add the answers auditors found wrong, with only their correctly cited statements (or an
    # abstention) as the target (apps.review.examples.sft_corrections)
    review_corrections: bool = False
    # at most this share of the examples are abstentions (a seeded sample of them is kept):
    # a small model taught on many learns that abstaining is always the safe output, while the
    # citation checker, not the model, is what keeps unsupported statements from being shown
    max_abstention_share: float | None = None


@dataclass
class Example:
    id: str
    set: str
    kind: str  # "answer" or "abstention"
    system: str
    user: str
    completion: str
    gold_numbers: list[int] = field(default_factory=list)


def tuning_questions(path: Path, limit: int | None) -> list[Question]:
    """The file's tuning half, in file order; the held-out half is never read past its id."""
    tune = [q for q in load_questions(path) if q.split == "tune"]
    return tune[:limit] if limit else tune


def examples_for_file(
    path: Path,
    config: DatasetConfig,
    corpus: Corpus,
    on_question: Callable[[], None] | None = None,
) -> Iterable[Example]:
    set_name = Path(path).resolve().parent.name
    for question in tuning_questions(path, config.limit_per_file):
        example = example_for(question, set_name, corpus, config)
        if on_question:
            on_question()
        if example is not None:
            yield example


def example_for(
    question: Question, set_name: str, corpus: Corpus, config: DatasetConfig
) -> Example | None:
    """The question's example, or None when its gold passage was found but no sentence of it
    passes the checker: an answer the product would drop is not taught, nor is an abstention
    where the answer lies in the sources."""
    assert question.split == "tune", "held-out questions never go into training"
    focus = question_focus(question.text, [corpus])
    hits, _ = find_passages(
        search_query(question.text), [corpus], question_filters(question), focus, k=config.sources
    )
    if config.shuffle_sources:
        hits = list(hits)
        random.Random(f"{config.seed}:{question.id}").shuffle(hits)
    prompt = prompts.build(question.text, hits, focus)
    gold = [s for s in prompt.sources if question.answerable and holds_gold(s.hit, question)]
    if not question.answerable or not gold:
        reason = ABSTAIN_UNANSWERABLE if not question.answerable else ABSTAIN_NOT_FOUND
        target = {"statements": [], "abstain": {"reason": reason}}
        return make_example(question, set_name, "abstention", prompt, target, [])
    statements = []
    for source in gold[:MAX_STATEMENTS]:
        statement = checked_statement(question, source, prompt, corpus.slug)
        if statement is not None:
            statements.append(statement)
    if not statements:
        return None
    target = {"statements": statements}
    numbers = [s["citations"][0] for s in statements]
    return make_example(question, set_name, "answer", prompt, target, numbers)


def make_example(question, set_name, kind, prompt, target, numbers) -> Example:
    return Example(
        id=question.id,
        set=set_name,
        kind=kind,
        system=prompt.system,
        user=prompt.user,
        completion=json.dumps(target, ensure_ascii=False),
        gold_numbers=numbers,
    )


def holds_gold(hit: Hit, question: Question) -> bool:
    return any(
        document == hit.document_external_id and start < hit.char_end and hit.char_start < end
        for document, start, end in question.gold
    )


def gold_text(hit: Hit, question: Question) -> str:
    """The part of the passage inside the question's gold spans, whitespace-squashed."""
    parts = []
    for document, start, end in question.gold:
        if document == hit.document_external_id and start < hit.char_end and hit.char_start < end:
            low, high = max(start, hit.char_start), min(end, hit.char_end)
            parts.append(hit.text[low - hit.char_start : high - hit.char_start])
    return squash(" ".join(parts))


def checked_statement(
    question: Question, source: prompts.Source, prompt: prompts.Prompt, corpus: str
) -> dict | None:
    """The best sentence of the passage's gold span that the checker shows, as a statement."""
    gold = gold_text(source.hit, question)
    question_terms = set(analyse(question.text))
    units = [
        unit
        for unit in sentences_of(source.hit.text)
        if len(unit.split()) >= MIN_STATEMENT_WORDS
        and len(unit) <= MAX_STATEMENT_CHARS
        and in_gold(unit, gold)
    ]
    units.sort(key=lambda unit: -len(question_terms & set(analyse(unit))))
    for unit in units:
        quote = " ".join(unit.split()[:QUOTE_WORDS])
        draft = DraftStatement(text=unit, citations=(source.number,), quote=quote)
        [checked] = citations.check([draft], prompt.sources, [corpus], prompt.focus)
        if checked.shown:
            return {"citations": [source.number], "quote": quote, "text": unit}
    return None


def sentences_of(passage: str) -> list[str]:
    """The passage's sentences, whitespace-normalised, without the heading lines a sentence
    span starts with ("107) DIGITAL SECURITIES ..."): a statement is a sentence of the rule."""
    passage = without_instructions(passage)
    found = []
    for start, end in sentence_spans(passage):
        lines = passage[start:end].split("\n")
        while len(lines) > 1 and not lines[0].rstrip().endswith(SENTENCE_ENDS):
            lines.pop(0)
        unit = " ".join(" ".join(lines).split())
        if not unit.endswith(":"):
            found.append(unit)
    return found


def in_gold(unit: str, gold: str) -> bool:
    """The sentence lies in the gold span, or the span in it (a gold span can be one clause)."""
    squashed = squash(unit)
    return bool(gold) and (squashed in gold or gold in squashed or squashed[:80] in gold)


def dataset_build(
    *,
    questions: Sequence[Path],
    out: Path,
    config: DatasetConfig,
    on_question: Callable[[], None] | None = None,
    stderr=None,
) -> dict:
    """Write `out`/examples.jsonl and `out`/manifest.json from the tuning halves of the
    question files, and return the manifest."""
    out.mkdir(parents=True, exist_ok=True)
    examples: list[Example] = []
    asked: Counter = Counter()
    files = []
    for path in questions:
        load_questions(path)  # a bad file is named before anything is ingested
        corpus, _ = corpus_for_questions(path, stderr=stderr)
        before = len(examples)

        def count_question(path=path) -> None:
            asked[str(path)] += 1
            if on_question:
                on_question()

        examples.extend(examples_for_file(path, config, corpus, count_question))
        files.append(source_file_record(path, corpus, asked[str(path)], len(examples) - before))
    examples, left_out = abstentions_capped(examples, config)
    if config.review_corrections:
        examples.extend(Example(**example) for example in review_corrections())
    counts = Counter((example.set, example.kind) for example in examples)
    random.Random(config.seed).shuffle(examples)
    lines = "".join(json.dumps(asdict(e), ensure_ascii=False) + "\n" for e in examples)
    (out / EXAMPLES_FILE).write_text(lines, encoding="utf-8")
    manifest = {
        "kind": "sft-dataset",
        "examples": len(examples),
        "examples_sha256": hashlib.sha256(lines.encode()).hexdigest(),
        "prompt_template_version": prompts.template_version(),
        "prompt_format": "assistant.prompts.build",
        "split": "tune halves only (evaluation.questions.Question.split)",
        "config": asdict(config),
        "retrieval": {"sources": config.sources, "as_answering": "answering.find_passages"},
        "checker": citations.checker_version()["version"],
        "counts": count_table(counts),
        "abstentions_left_out": left_out,
        "files": files,
        "attributions": attributions(questions),
    }
    write_manifest(out, manifest)
    return manifest


def abstentions_capped(examples: list[Example], config: DatasetConfig) -> tuple[list, int]:
    """The examples with at most config.max_abstention_share of abstentions, every answer
    kept and a seeded sample of the abstentions, in their order; and how many were left out."""
    share = config.max_abstention_share
    abstentions = [e for e in examples if e.kind == "abstention"]
    answers = len(examples) - len(abstentions)
    if share is None or share >= 1:
        return examples, 0
    allowed = int(share * answers / (1 - share))
    if len(abstentions) <= allowed:
        return examples, 0
    kept = {id(e) for e in random.Random(config.seed).sample(abstentions, allowed)}
    capped = [e for e in examples if e.kind != "abstention" or id(e) in kept]
    return capped, len(examples) - len(capped)


def review_corrections() -> list[dict]:
    reviews = effective_reviews().select_related("answer").order_by("pk")
    return sft_corrections(reviews)


def source_file_record(path: Path, corpus: Corpus, asked: int, kept: int) -> dict:
    return {
        "path": str(path),
        "sha256": file_sha256(path),
        "corpus": corpus.slug,
        "questions_used": asked,
        "examples": kept,
    }


def count_table(counts: Counter) -> dict:
    table: dict[str, dict[str, int]] = {}
    for (set_name, kind), number in sorted(counts.items()):
        table.setdefault(set_name, {})[kind] = number
    return table


def attributions(questions: Sequence[Path]) -> dict[str, str]:
    found = {}
    for path in questions:
        about = Path(path).resolve().parent / ATTRIBUTIONS
        if about.is_file():
            found[about.parent.name] = about.read_text(encoding="utf-8")
    return found


def write_manifest(out: Path, manifest: dict) -> None:
    """The manifest, with the dataset's sha256: of every field but itself."""
    body = json.dumps(manifest, sort_keys=True, ensure_ascii=False)
    manifest["dataset_sha256"] = hashlib.sha256(body.encode()).hexdigest()
    (out / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")


def dataset_load(folder: Path) -> tuple[dict, list[dict]]:
    """A dataset's manifest and examples; raises DatasetError for a folder that holds none, or
    whose examples do not match the manifest's hash."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text())
        lines = (folder / EXAMPLES_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DatasetError(
            f"no dataset at {folder} (no {MANIFEST_FILE} or {EXAMPLES_FILE})"
        ) from None
    except (OSError, ValueError) as exc:
        raise DatasetError(f"cannot read the dataset at {folder}: {exc}") from None
    if hashlib.sha256(lines.encode()).hexdigest() != manifest.get("examples_sha256"):
        raise DatasetError(f"{folder / EXAMPLES_FILE} does not match its manifest's sha256")
    return manifest, [json.loads(line) for line in lines.splitlines() if line.strip()]
