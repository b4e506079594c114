from __future__ import annotations

import json

import jsonschema
import pytest

from apps.assistant.answer_format import (
    ANSWER_SCHEMA,
    MAX_STATEMENTS,
    parse_draft,
    statements_in_prefix,
)

VALID = {
    "statements": [
        {"text": "Records are kept for six years.", "citations": [2], "quote": "six years"},
        {"text": "PEPs get enhanced due diligence.", "citations": [1, 3]},
    ]
}


def test_the_schema_accepts_what_the_parser_reads():
    jsonschema.validate(VALID, ANSWER_SCHEMA)
    draft = parse_draft(json.dumps(VALID))
    assert draft.malformed is None and draft.abstain_reason is None
    assert [s.citations for s in draft.statements] == [(2,), (1, 3)]
    assert draft.statements[0].quote == "six years"


@pytest.mark.parametrize(
    ("citations", "numbers", "invalid"),
    [
        ([1, "2", "[3]"], (1, 2, 3), ()),
        ([1, 1, 2], (1, 2), ()),
        ([True, 2.5, "see above", None], (), ("True", "2.5", "'see above'", "None")),
        ("1", (), ()),
    ],
)
def test_citations_are_read_strictly(citations, numbers, invalid):
    [statement] = parse_draft(
        json.dumps({"statements": [{"text": "x", "citations": citations}]})
    ).statements
    assert statement.citations == numbers and statement.invalid_citations == invalid


@pytest.mark.parametrize(
    "raw",
    ["", "not json", "[1, 2]", '{"statements": "none"}', "null", '{"abstain": 3}'],
)
def test_malformed_output_yields_no_statements_and_says_why(raw):
    draft = parse_draft(raw)
    assert draft.statements == () and draft.malformed


def test_statements_without_text_are_skipped():
    raw = json.dumps({"statements": [{"citations": [1]}, {"text": "  ", "citations": [1]}, 7]})
    assert parse_draft(raw).statements == ()


def test_an_abstention_keeps_its_reason():
    draft = parse_draft('{"statements": [], "abstain": {"reason": "not covered"}}')
    assert draft.abstain_reason == "not covered" and draft.statements == ()


def test_a_truncated_output_keeps_only_complete_statements():
    raw = json.dumps(VALID)
    cut = raw.index('{"text": "PEPs') + 20
    draft = parse_draft(raw[:cut])
    assert draft.malformed and [s.text for s in draft.statements] == [
        "Records are kept for six years."
    ]


def test_every_prefix_of_a_stream_yields_a_prefix_of_the_statements():
    raw = json.dumps(VALID)
    final = parse_draft(raw).statements
    for end in range(len(raw) + 1):
        found = statements_in_prefix(raw[:end])
        assert tuple(found) == final[: len(found)]


def test_an_output_cannot_flood_the_page():
    many = {"statements": [{"text": f"s{i}", "citations": [1]} for i in range(500)]}
    assert len(parse_draft(json.dumps(many)).statements) == MAX_STATEMENTS
    assert len(statements_in_prefix(json.dumps(many))) == MAX_STATEMENTS
