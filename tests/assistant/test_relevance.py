"""What a question asks about, and whether a passage or statement addresses it."""

from __future__ import annotations

import pytest

from apps.assistant import relevance
from apps.assistant.subjects import subjects
from apps.retrieval.bm25 import Bm25Index
from apps.retrieval.vocabulary import Vocabulary

CHUNKS = [
    "Propranolol may cause fatigue and cold hands.",
    "Hypothyroidism is treated with levothyroxine; symptoms include fatigue.",
    "Diagnosis of diabetes uses the HbA1c test.",
    "The Fair Credit Act applies to lenders. Reporting agencies keep records.",
    "Salman v. United States: insider trading. Held: a tipper's gift to a relative is a benefit.",
    "Rule 4.15.16 An Authorised Person must notify the Regulator.",
    *[f"Patients with condition {n} should see their doctor." for n in range(40)],
]


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return Vocabulary((Bm25Index.build(list(range(len(CHUNKS))), CHUNKS),))


def focus_of(question: str, vocabulary: Vocabulary) -> relevance.Focus:
    return relevance.question_focus(question, ["medical", "legal"], vocabulary)


@pytest.mark.parametrize(
    ("question", "named"),
    [
        ("What are the side effects of metformin?", ["metformin"]),
        ("What are the brand names of Linaclotide ?", ["Linaclotide"]),
        (
            "What did the Court hold about the Fifth Amendment in Salman v. United States?",
            ["Court", "Fifth Amendment", "Salman v United States"],
        ),
        ("What does Canada's PCMLTFA require?", ["Canada", "PCMLTFA"]),
        ("When must a firm act under Rule 4.15.16(2)(b)?", ["Rule 4.15.16(2)(b)"]),
        ("What records must be kept for 30 days under the rules?", []),
        ("Are there interactions between Blond psyllium and foods ?", ["Blond psyllium"]),
    ],
)
def test_the_subjects_are_what_the_question_names(question, named):
    assert [s.text for s in subjects(question, frozenset({"legal"}))] == named


@pytest.mark.parametrize(
    ("question", "unknown"),
    [
        ("What are the side effects of metformin?", ("metformin",)),
        ("What are the side effects of propranolol?", ()),
        ("How is hypothyroidism diagnosed?", ()),  # "diagnosed" is a form of "diagnosis"
        ("What does the Fair Credit Reporting Act require?", ("Fair Credit Reporting Act",)),
        ("What does the Fair Credit Act require?", ()),
        ("What must an Authorised Person do under Rule 4.15.16(2)?", ()),
        ("What is the dose of Trimethoprim?", ("Trimethoprim",)),
    ],
)
def test_a_subject_the_corpora_never_mention_is_unknown(question, unknown, vocabulary):
    assert focus_of(question, vocabulary).unknown == unknown


def test_an_abbreviation_is_known_by_its_expansion(vocabulary):
    # The legal dictionary spells out USC; the corpus has neither form, then the expansion.
    assert focus_of("What does the ADA require?", vocabulary).unknown == ("ADA",)
    words = Vocabulary((Bm25Index.build([1], ["The Americans with Disabilities Act applies."]),))
    assert focus_of("What does the ADA require?", words).unknown == ()


def test_a_passage_must_mention_every_instrument_and_one_of_the_other_names(vocabulary):
    focus = focus_of("What did Salman v. United States hold about the Fifth Amendment?", vocabulary)
    holding = "Salman v. United States. Held: a tipper's gift to a relative is a benefit."
    assert relevance.missing_subjects(focus, holding) == ["Fifth Amendment"]
    about_it = holding + " The Fifth Amendment does not apply."
    assert relevance.missing_subjects(focus, about_it) == []


def test_a_name_of_several_words_is_mentioned_as_a_phrase(vocabulary):
    focus = focus_of("What is the outlook for Testicular Cancer ?", vocabulary)
    assert relevance.missing_subjects(focus, "Testicular cancer is curable.") == []
    scattered = "Testicular pain is common. Cancer screening is advised."
    assert relevance.missing_subjects(focus, scattered) == ["Testicular Cancer"]


def test_words_that_fill_the_corpora_are_not_subjects(vocabulary):
    focus = focus_of("What should Patients ask about Hypothyroidism ?", vocabulary)
    assert [s.text for s in focus.subjects] == ["Hypothyroidism"]


@pytest.mark.parametrize(
    ("question", "answer_type"),
    [
        ("How long must customer due diligence records be kept?", "duration"),
        ("For how many years are records kept?", "duration"),
        ("What is the retention period for CDD records?", "duration"),
        ("When must a firm notify the Regulator?", "time"),
        ("By when is the fee due?", "time"),
        ("How much is the annual supervision fee?", "amount"),
        ("Can an abscessed tooth cause a heart attack?", "verdict"),
        ("Is hypothyroidism inherited?", "verdict"),
        ("Is the fee paid monthly or yearly?", None),
        ("What are the symptoms of hypothyroidism?", None),
    ],
)
def test_the_answer_type_follows_the_question(question, answer_type):
    assert relevance.answer_type(question) == answer_type


@pytest.mark.parametrize(
    ("answer_type", "statement", "carries"),
    [
        ("duration", "Records must be kept for at least six years.", True),
        ("duration", "Records may be kept in electronic form.", False),
        ("time", "The firm must notify the Regulator before the change takes effect.", True),
        ("time", "The firm must notify the Regulator in writing.", False),
        ("amount", "The annual fee is USD 5,000.", True),
        ("amount", "The fee is payable by every Fund.", False),
    ],
)
def test_a_statement_carries_the_answer_type_or_not(answer_type, statement, carries):
    focus = relevance.Focus("", (), answer_type)
    assert relevance.carries_answer(focus, statement) is carries


def test_a_yes_no_answer_speaks_of_everything_the_question_asks_about(vocabulary):
    focus = focus_of("Can propranolol cause cold hands?", vocabulary)
    assert relevance.carries_answer(focus, "Propranolol may cause fatigue and cold hands.")
    assert not relevance.carries_answer(focus, "Propranolol may cause fatigue.")
