import pytest

from apps.assistant.sentences import sentences
from apps.assistant.support import assess

PASSAGE = (
    "4.15.16 An Authorised Person must notify the Regulator within thirty (30) days of any "
    "change to its Controllers. The notice must be given in writing. A Relevant Person "
    "must not open an anonymous account. Rule 4.15.16(2) applies from 1 January 2021."
)


def test_sentences_respect_legal_abbreviations_and_rule_numbers():
    text = (
        "See Bravo-Fernandez v. United States, 580 U. S. 5 (2016), and No. 15-537. "
        "The Court held, e.g., that Rule 4.15.16 applies. Nichols said that “statutes . . . do "
        "not change the penalty.” It was affirmed.\n(a) first item;\n(b) second item."
    )
    assert sentences(text) == [
        "See Bravo-Fernandez v. United States, 580 U. S. 5 (2016), and No. 15-537.",
        "The Court held, e.g., that Rule 4.15.16 applies.",
        "Nichols said that “statutes . . . do not change the penalty.”",
        "It was affirmed.",
        "(a) first item;",
        "(b) second item.",
    ]


@pytest.mark.parametrize(
    "statement",
    [
        "An Authorised Person must notify the Regulator within thirty (30) days of any change "
        "to its Controllers.",
        "An Authorised Person must notify the Regulator within 30 days of any change to its "
        "Controllers.",
        "According to the source, a Relevant Person must not open an anonymous account.",
        "The notice to the Regulator must be given in writing.",
    ],
)
def test_faithful_statements_are_supported(statement):
    support = assess(statement, PASSAGE)
    assert support.supported, support


@pytest.mark.parametrize(
    ("statement", "reason"),
    [
        (
            "An Authorised Person must notify the Regulator within 60 days of any change.",
            "number_missing",
        ),
        ("Rule 4.15.16(3) applies from 1 January 2021.", "number_missing"),
        ("Rule 4.15.16(2) applies from 1 March 2021.", "number_missing"),
        ("A Relevant Person must open an anonymous account.", "negation_mismatch"),
        ("The notice must not be given in writing.", "negation_mismatch"),
        (
            "A Recognised Body must notify the Regulator within 30 days of any change.",
            "entity_missing",
        ),
        ("The Regulator imposes a fine on a firm that breaches the rule.", "weak_support"),
    ],
)
def test_corrupted_statements_are_rejected_with_their_reason(statement, reason):
    support = assess(statement, PASSAGE)
    assert not support.supported and support.reason == reason, support


def test_a_changed_number_that_appears_elsewhere_in_the_passage_is_still_caught():
    # "1" and "2021" are in the passage, but not in the sentence the statement rests on.
    statement = "The notice must be given in writing within 2021 days."
    assert assess(statement, PASSAGE).reason == "number_missing"


def test_a_quote_cut_from_inside_a_sentence_meets_the_whole_sentence():
    passage = "It is not true that the Buyer must pay the deposit within 10 days."
    support = assess("the Buyer must pay the deposit within 10 days.", passage)
    assert not support.supported and support.reason == "negation_mismatch"


def test_a_verbatim_rule_with_its_list_items_is_supported_however_it_was_wrapped():
    passage = (
        "18.8.2 A PFP Operator must provide the following information:\n(a)\tthe operation of "
        "the exit facility;\n(b)\ta statement under Rules 18.5.1 and 18.5.2; and\n(c)\tfees."
    )
    statement = " ".join(passage.split())
    assert assess(statement, passage).supported


def test_a_party_named_elsewhere_in_the_passage_is_not_the_one_the_sentence_names():
    passage = (
        "The Licensee shall pay the royalties quarterly. The agreement was drafted at length. "
        "Its schedules were agreed. The Licensor retains title to the Marks."
    )
    # "Licensor" is in the passage, but the sentence the statement rests on names the Licensee.
    assert assess("The Licensor shall pay the royalties quarterly.", passage).reason == (
        "entity_missing"
    )
    assert assess("The Licensee shall pay the royalties quarterly.", passage).supported
