"""Replaying a recorded answer: the same search and checks again, and what differs."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.assistant.generators import get_generator
from apps.assistant.models import Answer
from apps.assistant.services import answer_question
from apps.corpora.models import Chunk
from apps.retrieval.tokenize import ANALYSER_VERSION
from tests.retrieval.conftest import CORPUS_A_TEXT

QUESTION = "How long must records of customer due diligence be kept?"


@pytest.fixture
def answer(alice, corpora) -> Answer:
    return answer_question(user=alice, question=QUESTION, generator=get_generator("extractive"))


def replay(answer: Answer, tmp_path) -> tuple[int, dict, str]:
    out = tmp_path / "replay.json"
    try:
        call_command("replay_answer", str(answer.pk), "--json", str(out), stdout=(log := Log()))
        status = 0
    except SystemExit as exc:
        status = exc.code
    return status, json.loads(out.read_text()), log.text


class Log:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass


def test_an_answer_records_how_its_passages_were_found(answer):
    recorded = answer.retrieval
    assert recorded["query"] == QUESTION
    assert recorded["variants"][0] == {"text": QUESTION, "source": "original"}
    assert recorded["fusion"] == {
        "legal": {"method": "rrf", "leg_weights": {"vector": 1.0, "bm25": 1.0}}
    }
    assert recorded["analyser_version"] == ANALYSER_VERSION
    assert recorded["embedding_model"] and recorded["k"] == 8
    assert recorded["stating_first"]  # "how long" wants a period
    assert answer.checker["version"].startswith("sha256:")


def test_an_answer_replayed_at_once_matches(answer, tmp_path):
    status, report, text = replay(answer, tmp_path)
    assert status == 0 and report["identical"], report
    assert "The replay matches." in text


def test_a_changed_checker_shows_in_the_verdicts(answer, tmp_path, monkeypatch):
    from apps.assistant import citations, support

    monkeypatch.setattr(
        citations, "assess", lambda statement, passage: support.Support(False, "weak_support", 0.1)
    )
    status, report, _ = replay(answer, tmp_path)
    assert status == 1
    assert report["statements"] == [
        "statement 1: was shown (supported), now dropped (weak_support)"
    ]


def test_a_superseded_document_shows_in_the_passages_but_not_in_the_verdicts(
    answer, corpora, tmp_path
):
    from tests.corpora.conftest import ingest

    changed = tmp_path / "aml.md"
    changed.write_text(CORPUS_A_TEXT.replace("six years", "seven years"))
    ingest(corpora[0], changed)
    status, report, _ = replay(answer, tmp_path)
    assert status == 1
    assert any("was superseded" in line for line in report["passages"]), report
    assert any(line.startswith("now found:") for line in report["passages"]), report
    assert report["statements"] == []  # checked again against the version it was given


def test_a_passage_changed_in_the_database_is_reported(answer, tmp_path):
    cited = answer.shown_statements[0]["citations"][0]
    chunk_id = next(h["chunk_id"] for h in answer.hits if h["number"] == cited)
    Chunk.objects.filter(pk=chunk_id).update(text="Records may be thrown away at once.")
    status, report, _ = replay(answer, tmp_path)
    assert status == 1
    assert any("its text or hash differs" in line for line in report["statements"]), report


def test_an_unknown_answer_is_a_clear_error(db):
    with pytest.raises(CommandError, match="no answer #999"):
        call_command("replay_answer", "999")
