"""What the pages record: every document and every cited passage read."""

from __future__ import annotations

from apps.audit.services import event_record


def document_view_record(*, viewer, document, span: tuple[int, int] | None) -> None:
    event_record(
        action="document.viewed",
        durable=False,
        actor=viewer,
        obj=document,
        payload={"corpus": document.corpus.slug, "version": document.version, "span": span},
    )


def citation_view_record(*, viewer, answer, hit: dict) -> None:
    """An auditor read the passage `hit` that `answer` cites."""
    event_record(
        action="citation.viewed",
        durable=False,
        actor=viewer,
        obj=answer,
        payload={
            "source": hit["number"],
            "chunk": hit["chunk_id"],
            "document": hit["document_id"],
            "content_hash": hit["content_hash"],
        },
    )
