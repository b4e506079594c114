from __future__ import annotations

from django.dispatch import Signal

# Sent with `corpus` after an ingestion job changed the corpus's current documents, so that
# derived indexes (kept by apps that build on corpora) can be rebuilt.
corpus_changed = Signal()
