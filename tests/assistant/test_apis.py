from __future__ import annotations

import json

import pytest
from django.test import Client

from apps.accounts.services import corpus_access_revoke
from apps.assistant.generators.base import GeneratorError
from apps.assistant.models import Answer
from tests.assistant.conftest import CANARY

URL = "/api/v1/answers"
QUESTION = "Which beneficial owners must a relevant person identify?"


def ask(client: Client, **body):
    return client.post(URL, {"question": QUESTION, **body}, content_type="application/json")


def events(response) -> list[tuple[str, dict]]:
    text = b"".join(response.streaming_content).decode()
    parsed = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        parsed.append((lines["event"], json.loads(lines["data"])))
    return parsed


def test_an_answer_carries_statements_citations_and_verdicts(corpora, alice, login, generator):
    response = ask(login(alice))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "answered" and body["abstain"] is None
    [statement] = body["statements"]
    [citation] = statement["citations"]
    assert citation["verdict"]["supported"] is True
    assert citation["verdict"]["explanation"] == "the cited passage supports the statement"
    assert citation["label"] and citation["document"]["version"] == 1
    assert citation["excerpt"].startswith("A Relevant Person must identify every beneficial")
    assert citation["char_end"] > citation["char_start"]
    assert [s["number"] for s in body["sources"]] == list(range(1, len(body["sources"]) + 1))
    assert Answer.objects.get(pk=body["id"]).asker == alice


def test_an_abstention_explains_itself_and_offers_the_passages(corpora, alice, login, generator):
    generator(
        lambda prompt: ['{"statements": [{"text": "Owners of 10% count.", "citations": [1]}]}']
    )
    body = ask(login(alice)).json()
    assert body["status"] == "abstained" and body["statements"] == []
    assert body["abstain"]["reason"].startswith("no passage in the corpora you can read supports")
    assert body["dropped"][0]["citations"] == [1]
    assert "text" not in body["dropped"][0]
    assert body["sources"] and body["sources"][0]["excerpt"]


def test_the_stream_sends_sources_then_checked_statements_then_the_answer(
    corpora, alice, login, generator
):
    response = ask(login(alice), stream=True)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    received = events(response)
    assert [name for name, _ in received] == ["stage", "sources", "stage", "statement", "done"]
    assert received[3][1]["citations"][0]["verdict"]["supported"]
    done = received[-1][1]
    assert done["status"] == "answered" and done["statements"] == [received[3][1]]


def test_a_failing_generator_is_a_503_with_its_message(corpora, alice, login, generator):
    generator(lambda prompt: [GeneratorError("TGI at http://127.0.0.1:9 refused the connection")])
    response = ask(login(alice))
    assert response.status_code == 503
    assert "refused the connection" in response.json()["abstain"]["reason"]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"question": ""}, 400, "the question is empty"),
        ({"question": "x" * 10_000}, 400, "10000 characters"),
        ({"corpora": ["b"]}, 404, "unknown corpus 'b'"),
        ({"corpora": ["no-such"]}, 404, "unknown corpus 'no-such'"),
        ({"adapter": "forged"}, 400, "unknown adapter 'forged'"),
        ({"filters": {"documents": ["nope.md"]}}, 404, "unknown document 'nope.md'"),
        ({"filters": {"court": "x"}}, 400, "unknown key 'court'"),
        ({"stream": "sometimes"}, 400, "valid boolean"),
        ({"corpus": ["a"]}, 400, "unknown key 'corpus'"),
    ],
)
def test_bad_input_gets_a_clear_4xx(corpora, alice, login, generator, body, status, message):
    response = ask(login(alice), **body)
    assert response.status_code == status
    assert message in response.content.decode()
    assert not Answer.objects.exists()


def test_anonymous_askers_are_refused(corpora, generator):
    assert ask(Client()).status_code == 403


def test_a_revoked_grant_applies_to_the_next_question(corpora, alice, corpus_a, login, generator):
    client = login(alice)
    assert ask(client).status_code == 201
    corpus_access_revoke(corpus=corpus_a, user=alice)
    assert ask(client, corpora=["a"]).status_code == 404
    response = ask(client)
    assert response.status_code == 400
    assert "you may not read any corpus yet" in response.json()["detail"]


def test_the_canary_never_reaches_alice(corpora, alice, login, generator):
    generator(lambda prompt: [f'{{"statements": [{{"text": "{CANARY}", "citations": [1, 2]}}]}}'])
    response = ask(login(alice), question=f"{CANARY} protocol myocardial infarction dose")
    assert CANARY not in json.dumps(response.json()["sources"])
    assert response.json()["statements"] == []


def test_an_answer_is_visible_to_its_asker_auditors_and_admins_only(
    corpora, alice, bob, carol, admin_user, login, generator
):
    answer_id = ask(login(alice)).json()["id"]
    url = f"{URL}/{answer_id}"
    for user in (alice, carol, admin_user):
        response = login(user).get(url)
        assert response.status_code == 200, user
        assert response.json()["id"] == answer_id
    response = login(bob).get(url)
    assert response.status_code == 404
    assert login(alice).get(f"{URL}/999999").status_code == 404


def test_old_answers_keep_their_passages_only_while_the_grant_holds(
    corpora, alice, corpus_a, login, generator
):
    client = login(alice)
    answer_id = ask(client).json()["id"]
    before = client.get(f"{URL}/{answer_id}").json()
    assert "beneficial owner" in before["statements"][0]["text"]

    corpus_access_revoke(corpus=corpus_a, user=alice)
    after = client.get(f"{URL}/{answer_id}").json()

    [statement] = after["statements"]
    assert statement["text"] == "[text withheld: your access to the corpus a has been revoked]"
    assert statement["citations"][0]["label"] == before["statements"][0]["citations"][0]["label"]
    assert statement["citations"][0]["excerpt"] == ""
    assert all(source["excerpt"] == "" for source in after["sources"])
    assert "holding 25%" not in json.dumps(after) and "holding 25%" in json.dumps(before)


def test_an_auditor_reads_only_the_passages_an_answer_cites_and_each_reading_is_recorded(
    corpora, alice, carol, login, generator
):
    from apps.audit.models import Event

    answer = Answer.objects.get(pk=ask(login(alice)).json()["id"])
    [cited] = answer.statements[0]["citations"]

    body = login(carol).get(f"{URL}/{answer.pk}").json()

    assert "beneficial owner" in body["statements"][0]["text"]
    shown = {source["number"] for source in body["sources"] if source["excerpt"]}
    assert shown == {cited} and len(body["sources"]) > 1
    viewed = Event.objects.get(action="answer.viewed", actor="carol")
    assert viewed.object_id == str(answer.pk)
    assert viewed.payload["chunks"] == [answer.hits[cited - 1]["chunk_id"]]
    assert cited not in viewed.payload["withheld"]


def test_every_answer_asked_leaves_its_event(corpora, alice, login, generator):
    from apps.audit.models import Event

    answer_id = ask(login(alice)).json()["id"]
    [event] = Event.objects.filter(action="answer.recorded")
    assert (event.actor, event.object_id) == ("alice", str(answer_id))
    assert event.payload["content_hash"] == Answer.objects.get(pk=answer_id).content_hash
