from __future__ import annotations

import math

import pytest
import rank_bm25

from apps.corpora.models import Chunk, Document
from apps.retrieval import legs, services
from apps.retrieval.bm25 import Bm25Index
from apps.retrieval.filters import Filters
from apps.retrieval.models import Bm25Index as Bm25IndexRow
from apps.retrieval.models import Bm25IndexStatus
from apps.retrieval.tokenize import index_terms

K1, B = 1.2, 0.75

TEXTS = [
    "A bank must verify the identity of every customer before opening an account.",
    "Customer due diligence applies to every new business relationship.",
    "Enhanced due diligence applies to politically exposed persons and their families.",
    "Records of customer due diligence must be kept for six years.",
    "Suspicious transactions must be reported to the financial intelligence unit.",
    "The board approves the anti-money laundering policy every year.",
    "A money laundering reporting officer is appointed by the board.",
    "Aspirin is given to patients with a myocardial infarction.",
    "Blood pressure above 140/90 mmHg on repeated measurement indicates hypertension.",
    "Hypertension is treated with lifestyle changes and, where needed, medication.",
    "Patients with diabetes have their HbA1c measured every three months.",
    "Rule 4.15.16 requires a firm to keep client money in a segregated account.",
    "Client money must be held in a client account with an eligible bank.",
    "A contract is void where either party lacked capacity at signing.",
    "The tenant must pay the rent monthly, in advance, to the landlord.",
    "The landlord must keep the premises in good repair throughout the tenancy.",
    "Confidential information may not be disclosed without prior written consent.",
    "Either party may terminate the agreement on thirty days written notice.",
    "Money, money and more money: the bank's customer deposits money daily.",
    "Under § 1983 a person may sue for deprivation of constitutional rights.",
]
QUERIES = [
    "customer due diligence",
    "money laundering bank",
    "client money account",
    "hypertension blood pressure patients",
    "landlord tenant rent repair",
    "Rule 4.15.16",
    "written notice consent",
    "§ 1983 rights",
]


class LuceneBm25Oracle(rank_bm25.BM25Okapi):
    """rank-bm25's Okapi scoring with Lucene's idf, which is never negative, in place of the
    ATIRE idf with its epsilon floor."""

    def _calc_idf(self, nd: dict[str, int]) -> None:
        for word, document_frequency in nd.items():
            self.idf[word] = math.log(
                1 + (self.corpus_size - document_frequency + 0.5) / (document_frequency + 0.5)
            )

    def lucene_scores(self, terms: list[str]) -> list[float]:
        # Okapi multiplies each term's weight by (k1 + 1); Lucene (since 8) drops that
        # constant factor, which changes no ranking.
        return [float(score) / (self.k1 + 1) for score in self.get_scores(terms)]


@pytest.fixture(scope="module")
def chunk_ids() -> list[int]:
    return [1000 + 7 * i for i in range(len(TEXTS))]


@pytest.fixture(scope="module")
def index(chunk_ids) -> Bm25Index:
    return Bm25Index.build(chunk_ids, TEXTS)


@pytest.mark.parametrize("query", QUERIES)
def test_scores_agree_with_an_independent_rank_bm25_computation(index, chunk_ids, query):
    oracle = LuceneBm25Oracle([index_terms(text) for text in TEXTS], k1=K1, b=B)
    expected = dict(zip(chunk_ids, oracle.lucene_scores(index_terms(query)), strict=True))

    found = dict(index.search(index_terms(query), k=len(TEXTS)))

    assert found, "the query should match some texts"
    assert set(found) == {chunk_id for chunk_id, score in expected.items() if score > 0}
    for chunk_id, score in found.items():
        assert score == pytest.approx(expected[chunk_id], abs=1e-5)


def test_hits_come_best_first_and_stop_at_k(index):
    hits = index.search(index_terms("money"), k=2)

    assert len(hits) == 2 and hits[0][1] >= hits[1][1]
    assert hits[0][0] == 1000 + 7 * 18, "the text repeating 'money' should rank first"


def test_a_query_with_no_known_term_finds_nothing(index):
    assert index.search(index_terms("zebracanary"), k=5) == []
    assert index.search([], k=5) == []


def test_the_packed_index_round_trips(index, chunk_ids):
    restored = Bm25Index.from_bytes(index.to_bytes())

    assert list(restored.chunk_ids) == chunk_ids
    for query in QUERIES:
        assert restored.search(index_terms(query), k=10) == index.search(index_terms(query), k=10)


def test_only_allowed_chunks_are_returned(index, chunk_ids):
    terms = index_terms("customer due diligence")
    unfiltered = [chunk_id for chunk_id, _ in index.search(terms, k=20)]
    allowed = {unfiltered[-1], chunk_ids[13], 999_999}

    hits = index.search(terms, k=20, allowed_chunk_ids=allowed)

    assert [chunk_id for chunk_id, _ in hits] == [unfiltered[-1]]
    assert dict(hits)[unfiltered[-1]] == dict(index.search(terms, k=20))[unfiltered[-1]]
    assert index.search(terms, k=20, allowed_chunk_ids=set()) == []


def current_chunk_ids(corpus) -> set[int]:
    (index,) = legs.current_indexes([corpus.pk]).values()
    return {int(chunk_id) for chunk_id in index.chunk_ids}


def add_chunk(corpus) -> Chunk:
    # Written directly, so that no ingestion signal queues a rebuild behind the test's back.
    document = Document.objects.create(
        corpus=corpus, external_id="late.md", title="Late", citation_label="Late", text="x" * 40
    )
    return Chunk.objects.create(
        document=document,
        corpus=corpus,
        ordinal=0,
        char_start=0,
        char_end=40,
        text="Late guidance on customer due diligence.",
        index_text="Late guidance on customer due diligence.",
        token_count=8,
        content_hash="late",
    )


def test_readers_keep_the_ready_generation_while_the_next_one_builds(corpora, monkeypatch):
    corpus = corpora[0]
    first = current_chunk_ids(corpus)
    late = add_chunk(corpus)
    seen_while_building = {}
    build = Bm25Index.build

    def observed_build(ids, texts):
        seen_while_building["status"] = Bm25IndexRow.objects.get(corpus=corpus, generation=2).status
        seen_while_building["chunks"] = current_chunk_ids(corpus)
        return build(ids, texts)

    monkeypatch.setattr(services.Bm25Index, "build", observed_build)
    row = services.bm25_index_build(corpus=corpus)

    assert seen_while_building == {"status": Bm25IndexStatus.BUILDING, "chunks": first}
    assert row.generation == 2 and row.status == Bm25IndexStatus.READY
    assert current_chunk_ids(corpus) == first | {late.pk}
    (ranking,) = legs.Bm25Leg.load([corpus.pk], Filters()).rank(["late guidance"], 5)
    assert ranking[0][0] == late.pk


def test_only_the_two_newest_ready_generations_are_kept(corpora):
    corpus = corpora[0]
    for _ in range(3):
        services.bm25_index_build(corpus=corpus)

    kept = Bm25IndexRow.objects.filter(corpus=corpus).values_list("generation", "status")
    assert sorted(kept) == [(3, "ready"), (4, "ready")]
    assert Bm25IndexRow.objects.filter(corpus=corpora[1]).count() == 1


def test_an_index_is_stored_in_parts_and_read_back_whole(corpora, monkeypatch):
    corpus = corpora[0]
    monkeypatch.setattr(services, "PART_BYTES", 1000)

    row = services.bm25_index_build(corpus=corpus)

    parts = [bytes(p) for p in row.parts.order_by("ordinal").values_list("payload", flat=True)]
    assert len(parts) == -(-row.size_bytes // 1000) > 1
    assert all(len(part) == 1000 for part in parts[:-1])
    rows = Chunk.objects.filter(corpus=corpus).order_by("id").values_list("id", "index_text")
    built = Bm25Index.build(*zip(*rows, strict=True))
    (loaded,) = legs.current_indexes([corpus.pk]).values()
    assert loaded.chunk_ids.tolist() == [chunk_id for chunk_id, _ in rows]
    for query in ("customer due diligence", "records kept six years"):
        terms = index_terms(query)
        assert loaded.search(terms, 5) == built.search(terms, 5) != []


def test_a_failed_build_leaves_the_previous_generation_current(corpora, monkeypatch):
    corpus = corpora[0]
    before = current_chunk_ids(corpus)
    add_chunk(corpus)

    def broken_build(ids, texts):
        raise MemoryError("cannot allocate the term matrix")

    monkeypatch.setattr(services.Bm25Index, "build", broken_build)
    with pytest.raises(MemoryError):
        services.bm25_index_build(corpus=corpus)

    failed = Bm25IndexRow.objects.get(corpus=corpus, generation=2)
    assert failed.status == Bm25IndexStatus.FAILED
    assert failed.error == "MemoryError: cannot allocate the term matrix"
    assert current_chunk_ids(corpus) == before
    ready = Bm25IndexRow.objects.get(corpus=corpus, status=Bm25IndexStatus.READY)
    assert ready.generation == 1


def test_a_phrase_outranks_its_words_scattered_apart():
    apart = "Reputational harm and market risk."
    phrase = (
        "The firm measures reputational risk every year and reports the results of each "
        "assessment to its board and to the regulator."
    )
    index = Bm25Index.build([1, 2], [apart, phrase])

    hits = index.search(index_terms("reputational risk"), k=2)

    assert [chunk_id for chunk_id, _ in hits] == [2, 1]
