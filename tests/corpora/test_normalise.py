from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.corpora.normalise import find_running_headers, normalise_for_index
from tests.shared_data import shared_documents

MARKS = "\u00ad\u200b\u200c\u200d\u200e\u200f\ufeff\u2060"


def scotus_document_with_pages() -> dict:
    return max(shared_documents("scotus"), key=lambda document: document["text"].count("\f"))


def test_soft_hyphen_at_a_line_break_joins_the_word():
    assert normalise_for_index("the rule was violat\xad\n   ing it").text == (
        "the rule was violating it"
    )


def test_a_soft_hyphen_inside_a_line_disappears():
    assert normalise_for_index("juris\xaddiction").text == "jurisdiction"


def test_a_hard_hyphen_at_a_line_break_before_lowercase_joins_the_word():
    assert normalise_for_index("the judg-\n  ment below").text == "the judgment below"
    assert normalise_for_index("Wash-\nington").text == "Washington"


def test_a_hard_hyphen_at_a_line_break_before_a_capital_or_digit_is_kept():
    assert normalise_for_index("the Anti-\nMoney Laundering rules").text == (
        "the Anti-Money Laundering rules"
    )
    assert normalise_for_index("pages 12-  \n   15").text == "pages 12-15"
    assert normalise_for_index("a well-known rule").text == "a well-known rule"


def test_zero_width_and_bidi_marks_are_removed():
    text = "Rule \u200e3.3.41\u200b(2)\ufeff applies\u2060 to \u200fall"
    assert normalise_for_index(text).text == "Rule 3.3.41(2) applies to all"


def test_every_run_of_whitespace_becomes_one_space_and_the_ends_are_stripped():
    assert normalise_for_index("  one\t\ttwo\n\n\fthree \u3000 four\n").text == (
        "one two three four"
    )


def test_page_number_lines_beside_a_form_feed_are_dropped():
    text = "end of the first page\n\n   2\n\f   3\nstart of the next page"
    assert normalise_for_index(text).text == "end of the first page start of the next page"


def test_running_headers_are_found_on_a_real_supreme_court_opinion():
    text = scotus_document_with_pages()["text"]
    cite_line = re.search(r"\f *(Cite as: [^\n]*)", text).group(1)
    cite_header = re.sub(r"\s+\d+$", "", cite_line.strip())

    headers = find_running_headers(text)

    assert cite_header in headers
    assert "Opinion of the Court" in headers
    assert all(len(header) <= 80 for header in headers)


def test_running_headers_are_left_out_of_the_index_text():
    text = scotus_document_with_pages()["text"]
    headers = find_running_headers(text)

    normalised = normalise_for_index(text, headers).text

    assert "Cite as:" not in normalised
    assert "Opinion of the Court Opinion of the Court" not in normalised


def test_text_without_form_feeds_has_no_running_headers():
    repeated = "\n\n".join(["Overview", "Some text about the topic."] * 10)
    assert find_running_headers(repeated) == frozenset()


def test_source_span_covers_the_original_characters_of_a_phrase():
    source = "The  Court\u200e held that the statute was violat\xad\n  ing the  Constitution."
    normalised = normalise_for_index(source)
    phrase = "statute was violating the Constitution"
    start = normalised.text.index(phrase)

    span_start, span_end = normalised.source_span(start, start + len(phrase))

    original = source[span_start:span_end]
    assert original.startswith("statute") and original.endswith("Constitution")
    assert re.sub(rf"[\s{MARKS}]", "", original) == phrase.replace(" ", "")


def test_source_span_maps_back_into_a_real_opinion():
    text = scotus_document_with_pages()["text"]
    normalised = normalise_for_index(text, find_running_headers(text))
    for start in range(0, len(normalised.text) - 40, len(normalised.text) // 50):
        span_start, span_end = normalised.source_span(start, start + 40)
        original = text[span_start:span_end]
        assert normalised.text[start] == original[0] or original[0].isspace()
        assert normalised.text[start + 39] == original[-1] or original[-1].isspace()


def test_source_span_rejects_a_range_outside_the_text():
    with pytest.raises(ValueError, match="outside"):
        normalise_for_index("short").source_span(2, 9)


def test_five_megabytes_normalise_quickly():
    text = "\n".join(document["text"] for document in shared_documents("scotus"))
    text = (text * (5_000_000 // len(text) + 1))[:5_000_000]
    started = time.perf_counter()
    normalise_for_index(text, find_running_headers(text))
    assert time.perf_counter() - started < 5


pieces = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["\n", "\n\n", "\f", "\xad\n", "-\n", "-\nx", "\u200e", "\t", " 12 \n"]),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(pieces, max_size=25))
def test_every_normalised_character_maps_back_to_its_source(parts):
    source = "".join(parts)
    normalised = normalise_for_index(source, find_running_headers(source))

    assert len(normalised.origin) == len(normalised.text)
    assert all(a < b for a, b in zip(normalised.origin, normalised.origin[1:], strict=False))
    for char, origin in zip(normalised.text, normalised.origin, strict=True):
        collapsed_space = char == " " and source[origin].isspace()
        assert char == source[origin] or collapsed_space
    assert "  " not in normalised.text
    assert normalised.text == normalised.text.strip(" ")
