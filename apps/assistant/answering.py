"""One answer in progress: retrieve → prompt → generate (streamed) → check each statement as
soon as it is complete, yielding events as it goes, and record the answer when it ends."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from django.conf import settings

from apps.adapters.selectors import AdapterChoice
from apps.assistant import citations, prompts, relevance
from apps.assistant.answer_format import parse_draft, statements_in_prefix
from apps.assistant.clause_cues import cues_for, search_query
from apps.assistant.conflicts import find_conflict
from apps.assistant.generators.base import DecodingSettings, Generator, GeneratorError
from apps.assistant.models import Answer, AnswerStatus
from apps.assistant.presenters import (
    answer_as_dict,
    hit_record,
    statement_as_dict,
    statement_record,
)
from apps.corpora.models import Corpus, Document
from apps.retrieval.filters import Filters
from apps.retrieval.search import Hit, RetrievalOptions, retrieve_traced
from apps.retrieval.vocabulary import corpus_vocabulary

Event = tuple[str, dict]

DEEPER = 6  # how much deeper a question wanting a period, time or amount looks
NOTHING_RETRIEVED = "no passage in the corpora you can read matches the question"
NOTHING_SUPPORTED = "no passage in the corpora you can read supports an answer"
DISCONNECTED = "the answer was interrupted before the generator finished"
UNKNOWN_SUBJECT = "the corpora you can read do not mention {}"
OFF_TOPIC = "the passages found do not mention {}"
UNSETTLED = "the passages found do not settle the question"
NOT_TOGETHER = "no passage found speaks of {} together"
NOT_ANSWERED = "the passages found that mention {} do not answer the question"
NO_ANSWER = "the passages found do not state {}"


class Clock:
    """Seconds spent per stage, plus the moment of first events since the clock was made."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.seconds: dict[str, float] = {}

    def add(self, stage: str, since: float) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - since

    def mark(self, moment: str) -> None:
        self.seconds.setdefault(moment, time.perf_counter() - self.started)

    def finish(self) -> dict[str, float]:
        return {**self.seconds, "total": time.perf_counter() - self.started}


class Answering:
    def __init__(
        self,
        user,
        question: str,
        searched: list[Corpus],
        filters: Filters,
        adapter: AdapterChoice | None,
        generator: Generator,
        record: Callable[..., Answer],
    ) -> None:
        self.user, self.question, self.filters = user, question, filters
        self.searched, self.readable = searched, [corpus.slug for corpus in searched]
        self.adapter, self.generator, self.record = adapter, generator, record
        self.adapter_reason = adapter.reason if adapter else ""
        self.decoding = DecodingSettings(max_new_tokens=settings.GENERATOR_MAX_NEW_TOKENS)
        self.clock = Clock()
        self.prompt = prompts.build(question, [])
        self.focus = relevance.Focus(question, (), None)
        self.retrieval: dict = {}
        self.conflict: dict | None = None
        self.hits: list[dict] = []
        self.raw = ""
        self.checked: list[citations.CheckedStatement] = []
        self.error = ""
        self.abstain_reason: str | None = None
        self.answer: Answer | None = None

    def events(self) -> Iterator[Event]:
        """Yield ("stage" | "sources" | "statement" | "done", data); the answer is recorded at
        the end, or when the consumer stops early, so that nothing shown goes unrecorded."""
        try:
            yield from self.retrieve()
            if self.prompt.sources and not self.focus.unknown:
                yield "stage", {"stage": "generating"}
                yield from self.generate()
                self.conflict = self.find_conflict()
        except GeneratorExit:
            self.error = self.error or DISCONNECTED
            raise
        except Exception as exc:
            self.error = f"the answer failed: {exc.__class__.__name__}: {exc}"
            raise
        finally:
            self.answer = self.record(answering=self)
        yield "done", answer_as_dict(self.answer)

    def retrieve(self) -> Iterator[Event]:
        yield "stage", {"stage": "retrieving"}
        since = time.perf_counter()
        self.focus = question_focus(self.question, self.searched)
        query = search_query(self.question)
        hits, self.retrieval = find_passages(query, self.searched, self.filters, self.focus)
        self.clock.add("retrieve", since)
        self.prompt = prompts.build(self.question, hits, self.focus)
        self.hits = [hit_record(source) for source in self.prompt.sources]
        yield "sources", {"sources": [source_summary(hit) for hit in self.hits]}

    def generate(self) -> Iterator[Event]:
        pieces = self.generator.stream(self.prompt, adapter=self.adapter, decoding=self.decoding)
        since = time.perf_counter()
        try:
            for piece in pieces:
                self.raw += piece
                if "}" in piece:
                    yield from self.check_new(statements_in_prefix(self.raw))
        except GeneratorError as exc:
            self.error = str(exc)
        self.clock.add("generate", since)
        self.clock.seconds["generate"] -= self.clock.seconds.get("check", 0.0)
        draft = parse_draft(self.raw)
        self.abstain_reason = draft.abstain_reason
        yield from self.check_new(list(draft.statements))

    def check_new(self, drafts) -> Iterator[Event]:
        for draft in drafts[len(self.checked) :]:
            since = time.perf_counter()
            result = citations.check([draft], self.prompt.sources, self.readable, self.focus)[0]
            self.clock.add("check", since)
            self.checked.append(result)
            if result.shown:
                self.clock.mark("first_statement")
                yield "statement", statement_as_dict(statement_record(result), self.hits)

    def find_conflict(self) -> dict | None:
        documents = {hit["document_id"] for hit in self.hits}
        dates = dict(Document.objects.filter(pk__in=documents).values_list("pk", "date"))
        return find_conflict(self.focus, self.checked, self.hits, dates)

    def outcome(self) -> tuple[str, str]:
        if self.conflict:
            return AnswerStatus.CONFLICTING, ""
        if any(statement.shown for statement in self.checked):
            return AnswerStatus.ANSWERED, ""
        if self.error and not self.checked:
            return AnswerStatus.FAILED, f"the generator failed: {self.error}"
        if self.focus.unknown:
            return AnswerStatus.ABSTAINED, UNKNOWN_SUBJECT.format(named(self.focus.unknown))
        if not self.prompt.sources:
            return AnswerStatus.ABSTAINED, NOTHING_RETRIEVED
        reason = self.unaddressed()
        if reason and {s.reason for s in self.checked} <= {citations.OFF_TOPIC}:
            return AnswerStatus.ABSTAINED, reason
        if self.checked:
            return AnswerStatus.ABSTAINED, self.dropped_reason()
        return AnswerStatus.ABSTAINED, self.abstain_reason or NOTHING_SUPPORTED

    def unaddressed(self) -> str | None:
        """What the passages found lack of the question's subjects, if it has any: a subject
        none of them mentions, subjects that none mentions together (a false premise), or
        what the passages that do mention them leave unanswered."""
        missing = self.subjects_missing_everywhere()
        if missing:
            return OFF_TOPIC.format(named(missing))
        if self.focus.subjects and all(
            relevance.missing_subjects(self.focus, source.context) for source in self.prompt.sources
        ):
            return NOT_TOGETHER.format(" and ".join(s.text for s in self.focus.subjects))
        if self.focus.subjects:
            return NOT_ANSWERED.format(" and ".join(s.text for s in self.focus.subjects))
        return None

    def dropped_reason(self) -> str:
        """Why every statement was dropped."""
        reasons = {s.reason for s in self.checked}
        if reasons == {citations.OFF_TOPIC}:
            return UNSETTLED
        if reasons <= {citations.OFF_TOPIC, citations.NO_ANSWER} and self.focus.answer_type:
            return NO_ANSWER.format(relevance.WANTED[self.focus.answer_type])
        explained = sorted({citations.REASONS.get(reason, reason) for reason in reasons})
        return f"{NOTHING_SUPPORTED}; dropped: {'; '.join(explained)}"

    def subjects_missing_everywhere(self) -> list[str]:
        missing = None
        for source in self.prompt.sources:
            here = set(relevance.missing_subjects(self.focus, source.context))
            missing = here if missing is None else missing & here
        return sorted(missing or ())


def question_focus(question: str, searched: list[Corpus]) -> relevance.Focus:
    """What the question asks about, in the searched corpora; a known contract question is
    about its clause, which its learned vocabulary finds, so only its answer type applies."""
    vocabulary = corpus_vocabulary([corpus.pk for corpus in searched])
    found = relevance.question_focus(question, {c.domain for c in searched}, vocabulary)
    if cues_for(question):
        return relevance.Focus(question, (), found.answer_type)
    return found


def find_passages(
    query: str,
    searched: list[Corpus],
    filters: Filters,
    focus: relevance.Focus,
    options: RetrievalOptions | None = None,
    k: int | None = None,
) -> tuple[list[Hit], dict]:
    """The passages to answer from, and the record of how they were found. A question that
    wants a period, a time or an amount looks deeper and takes the passages that state one
    first: a rule's period often sits in the chunk that ends its list, away from the words of
    the question."""
    k = k or settings.ANSWER_SOURCES
    stating_first = focus.answer_type in relevance.TYPED
    depth = k * DEEPER if stating_first else k
    found = retrieve_traced(query, searched, filters, k=depth, options=options)
    hits = found.hits
    if stating_first:
        stating = [hit for hit in hits if relevance.carries_answer(focus, hit.text)]
        hits = stating + [hit for hit in hits if hit not in stating]
    record = found.trace.as_dict() | {"k": k, "depth": depth, "stating_first": stating_first}
    return hits[:k], record


def named(subjects) -> str:
    return ", ".join(subjects)


def source_summary(hit: dict) -> dict:
    keys = ("number", "label", "corpus", "document_id", "char_start", "char_end")
    return {key: hit[key] for key in keys}
