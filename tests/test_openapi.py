"""The OpenAPI schema at /api/v1/schema/ describes what the APIs really return: real responses
are validated against it, and schemathesis sends generated requests to a live server.

The longer schemathesis run: SCHEMATHESIS_EXAMPLES=100 pytest tests/test_openapi.py -k generated
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import pytest
import requests
from django.core.cache import cache
from django.test import Client
from hypothesis import HealthCheck, assume, given, settings
from jsonschema import Draft202012Validator

from apps.accounts.models import Role
from apps.accounts.services import role_assign
from apps.assistant.apis import AnswerSerializer
from apps.assistant.generators import get_generator
from apps.assistant.generators.base import GeneratorError
from apps.assistant.presenters import answer_as_dict
from apps.assistant.services import answer_question
from apps.retrieval.apis import SearchApi
from apps.retrieval.tuned_fusion import FusionChoice, FusionPlan
from tests.assistant.conftest import generator  # noqa: F401 (a fixture)
from tests.corpora.conftest import ingest
from tests.retrieval.conftest import corpora  # noqa: F401 (a fixture)

CHROMIUM = Path("/usr/bin/chromium")
SCHEMA_URL = "/api/v1/schema/"
QUESTION = "Which beneficial owners must a relevant person identify?"
RETENTION = "How long must customer due diligence records be kept?"
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "12"))
# Requests that meet a known bug outside the APIs are left out of the generated run, each
# with a test that is expected to fail until the bug is fixed. None is known now.
KNOWN_BUGS: dict = {}


@pytest.fixture
def openapi(login, alice) -> dict:
    response = login(alice).get(SCHEMA_URL, {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def conforms(openapi: dict, path: str, method: str, response, media: str = "application/json"):
    """Validate a response's body against what the schema promises for its status."""
    operation = openapi["paths"][path][method]
    promised = operation["responses"][str(response.status_code)]["content"][media]["schema"]
    body = response.json() if hasattr(response, "json") else response
    validate(openapi, promised, body)
    return body


def validate(openapi: dict, schema: dict, instance) -> None:
    # OpenAPI 3.1 schemas are JSON Schema 2020-12; laid over the document, their
    # "#/components/..." references resolve.
    validator = Draft202012Validator(
        {**openapi, **schema}, format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(instance)
    ]
    assert not errors, errors


def component(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def test_the_schema_and_its_page_are_served_to_signed_in_users_from_local_files(login, alice):
    client = login(alice)
    page = client.get("/api/v1/schema/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "https://" not in html and "http://" not in html
    script = client.get("/api/v1/schema/docs/", {"script": ""})
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()
    assert "https://" not in script.content.decode()

    from django.contrib.staticfiles import finders

    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert Client().get(SCHEMA_URL).status_code == 403


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no browser at {CHROMIUM}")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_schema_page_shows_every_operation_and_loads_nothing_from_elsewhere(live_server, alice):
    from playwright.sync_api import expect, sync_playwright

    elsewhere: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-background-networking"]
        )
        page = browser.new_page()
        page.set_default_timeout(20_000)
        page.on(
            "request",
            lambda r: (
                None if r.url.startswith((live_server.url, "data:")) else elsewhere.append(r.url)
            ),
        )
        page.goto(f"{live_server.url}/login/?next=/api/v1/schema/docs/")
        page.get_by_label("Username").fill("alice")
        page.get_by_label("Password").fill("alice-pw")
        page.get_by_role("button", name="Log in").click()
        expect(page.locator(".opblock")).to_have_count(5)
        expect(page.locator(".opblock-summary-path").first).to_contain_text("/api/v1/")
        browser.close()
    assert elsewhere == []


def test_the_schema_is_generated_without_a_warning_and_validates(tmp_path):
    from django.core.management import call_command

    # --fail-on-warn: a name two serializers share, or a field it cannot type, fails here.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yaml"))
    assert (tmp_path / "s.yaml").read_text().startswith("openapi: 3.1")


def test_the_schema_is_valid_openapi_and_names_every_operation(openapi):
    from jsonschema.validators import validator_for

    assert openapi["openapi"].startswith("3.1")
    operations = {(path, method) for path, item in openapi["paths"].items() for method in item}
    assert operations == {
        ("/api/v1/answers", "post"),
        ("/api/v1/answers/{answer_id}", "get"),
        ("/api/v1/search", "post"),
        ("/api/v1/ingestion-jobs/", "get"),
        ("/api/v1/ingestion-jobs/{job_id}/", "get"),
    }
    for name, schema in openapi["components"]["schemas"].items():
        validator_for(schema).check_schema(schema), name
    stream = openapi["paths"]["/api/v1/answers"]["post"]["responses"]["200"]
    assert list(stream["content"]) == ["text/event-stream"]
    assert "`done` with the Answer" in stream["description"]
    statuses = openapi["components"]["schemas"]["AnswerStatusEnum"]["enum"]
    assert set(statuses) == {"answered", "conflicting", "abstained", "failed"}


def ask(client: Client, **body):
    return client.post("/api/v1/answers", body, content_type="application/json")


@pytest.mark.usefixtures("corpora")
def test_answered_and_abstained_answers_match_the_schema(
    openapi,
    alice,
    login,
    generator,  # noqa: F811
):
    client = login(alice)
    answered = conforms(openapi, "/api/v1/answers", "post", ask(client, question=QUESTION))
    assert answered["status"] == "answered" and answered["statements"]

    generator(
        lambda prompt: ['{"statements": [{"text": "Owners of 10% count.", "citations": [1]}]}']
    )
    response = ask(client, question=QUESTION)
    abstained = conforms(openapi, "/api/v1/answers", "post", response)
    assert abstained["status"] == "abstained" and abstained["dropped"]

    detail = client.get(f"/api/v1/answers/{answered['id']}")
    assert conforms(openapi, "/api/v1/answers/{answer_id}", "get", detail) == answered


@pytest.mark.usefixtures("corpora")
def test_a_failed_answer_and_errors_match_the_schema(
    openapi,
    alice,
    login,
    generator,  # noqa: F811
):
    client = login(alice)
    generator(lambda prompt: [GeneratorError("TGI at http://127.0.0.1:9 refused the connection")])
    failed = conforms(openapi, "/api/v1/answers", "post", ask(client, question=QUESTION))
    assert failed["status"] == "failed"
    assert conforms(openapi, "/api/v1/answers", "post", ask(client, question=""))
    assert conforms(openapi, "/api/v1/answers", "post", ask(client, question="x", corpora=["b"]))
    assert conforms(openapi, "/api/v1/answers", "post", ask(Client(), question="x"))
    missing = client.get("/api/v1/answers/999999")
    assert conforms(openapi, "/api/v1/answers/{answer_id}", "get", missing)["detail"]


@pytest.mark.usefixtures("corpora")
def test_a_conflicting_answer_matches_the_schema(openapi, corpus_a, alice, login, tmp_path):
    planted = tmp_path / "update.md"
    planted.write_text(
        "# Guidance update\n\nUpdated guidance: records of customer due diligence must be kept "
        "for 1 year after the business relationship ends.\n"
    )
    ingest(corpus_a, planted)
    answer = answer_question(user=alice, question=RETENTION, generator=get_generator("extractive"))
    body = login(alice).get(f"/api/v1/answers/{answer.pk}")
    conflicting = conforms(openapi, "/api/v1/answers/{answer_id}", "get", body)
    assert conflicting["status"] == "conflicting"
    assert len(conflicting["conflict"]["sides"]) >= 2


@pytest.mark.usefixtures("corpora", "generator")
def test_the_answer_serializer_keeps_every_field_the_presenter_writes(alice):
    answer = answer_question(user=alice, question=QUESTION)
    shown = answer_as_dict(answer)
    assert json.loads(json.dumps(AnswerSerializer(shown).data)) == json.loads(json.dumps(shown))


@pytest.mark.usefixtures("corpora", "generator")
def test_every_event_of_the_stream_matches_the_schema(openapi, alice, login):
    response = ask(login(alice), question=QUESTION, stream=True)
    assert response.status_code == 200
    content = openapi["paths"]["/api/v1/answers"]["post"]["responses"]["200"]["content"]
    assert list(content) == [response["Content-Type"]] == ["text/event-stream"]
    each = content["text/event-stream"]["schema"]
    blocks = b"".join(response.streaming_content).decode().strip().split("\n\n")
    events = [dict(line.split(": ", 1) for line in block.splitlines()) for block in blocks]
    for event in events:
        validate(openapi, each, event)
        # JSON Schema leaves contentSchema unchecked: the data is checked here.
        [kind] = [k for k in each["oneOf"] if k["properties"]["event"]["const"] == event["event"]]
        validate(openapi, kind["properties"]["data"]["contentSchema"], json.loads(event["data"]))
    assert [e["event"] for e in events] == ["stage", "sources", "stage", "statement", "done"]


@pytest.mark.usefixtures("corpora")
def test_an_adapter_the_extractive_backend_cannot_take_is_a_client_error(alice, login):
    response = ask(login(alice), question=QUESTION, adapter="forged")
    assert response.status_code == 400, response.content


@pytest.mark.usefixtures("corpora")
def test_search_hits_match_the_schema(openapi, alice, login):
    client = login(alice)
    response = client.post(
        "/api/v1/search", {"query": "beneficial owner", "k": 3}, content_type="application/json"
    )
    body = conforms(openapi, "/api/v1/search", "post", response)
    assert body["hits"] and body["hits"][0]["document"]["title"] == "Anti-Money Laundering Rules"
    bm25_only = client.post(
        "/api/v1/search", {"query": "owner", "legs": ["bm25"]}, content_type="application/json"
    )
    assert (
        conforms(openapi, "/api/v1/search", "post", bm25_only)["hits"][0]["scores"]["vector"]
        is None
    )
    bad = client.post("/api/v1/search", {"query": "x", "court": 1}, content_type="application/json")
    assert conforms(openapi, "/api/v1/search", "post", bad)["court"]


@pytest.mark.usefixtures("corpora")
def test_the_search_serializer_keeps_every_field_a_search_sends(alice, login):
    response = login(alice).post(
        "/api/v1/search", {"query": "beneficial owner"}, content_type="application/json"
    )
    sent = response.json()
    assert sent["hits"] and sent["fusion"]
    described = SearchApi.OutputSerializer(sent).data
    assert json.loads(json.dumps(described)) == sent


@pytest.mark.usefixtures("corpora")
def test_a_throttled_request_matches_the_schema(openapi, alice, login, settings):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] | {"search": "1/min"}
    settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {"DEFAULT_THROTTLE_RATES": rates}
    cache.clear()
    client = login(alice)
    responses = [
        client.post("/api/v1/search", {"query": "owner"}, content_type="application/json")
        for _ in range(2)
    ]
    assert [r.status_code for r in responses] == [200, 429]
    assert conforms(openapi, "/api/v1/search", "post", responses[1])["detail"]
    promised = openapi["paths"]["/api/v1/search"]["post"]["responses"]["429"]["headers"]
    assert int(responses[1][next(iter(promised))]) > 0


def test_a_mixed_fusion_matches_the_schema(openapi):
    weights = {"vector": 1.0, "bm25": 3.0}
    plan = FusionPlan(
        {"legal": FusionChoice("rrf", weights), "medical": FusionChoice("weighted", weights)}
    )
    validate(openapi, component("Fusion"), plan.as_dict())
    assert plan.as_dict()["method"] == "per-domain"


def test_ingestion_jobs_match_the_schema(openapi, corpus_a, alice, login, tmp_path):
    (tmp_path / "rules.md").write_text("# Rules\n\n1.1 A rule.\n")
    (tmp_path / "empty.txt").write_text("")
    job = ingest(corpus_a, tmp_path / "rules.md", tmp_path / "empty.txt")
    role_assign(user=alice, role=Role.CORPUS_ADMIN)
    client = login(alice)
    detail = conforms(
        openapi,
        "/api/v1/ingestion-jobs/{job_id}/",
        "get",
        client.get(f"/api/v1/ingestion-jobs/{job.pk}/"),
    )
    assert detail["errors"] and detail["seconds_by_stage"]
    listing = conforms(
        openapi, "/api/v1/ingestion-jobs/", "get", client.get("/api/v1/ingestion-jobs/")
    )
    assert [j["id"] for j in listing] == [job.pk]
    missing = client.get("/api/v1/ingestion-jobs/999999/")
    assert conforms(openapi, "/api/v1/ingestion-jobs/{job_id}/", "get", missing)["detail"]


# The server runs in a thread of this process, with its own database connection: what it reads
# must be committed.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("corpora")
def test_generated_requests_get_no_5xx_and_every_response_matches_the_schema(
    live_server, alice, login
):
    import schemathesis
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    session = signed_in_session(login(alice))
    openapi = session.get(f"{live_server.url}{SCHEMA_URL}", params={"format": "json"}).json()
    schema = schemathesis.openapi.from_dict(openapi)
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    sent: dict[str, int] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        sent[operation.label] = exchange(operation, live_server.url, session, checks)
    assert set(sent) == {
        "POST /api/v1/answers",
        "GET /api/v1/answers/{answer_id}",
        "POST /api/v1/search",
        "GET /api/v1/ingestion-jobs/",
        "GET /api/v1/ingestion-jobs/{job_id}/",
    }
    assert all(count >= 1 for count in sent.values()), sent
    print(f"schemathesis: {sum(sent.values())} requests, {sent}")


def exchange(operation, base_url: str, session: requests.Session, checks: list) -> int:
    """Send the operation's generated requests; returns how many were sent."""
    sent = []

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def one(case):
        assume(not any(meets(case) for meets in KNOWN_BUGS.values()))
        cache.clear()  # throttle counts: the run is about responses, not rates
        # Generated credentials would test only the sign-in: every request is alice's.
        case.headers = {k: v for k, v in (case.headers or {}).items() if k != "Authorization"}
        case.cookies = {}
        response = case.call(base_url=base_url, session=session, timeout=60)
        sent.append(response.status_code)
        case.validate_response(response, checks=checks)

    one()
    return len(sent)


def signed_in_session(client: Client) -> requests.Session:
    """A requests session carrying the test client's sign-in, and a CSRF token for its POSTs."""
    session = requests.Session()
    token = secrets.token_hex(16)
    session.cookies.set("sessionid", client.cookies["sessionid"].value)
    session.cookies.set("csrftoken", token)
    session.headers["X-CSRFToken"] = token
    return session
