"""Question files in the shared format (shared/data/README.md) and the corpus that holds their
documents, shared by every evaluation and tuning command.

Evaluation is an internal operation with no asker: the corpus is read and loaded directly, so
no user, role or grant takes part. Run it only from the command line or other trusted code,
never on behalf of a request.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Max
from tqdm import tqdm

from apps.corpora import services as corpora_services
from apps.corpora.models import Corpus, Document, DocumentStatus, Domain, JobStatus
from apps.corpora.parsers import ParsedDocument, parse_path
from apps.corpora.pipeline import run_ingestion_job
from apps.evaluation import metrics
from apps.evaluation.jsonl import json_object, records_read
from apps.retrieval import services as retrieval_services
from apps.retrieval.filters import Filters
from apps.retrieval.models import Bm25IndexStatus
from apps.retrieval.search import MAX_QUERY_CHARS

DOCUMENTS_FILE = "documents.jsonl"
GROUP_FIELD = "mentions_rule_number"
# A gold document without spans (pubmedqa) is gold from its first character to its last: an
# open end matches every chunk of whichever version is current.
WHOLE_DOCUMENT_END = 2**63 - 1
ERRORS_SHOWN = 3


class EvaluationError(Exception):
    """Bad evaluation input, with a message fit for the command line."""


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    gold: tuple[metrics.Span, ...]
    scope_document: str | None
    group: bool | None
    answerable: bool = True  # cuad: false when the document has no such clause
    answer: str | None = None  # pubmedqa: yes/no/maybe; cuad: the expert's answer
    long_answer: str | None = None  # pubmedqa: the abstract's conclusion

    @property
    def split(self) -> str:
        """ "tune" or "held_out": a stable half of the questions, by a hash of the id, so that
        anything tuned on dev questions can be reported on the other half."""
        return "tune" if hashlib.sha256(self.id.encode()).digest()[0] % 2 == 0 else "held_out"


def load_questions(path: Path) -> list[Question]:
    """The questions of a JSONL file in the shared format, in file order; a bad line raises
    EvaluationError naming it."""
    return records_read(path, parse_question, noun="questions", error=EvaluationError)


def parse_question(line: str) -> Question:
    """One question line; raises ValueError saying what is wrong with it."""
    record = json_object(line)
    text = _field(record, "question", str, required=True)
    if len(text) > MAX_QUERY_CHARS:
        raise ValueError(f'"question" is {len(text)} characters; at most {MAX_QUERY_CHARS}')
    documents = _field(record, "gold_documents", list) or []
    if not all(isinstance(d, str) and d for d in documents):
        raise ValueError('"gold_documents" must be a list of document ids')
    spans = tuple(_gold_span(span) for span in _field(record, "gold_spans", list) or [])
    gold = spans or tuple((d, 0, WHOLE_DOCUMENT_END) for d in dict.fromkeys(documents))
    # An unanswerable question (cuad) is scored as an abstention, not as retrieval.
    answerable = _field(record, "answerable", bool)
    return Question(
        id=_field(record, "id", str, required=True),
        text=text,
        gold=() if answerable is False else gold,
        scope_document=_field(record, "scope_document", str) or None,
        group=_field(record, GROUP_FIELD, bool),
        answerable=answerable is not False,
        answer=_field(record, "answer", str),
        long_answer=_field(record, "long_answer", str),
    )


def _gold_span(span: Any) -> metrics.Span:
    if not isinstance(span, dict):
        raise ValueError('each of "gold_spans" must be an object')
    document = _field(span, "document", str, required=True)
    start, end = _field(span, "start", int), _field(span, "end", int)
    if start is None or end is None or not 0 <= start < end:
        raise ValueError(f'gold span {span} needs integer "start" and "end", 0 <= start < end')
    return document, start, end


def _field(record: dict, key: str, kind: type, *, required: bool = False) -> Any:
    value = record.get(key)
    if value is None:
        if required:
            raise ValueError(f'missing "{key}"')
        return None
    # JSON true is a Python int too; a boolean offset is a mistake, not 1.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValueError(f'"{key}" must be of type {kind.__name__}, not {type(value).__name__}')
    if required and isinstance(value, str) and not value.strip():
        raise ValueError(f'"{key}" is empty')
    return value


def corpus_by_slug(slug: str) -> Corpus:
    """An existing corpus, or EvaluationError listing the known ones."""
    corpus = Corpus.objects.filter(slug=slug).first()
    if corpus is None:
        known = ", ".join(Corpus.objects.values_list("slug", flat=True)) or "none yet"
        raise EvaluationError(f"unknown corpus {slug!r} (known: {known})")
    return corpus


def corpus_for_questions(
    questions_path: Path, *, stderr: TextIO | None = None
) -> tuple[Corpus, str]:
    """The corpus named after the questions' folder, holding that folder's documents.jsonl,
    and how it came to be: reused as is when it already holds exactly those documents (same
    ids, same text on the active versions), else created if need be and ingested."""
    folder = Path(questions_path).resolve().parent
    documents_path = folder / DOCUMENTS_FILE
    parsed = _parse_documents(documents_path)
    wanted = {d.external_id: corpora_services.text_sha256(d.text) for d in parsed}
    corpus = Corpus.objects.filter(slug=folder.name).first()
    if corpus is not None and active_hashes(corpus) == wanted:
        return corpus, "reused"
    if corpus is None:
        corpus = _corpus_create(folder.name, parsed)
    _check_no_extra_documents(corpus, wanted, documents_path)
    job_id = _ingest(corpus, documents_path, stderr)
    return corpus, f"ingested (job #{job_id})"


def _parse_documents(path: Path) -> list[ParsedDocument]:
    result = parse_path(path, max_bytes=settings.INGEST_MAX_BYTES)
    if result.problems:
        shown = "; ".join(str(p) for p in result.problems[:ERRORS_SHOWN])
        more = len(result.problems) - ERRORS_SHOWN
        raise EvaluationError(
            f"cannot load {path}: {shown}" + (f" (and {more} more)" if more > 0 else "")
        )
    return result.documents


def active_hashes(corpus: Corpus) -> dict[str, str]:
    """The external id and text hash of each active document of the corpus."""
    return dict(
        Document.objects.filter(corpus=corpus, status=DocumentStatus.ACTIVE).values_list(
            "external_id", "sha256"
        )
    )


def _corpus_create(slug: str, parsed: list[ParsedDocument]) -> Corpus:
    domains = Counter(d.metadata.get("domain") for d in parsed)
    domain = next((d for d, _ in domains.most_common() if d in Domain.values), Domain.LEGAL)
    try:
        return corpora_services.corpus_create(slug=slug, name=slug, domain=domain)
    except ValidationError as exc:
        raise EvaluationError(
            f"cannot create a corpus named {slug!r} after the questions' folder "
            f"({'; '.join(exc.messages)}); create one and pass --corpus"
        ) from None


def _check_no_extra_documents(corpus: Corpus, wanted: dict[str, str], path: Path) -> None:
    # Ingestion adds and updates but never retires: extra documents would stay in the
    # rankings as distractors the question set does not know about.
    extra = sorted(set(active_hashes(corpus)) - set(wanted))
    if extra:
        raise EvaluationError(
            f"corpus {corpus.slug!r} holds {len(extra)} document(s) that {path} does not "
            f"(first: {', '.join(extra[:ERRORS_SHOWN])}); evaluate it as it is with "
            f"--corpus {corpus.slug}, or load the set into a fresh corpus"
        )


def _ingest(corpus: Corpus, path: Path, stderr: TextIO | None) -> int:
    job = corpora_services.ingestion_job_create(corpus=corpus, paths=[str(path)])
    with progress_bar(stderr, total=0, unit="chunk", desc=f"ingesting into {corpus.slug}") as bar:

        def advance(done: int, total: int, stage: str) -> None:
            bar.total = max(total, 1)
            bar.set_description(stage, refresh=False)
            bar.update(done - bar.n)

        job = run_ingestion_job(job.pk, on_progress=advance)
    if job.status != JobStatus.SUCCEEDED:
        raise EvaluationError(
            f"ingestion job #{job.pk} into {corpus.slug!r} ended {job.get_status_display()}: "
            + "; ".join(job.errors[:ERRORS_SHOWN])
        )
    return job.pk


def bm25_index_ensure(*, corpus: Corpus) -> None:
    """Build the corpus's BM25 index here unless a ready generation is at least as new as its
    newest document.

    Ingestion asks for the rebuild through the task queue: the immediate backend has done it by
    now, but with the database backend it waits for a worker, and evaluating before then would
    score BM25 on an old index or none.
    """
    newest = Document.objects.filter(corpus=corpus, status=DocumentStatus.ACTIVE).aggregate(
        newest=Max("created_at")
    )["newest"]
    ready = corpus.bm25_indexes.filter(status=Bm25IndexStatus.READY).order_by("-generation").first()
    if ready is None or (newest is not None and ready.created_at < newest):
        retrieval_services.bm25_index_build(corpus=corpus)


def question_filters(question: Question) -> Filters:
    """A question with a scope document (cuad) searches that document only."""
    return Filters(documents=(question.scope_document,) if question.scope_document else ())


def progress_bar(stderr: TextIO | None, iterable: Iterable | None = None, **kwargs) -> tqdm:
    # Off a terminal (CI logs, files), redraw rarely instead of flooding the log.
    interval = 0.1 if stderr is not None and stderr.isatty() else 15
    return tqdm(iterable, file=stderr, disable=stderr is None, mininterval=interval, **kwargs)
