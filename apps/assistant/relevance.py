"""Does an answer address the question asked? A passage can support a statement that answers
nothing: side effects of another drug, another regulator's rule on a similar topic, a notice
that is not a holding. Three deterministic checks:

- **The subject.** The question's subjects are what it names: a drug, condition, party, case,
  regulator, regime, rule number or defined term (apps.assistant.subjects). A subject the
  readable corpora never mention in any form means that nothing there can answer: the answer
  abstains and names it. A shown statement's cited passage (its text, headings and document)
  must mention every instrument or case the question names and one of its other subjects,
  words that fill the corpora (more than UBIQUITOUS of their chunks: "ADGM" in the ADGM
  rulebooks) aside: otherwise the statement is `off_topic`.
- **The answer type.** "How long" wants a period, "when" a time, date or trigger, "how much"
  an amount; a yes/no question wants a statement that speaks of everything it asks about.
- **Conflicts.** Statements that give different periods, times or amounts for what the
  question asks are a conflict, not an answer (apps.assistant.conflicts).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from apps.assistant import meaning
from apps.assistant.subjects import (
    Subject,
    TextTerms,
    holds_terms,
    mentions,
    subjects,
    text_terms,
    unknown_subjects,
)
from apps.retrieval.tokenize import analyse
from apps.retrieval.vocabulary import Vocabulary

UBIQUITOUS = 0.05  # a subject word in more of the corpora's chunks than this is the setting
VERDICT_TERMS = 0.05  # a yes/no or "who" question's words rarer than this must be in the answer
VERDICT_MAX_TERMS = 5  # a question about more things than this asks more than yes or no
FEW_CHUNKS = 10  # in a small corpus no word is that common: below this count, none is
RARE = 0.002  # a specific lowercase word is a subject only while this rare ("metformin")

DURATION, TIME, AMOUNT, PARTY, VERDICT = "duration", "time", "amount", "party", "verdict"
WANTED = {
    DURATION: "a period",
    TIME: "a time, date or triggering event",
    AMOUNT: "an amount",
    PARTY: "who it is",
    VERDICT: "an answer to the question",
}
TYPED = (DURATION, TIME, AMOUNT)  # answers that state a value
DECIDED = (PARTY, VERDICT)  # answers that must speak of what the question asks about
# "What doctor …" is answered by a sentence that names a kind of doctor.
CLINICIAN_QUESTION = re.compile(r"\b(?:doctor|specialist|physician|health care provider)s?\b")
CLINICIAN = re.compile(
    r"\b(?:doctors?|physicians?|specialists?|surgeons?|[a-z]+ologists?|[a-z]+iatrists?|"
    r"[a-z]+icians?|nurses?|therapists?|pharmacists?|dentists?|providers?)\b",
    re.IGNORECASE,
)
ANSWER_TYPES = (
    (
        DURATION,
        re.compile(
            r"^(?:for )?how long\b|\bhow many (?:business |working |calendar )?"
            r"(?:days|weeks|months|years|hours)\b|\b(?:what|which) (?:is the |are the )?"
            r"(?:retention |holding |notice |waiting |minimum |maximum )?"
            r"(?:period|duration)s?\b|\bfor what period\b"
        ),
    ),
    (
        TIME,
        re.compile(
            r"^(?:by |until )?when (?:must|should|shall|is|are|does|do|did|will|can|may|would|"
            r"has|have)\b|\bby when\b|\bhow (?:soon|quickly)\b|\bwhat (?:is the )?"
            r"(?:deadline|date|time ?frame|time limit)\b|\bat what (?:point|stage|time)\b"
        ),
    ),
    (
        AMOUNT,
        re.compile(
            r"^how much\b|\bwhat (?:is the |are the )?(?:fee|fees|amount|cost|price|"
            r"percentage|minimum amount|maximum amount)\b"
        ),
    ),
    (
        PARTY,
        re.compile(
            r"^(?:who|whom)\b|^(?:which|what) (?:kind of |type of |sort of )?(?:doctor|"
            r"specialist|physician|health care provider|professional|party|parties|court)s?\b"
        ),
    ),
    (
        VERDICT,
        re.compile(
            # "Can you describe …", "Is there any …" and "X or Y?" ask for more than yes or no
            r"^(?!(?:can|could|would|will) (?:you|we|i|the \w+ (?:provide|clarify|elaborate|"
            r"explain|outline|describe|specify|detail|list|give))\b|(?:is|are) there\b)"
            r"(?:is|are|can|could|does|do|did|may|must|should|will|would|has|have|was|"
            r"were|shall|might)\b(?!.*\bor\b)"
        ),
    ),
)

TIME_TRIGGERS = frozenset(
    (
        "immediately promptly forthwith upon once whenever when where if soon time event "
        "annually monthly weekly daily quarterly yearly date deadline"
    ).split()
)
ENDLESS = frozenset("indefinitely permanently lifetime lifelong".split())
MONTHS = frozenset(
    "january february march april may june july august september october november december".split()
)


@dataclass(frozen=True)
class Focus:
    question: str
    subjects: tuple[Subject, ...]  # those a cited passage must mention
    answer_type: str | None
    decisive_terms: tuple[str, ...] = ()  # what a yes/no or "who" answer must speak of
    unknown: tuple[str, ...] = ()  # subjects the corpora never mention
    common_terms: tuple[str, ...] = ()  # question words that fill the corpora, rarest first

    def as_dict(self) -> dict:
        return {
            "subjects": [s.text for s in self.subjects],
            "answer_type": self.answer_type,
            "decisive_terms": list(self.decisive_terms),
            "unknown": list(self.unknown),
            "common_terms": list(self.common_terms),
        }


def question_focus(question: str, domains: Iterable[str], vocabulary: Vocabulary) -> Focus:
    """What the question asks about, what kind of answer it wants, and what of it the
    corpora (`vocabulary`) never mention."""
    found = Focus(question, subjects(question, frozenset(domains)), answer_type(question))
    return settle(found, vocabulary)


def answer_type(question: str) -> str | None:
    text = " ".join(question.lower().split())
    return next((name for name, pattern in ANSWER_TYPES if pattern.search(text)), None)


def settle(focus: Focus, vocabulary: Vocabulary) -> Focus:
    """The focus with its unknown subjects found, the subject words that fill the corpora set
    aside, and a yes/no question's words that its answer must speak of."""
    common = max(UBIQUITOUS * vocabulary.chunks, FEW_CHUNKS)
    rare = max(RARE * vocabulary.chunks, 1)
    kept = tuple(
        subject
        for subject in focus.subjects
        if all(
            any(vocabulary.count(t) <= (common if subject.named else rare) for t in form)
            for form in subject.forms
        )
    )
    terms = tuple(dict.fromkeys(analyse(focus.question)))
    answer_type, decisive = focus.answer_type, ()
    if answer_type in DECIDED:
        rare = max(VERDICT_TERMS * vocabulary.chunks, FEW_CHUNKS)
        decisive = tuple(t for t in terms if vocabulary.count(t) <= rare)
        if len(decisive) > VERDICT_MAX_TERMS:
            answer_type, decisive = None, ()
    unknown = unknown_subjects(focus.subjects, vocabulary)
    filling = tuple(
        sorted((t for t in terms if vocabulary.count(t) > common), key=vocabulary.count)
    )
    return Focus(focus.question, kept, answer_type, decisive, unknown, filling)


def missing_subjects(focus: Focus, passage_text: str) -> list[str]:
    """The subjects a passage (with its headings and document title) fails to mention: every
    instrument or case the question names must be there, and of its other names at least
    one (a question may name several bodies, products or defined terms where its passage
    names one)."""
    terms = text_terms(passage_text)
    missing = [s for s in focus.subjects if not any(mentions(terms, f) for f in s.forms)]
    others = [s for s in focus.subjects if not s.instrument]
    if others and len([s for s in missing if not s.instrument]) < len(others):
        missing = [s for s in missing if s.instrument]
    return [s.text for s in missing]


def carries_answer(focus: Focus, statement: str) -> bool:
    """Whether a statement holds the kind of answer the question wants."""
    if focus.answer_type is None:
        return True
    if focus.answer_type in DECIDED:
        named = {term for s in focus.subjects for form in s.forms for term in form}
        if not decides(text_terms(statement), focus.decisive_terms, named):
            return False
        wants_clinician = CLINICIAN_QUESTION.search(focus.question.lower())
        return not (focus.answer_type == PARTY and wants_clinician) or bool(
            CLINICIAN.search(statement)
        )
    words = meaning.tokens(statement)
    if focus.answer_type == DURATION:
        return bool(typed_values(DURATION, statement)) or any(w in ENDLESS for w in words)
    if focus.answer_type == TIME:
        return (
            bool(typed_values(DURATION, statement))
            or bool(meaning.markers(words, meaning.TIME))
            or any(w in TIME_TRIGGERS or w in MONTHS or is_year(w) for w in words)
        )
    return any(meaning.is_number(w) for w in words)


def decides(terms: TextTerms, decisive: tuple[str, ...], subject_terms: set[str]) -> bool:
    """A statement speaks of what a yes/no or "who" question asks when it holds all of its
    decisive words, or all but one of three or more (a finding may name its outcome in other
    words), never missing a subject's: "Can an abscessed tooth cause a heart attack?" is not
    settled by a sentence on heart attacks alone."""
    missing = [term for term in decisive if not holds_terms(terms, (term,))]
    if any(term in subject_terms for term in missing):
        return False
    return len(missing) <= (len(decisive) >= 3)


def typed_values(kind: str, statement: str) -> set[tuple[str, str, str]]:
    """The values of a statement that answer a question of `kind`, as (relation, number,
    unit): periods and deadlines for "how long" and "when", any quantity for "how much"."""
    words = meaning.tokens(statement)
    if kind in (DURATION, TIME):
        return meaning.timed_quantities(words)
    if kind == AMOUNT:
        return {("amount", value, unit) for value, unit in meaning.quantities(words)}
    return set()


def is_year(word: str) -> bool:
    return len(word) == 4 and word.isdigit() and word[:2] in ("19", "20")
