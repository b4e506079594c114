"""The meaning gates of the support check: each edit below keeps every number, negation and name
of its passage and changes what the passage says; each must be rejected with its own reason,
while faithful rewordings of the same sentences pass."""

from __future__ import annotations

import pytest

from apps.assistant import meaning
from apps.assistant.support import assess

PASSAGE = (
    "An Authorised Person must notify the Regulator within thirty (30) days of any change to its "
    "Controllers. The Buyer shall pay the Seller the Purchase Price no later than ten business "
    "days after Closing. A Relevant Person should keep the records for at least six years after "
    "the business relationship ends. All customers must be screened before onboarding. "
    "Propranolol may cause fatigue, and the risk increases with the dose. The annual fee is "
    "USD 5,000 for each Fund."
)


@pytest.mark.parametrize(
    "statement",
    [
        "An Authorised Person must notify the Regulator within 30 days of any change to its "
        "Controllers.",
        "An Authorised Person is required to notify the Regulator within thirty days of any "
        "change to its Controllers.",
        "The Buyer must pay the Seller the Purchase Price within ten business days after Closing.",
        "According to the source, a Relevant Person should keep the records for a minimum of six "
        "years after the business relationship ends.",
        "All customers must be screened prior to onboarding.",
        "Propranolol can cause fatigue, and the risk rises with the dose.",
        "The Purchase Price is paid to the Seller by the Buyer no later than ten business days "
        "after Closing.",
        "The annual fee is USD 5,000 for each Fund.",
    ],
)
def test_faithful_rewordings_pass(statement):
    support = assess(statement, PASSAGE)
    assert support.supported, support


@pytest.mark.parametrize(
    ("statement", "reason"),
    [
        # modality
        (
            "An Authorised Person may notify the Regulator within 30 days of any change to its "
            "Controllers.",
            "modality_mismatch",
        ),
        (
            "A Relevant Person must keep the records for at least six years after the business "
            "relationship ends.",
            "modality_mismatch",
        ),
        ("All customers may be screened before onboarding.", "modality_mismatch"),
        (
            "Propranolol will cause fatigue, and the risk increases with the dose.",
            "modality_mismatch",
        ),
        # time relations
        (
            "An Authorised Person must notify the Regulator after thirty (30) days of any change "
            "to its Controllers.",
            "time_mismatch",
        ),
        (
            "The Buyer shall pay the Seller the Purchase Price no earlier than ten business days "
            "after Closing.",
            "time_mismatch",
        ),
        ("All customers must be screened after onboarding.", "time_mismatch"),
        # comparisons and quantities
        (
            "A Relevant Person should keep the records for at most six years after the business "
            "relationship ends.",
            "quantity_mismatch",
        ),
        (
            "A Relevant Person should keep the records for more than six years after the "
            "business relationship ends.",
            "quantity_mismatch",
        ),
        ("Some customers must be screened before onboarding.", "quantity_mismatch"),
        (
            "Propranolol may cause fatigue, and the risk decreases with the dose.",
            "quantity_mismatch",
        ),
        # units
        (
            "An Authorised Person must notify the Regulator within thirty (30) months of any "
            "change to its Controllers.",
            "unit_mismatch",
        ),
        (
            "The Buyer shall pay the Seller the Purchase Price no later than ten days after "
            "Closing.",
            "unit_mismatch",
        ),
        ("The annual fee is €5,000 for each Fund.", "unit_mismatch"),
        # who does what to whom
        (
            "The Seller shall pay the Buyer the Purchase Price no later than ten business days "
            "after Closing.",
            "role_swap",
        ),
        (
            "The Regulator must notify an Authorised Person within thirty (30) days of any "
            "change to its Controllers.",
            "role_swap",
        ),
    ],
)
def test_meaning_changing_edits_are_rejected_with_their_reason(statement, reason):
    support = assess(statement, PASSAGE)
    assert not support.supported and support.reason == reason, support


@pytest.mark.parametrize(
    ("anchor", "statement", "reason"),
    [
        # A number that also appears elsewhere in the sentence, put in the wrong place.
        ("Symptoms last for 1 to 3 days.", "Symptoms last for 3 to 3 days.", "number_missing"),
        (
            "CT makes three-dimensional images.",
            "CT makes fifty-dimensional images.",
            "number_missing",
        ),
        # "unless" is "if not".
        (
            "The term renews unless a party gives notice.",
            "The term renews if a party gives notice.",
            "negation_mismatch",
        ),
        (
            "Dehydration is the most common complication.",
            "Dehydration is the least common complication.",
            "quantity_mismatch",
        ),
        (
            "Enrolment in the programme is voluntary.",
            "Enrolment in the programme is mandatory.",
            "modality_mismatch",
        ),
        # Stopwords between a marker and its term: "increase other risks" governs "risks".
        (
            "Techniques that reduce credit risk may increase other risks.",
            "Techniques that reduce credit risk may decrease other risks.",
            "quantity_mismatch",
        ),
        (
            "Expenditures were compared before and after implementation.",
            "Expenditures were compared before and before implementation.",
            "time_mismatch",
        ),
    ],
)
def test_edits_that_keep_every_word_of_the_sentence_but_one_are_rejected(anchor, statement, reason):
    support = assess(statement, anchor)
    assert not support.supported and support.reason == reason, support
    assert assess(anchor, anchor).supported


def test_a_marker_is_compared_with_the_one_before_the_same_term():
    # The anchor has both "must" and "may": the statement swaps which verb each governs.
    anchor = meaning.tokens("The firm must notify the client and may inform the Regulator.")
    swapped = meaning.tokens("The firm may notify the client and must inform the Regulator.")
    assert meaning.mismatched(swapped, anchor) == meaning.MODALITY_MISMATCH
    assert meaning.mismatched(anchor, anchor) is None


@pytest.mark.parametrize(
    ("text", "pairs"),
    [
        ("within thirty (30) calendar days", {("30", "day")}),
        ("ten business days", {("10", "business day")}),
        ("a six-year period", {("6", "year")}),
        ("USD 5 million", {("5", "million usd")}),
        ("5 per cent of the capital", {("5", "percent")}),
        ("20 mg daily", {("20", "mg")}),
    ],
)
def test_numbers_carry_their_units(text, pairs):
    assert meaning.quantities(meaning.tokens(text)) == pairs
