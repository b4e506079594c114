"""Answering questions: check the question, then answer it with checked citations, and record
everything needed to replay the answer."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import asdict

from django.db import transaction

from apps.adapters.selectors import (
    AdapterChoice,
    AdapterRefused,
    adapter_for_domains,
    adapter_named,
    no_adapter_reason,
)
from apps.assistant.answering import Answering
from apps.assistant.citations import checker_version
from apps.assistant.generators import get_generator
from apps.assistant.generators.base import Generator, UnknownAdapter
from apps.assistant.models import Answer
from apps.assistant.presenters import statement_record
from apps.audit.services import event_record, record_event, record_seal
from apps.retrieval.filters import Filters
from apps.retrieval.search import MAX_QUERY_CHARS
from apps.retrieval.selectors import check_documents_readable, searchable_corpora

EventSink = Callable[[str, dict], None]


class AnswerError(ValueError):
    """A question that cannot be asked as given, with a message fit to show the asker."""


def answer_question(*, on_event: EventSink | None = None, **question) -> Answer:
    """Answer a question (`answer_start` takes the arguments and raises the errors) and return
    the recorded Answer. `on_event(name, data)` receives each event as it happens."""
    answering = answer_start(**question)
    for name, data in answering.events():
        if on_event:
            on_event(name, data)
    return answering.answer


def answer_start(
    *,
    user,
    question: str,
    corpora: Sequence[str] | None = None,
    filters: Filters | None = None,
    adapter: str | AdapterChoice | None = None,
    generator: Generator | None = None,
) -> Answering:
    """Check a question from `user`; the returned Answering answers it as its events are read.

    The corpora searched are those the asker may read: all of them, or the slugs in `corpora`.
    Raises AnswerError for a bad question, retrieval.selectors.NotReadable for a corpus or
    document the asker may not read, and generators.base.UnknownAdapter for an adapter that
    is unknown, retired or not active, all before any work is done. Without `adapter`, the
    active adapter for the searched corpora's domains answers, or the base model.
    """
    question = check_question(question)
    filters = filters or Filters()
    searched = searchable_corpora(user, corpora)
    if not searched:
        raise AnswerError("you may not read any corpus yet; ask a corpus admin for access")
    check_documents_readable(searched, filters.documents)
    generator = generator or get_generator()
    choice, reason = adapter_choose(adapter, searched, generator)
    generator.check_adapter(choice)
    answering = Answering(user, question, searched, filters, choice, generator, answer_record)
    answering.adapter_reason = reason
    return answering


def adapter_choose(
    requested: str | AdapterChoice | None, searched: Sequence, generator: Generator
) -> tuple[AdapterChoice | None, str]:
    """The registry's adapter for this answer, and why it was chosen (or why none was). A
    version chosen already (an evaluation's) is taken as it is."""
    if isinstance(requested, AdapterChoice):
        return (None if requested.is_base else requested), requested.reason
    if requested is not None:
        try:
            choice = adapter_named(requested)
        except AdapterRefused as exc:
            raise UnknownAdapter(str(exc)) from None
        return choice, choice.reason
    domains = {corpus.domain for corpus in searched}
    if not generator.takes_adapters:
        return None, f"the {generator.backend} backend takes no adapter"
    choice = adapter_for_domains(domains)
    return choice, choice.reason if choice else no_adapter_reason(domains)


def check_question(question: str) -> str:
    if not isinstance(question, str) or not question.strip():
        raise AnswerError("the question is empty")
    if len(question) > MAX_QUERY_CHARS:
        raise AnswerError(
            f"the question is {len(question)} characters long; the limit is {MAX_QUERY_CHARS}"
        )
    return question.strip()


@transaction.atomic
def answer_record(*, answering: Answering) -> Answer:
    """Write the answer as a record: hashed, and vouched for by its answer.recorded event in
    the same transaction."""
    status, reason = answering.outcome()
    prompt = answering.prompt
    answer = Answer(
        asker=answering.user,
        question=answering.question,
        corpora=answering.readable,
        filters=filters_record(answering.filters),
        hits=answering.hits,
        prompt={"system": prompt.system, "user": prompt.user},
        backend=answering.generator.backend,
        model=answering.generator.model_name,
        adapter=answering.adapter.name if answering.adapter else "",
        adapter_version=answering.adapter.version if answering.adapter else None,
        adapter_sha256=answering.adapter.sha256 if answering.adapter else "",
        adapter_reason=answering.adapter_reason,
        decoding=answering.decoding.as_dict(),
        raw_output=answering.raw,
        statements=[statement_record(s) for s in answering.checked],
        status=status,
        abstain_reason=reason,
        error=answering.error,
        timings=answering.clock.finish(),
        retrieval=answering.retrieval,
        checker={**checker_version(), "focus": answering.focus.as_dict()},
        conflict=answering.conflict,
    )
    record_seal(record=answer)
    answer.save(force_insert=True)
    record_event(record=answer, actor=answering.user)
    return answer


def filters_from_record(record: dict) -> Filters:
    """The Filters an answer recorded with filters_record()."""
    return Filters(
        **{
            key: tuple(value) if isinstance(value, list) else datetime.date.fromisoformat(value)
            for key, value in record.items()
        }
    )


def filters_record(filters: Filters) -> dict:
    values = {key: value for key, value in asdict(filters).items() if value}
    return {
        key: list(value) if isinstance(value, tuple) else value.isoformat()
        for key, value in values.items()
    }


def answer_view_record(*, viewer, answer: Answer, withheld: dict[int, str]) -> None:
    """Record that `viewer` read `answer`, and which of its passages they were shown."""
    event_record(
        action="answer.viewed",
        durable=False,
        actor=viewer,
        obj=answer,
        payload={
            "chunks": [hit["chunk_id"] for hit in answer.hits if hit["number"] not in withheld],
            "withheld": sorted(withheld),
        },
    )
