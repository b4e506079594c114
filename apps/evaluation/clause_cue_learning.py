"""Learning the clause vocabulary of known contract questions from gold clause spans.

Input: a question file in the shared format whose questions carry a `category` (one fixed
question text each) and a `scope_document`, with its documents.jsonl beside it. Only the
tuning half of the questions (Question.split) is read, so the other half stays a fair test.

A contract is cut into sentences (apps.assistant.sentences); a sentence near a gold span of its
question is a clause sentence, every other sentence of the contracts asked about is not. A
term's weight is the log-ratio of how often it occurs in clause sentences (counted once per
question) to how often it occurs in the others; terms that are rare in clauses or not
distinctive are dropped. A sentence in a contract's opening carries the pseudo-term OPENING, so
that questions answered by the title block (name, date, parties) learn to favour it.

The threshold of a question is fitted on scores the weights never saw: the tuning contracts
are split in two folds, each scored with weights learned on the other. For every question, the
best-scoring sentence of its contract is its answer; the threshold maximises the answers that
land on gold minus WRONG_ANSWER_COST for each that does not (a contract with no such clause, or
a sentence away from it). A question where no threshold gains gets none and is never answered.

Measured with `manage.py evaluate_answers` on the cuad dev questions (extractive backend), the
answerable questions answered with gold evidence went from 0.29 to 0.59 on the held-out half
(0.68 on the tuning half) while 0.82 of the questions without such a clause still abstain.
Raising WRONG_ANSWER_COST to 0.2 trades 0.03 of the first for 0.08 of the second.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from apps.assistant.clause_cues import OPENING, OPENING_CHARS, STATEMENTS
from apps.assistant.sentences import sentence_spans
from apps.evaluation.questions import EvaluationError, Question, load_questions
from apps.retrieval.tokenize import index_terms

GOLD_MARGIN = 200  # characters around a gold span whose sentences count as the clause
SMOOTHING = 0.5
MIN_SUPPORT = 2  # questions whose clause holds the term
MIN_SHARE = 0.1  # of the question's clauses that hold the term
MIN_WEIGHT = math.log(3)
MAX_TERMS = 40
EXAMPLE_WORDS = (8, 60)
WRONG_ANSWER_COST = 0.1
FOLDS = 2
# The example clauses are quoted from the contracts the cues are learned from.
ATTRIBUTION = (
    "Clause terms and example sentences derived from CUAD v1 (The Atticus Project), CC BY 4.0; "
    "the contracts are public SEC EDGAR filings."
)


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    terms: frozenset[str]


@dataclass(frozen=True)
class Contract:
    id: str
    text: str
    sentences: tuple[Sentence, ...]
    term_counts: Counter  # sentences holding each term

    def near(self, gold: Iterable[tuple[int, int]]) -> list[int]:
        """Indexes of the sentences within GOLD_MARGIN characters of a gold span."""
        spans = [(start - GOLD_MARGIN, end + GOLD_MARGIN) for start, end in gold]
        return [
            index
            for index, s in enumerate(self.sentences)
            if any(s.start < end and s.end > start for start, end in spans)
        ]


@dataclass(frozen=True)
class Asked:
    """One tuning question: its category, the contract it is about and its gold spans there."""

    question: Question
    category: str
    text: str
    contract: Contract
    gold: tuple[tuple[int, int], ...]  # empty when the contract has no such clause

    @property
    def fold(self) -> int:
        return hashlib.sha256(self.contract.id.encode()).digest()[0] % FOLDS


def learn(questions_path: Path) -> dict:
    """The clause cue file's content for the known questions of `questions_path`."""
    asked = tuning_questions(questions_path)
    by_category: dict[str, list[Asked]] = defaultdict(list)
    for item in asked:
        by_category[item.category].append(item)
    entries = [learn_question(items) for _, items in sorted(by_category.items())]
    return {
        "learned_from": f"{questions_path.parent.name}/{questions_path.name}, tuning half",
        "attribution": ATTRIBUTION,
        "questions": entries,
    }


def learn_question(items: Sequence[Asked]) -> dict:
    out_of_fold = []
    for fold in range(FOLDS):
        weights = term_weights(term_statistics([i for i in items if i.fold != fold]))
        out_of_fold += [(i, weights) for i in items if i.fold == fold]
    threshold, answered, on_gold = fit_threshold(out_of_fold)
    statistics = term_statistics(items)
    return {
        "category": items[0].category,
        "question": items[0].text,
        "threshold": threshold,
        "example": example(items, statistics),
        "tuning": {
            "questions": len(items),
            "with_clause": sum(bool(i.gold) for i in items),
            "answered": answered,
            "answered_on_gold": on_gold,
        },
        "weights": term_weights(statistics),
    }


@dataclass(frozen=True)
class TermStatistic:
    weight: float  # log-ratio of its rate in clause sentences to its rate elsewhere
    share: float  # of the questions with a clause whose clause holds it


def term_statistics(items: Sequence[Asked]) -> dict[str, TermStatistic]:
    """The distinctive clause terms of `items`, at most MAX_TERMS, the most telling first."""
    clause_support: Counter = Counter()  # questions whose clause sentences hold the term
    clause_sentences: Counter = Counter()
    other: Counter = Counter()
    others = 0
    for contract in {i.contract.id: i.contract for i in items}.values():
        other.update(contract.term_counts)
        others += len(contract.sentences)
    with_clause = [i for i in items if i.gold]
    for item in with_clause:
        near = [item.contract.sentences[index] for index in item.contract.near(item.gold)]
        for sentence in near:
            clause_sentences.update(sentence.terms)
        clause_support.update(set().union(*(s.terms for s in near)))
        others -= len(near)
    other.subtract(clause_sentences)
    floor = max(MIN_SUPPORT, MIN_SHARE * len(with_clause))
    statistics = {}
    for term, support in clause_support.items():
        if support < floor:
            continue
        in_clauses = (support + SMOOTHING) / (len(with_clause) + 2 * SMOOTHING)
        elsewhere = (max(other[term], 0) + SMOOTHING) / (others + 2 * SMOOTHING)
        weight = math.log(in_clauses / elsewhere)
        if weight >= MIN_WEIGHT:
            statistics[term] = TermStatistic(weight, support / len(with_clause))
    ranked = sorted(statistics, key=lambda term: (-telling(statistics[term]), term))
    return {term: statistics[term] for term in ranked[:MAX_TERMS]}


def telling(statistic: TermStatistic) -> float:
    """How much a term tells: its weight, counted as often as clauses hold it."""
    return statistic.weight * statistic.share


def term_weights(statistics: dict[str, TermStatistic]) -> dict[str, float]:
    return {term: round(statistics[term].weight, 3) for term in sorted(statistics)}


def example(items: Sequence[Asked], statistics: dict[str, TermStatistic]) -> str:
    """The clause sentence (EXAMPLE_WORDS long) whose terms tell most, for their number: a
    typical clause of the question, which retrieval searches for with it."""
    best, text = 0.0, ""
    for item in items:
        for index in item.contract.near(item.gold) if item.gold else ():
            sentence = item.contract.sentences[index]
            words = item.contract.text[sentence.start : sentence.end].split()
            if not EXAMPLE_WORDS[0] <= len(words) <= EXAMPLE_WORDS[1]:
                continue
            told = [telling(statistics[t]) for t in sentence.terms if t in statistics]
            score = sum(told) / math.sqrt(len(sentence.terms))
            if score > best:
                best, text = score, " ".join(words)
    return text


def fit_threshold(
    scored: Sequence[tuple[Asked, dict[str, float]]],
) -> tuple[float | None, int, int]:
    """(threshold, questions answered, answered on gold) with the best gain on `scored`."""
    outcomes = sorted((best_answer(item, weights) for item, weights in scored), reverse=True)
    best_gain, threshold, answered, on_gold = 0.0, None, 0, 0
    gain = 0.0
    hits = 0
    for index, (score, hit) in enumerate(outcomes, start=1):
        gain += 1.0 if hit else -WRONG_ANSWER_COST
        hits += hit
        below = outcomes[index][0] if index < len(outcomes) else -1.0
        if score > 0 and score != below and gain > best_gain:
            threshold = math.floor(score * 1000) / 1000  # the weights are rounded alike
            best_gain, answered, on_gold = gain, index, hits
    return threshold, answered, on_gold


def best_answer(item: Asked, weights: dict[str, float]) -> tuple[float, bool]:
    """The score of the best sentence of the question's contract, and whether one of the
    STATEMENTS best ones, as many as an answer quotes, is near gold."""
    sentences = item.contract.sentences
    scores = [sum(weights.get(t, 0.0) for t in s.terms) for s in sentences]
    ranked = sorted(range(len(sentences)), key=lambda index: (-scores[index], index))
    near = set(item.contract.near(item.gold)) if item.gold else set()
    return scores[ranked[0]], any(index in near for index in ranked[:STATEMENTS])


def tuning_questions(questions_path: Path) -> list[Asked]:
    records = {}
    for line in questions_path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            records[record["id"]] = record
    questions = [
        q
        for q in load_questions(questions_path)
        if q.split == "tune" and q.scope_document and records[q.id].get("category")
    ]
    if not questions:
        raise EvaluationError(f"{questions_path} holds no tuning question with a category")
    contracts = load_contracts(
        questions_path.parent / "documents.jsonl", {q.scope_document for q in questions}
    )
    return [
        Asked(
            question=q,
            category=records[q.id]["category"],
            text=records[q.id]["question"],
            contract=contracts[q.scope_document],
            gold=tuple((start, end) for doc, start, end in q.gold if doc == q.scope_document)
            if q.answerable
            else (),
        )
        for q in questions
    ]


def load_contracts(path: Path, wanted: set[str]) -> dict[str, Contract]:
    contracts = {}
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            document = json.loads(line)
            if document["id"] in wanted:
                contracts[document["id"]] = contract(document["id"], document["text"])
    missing = wanted - set(contracts)
    if missing:
        raise EvaluationError(f"{path} lacks the documents {', '.join(sorted(missing))}")
    return contracts


def contract(document_id: str, text: str) -> Contract:
    sentences = tuple(
        Sentence(start, end, sentence_terms(text[start:end], opening=start < OPENING_CHARS))
        for start, end in sentence_spans(text)
    )
    counts: Counter = Counter()
    for sentence in sentences:
        counts.update(sentence.terms)
    return Contract(document_id, text, sentences, counts)


def sentence_terms(text: str, *, opening: bool) -> frozenset[str]:
    return frozenset(index_terms(text) + ([OPENING] if opening else []))
