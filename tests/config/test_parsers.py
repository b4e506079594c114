from __future__ import annotations

import json

import pytest

from config.parsers import nesting_depth

SEARCH = "/api/v1/search"


@pytest.mark.parametrize(
    ("body", "depth"),
    [
        (b"{}", 1),
        (b'{"query": "x", "filters": {"documents": ["a"]}}', 3),
        (b'{"query": "[[[{{{ in a string", "k": 5}', 1),
        (b'{"query": "an \\" escaped quote [[["}', 1),
        (b'"unterminated [[[', 0),
        (b"[" * 100 + b"]" * 100, 33),  # counting stops past the limit
    ],
)
def test_nesting_depth(body, depth):
    assert nesting_depth(body, 32) == depth


def test_a_100000_level_nested_body_is_a_400_with_a_message(alice, login):
    body = "[" * 100_000 + "]" * 100_000
    response = login(alice).post(SEARCH, body, content_type="application/json")
    assert response.status_code == 400
    assert "nested deeper than 32 levels" in response.json()["detail"]


def test_a_nested_object_in_a_field_is_refused_too(alice, login):
    nested: object = "x"
    for _ in range(40):
        nested = {"a": nested}
    body = json.dumps({"query": "owners", "filters": nested})
    response = login(alice).post(SEARCH, body, content_type="application/json")
    assert response.status_code == 400
    assert "nested deeper" in response.json()["detail"]
