"""Clause vocabulary for known contract questions.

Contract review asks a fixed set of questions ("Which state/country's law governs the
interpretation of the contract?"), and the clause that answers one rarely shares words with it.
For each such question, apps/assistant/data/clause_cues.json holds the terms (the BM25
analyser's stems and neighbouring-term pairs) that set its clauses apart from the rest of their
contracts, each with a weight, the lowest score at which a sentence is taken to be such a
clause, and an example clause sentence. The file is written by `manage.py learn_clause_cues`
from gold clause spans.

A question matches when its text, case and whitespace aside, is one of the known questions.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache
from pathlib import Path

CUES_PATH = Path(__file__).resolve().parent / "data" / "clause_cues.json"
# A pseudo-term held by text in a document's first OPENING_CHARS characters (no analysed term
# has angle brackets): questions answered by a contract's title block learn to favour it.
OPENING = "<opening>"
OPENING_CHARS = 1000
STATEMENTS = 4  # an answer to a known question quotes at most this many clause sentences


@dataclass(frozen=True)
class ClauseCues:
    category: str
    question: str
    weights: dict[str, float]
    example: str  # a typical clause sentence, which retrieval also searches for
    threshold: float | None  # None: no score was found that answers more than it misleads

    def score(self, terms: Collection[str]) -> float:
        """The summed weights of the cue terms among `terms` (from index_terms)."""
        return sum(self.weights.get(term, 0.0) for term in set(terms))


def question_key(question: str) -> str:
    return " ".join(question.lower().split())


@cache
def known_questions(path: Path = CUES_PATH) -> dict[str, ClauseCues]:
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {
        question_key(entry["question"]): ClauseCues(
            category=entry["category"],
            question=entry["question"],
            weights=entry["weights"],
            example=entry["example"],
            threshold=entry["threshold"],
        )
        for entry in data["questions"]
    }


def cues_for(question: str) -> ClauseCues | None:
    return known_questions().get(question_key(question))


def search_query(question: str) -> str:
    """What retrieval searches for: a known question followed by an example of its clause, so
    that keyword and vector search meet clauses that share no word with the question. Recall@8
    of the gold clause on the answerable tuning half of the cuad dev questions: 0.78 with the
    clause terms as a query variant of their own, 0.87 with the example appended; for the
    questions answered by the title block (name, date, parties), 0.46 → 0.85."""
    cues = cues_for(question)
    return f"{question} {cues.example}" if cues and cues.example else question
