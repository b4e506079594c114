"""The extractive backend: no model. It answers with the retrieved sentences that best match the
question, each quoted verbatim and citing its own passage, and abstains when none matches well.

A sentence's score is the IDF-weighted share of the question's terms it holds (IDF over the
sentences of the retrieved passages, terms from the BM25 analyser), discounted by its passage's
retrieval rank. A sentence that ends in a colon brings the list items after it, so that a rule's
"must provide the following:" carries what follows. The cut-offs were tuned with
`manage.py evaluate_answers` on half of the obliqa and cuad dev questions.

Only passages that mention what the question asks about are quoted, and only sentences that
hold the kind of answer it wants ("how long": a period), as the checker requires
(apps.assistant.relevance); the answer service puts the question's focus on the prompt.

A known contract question (apps.assistant.clause_cues: "The date of the contract", "Which
state/country's law governs the interpretation of the contract?") is answered differently,
since its clause rarely shares words with it: sentences are scored by the clause vocabulary
learned for that question, and it is answered only when one reaches the learned threshold.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

from apps.adapters.selectors import AdapterChoice
from apps.assistant import relevance
from apps.assistant.clause_cues import OPENING, OPENING_CHARS, STATEMENTS, ClauseCues, cues_for
from apps.assistant.generators.base import (
    DecodingSettings,
    Generator,
    UnknownAdapter,
)
from apps.assistant.injection import without_instructions
from apps.assistant.prompts import Prompt, Source
from apps.assistant.sentences import sentence_spans
from apps.assistant.subjects import is_case
from apps.retrieval.tokenize import analyse, index_terms

# Below it, no sentence answers the question. 0.22 kept answers away from questions the corpus
# cannot answer before the relevance checks did; with them, on the tuning half of the obliqa
# dev questions, answered with gold evidence: 0.22 -> 0.73, 0.18 -> 0.77, 0.15 -> 0.79,
# 0.12 -> 0.81, while abstention on the unanswerable dev questions held (0.967 medquad, 1.0
# obliqa) down to 0.15 and fell below it.
MIN_SCORE = 0.15
# A sentence that gives the period, time or amount the question wants needs fewer of its words.
TYPED_MIN_SCORE = 0.10
RELATIVE_SCORE = 0.4  # later statements must score at least this share of the best one
MAX_STATEMENTS = 4
RANK_DISCOUNT = 0.05  # per retrieval rank below the first
MIN_WORDS = 6
MIN_SHARED_TERMS = 2  # a statement shares at least this many terms with the question
MAX_STATEMENT_CHARS = 1200


@dataclass(frozen=True)
class Candidate:
    source: int
    text: str
    score: float
    shared_terms: int  # question terms the sentence holds


class ExtractiveGenerator(Generator):
    backend = "extractive"
    model_name = "extractive-1"

    def stream(
        self, prompt: Prompt, *, adapter: AdapterChoice | None = None, decoding: DecodingSettings
    ) -> Iterator[str]:
        self.check_adapter(adapter)
        chosen, missing = choose(prompt)
        if not chosen:
            reason = abstain_reason(missing, question_focus(prompt).answer_type)
            yield json.dumps({"statements": [], "abstain": {"reason": reason}})
            return
        yield '{"statements": ['
        for index, candidate in enumerate(chosen):
            statement = {
                "citations": [candidate.source],
                "quote": candidate.text,
                "text": candidate.text,
            }
            yield ("" if index == 0 else ", ") + json.dumps(statement)
        yield "]}"

    takes_adapters = False

    def check_adapter(self, adapter: AdapterChoice | None) -> None:
        if adapter is not None:
            raise UnknownAdapter("the extractive backend has no model, so it takes no adapter")


def choose(prompt: Prompt) -> tuple[list[Candidate], list[str]]:
    """The statements to make, best first, and the question terms no passage mentions. Only
    passages that mention what the question is about are quoted, and only sentences that
    give the kind of answer it wants (a period, a time, an amount, a verdict)."""
    cues = cues_for(prompt.question)
    if cues is not None:
        return choose_clauses(prompt, cues), []
    focus = question_focus(prompt)
    question_terms = set(analyse(prompt.question))
    # Words that fill the corpora ("Court") are no evidence that a sentence answers, nor is the
    # name of a case, which its opinion repeats: a sentence must share another word (or, if all
    # fill the corpora, the least common: "hold"), so that the notice printed above an opinion,
    # naming the Court and the United States, is not quoted.
    cases = {term for s in focus.subjects if is_case(s) for f in s.forms for term in f}
    telling = question_terms - set(focus.common_terms) - cases or set(
        [t for t in focus.common_terms if t not in cases][:1]
    )
    units = [(source, text) for source in prompt.sources for text in statement_units(source)]
    unit_terms = [set(analyse(text)) for _, text in units]
    found = set().union(*unit_terms)
    missing = [w for w in question_words(prompt.question) if not set(analyse(w)) & found]
    candidates = scored(question_terms, units, unit_terms)
    if not candidates or candidates[0].score < min(MIN_SCORE, TYPED_MIN_SCORE):
        return [], missing
    on_subject = {
        s.number for s in prompt.sources if not relevance.missing_subjects(focus, s.context)
    }
    candidates = [
        c
        for c in candidates
        if c.source in on_subject
        and relevance.carries_answer(focus, c.text)
        and (not telling or telling & set(analyse(c.text)))
    ]
    if not candidates:
        return [], missing
    least = TYPED_MIN_SCORE if focus.answer_type in relevance.TYPED else MIN_SCORE
    floor = max(least, RELATIVE_SCORE * candidates[0].score)
    # The period, time or amount a question wants counts as one of the terms it shares.
    shared = min(MIN_SHARED_TERMS, len(question_terms)) - (focus.answer_type in relevance.TYPED)
    chosen: list[Candidate] = []
    for candidate in candidates:  # the best sentence of each passage, best passages first
        if candidate.score < floor or len(chosen) == MAX_STATEMENTS:
            break
        if candidate.shared_terms < shared:
            continue
        if all(candidate.source != c.source and candidate.text != c.text for c in chosen):
            chosen.append(candidate)
    return chosen, missing


def scored(
    question_terms: set[str], units: list[tuple[Source, str]], unit_terms: list[set[str]]
) -> list[Candidate]:
    idf = {
        term: math.log(1 + len(units) / (1 + sum(term in terms for terms in unit_terms)))
        for term in question_terms
    }
    total = sum(idf.values())
    if not total:
        return []
    return sorted(
        (
            Candidate(
                source.number,
                text,
                sum(idf[t] for t in question_terms & terms)
                / total
                * (1 - RANK_DISCOUNT * min(source.number - 1, 10)),
                len(question_terms & terms),
            )
            for (source, text), terms in zip(units, unit_terms, strict=True)
        ),
        key=lambda c: (-c.score, c.source),
    )


def question_focus(prompt: Prompt) -> relevance.Focus:
    """The focus the answer service found, or, for a prompt built without one, the kind of
    answer the question's wording asks for."""
    if prompt.focus is not None:
        return prompt.focus
    return relevance.Focus(prompt.question, (), relevance.answer_type(prompt.question))


def choose_clauses(prompt: Prompt, cues: ClauseCues) -> list[Candidate]:
    """For a known contract question: the sentences that read most like its clause (by the
    learned cue weights), the best of each passage, when they reach the learned threshold."""
    if cues.threshold is None:
        return []
    candidates = sorted(
        (
            clause_candidate(cues, source, text)
            for source in prompt.sources
            for text in statement_units(source)
        ),
        key=lambda c: (-c.score, c.source),
    )
    chosen: list[Candidate] = []
    for candidate in candidates:
        if candidate.score < cues.threshold or len(chosen) == STATEMENTS:
            break
        if all(candidate.source != c.source and candidate.text != c.text for c in chosen):
            chosen.append(candidate)
    return chosen


def clause_candidate(cues: ClauseCues, source: Source, text: str) -> Candidate:
    """A sentence scored by the cue weights; a passage in the document's opening lends its
    sentences the OPENING pseudo-term, as sentences there have it when the cues are learned."""
    opening = [OPENING] if source.hit.char_start < OPENING_CHARS else []
    terms = set(index_terms(text) + opening)
    return Candidate(source.number, text, cues.score(terms), len(terms & cues.weights.keys()))


def statement_units(source: Source) -> Iterator[str]:
    """The passage's sentences, whitespace-normalised, each one joined with the list items that
    follow it when it ends in a colon."""
    passage = without_instructions(source.hit.text)
    parts = [" ".join(passage[start:end].split()) for start, end in sentence_spans(passage)]
    index = 0
    while index < len(parts):
        unit, index = parts[index], index + 1
        if unit.endswith(":"):
            while index < len(parts) and is_list_item(parts[index]):
                unit, index = f"{unit} {parts[index]}", index + 1
        if is_sentence(unit) and not unit.endswith(":"):  # a lead-in without its list says nothing
            yield unit


def is_sentence(unit: str) -> bool:
    """Long enough to state something, and not a heading in capitals."""
    words = unit.split()
    return (
        len(words) >= MIN_WORDS
        and len(unit) <= MAX_STATEMENT_CHARS
        and any(word.isalpha() and word.islower() and len(word) > 2 for word in words)
    )


def is_list_item(part: str) -> bool:
    return part.startswith(("(", "•", "-")) or part.split(".", 1)[0].isdigit()


def question_words(question: str) -> list[str]:
    """The question's content words, in order, once each."""
    return list(dict.fromkeys(w for w in re.findall(r"[\w§.-]+", question) if analyse(w)))


def abstain_reason(missing: list[str], answer_type: str | None) -> str:
    reason = "none of the retrieved passages answers the question closely enough to quote"
    if answer_type is not None:
        reason = f"the passages found do not state {relevance.WANTED[answer_type]}"
    if missing:
        reason += f"; no passage mentions: {', '.join(missing[:6])}"
    return reason
