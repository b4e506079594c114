"""Replaying a recorded answer: search again as it was searched, check its recorded output again
against the exact passages it was given, and say what differs.

Retrieval runs with the recorded query (example clause included), corpora, filters, fusion and
depth; the passages it finds are compared with the recorded ones by chunk and content hash,
and a recorded passage whose document has since been superseded is named as such. The recorded
generator output is then checked by today's checker against the recorded passages, read back
by chunk id from the document versions the answer saw (superseded versions keep their chunks),
and each statement's verdicts are compared with the recorded ones. The versions of the checker,
the analyser and the embedding model are compared too, since they explain most differences.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from apps.assistant import citations, prompts
from apps.assistant.answer_format import parse_draft
from apps.assistant.answering import find_passages, question_focus
from apps.assistant.models import Answer
from apps.assistant.services import filters_from_record
from apps.corpora.embedding import configured_model_name
from apps.corpora.models import Corpus, Document, DocumentStatus
from apps.retrieval.search import RetrievalOptions, recorded_hits
from apps.retrieval.tokenize import ANALYSER_VERSION
from apps.retrieval.tuned_fusion import FusionChoice


@dataclass
class Replay:
    answer: Answer
    passages: list[str] = field(default_factory=list)  # how the passages found differ
    statements: list[str] = field(default_factory=list)  # how the verdicts differ
    versions: list[str] = field(default_factory=list)  # what changed in the checker and search

    @property
    def identical(self) -> bool:
        return not (self.passages or self.statements)

    def as_dict(self) -> dict:
        return {
            "answer": self.answer.pk,
            "identical": self.identical,
            "passages": self.passages,
            "statements": self.statements,
            "versions": self.versions,
        }


def answer_replay(*, answer: Answer) -> Replay:
    """Replay `answer` (see the module docstring); nothing is written."""
    replay = Replay(answer)
    searched = list(Corpus.objects.filter(slug__in=answer.corpora))
    missing = sorted(set(answer.corpora) - {corpus.slug for corpus in searched})
    if missing:
        replay.passages.append(f"corpora no longer there: {', '.join(missing)}")
    focus = question_focus(answer.question, searched)
    compare_versions(answer, replay)
    if answer.retrieval:
        compare_passages(answer, searched, focus, replay)
    else:
        replay.passages.append("the answer recorded no search trace, so it was not searched again")
    compare_verdicts(answer, focus, replay)
    return replay


def compare_versions(answer: Answer, replay: Replay) -> None:
    now = {
        "checker": citations.checker_version()["version"],
        "analyser": ANALYSER_VERSION,
        "embedding model": configured_model_name(),
    }
    then = {
        "checker": answer.checker.get("version"),
        "analyser": answer.retrieval.get("analyser_version"),
        "embedding model": answer.retrieval.get("embedding_model"),
    }
    for name, version in now.items():
        if then[name] and then[name] != version:
            replay.versions.append(f"{name}: recorded {then[name]}, now {version}")


def compare_passages(answer: Answer, searched: list[Corpus], focus, replay: Replay) -> None:
    recorded = answer.retrieval
    options = RetrievalOptions(
        legs=tuple(recorded["legs"]),
        candidates_per_leg=recorded["candidates_per_leg"],
        rrf_k=recorded["rrf_k"],
        reranker=recorded["reranker"],
        fusion_by_domain={d: FusionChoice(**c) for d, c in recorded["fusion"].items()},
    )
    filters = filters_from_record(answer.filters)
    hits, _ = find_passages(recorded["query"], searched, filters, focus, options, recorded["k"])
    then = [(h["chunk_id"], h["content_hash"]) for h in answer.hits]
    now = [(h.chunk_id, h.content_hash) for h in hits]
    if then == now:
        return
    for number, hit in enumerate(answer.hits, start=1):
        if (hit["chunk_id"], hit["content_hash"]) not in now:
            replay.passages.append(f"[{number}] {hit['label']} is no longer found{why(hit)}")
    for hit in hits:
        if (hit.chunk_id, hit.content_hash) not in then:
            replay.passages.append(
                f"now found: {prompts.source_label(hit)} (document version {hit.document_version})"
            )
    if sorted(then) == sorted(now):
        replay.passages.append("the same passages are found in another order")


def why(hit: dict) -> str:
    document = Document.objects.filter(pk=hit["document_id"]).first()
    if document is None:
        return ": its document was deleted"
    if document.status != DocumentStatus.ACTIVE:
        return f": document version {document.version} was superseded"
    return ""


def compare_verdicts(answer: Answer, focus, replay: Replay) -> None:
    ids = [hit["chunk_id"] for hit in answer.hits]
    hits = {hit.chunk_id: hit for hit in recorded_hits(ids)}
    for number, hit in enumerate(answer.hits, start=1):
        stored = hits.get(hit["chunk_id"])
        if stored is None or (stored.content_hash, stored.text) != (
            hit["content_hash"],
            hit["text"],
        ):
            replay.statements.append(
                f"[{number}] {hit['label']}: the passage the answer was given is no longer "
                "in the database as it was (the chunk is gone, or its text or hash differs)"
            )
            return
    prompt = prompts.build(answer.question, [hits[i] for i in ids], focus)
    drafts = parse_draft(answer.raw_output).statements
    checked = citations.check(drafts, prompt.sources, answer.corpora, focus)
    recorded = answer.statements
    if len(checked) != len(recorded):
        replay.statements.append(f"{len(recorded)} statements recorded, {len(checked)} now")
    for index, (then, now) in enumerate(zip(recorded, checked, strict=False), start=1):
        was = verdict_line(then["shown"], then["reason"])
        is_now = verdict_line(now.shown, now.reason)
        if was != is_now:
            replay.statements.append(f"statement {index}: was {was}, now {is_now}")


def verdict_line(shown: bool, reason: str) -> str:
    return f"{'shown' if shown else 'dropped'} ({reason})"
