from __future__ import annotations

from collections.abc import Sequence

from apps.accounts.selectors import readable_corpora
from apps.corpora.models import Corpus, Document, DocumentStatus


class NotReadable(LookupError):
    """A corpus or document that does not exist or that the asker may not read.

    The message is the same either way, so that an error never tells which ones exist.
    """

    def __init__(self, kind: str, name: str) -> None:
        super().__init__(f"unknown {kind} {name!r}")
        self.kind = kind
        self.name = name


def searchable_corpora(user, slugs: Sequence[str] | None = None) -> list[Corpus]:
    """The corpora a search by `user` covers: those named by `slugs`, or, without slugs, every
    corpus the user may read. Raises NotReadable for a slug naming no corpus the user may read."""
    readable = readable_corpora(user)
    if slugs is None:
        return list(readable)
    found = {corpus.slug: corpus for corpus in readable.filter(slug__in=slugs)}
    for slug in slugs:
        if slug not in found:
            raise NotReadable("corpus", slug)
    return [found[slug] for slug in dict.fromkeys(slugs)]


def check_documents_readable(corpora: Sequence[Corpus], external_ids: Sequence[str]) -> None:
    """Raises NotReadable for an external id naming no active document of `corpora`."""
    if not external_ids:
        return
    known = set(
        Document.objects.filter(
            corpus__in=corpora, status=DocumentStatus.ACTIVE, external_id__in=external_ids
        ).values_list("external_id", flat=True)
    )
    for external_id in external_ids:
        if external_id not in known:
            raise NotReadable("document", external_id)
