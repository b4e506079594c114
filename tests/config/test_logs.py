from __future__ import annotations

import io
import json
import logging

import pytest

from config.logs import JsonFormatter, RequestIdFilter
from tests.retrieval.conftest import corpora  # noqa: F401

QUESTION = "Which beneficial owners must a relevant person identify, asks quokkamarker?"
CORPUS_PHRASE = "holding 25% or more of a"


@pytest.fixture
def log_lines():
    """Every record at INFO and above, formatted as the site formats them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(level)


def test_a_record_is_one_json_object_with_its_fields():
    record = logging.LogRecord("qa", logging.ERROR, __file__, 1, "failed %s", ("job 7",), None)
    record.job_id = 7
    RequestIdFilter().filter(record)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "failed job 7"
    assert entry["level"] == "ERROR"
    assert entry["job_id"] == 7
    assert "request_id" in entry


def test_each_request_is_logged_once_with_its_id(alice, login, log_lines):
    response = login(alice).get("/api/v1/ingestion-jobs/?q=secret-words")
    (entry,) = [e for e in log_lines() if e["logger"] == "config.requests"]
    assert entry["request_id"] == response["X-Request-ID"]
    assert entry["method"] == "GET"
    assert entry["path"] == "/api/v1/ingestion-jobs/"
    assert entry["status"] == 200
    assert entry["user_id"] == alice.pk
    assert "secret-words" not in json.dumps(entry)


def test_no_question_or_corpus_text_is_logged_at_info(corpora, alice, login, log_lines):  # noqa: F811
    client = login(alice)
    search = client.post("/api/v1/search", {"query": QUESTION}, content_type="application/json")
    assert search.status_code == 200
    answer = client.post("/api/v1/answers", {"question": QUESTION}, content_type="application/json")
    assert answer.status_code == 201
    assert CORPUS_PHRASE in answer.content.decode()

    lines = log_lines()
    assert {e["path"] for e in lines if e["logger"] == "config.requests"} == {
        "/api/v1/search",
        "/api/v1/answers",
    }
    text = json.dumps(lines)
    assert "quokkamarker" not in text
    assert CORPUS_PHRASE not in text
