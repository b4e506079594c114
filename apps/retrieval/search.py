"""retrieve(): rewrite → vector leg ∥ BM25 leg for every variant → fusion → re-check → rerank."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from apps.corpora.embedding import get_embedder
from apps.corpora.models import Corpus
from apps.retrieval import fusion
from apps.retrieval.filters import Filters
from apps.retrieval.legs import Ranking, bm25_leg, current_chunks, vector_leg
from apps.retrieval.rerank import rerank
from apps.retrieval.rewrite import QueryVariant, VariantProvider, rewrite

MAX_QUERY_CHARS = 2000
MAX_K = 200
LEGS = ("vector", "bm25")


class RetrievalError(ValueError):
    """Bad retrieval input, with a message fit to show the person who sent it."""


@dataclass(frozen=True)
class RetrievalOptions:
    legs: tuple[str, ...] = LEGS
    fusion: str = "rrf"
    leg_weights: dict[str, float] = field(default_factory=lambda: {"vector": 1.0, "bm25": 1.0})
    rrf_k: int = 60
    candidates_per_leg: int = 50
    rewrite_query: bool = True
    variant_providers: tuple[VariantProvider, ...] = ()
    reranker: str = ""
    rerank_top: int = 50


@dataclass(frozen=True)
class LegScore:
    score: float
    rank: int


@dataclass(frozen=True)
class Hit:
    chunk_id: int
    corpus: str
    document_id: int
    document_external_id: str
    document_version: int
    citation_label: str
    heading_path: tuple[str, ...]
    text: str
    char_start: int
    char_end: int
    page_start: int | None
    page_end: int | None
    content_hash: str
    legs: dict[str, LegScore]
    fused_score: float
    fused_rank: int
    rerank_score: float | None = None


def retrieve(
    query: str,
    corpora: Sequence[Corpus],
    filters: Filters | None = None,
    k: int = 10,
    options: RetrievalOptions | None = None,
) -> list[Hit]:
    """The best `k` current chunks for `query` among `corpora`, which must be the asker's
    readable corpora (accounts.selectors.readable_corpora), with each leg's score and rank."""
    filters, options = filters or Filters(), options or RetrievalOptions()
    check_input(query, k, options)
    corpus_ids = [c.pk for c in corpora]
    if not corpus_ids:
        return []
    variants = query_variants(query, corpora, options)
    leg_rankings = run_legs(variants, corpus_ids, filters, options)
    fused = fuse(leg_rankings, options)
    hits = hydrate(fused, leg_rankings, corpus_ids, filters, limit=max(k, options.rerank_top))
    if options.reranker:
        hits = rerank(query, hits, options.reranker, options.rerank_top)
    return hits[:k]


def check_input(query: str, k: int, options: RetrievalOptions) -> None:
    if not query or not query.strip():
        raise RetrievalError("the query is empty")
    if len(query) > MAX_QUERY_CHARS:
        raise RetrievalError(
            f"the query is {len(query)} characters long; the limit is {MAX_QUERY_CHARS}"
        )
    if not 1 <= k <= MAX_K:
        raise RetrievalError(f"k must be between 1 and {MAX_K}, got {k}")
    unknown = set(options.legs) - set(LEGS)
    if unknown or not options.legs:
        raise RetrievalError(f"legs must be some of {', '.join(LEGS)}, got {options.legs}")
    if options.fusion not in ("rrf", "weighted"):
        raise RetrievalError(f"fusion must be 'rrf' or 'weighted', got {options.fusion!r}")


def query_variants(
    query: str, corpora: Sequence[Corpus], options: RetrievalOptions
) -> list[QueryVariant]:
    if not options.rewrite_query:
        return [QueryVariant(query, "original")]
    domains = frozenset(c.domain for c in corpora)
    return rewrite(query, domains, options.variant_providers)


def run_legs(
    variants: list[QueryVariant], corpus_ids: list[int], filters: Filters, options: RetrievalOptions
) -> dict[str, list[Ranking]]:
    rankings: dict[str, list[Ranking]] = {leg: [] for leg in options.legs}
    if "vector" in options.legs:
        vectors = get_embedder().encode([v.text for v in variants])
        for vector in vectors:
            rankings["vector"].append(
                vector_leg(vector, corpus_ids, filters, options.candidates_per_leg)
            )
    if "bm25" in options.legs:
        for variant in variants:
            rankings["bm25"].append(
                bm25_leg(variant.text, corpus_ids, filters, options.candidates_per_leg)
            )
    return rankings


def fuse(
    leg_rankings: dict[str, list[Ranking]], options: RetrievalOptions
) -> list[tuple[int, float]]:
    lists = [(leg, ranking) for leg, rankings in leg_rankings.items() for ranking in rankings]
    weights = [options.leg_weights.get(leg, 1.0) for leg, _ in lists]
    if options.fusion == "weighted":
        return fusion.weighted_score_fusion([dict(r) for _, r in lists], weights)
    return fusion.reciprocal_rank_fusion(
        [[chunk_id for chunk_id, _ in r] for _, r in lists], k=options.rrf_k, weights=weights
    )


def best_leg_scores(leg_rankings: dict[str, list[Ranking]]) -> dict[int, dict[str, LegScore]]:
    # With several query variants, a chunk's leg score is its best over the variants.
    best: dict[int, dict[str, LegScore]] = {}
    for leg, rankings in leg_rankings.items():
        for ranking in rankings:
            for rank, (chunk_id, score) in enumerate(ranking, start=1):
                current = best.setdefault(chunk_id, {}).get(leg)
                if current is None or rank < current.rank:
                    best[chunk_id][leg] = LegScore(score=score, rank=rank)
    return best


def hydrate(
    fused: list[tuple[int, float]],
    leg_rankings: dict[str, list[Ranking]],
    corpus_ids: list[int],
    filters: Filters,
    limit: int,
) -> list[Hit]:
    """Hits for the fused candidates, re-checked against the database in the same query:
    the chunk still exists, its document is the current version, and the asker may read it."""
    wanted = [chunk_id for chunk_id, _ in fused]
    rows = {
        chunk.pk: chunk
        for chunk in current_chunks(corpus_ids, filters)
        .filter(pk__in=wanted)
        .select_related("document", "corpus")
        .defer("embedding", "index_text", "document__text", "document__metadata")
    }
    legs = best_leg_scores(leg_rankings)
    hits = []
    for chunk_id, score in fused:
        if chunk_id in rows and len(hits) < limit:
            hits.append(make_hit(rows[chunk_id], legs[chunk_id], score, len(hits) + 1))
    return hits


def make_hit(chunk, legs: dict[str, LegScore], score: float, rank: int) -> Hit:
    document = chunk.document
    return Hit(
        chunk_id=chunk.pk,
        corpus=chunk.corpus.slug,
        document_id=document.pk,
        document_external_id=document.external_id,
        document_version=document.version,
        citation_label=document.citation_label,
        heading_path=tuple(chunk.heading_path),
        text=chunk.text,
        char_start=chunk.char_start,
        char_end=chunk.char_end,
        page_start=chunk.page_start,
        page_end=chunk.page_end,
        content_hash=chunk.content_hash,
        legs=legs,
        fused_score=score,
        fused_rank=rank,
    )
