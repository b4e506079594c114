"""What the readable corpora's words are, read from their BM25 indexes."""

from __future__ import annotations

from apps.retrieval.bm25 import Bm25Index
from apps.retrieval.vocabulary import Vocabulary, corpus_vocabulary

TEXTS = [
    "Records of customer due diligence must be kept.",
    "Customer records are kept in electronic form.",
    "Enhanced due diligence applies to every politically exposed person.",
]


def test_term_counts_are_chunk_counts_summed_over_the_corpora():
    first = Bm25Index.build([1, 2], TEXTS[:2])
    second = Bm25Index.build([3], TEXTS[2:])
    vocabulary = Vocabulary((first, second))
    assert vocabulary.chunks == 3
    assert vocabulary.count("record") == 2  # analysed terms: "Records" and "records"
    assert vocabulary.count("dilig") == 2
    assert vocabulary.count("due dilig") == 2  # a pair of neighbouring terms
    assert vocabulary.count("metformin") == 0


def test_a_prefix_is_known_when_some_term_starts_with_it():
    vocabulary = Vocabulary((Bm25Index.build([1], TEXTS[:1]),))
    assert vocabulary.knows_prefix("dilig")
    assert vocabulary.knows_prefix("custo")
    assert not vocabulary.knows_prefix("metfor")


def test_the_readable_corpora_vocabulary_comes_from_their_current_indexes(corpora):
    corpus_a, corpus_b = corpora
    assert corpus_vocabulary([corpus_a.pk]).count("dilig") > 0
    assert corpus_vocabulary([corpus_b.pk]).count("dilig") == 0
    assert corpus_vocabulary([]).chunks == 0
