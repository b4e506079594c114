from __future__ import annotations

import json
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from apps.retrieval.models import Bm25Index
from tests.retrieval.conftest import CANARY

CANARY_QUERY = f"{CANARY} protocol records myocardial infarction aspirin dose"


def run_search(query: str, **options) -> str:
    out = StringIO()
    call_command("search", query, stdout=out, **options)
    return out.getvalue()


def run_build(**options) -> str:
    out = StringIO()
    call_command("build_bm25", stdout=out, **options)
    return out.getvalue()


def test_search_prints_a_table_of_ranked_hits(corpora, alice):
    out = run_search("how long must due diligence records be kept", corpus=["a"], user="alice")

    fusion, header, first = out.splitlines()[:3]
    assert fusion == "fused by reciprocal rank fusion (vector 1, bm25 1)"
    assert header.split()[:4] == ["rank", "fused", "vector", "bm25"]
    assert re.match(
        r"\s*1\s+0\.\d{4}\s+\d+ 0\.\d{3}\s+\d+ \d+\.\d{3}\s+Anti-Money Laundering Rules", first
    ), first
    assert "Record keeping" in first
    assert "Records of customer due diligence must be kept for at least six years" in out


def test_search_json_has_the_same_hits_as_the_api(corpora, alice):
    query = "beneficial owner"
    printed = json.loads(run_search(query, user="alice", k=5, legs="vector,bm25", json=True))
    client = Client()
    client.force_login(alice)
    served = client.post(
        "/api/v1/search", {"query": query, "k": 5}, content_type="application/json"
    ).json()

    assert printed["hits"] and printed == served


def test_a_single_leg_shows_a_dash_for_the_other(corpora, alice):
    out = run_search("beneficial owner", user="alice", legs="bm25")
    first = out.splitlines()[1]
    assert re.match(r"\s*1\s+0\.\d{4}\s+-\s+1 \d+\.\d{3}", first), first


@pytest.mark.parametrize("legs", ["vector", "bm25", "vector,bm25"])
def test_the_canary_never_reaches_alice_through_the_command(corpora, alice, legs):
    out = run_search(CANARY_QUERY, user="alice", k=200, legs=legs, json=True)

    hits = json.loads(out)["hits"]
    assert hits and {hit["corpus"] for hit in hits} == {"a"}
    assert all(CANARY not in hit["text"] for hit in hits)
    assert CANARY not in run_search(CANARY_QUERY, user="alice", k=200, legs=legs)


def test_bob_gets_the_canary_through_the_command(corpora, bob):
    hits = json.loads(run_search(f"{CANARY} protocol", user="bob", corpus=["b"], json=True))
    assert CANARY in hits["hits"][0]["text"]


def test_carol_finds_nothing(corpora, carol):
    assert json.loads(run_search(CANARY_QUERY, user="carol", json=True))["hits"] == []
    assert "no hits" in run_search(CANARY_QUERY, user="carol")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"user": "alice", "corpus": ["b"]}, "user 'alice' cannot read corpus 'b'"),
        ({"user": "alice", "corpus": ["a", "b"]}, "user 'alice' cannot read corpus 'b'"),
        ({"user": "carol", "corpus": ["a"]}, "user 'carol' cannot read corpus 'a'"),
        ({"user": "alice", "corpus": ["nope"]}, r"unknown corpus 'nope' \(known: a, b\)"),
        ({"user": "mallory"}, "unknown user 'mallory'"),
        ({"user": "alice", "legs": "vector,keyword"}, "legs must be some of vector, bm25"),
        ({"user": "alice", "k": 0}, "k must be between 1 and 200"),
    ],
)
def test_the_search_command_refuses_with_a_clear_message(corpora, alice, carol, options, message):
    with pytest.raises(CommandError, match=message):
        run_search(CANARY_QUERY, **options)


def test_an_empty_query_is_refused(corpora, alice):
    with pytest.raises(CommandError, match="the query is empty"):
        run_search("  ", user="alice")


def test_build_bm25_builds_the_next_generation_now(corpora):
    corpus_a = corpora[0]

    out = run_build(corpus=["a"])

    row = Bm25Index.objects.get(corpus=corpus_a, generation=2)
    assert row.status == "ready"
    assert re.search(rf"a: generation 2, {row.chunk_count} chunks, \d+\.\d\d s", out), out
    assert not Bm25Index.objects.filter(corpus=corpora[1], generation=2).exists()


def test_build_bm25_all_builds_every_corpus(corpora):
    out = run_build(all=True)

    assert "a: generation 2" in out and "b: generation 2" in out
    assert Bm25Index.objects.filter(generation=2, status="ready").count() == 2


def test_build_bm25_refuses_an_unknown_corpus_naming_the_known_ones(corpora):
    with pytest.raises(CommandError, match=r"unknown corpus 'nope' \(known: a, b\)"):
        run_build(corpus=["nope"])
    assert not Bm25Index.objects.filter(generation=2).exists()


def test_build_bm25_needs_a_corpus_or_all(corpora):
    with pytest.raises(CommandError, match="one of the arguments --corpus --all is required"):
        run_build()
