"""retrieve(): rewrite → vector leg ∥ BM25 leg for every variant → fusion → re-check → rerank.

retrieve_traced() is the same search, returning with its hits what it searched with
(RetrievalTrace), so that a recorded answer can be replayed.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

from apps.corpora.embedding import configured_model_name, get_embedder
from apps.corpora.models import Chunk, Corpus
from apps.retrieval import fusion
from apps.retrieval.filters import Filters
from apps.retrieval.legs import CHUNKS, Bm25Leg, Ranking, current_chunks, fetch, vector_leg
from apps.retrieval.rerank import rerank
from apps.retrieval.rewrite import QueryVariant, VariantProvider, embedding_variants, rewrite
from apps.retrieval.tokenize import ANALYSER_VERSION
from apps.retrieval.tuned_fusion import EQUAL_WEIGHTS, METHODS, FusionChoice, FusionPlan, plan_for

MAX_QUERY_CHARS = 2000
MAX_K = 200
LEGS = ("vector", "bm25")

_bm25_threads = ThreadPoolExecutor(max_workers=4, thread_name_prefix="bm25")


class RetrievalError(ValueError):
    """Bad retrieval input, with a message fit to show the person who sent it."""


@dataclass(frozen=True)
class RetrievalOptions:
    legs: tuple[str, ...] = LEGS
    # Neither given: each searched domain's tuned fusion (apps.retrieval.tuned_fusion). Weights
    # alone: reciprocal rank fusion with them, for every domain. A leg without a weight weighs 1.
    fusion: str | None = None
    leg_weights: dict[str, float] | None = None
    # A domain's fusion as a trace recorded it (RetrievalTrace.fusion.by_domain), so that a
    # replay fuses as the recorded search did whatever has been tuned since; it wins over the
    # above for the domains it names.
    fusion_by_domain: dict[str, FusionChoice] | None = None
    rrf_k: int = 60
    candidates_per_leg: int = 50
    rewrite_query: bool = True
    variant_providers: tuple[VariantProvider, ...] = ()
    reranker: str = ""
    rerank_top: int = 50

    def named_fusion(self) -> FusionChoice | None:
        """The fusion the caller named for every domain, if any."""
        if self.fusion is None and not self.leg_weights:
            return None
        return FusionChoice(self.fusion or "rrf", EQUAL_WEIGHTS | (self.leg_weights or {}))


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
    # Defaulted so that hits built by hand (prompt and generator tests) need not name it.
    document_title: str = ""


# The Hit fields read from the database, and the columns of chunks `c` and their documents `d`
# they come from.
HIT_COLUMNS = {
    "chunk_id": "c.id",
    "corpus": "(SELECT slug FROM corpora_corpus WHERE id = c.corpus_id)",
    "document_id": "c.document_id",
    "document_external_id": "d.external_id",
    "document_version": "d.version",
    "citation_label": "d.citation_label",
    "document_title": "d.title",
    "heading_path": "c.heading_path",
    "text": "c.text",
    "char_start": "c.char_start",
    "char_end": "c.char_end",
    "page_start": "c.page_start",
    "page_end": "c.page_end",
    "content_hash": "c.content_hash",
}
SELECT_HITS = f"SELECT {', '.join(HIT_COLUMNS.values())}"


@dataclass(frozen=True)
class RetrievalTrace:
    """What one search ran with: enough, with the same corpora, document versions and indexes,
    to run it again."""

    query: str
    variants: tuple[QueryVariant, ...]  # the original first; source says where each came from
    fusion: FusionPlan
    legs: tuple[str, ...]
    candidates_per_leg: int
    rrf_k: int
    embedding_model: str
    analyser_version: str
    reranker: str

    def as_dict(self) -> dict:
        """The trace as plain JSON data; "fusion" gives each searched domain's fusion
        ({domain: {"method", "leg_weights"}}), whether or not they differ."""
        return asdict(self) | {"fusion": asdict(self.fusion)["by_domain"]}


@dataclass(frozen=True)
class Retrieval:
    hits: list[Hit]
    trace: RetrievalTrace


def retrieve(
    query: str,
    corpora: Sequence[Corpus],
    filters: Filters | None = None,
    k: int = 10,
    options: RetrievalOptions | None = None,
) -> list[Hit]:
    """The best `k` current chunks for `query` among `corpora`, which must be the asker's
    readable corpora (accounts.selectors.readable_corpora), with each leg's score and rank."""
    return retrieve_traced(query, corpora, filters, k, options).hits


def retrieve_traced(
    query: str,
    corpora: Sequence[Corpus],
    filters: Filters | None = None,
    k: int = 10,
    options: RetrievalOptions | None = None,
) -> Retrieval:
    """retrieve()'s hits, and the trace of what found them."""
    filters, options = filters or Filters(), options or RetrievalOptions()
    check_input(query, k, options)
    plan = fusion_plan(options, corpora)
    if not corpora:
        return Retrieval([], make_trace(query, [], plan, options))
    variants = query_variants(query, corpora, options)
    trace = make_trace(query, variants, plan, options)
    corpus_ids = [c.pk for c in corpora]
    bm25 = bm25_leg(corpus_ids, filters, options)
    leg_rankings = run_legs(variants, corpus_ids, filters, options, bm25)
    domains = chunk_domains(leg_rankings, corpora, plan, bm25)
    fused = fuse_plan(leg_rankings, plan, domains, options)
    # Only a reranker looks past the first k: the others are not read.
    limit = max(k, options.rerank_top) if options.reranker else k
    hits = hydrate(fused, leg_rankings, corpus_ids, filters, limit)
    if options.reranker:
        hits = rerank(query, hits, options.reranker, options.rerank_top)
    return Retrieval(hits[:k], trace)


def make_trace(
    query: str, variants: list[QueryVariant], plan: FusionPlan, options: RetrievalOptions
) -> RetrievalTrace:
    return RetrievalTrace(
        query=query,
        variants=tuple(variants),
        fusion=plan,
        legs=options.legs,
        candidates_per_leg=options.candidates_per_leg,
        rrf_k=options.rrf_k,
        embedding_model=configured_model_name(),
        analyser_version=ANALYSER_VERSION,
        reranker=options.reranker,
    )


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
    if options.fusion is not None and options.fusion not in METHODS:
        raise RetrievalError(f"fusion must be 'rrf' or 'weighted', got {options.fusion!r}")


def fusion_plan(options: RetrievalOptions, corpora: Sequence[Corpus]) -> FusionPlan:
    """The fusion of each domain of `corpora`: the one the options name, else its tuned one."""
    plan = plan_for({corpus.domain for corpus in corpora}, options.named_fusion())
    recorded = options.fusion_by_domain or {}
    return FusionPlan({d: recorded.get(d, c) for d, c in plan.by_domain.items()})


def query_variants(
    query: str, corpora: Sequence[Corpus], options: RetrievalOptions
) -> list[QueryVariant]:
    if not options.rewrite_query:
        return [QueryVariant(query, "original")]
    domains = frozenset(c.domain for c in corpora)
    return rewrite(query, domains, options.variant_providers)


def bm25_leg(corpus_ids: list[int], filters: Filters, options: RetrievalOptions) -> Bm25Leg | None:
    """The BM25 leg, when the options search it."""
    return Bm25Leg.load(corpus_ids, filters) if "bm25" in options.legs else None


def run_legs(
    variants: list[QueryVariant],
    corpus_ids: list[int],
    filters: Filters,
    options: RetrievalOptions,
    bm25: Bm25Leg | None,
) -> dict[str, list[Ranking]]:
    """Every leg's ranking of the variants: BM25 (bm25_leg) ranks every variant, on a worker
    thread while this one embeds the query and waits on the vector query; database work stays
    on this thread. The vector leg searches with the variants that need a vector of their own."""
    texts, depth = [v.text for v in variants], options.candidates_per_leg
    bm25_rankings = None
    if bm25 is not None:
        bm25_rankings = _bm25_threads.submit(bm25.rank, texts, depth)
    rankings: dict[str, list[Ranking]] = {}
    if "vector" in options.legs:
        vectors = get_embedder().encode([v.text for v in embedding_variants(variants)])
        rankings["vector"] = vector_leg(vectors, corpus_ids, filters, depth)
    if bm25_rankings is not None:
        rankings["bm25"] = bm25_rankings.result()
    # Fusion adds the legs up in this order, so it follows the options.
    return {leg: rankings[leg] for leg in options.legs}


def fuse(
    leg_rankings: dict[str, list[Ranking]], choice: FusionChoice, rrf_k: int = 60
) -> list[tuple[int, float]]:
    """Every candidate of the leg rankings, fused by one fusion."""
    lists = [(leg, ranking) for leg, rankings in leg_rankings.items() for ranking in rankings]
    weights = [choice.leg_weights[leg] for leg, _ in lists]
    if choice.method == "weighted":
        return fusion.weighted_score_fusion([dict(r) for _, r in lists], weights)
    return fusion.reciprocal_rank_fusion(
        [[chunk_id for chunk_id, _ in r] for _, r in lists], k=rrf_k, weights=weights
    )


def fuse_plan(
    leg_rankings: dict[str, list[Ranking]],
    plan: FusionPlan,
    domains: dict[int, str],
    options: RetrievalOptions,
) -> list[tuple[int, float]]:
    """The candidates fused as `plan` says; `domains` (chunk id → domain) matters only to a
    mixed plan. Each domain's fusion ranks the candidates of every domain, so that its chunks
    keep their place among all the others (fusion.own_rank_merge)."""
    if (single := plan.single) is not None:
        return fuse(leg_rankings, single, options.rrf_k)
    rankings = {d: fuse(leg_rankings, c, options.rrf_k) for d, c in plan.by_domain.items()}
    return fusion.own_rank_merge(rankings, domains, k=options.rrf_k)


def chunk_domains(
    leg_rankings: dict[str, list[Ranking]],
    corpora: Sequence[Corpus],
    plan: FusionPlan,
    bm25: Bm25Leg | None,
) -> dict[int, str]:
    """The domain of each candidate when a mixed plan needs it: read from the BM25 indexes,
    which hold every chunk of their corpus, and from the database only for chunks that no index
    holds yet (written after its last build) or when BM25 is not searched."""
    if plan.single is not None:
        return {}
    candidates = {c for rankings in leg_rankings.values() for r in rankings for c, _ in r}
    corpus_of = bm25.corpora_of(candidates) if bm25 is not None else {}
    if missing := candidates - corpus_of.keys():
        corpus_of |= dict(Chunk.objects.filter(pk__in=missing).values_list("id", "corpus_id"))
    domain_of = {corpus.pk: corpus.domain for corpus in corpora}
    return {chunk_id: domain_of[corpus_id] for chunk_id, corpus_id in corpus_of.items()}


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
    """The first `limit` fused candidates that pass a re-check against the database: the chunk
    still exists, its document is the current version, and the asker may read it. Candidates
    are read as many at a time as hits are missing, so usually in one query."""
    legs = best_leg_scores(leg_rankings)
    hits: list[Hit] = []
    candidates = iter(fused)
    source, params = current_chunks(corpus_ids, filters)
    while batch := list(itertools.islice(candidates, limit - len(hits))):
        rows = fetch(
            f"{SELECT_HITS} {source} AND c.id = ANY(%s::bigint[])",
            [*params, [chunk_id for chunk_id, _ in batch]],
        )
        found = {row[0]: dict(zip(HIT_COLUMNS, row, strict=True)) for row in rows}
        for chunk_id, score in batch:
            if chunk_id in found:
                hits.append(make_hit(found[chunk_id], legs[chunk_id], score, len(hits) + 1))
    return hits


def recorded_hits(chunk_ids: Sequence[int]) -> list[Hit]:
    """The chunks with these ids, in this order, whatever the version of their documents:
    the passages an answer was given, read again to replay or audit it. Ids of chunks that no
    longer exist are left out."""
    rows = fetch(f"{SELECT_HITS} {CHUNKS} WHERE c.id = ANY(%s::bigint[])", [list(chunk_ids)])
    found = {row[0]: dict(zip(HIT_COLUMNS, row, strict=True)) for row in rows}
    return [
        make_hit(found[chunk_id], {}, 0.0, rank)
        for rank, chunk_id in enumerate((c for c in chunk_ids if c in found), start=1)
    ]


def make_hit(columns: dict, legs: dict[str, LegScore], score: float, rank: int) -> Hit:
    return Hit(
        **columns | {"heading_path": tuple(columns["heading_path"])},
        legs=legs,
        fused_score=score,
        fused_rank=rank,
    )
