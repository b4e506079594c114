from __future__ import annotations

import pytest

from apps.assistant.generators import get_generator
from apps.assistant.generators.base import GeneratorError, UnknownAdapter
from apps.assistant.models import Answer, AnswerStatus
from apps.assistant.presenters import answer_as_dict
from apps.assistant.services import AnswerError, answer_question
from apps.corpora.models import Document
from apps.retrieval.selectors import NotReadable
from tests.assistant.conftest import (
    CANARY,
    CDD_SENTENCE,
    ScriptedGenerator,
    answer_json,
    faithful,
    number_of,
)

QUESTION = "Which beneficial owners must a relevant person identify?"


def ask(user, script, **kwargs) -> Answer:
    return answer_question(
        user=user, question=QUESTION, generator=ScriptedGenerator(script), **kwargs
    )


def test_a_supported_statement_is_shown_with_its_verdict(alice, corpora):
    answer = ask(alice, faithful)
    assert answer.status == AnswerStatus.ANSWERED
    [statement] = answer.shown_statements
    assert "25% or more" in statement["text"]
    [verdict] = statement["verdicts"]
    assert verdict["supported"] and verdict["reason"] == "supported"
    assert answer.abstain_reason == ""


def test_the_answer_records_everything_needed_to_replay_it(alice, corpora):
    generator = ScriptedGenerator(faithful)
    answer = answer_question(user=alice, question=QUESTION, generator=generator)
    answer.refresh_from_db()
    prompt = generator.prompts[0]
    assert answer.asker == alice and answer.question == QUESTION
    assert answer.corpora == ["a"]
    assert [h["chunk_id"] for h in answer.hits] == [s.hit.chunk_id for s in prompt.sources]
    assert all(h["content_hash"] and h["document_version"] == 1 for h in answer.hits)
    assert answer.prompt == {"system": prompt.system, "user": prompt.user}
    assert answer.raw_output == "".join(faithful(prompt))
    assert (answer.backend, answer.model, answer.adapter) == ("scripted", "scripted-1", "")
    assert answer.decoding["temperature"] == 0.0
    assert {"retrieve", "generate", "check", "first_statement", "total"} <= set(answer.timings)


@pytest.mark.parametrize(
    ("statement", "reason"),
    [
        ({"text": "Beneficial owners holding 35% must be identified.", "citations": [1]}, None),
        (
            {"text": "A Relevant Person must identify every beneficial owner.", "citations": []},
            "no_citation",
        ),
        (
            {"text": "A Relevant Person must identify every beneficial owner.", "citations": [99]},
            "unknown_source",
        ),
        (
            {
                "text": "A Relevant Person must identify every beneficial owner.",
                "citations": [1],
                "quote": "owners of 10% must be identified",
            },
            "quote_not_found",
        ),
    ],
)
def test_an_unsupported_statement_is_dropped_and_the_answer_abstains(
    alice, corpora, statement, reason
):
    answer = ask(alice, lambda prompt: [answer_json(statement)])
    assert answer.status == AnswerStatus.ABSTAINED
    assert answer.shown_statements == []
    assert answer.abstain_reason.startswith(
        "no passage in the corpora you can read supports an answer"
    )
    [dropped] = answer.statements
    assert not dropped["shown"]
    if reason:
        assert dropped["reason"] == reason


def test_malformed_output_shows_nothing(alice, corpora):
    answer = ask(alice, lambda prompt: ["I think the answer is 25% [1]."])
    assert answer.status == AnswerStatus.ABSTAINED
    assert answer.statements == []


def test_the_generators_own_abstention_is_kept(alice, corpora):
    answer = ask(alice, lambda prompt: [answer_json(abstain="the sources do not say")])
    assert answer.status == AnswerStatus.ABSTAINED
    assert answer.abstain_reason == "the sources do not say"


def test_a_stream_that_fails_after_a_statement_keeps_the_checked_statement(alice, corpora):
    def script(prompt):
        complete = faithful(prompt)
        text = "".join(complete)[:-2] + ', {"text": "And more'
        return [text, GeneratorError("the connection was reset")]

    answer = ask(alice, script)
    assert answer.status == AnswerStatus.ANSWERED
    assert len(answer.shown_statements) == 1
    assert answer.error == "the connection was reset"


def test_a_generator_that_fails_at_once_gives_a_failed_answer(alice, corpora):
    answer = ask(alice, lambda prompt: [GeneratorError("TGI at http://x is unreachable")])
    assert answer.status == AnswerStatus.FAILED
    assert "unreachable" in answer.abstain_reason


def test_nothing_retrieved_abstains_without_calling_the_generator(alice, corpus_a):
    generator = ScriptedGenerator(faithful)
    answer = answer_question(user=alice, question=QUESTION, generator=generator)
    assert answer.status == AnswerStatus.ABSTAINED
    assert "matches the question" in answer.abstain_reason
    assert generator.prompts == []


def test_a_source_in_a_corpus_the_asker_cannot_read_is_never_cited(alice, bob, corpora):
    def script(prompt):
        return [
            answer_json({"text": f"The {CANARY} protocol records every dose.", "citations": [1]})
        ]

    generator = ScriptedGenerator(script)
    answer = answer_question(
        user=alice, question="Which protocol records every dose given?", generator=generator
    )
    assert all(s.hit.corpus == "a" for s in generator.prompts[0].sources)
    assert CANARY not in str(answer.hits) and answer.shown_statements == []


def test_events_arrive_in_order_and_statements_only_once_checked(alice, corpora):
    events = []
    answer_question(
        user=alice,
        question=QUESTION,
        generator=ScriptedGenerator(faithful),
        on_event=lambda name, data: events.append((name, data)),
    )
    names = [name for name, _ in events]
    assert names == ["stage", "sources", "stage", "statement", "done"]
    statement = events[3][1]
    [citation] = statement["citations"]
    assert citation["verdict"]["supported"]
    assert citation["excerpt"].startswith("A Relevant Person must identify")


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"question": "  "}, AnswerError, "empty"),
        ({"question": "x" * 10_000}, AnswerError, "10000 characters"),
        ({"question": QUESTION, "corpora": ["b"]}, NotReadable, "unknown corpus 'b'"),
        ({"question": QUESTION, "corpora": ["nope"]}, NotReadable, "unknown corpus 'nope'"),
        ({"question": QUESTION, "adapter": "forged"}, UnknownAdapter, "unknown adapter"),
    ],
)
def test_bad_questions_are_refused_before_any_work(alice, corpora, kwargs, error, message):
    generator = ScriptedGenerator(faithful)
    with pytest.raises(error, match=message):
        answer_question(user=alice, generator=generator, **kwargs)
    assert generator.prompts == [] and not Answer.objects.exists()


def test_a_citation_points_at_the_quoted_characters_of_the_document(alice, corpora):
    answer = ask(alice, faithful)
    [citation] = answer_as_dict(answer)["statements"][0]["citations"]
    document = Document.objects.get(pk=citation["document"]["id"])
    cited = document.text[citation["char_start"] : citation["char_end"]]
    assert " ".join(cited.split()) == " ".join(CDD_SENTENCE.split())


def test_a_question_about_what_no_corpus_mentions_abstains_and_names_it(bob, corpora):
    generator = ScriptedGenerator(faithful)
    answer = answer_question(
        user=bob, question="What are the side effects of metformin?", generator=generator
    )
    assert answer.status == AnswerStatus.ABSTAINED
    assert answer.abstain_reason == "the corpora you can read do not mention metformin"
    assert generator.prompts == []  # nothing to generate from
    assert answer.checker["focus"]["unknown"] == ["metformin"]


def test_a_supported_statement_about_another_subject_is_dropped_as_off_topic(bob, corpora):
    def about_aspirin(prompt):
        text = (
            "Patients with a myocardial infarction should receive aspirin unless contraindicated."
        )
        return [answer_json({"text": text, "citations": [number_of(prompt, "aspirin")]})]

    answer = answer_question(
        user=bob,
        question="Should patients with Hypertension receive aspirin?",
        generator=ScriptedGenerator(about_aspirin),
    )
    [dropped] = answer.statements
    assert dropped["reason"] == "off_topic" and dropped["verdicts"][0]["supported"]
    assert answer.status == AnswerStatus.ABSTAINED
    # A passage found does speak of hypertension, but not of aspirin for it.
    assert answer.abstain_reason == (
        "the passages found that mention Hypertension and aspirin do not answer the question"
    )


def test_how_long_is_answered_with_the_period(alice, corpora):
    answer = answer_question(
        user=alice,
        question="How long must customer due diligence records be kept?",
        generator=get_generator("extractive"),
    )
    assert answer.status == AnswerStatus.ANSWERED
    assert [s["text"] for s in answer.shown_statements] == [
        "3.1.1 Records of customer due diligence must be kept for at least six years after the "
        "business relationship ends."
    ]


def test_a_statement_without_the_wanted_kind_of_answer_is_dropped(alice, corpora):
    def no_period(prompt):
        text = "A Relevant Person must undertake Customer Due Diligence (CDD)"
        return [answer_json({"text": text, "citations": [number_of(prompt, "undertake")]})]

    answer = answer_question(
        user=alice,
        question="How long must customer due diligence records be kept?",
        generator=ScriptedGenerator(no_period),
    )
    assert answer.statements[0]["reason"] == "no_answer"
    assert answer.abstain_reason == "the passages found do not state a period"


def test_sources_that_disagree_on_the_period_are_shown_as_a_conflict(alice, corpora, tmp_path):
    from tests.corpora.conftest import ingest

    planted = tmp_path / "update.md"
    planted.write_text(
        "# Guidance update\n\nUpdated guidance: records of customer due diligence must be kept "
        "for 1 year after the business relationship ends.\n"
    )
    ingest(corpora[0], planted)
    answer = answer_question(
        user=alice,
        question="How long must customer due diligence records be kept?",
        generator=get_generator("extractive"),
    )
    assert answer.status == AnswerStatus.CONFLICTING
    sides = answer.conflict["sides"]
    assert answer.conflict["kind"] == "period"
    assert sorted(v for side in sides for v in side["values"]) == ["1 year", "6 years"]
    assert {side["document"]["external_id"] for side in sides} == {"aml.md", "update.md"}
    assert all(side["document"]["version"] == 1 for side in sides)
    assert answer.conflict["current"] is None  # neither document is dated
    assert answer_as_dict(answer)["conflict"] == answer.conflict


def test_every_answer_records_its_checker_version(alice, corpora):
    answer = ask(alice, faithful)
    assert answer.checker["version"].startswith("sha256:")
    assert answer.checker["cutoffs"]["support"] == 0.85
