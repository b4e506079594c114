from __future__ import annotations

import base64

import pytest
from django.test import Client

from apps.accounts.services import corpus_access_revoke
from apps.corpora.models import Document
from apps.retrieval.rewrite import expand_abbreviations
from tests.retrieval.conftest import CANARY

URL = "/api/v1/search"
CANARY_QUERY = f"{CANARY} protocol records myocardial infarction aspirin dose"


def search(client: Client, **body):
    return client.post(URL, body, content_type="application/json")


def texts(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [hit["text"] for hit in response.json()["hits"]]


def test_a_hit_carries_its_document_offsets_and_every_score(corpora, alice, login):
    response = search(login(alice), query="how long must due diligence records be kept", k=3)

    assert response.status_code == 200
    body = response.json()
    assert body["query"] == "how long must due diligence records be kept" and body["k"] == 3
    top = body["hits"][0]
    assert "six years" in top["text"] and top["corpus"] == "a"
    document = Document.objects.get(pk=top["document"]["id"])
    assert top["document"] == {
        "id": document.pk,
        "external_id": "aml.md",
        "version": 1,
        "citation_label": document.citation_label,
        "title": "Anti-Money Laundering Rules",
    }
    assert document.text[top["char_start"] : top["char_end"]] == top["text"]
    assert top["heading_path"] and len(top["content_hash"]) == 64
    assert {"page_start", "page_end", "chunk_id"} <= set(top)
    scores = top["scores"]
    assert set(scores) == {"vector", "bm25", "fused", "rerank"}
    assert scores["fused"]["rank"] == 1 and scores["rerank"] is None
    assert scores["vector"]["score"] > 0 and scores["bm25"]["rank"] >= 1
    assert [h["scores"]["fused"]["rank"] for h in body["hits"]] == [1, 2, 3]


def test_a_leg_left_out_has_a_null_score(corpora, alice, login):
    hits = search(login(alice), query="beneficial owner", legs=["bm25"]).json()["hits"]

    assert hits and all(h["scores"]["vector"] is None for h in hits)
    assert all(h["scores"]["bm25"]["score"] > 0 for h in hits)


def test_weights_steer_weighted_fusion(corpora, alice, login):
    hits = search(
        login(alice),
        query="beneficial owner",
        fusion="weighted",
        weights={"vector": 0, "bm25": 1},
    ).json()["hits"]

    keyword_hits = [h for h in hits if h["scores"]["bm25"] is not None]
    vector_only = [h for h in hits if h["scores"]["bm25"] is None]
    assert keyword_hits and vector_only
    assert all(h["scores"]["fused"]["score"] == 0 for h in vector_only)
    assert hits[: len(keyword_hits)] == keyword_hits


def test_metadata_filters_narrow_the_search(corpora, alice, login):
    client = login(alice)
    markdown = search(client, query="due diligence", filters={"doc_types": ["markdown"]})
    text_only = search(client, query="due diligence", filters={"doc_types": ["text"]})
    dated = search(client, query="due diligence", filters={"date_from": "2000-01-01"})
    own_document = search(client, query="due diligence", filters={"documents": ["aml.md"]})

    assert texts(markdown) and texts(own_document)
    assert texts(text_only) == [] and texts(dated) == []


@pytest.mark.parametrize("corpora_param", [None, ["a"]])
@pytest.mark.parametrize("legs", [["vector"], ["bm25"], ["vector", "bm25"]])
def test_the_canary_never_reaches_alice(corpora, alice, login, legs, corpora_param):
    body = {"query": CANARY_QUERY, "k": 200, "legs": legs}
    if corpora_param is not None:
        body["corpora"] = corpora_param

    response = search(login(alice), **body)

    assert texts(response) and all(CANARY not in text for text in texts(response))
    assert {hit["corpus"] for hit in response.json()["hits"]} == {"a"}


def test_an_expanded_abbreviation_does_not_widen_alices_search(corpora, alice, login):
    # "FMLA" expands to "Family and Medical Leave Act" for her legal corpus, pulling the query
    # towards medicine; "MI" would expand only for a medical corpus, which she cannot read.
    query = f"FMLA MI {CANARY}"
    assert "Medical Leave" in expand_abbreviations(query, frozenset({"legal"}))
    assert "myocardial" not in expand_abbreviations(query, frozenset({"legal"}))

    for legs in (["vector"], ["bm25"], ["vector", "bm25"]):
        response = search(login(alice), query=query, k=200, legs=legs)
        assert all(CANARY not in text for text in texts(response))


def test_bob_finds_the_canary_also_through_an_abbreviation(corpora, bob, login):
    client = login(bob)
    direct = search(client, query=f"{CANARY} protocol", k=1)
    # BM25 alone can only meet "myocardial infarction" through the medical expansion of "MI".
    abbreviated = search(client, query="MI", k=1, legs=["bm25"], corpora=["b"])

    assert CANARY in texts(direct)[0]
    assert CANARY in texts(abbreviated)[0]


def test_carol_without_grants_gets_an_empty_list(corpora, carol, login):
    response = search(login(carol), query=CANARY_QUERY)
    assert response.status_code == 200 and response.json()["hits"] == []


@pytest.mark.parametrize(
    ("user", "slugs", "message"),
    [
        ("alice", ["b"], "unknown corpus 'b'"),
        ("alice", ["no-such-corpus"], "unknown corpus 'no-such-corpus'"),
        ("alice", ["a", "b"], "unknown corpus 'b'"),
        ("bob", ["a"], "unknown corpus 'a'"),
        ("carol", ["a"], "unknown corpus 'a'"),
    ],
)
def test_a_forged_or_unreadable_corpus_is_an_indistinguishable_404(
    alice, bob, carol, login, user, slugs, message
):
    users = {"alice": alice, "bob": bob, "carol": carol}
    response = search(login(users[user]), query=CANARY_QUERY, corpora=slugs)

    assert response.status_code == 404
    assert response.json() == {"detail": message}


@pytest.mark.parametrize(
    ("user", "body", "message"),
    [
        ("alice", {"filters": {"documents": ["clinical.md"]}}, "unknown document 'clinical.md'"),
        ("alice", {"filters": {"documents": ["forged.md"]}}, "unknown document 'forged.md'"),
        ("bob", {"corpora": ["b"], "filters": {"documents": ["aml.md"]}}, "unknown document"),
        ("carol", {"filters": {"documents": ["aml.md"]}}, "unknown document 'aml.md'"),
    ],
)
def test_a_document_filter_outside_the_readable_corpora_is_a_404(
    corpora, alice, bob, carol, login, user, body, message
):
    users = {"alice": alice, "bob": bob, "carol": carol}
    response = search(login(users[user]), query=CANARY_QUERY, **body)

    assert response.status_code == 404
    assert message in response.json()["detail"]


def test_bob_may_filter_by_his_own_document(corpora, bob, login):
    response = search(login(bob), query=CANARY_QUERY, filters={"documents": ["clinical.md"]})
    assert {hit["document"]["external_id"] for hit in response.json()["hits"]} == {"clinical.md"}


def test_a_revoked_grant_takes_effect_on_the_next_request(corpora, alice, login):
    client = login(alice)
    assert texts(search(client, query="due diligence", corpora=["a"]))

    corpus_access_revoke(corpus=corpora[0], user=alice)

    explicit = search(client, query="due diligence", corpora=["a"])
    implicit = search(client, query="due diligence")
    assert explicit.status_code == 404 and explicit.json() == {"detail": "unknown corpus 'a'"}
    assert texts(implicit) == []


def test_anonymous_requests_are_refused(corpora):
    response = search(Client(), query=CANARY_QUERY)
    assert response.status_code in (401, 403)


def test_basic_authentication_over_http(corpora, alice):
    credentials = base64.b64encode(b"alice:alice-pw").decode()
    client = Client(HTTP_AUTHORIZATION=f"Basic {credentials}")
    wrong = Client(HTTP_AUTHORIZATION=f"Basic {base64.b64encode(b'alice:nope').decode()}")

    assert texts(search(client, query="due diligence"))
    assert search(wrong, query="due diligence").status_code in (401, 403)


def test_only_post_is_allowed(alice, login):
    assert login(alice).get(URL).status_code == 405


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({}, "query", "This field is required."),
        ({"query": ""}, "query", "may not be blank"),
        ({"query": "   "}, "query", "may not be blank"),
        ({"query": ["due", "diligence"]}, "query", "Not a valid string."),
        ({"query": "x" * 10_000}, "detail", "the query is 10000 characters long; the limit"),
        ({"query": "ok", "k": 0}, "k", "greater than or equal to 1"),
        ({"query": "ok", "k": -5}, "k", "greater than or equal to 1"),
        ({"query": "ok", "k": 201}, "k", "less than or equal to 200"),
        ({"query": "ok", "k": "ten"}, "k", "A valid integer is required."),
        ({"query": "ok", "k": 2.5}, "k", "A valid integer is required."),
        ({"query": "ok", "corpora": "a"}, "corpora", "Expected a list"),
        ({"query": "ok", "corpora": []}, "corpora", "may not be empty"),
        ({"query": "ok", "corpora": [{"slug": "a"}]}, "corpora", "Not a valid string."),
        ({"query": "ok", "corpora": ["a\x00"]}, "corpora", "Null characters are not allowed."),
        ({"query": "ok", "filters": {"documents": ["\x00"]}}, "filters", "Null characters"),
        ({"query": "ok", "filters": ["aml.md"]}, "filters", "Expected a dictionary"),
        ({"query": "ok", "filters": {"colour": "red"}}, "filters", "unknown key 'colour'"),
        ({"query": "ok", "filters": {"corpus": "b"}}, "filters", "unknown key 'corpus'"),
        ({"query": "ok", "filters": {"documents": "aml.md"}}, "filters", "Expected a list"),
        ({"query": "ok", "filters": {"doc_types": [1, []]}}, "filters", "Not a valid string."),
        ({"query": "ok", "filters": {"date_from": "2020-13-01"}}, "filters", "wrong format"),
        ({"query": "ok", "filters": {"date_to": "last week"}}, "filters", "wrong format"),
        (
            {"query": "ok", "filters": {"date_from": "2021-01-01", "date_to": "2020-01-01"}},
            "filters",
            "date_from 2021-01-01 is after date_to 2020-01-01",
        ),
        ({"query": "ok", "legs": ["keyword"]}, "legs", "not a valid choice"),
        ({"query": "ok", "legs": "vector"}, "legs", "Expected a list"),
        ({"query": "ok", "legs": []}, "legs", "may not be empty"),
        ({"query": "ok", "fusion": "max"}, "fusion", "not a valid choice"),
        ({"query": "ok", "weights": {"vector": -1}}, "weights", "greater than or equal to 0"),
        ({"query": "ok", "weights": {"sparse": 1}}, "weights", "unknown key 'sparse'"),
        ({"query": "ok", "weights": 2}, "weights", "Expected a dictionary"),
        ({"query": "ok", "top_k": 5}, "top_k", "unknown key 'top_k'"),
    ],
)
def test_bad_input_gets_a_400_with_a_clear_message(alice, login, body, field, message):
    response = login(alice).post(URL, body, content_type="application/json")

    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors and message in str(errors[field])


def test_a_body_that_is_not_json_gets_a_400(alice, login):
    response = login(alice).post(URL, "{not json", content_type="application/json")
    assert response.status_code == 400 and "JSON parse error" in response.json()["detail"]


def test_a_search_is_recorded_by_the_hash_of_its_query(corpora, alice, login):
    import hashlib

    from apps.audit.models import Event

    response = search(login(alice), query="due diligence")
    [event] = Event.objects.filter(action="search.run")
    assert event.actor == "alice" and event.payload["corpora"] == ["a"]
    assert event.payload["query_sha256"] == hashlib.sha256(b"due diligence").hexdigest()
    assert event.payload["chunks"] == [hit["chunk_id"] for hit in response.json()["hits"]]
    assert "due diligence" not in str(event.payload)
