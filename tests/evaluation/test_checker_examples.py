from __future__ import annotations

import ast
import difflib
import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

import pytest

from apps.evaluation import checker_examples
from apps.evaluation.checker_examples import (
    FIELDS,
    ExamplesError,
    labelled_examples,
    read_examples,
    write_examples,
)
from apps.evaluation.example_edits import changed_number, flipped_negation, framed, reworded
from apps.evaluation.example_text import ORDINALS, SPELLED, split_sentences, statement_from
from apps.evaluation.meaning_edits import (
    changed_modality,
    changed_quantity,
    changed_time,
    changed_unit,
)
from apps.evaluation.role_edits import swapped_roles

EVALUATION = Path(checker_examples.__file__).parent
# The generator and every module of its own that it imports.
GENERATOR_MODULES = (
    "checker_examples",
    "example_text",
    "example_edits",
    "meaning_edits",
    "role_edits",
    "similar_passages",
    "jsonl",
)

SENTENCES = (
    "A Relevant Person must identify every beneficial owner holding 25% or more of a legal "
    "person that is its customer.",
    "Records of customer due diligence must be kept for at least six years after the business "
    "relationship ends.",
    "The Buyer shall pay the Seller the Purchase Price within thirty (30) days of delivery.",
    "Licensee shall not assign this Agreement prior to the Effective Date without the consent "
    "of Licensor.",
    "Excess body weight can also cause high blood pressure and may increase the risk of diabetes.",
    "Patients should take 5 mg of the drug twice a day for no more than 14 days.",
    "Mortality was higher in women than in men during the first year of follow-up.",
    "The Regulator may require an Authorised Person to submit a report no later than 10 "
    "business days before the end of each quarter.",
)
MODAL = set(
    "must shall may can should will might could need not cannot is are required permitted "
    "allowed encouraged obliged to option has have the duty right".split()
)
TIME_WORDS = set(
    "before after prior to following within more than until during earlier later earliest "
    "latest no not at the start end of beginning begins ends previously subsequently".split()
)
QUANTITY_WORDS = set(
    "at least most less more fewer than up to no not all some only every each one a single "
    "high low higher lower increase decrease increases decreases increased decreased or "
    "minimum maximum many few always sometimes rarely often usually seldom below above under "
    "over exceed exceeds fall falls be is majority minority highest lowest slightly fully "
    "partly significantly reduce reduces reduced".split()
)
NEGATION_WORDS = set(
    "not no a some cannot can without with unless if never always longer still".split()
)
UNIT_WORDS = set(
    "second seconds minute minutes hour hours day days week weeks month months year years "
    "decade decades business mg g mcg kg basis points per thousand cent percent % a".split()
)


def changed_words(before: str, after: str) -> list[str]:
    """The words an edit took out or put in, in lower case."""
    a, b = tokens(before), tokens(after)
    changed = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b).get_opcodes():
        if op != "equal":
            changed += a[i1:i2] + b[j1:j2]
    return changed


def tokens(text: str) -> list[str]:
    return re.findall(r"[a-z]+|[0-9]+|%", text.lower())


def edits(edit, sentences=SENTENCES, seeds=range(4)) -> list[tuple[str, str]]:
    made = []
    for sentence in sentences:
        for seed in seeds:
            edited = edit(sentence, random.Random(seed))
            if edited is not None:
                made.append((sentence, edited))
    return made


def test_the_generator_imports_nothing_from_the_checker():
    """The examples are built by code of their own: no module of the generator imports the
    checker (apps.assistant), the analyser (apps.retrieval) or anything but the standard
    library, its own modules (the JSONL reader among them) and the question file reader."""
    own = {f"apps.evaluation.{name}" for name in GENERATOR_MODULES}
    allowed = own | {"apps.evaluation.questions"}
    for name in GENERATOR_MODULES:
        for imported in imported_modules(EVALUATION / f"{name}.py"):
            top = imported.split(".")[0]
            assert imported in allowed or top in sys.stdlib_module_names or top == "__future__", (
                name,
                imported,
            )


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.add(node.module or "")
    return found


def test_modality_edits_change_only_the_modal():
    made = edits(changed_modality)
    assert len(made) >= 20
    for sentence, edited in made:
        assert edited != sentence
        assert set(changed_words(sentence, edited)) <= MODAL, (sentence, edited)


def test_time_edits_change_only_a_time_relation():
    made = edits(changed_time)
    assert len(made) >= 10
    for sentence, edited in made:
        assert edited != sentence
        assert set(changed_words(sentence, edited)) <= TIME_WORDS, (sentence, edited)


def test_quantity_edits_change_only_a_comparison_or_quantifier():
    made = edits(changed_quantity)
    assert len(made) >= 20
    for sentence, edited in made:
        assert edited != sentence
        assert set(changed_words(sentence, edited)) <= QUANTITY_WORDS, (sentence, edited)


def test_unit_edits_keep_the_number_and_change_its_unit():
    made = edits(changed_unit)
    assert len(made) >= 10
    for sentence, edited in made:
        assert edited != sentence
        assert re.findall(r"[0-9]+", sentence) == re.findall(r"[0-9]+", edited)
        assert set(changed_words(sentence, edited)) <= UNIT_WORDS, (sentence, edited)


def test_role_edits_keep_every_word_and_change_their_order():
    names = {"Buyer", "Seller", "Licensee", "Licensor", "Regulator", "Authorised", "Person"}
    made = edits(lambda s, rng: swapped_roles(s, names, rng))
    assert len(made) >= 4
    for sentence, edited in made:
        assert edited != sentence
        assert Counter(tokens(sentence)) == Counter(tokens(edited)), (sentence, edited)
    assert ("Licensee shall pay Licensor.", "Licensor shall pay Licensee.") in edits(
        lambda s, rng: swapped_roles(s, names, rng), ["Licensee shall pay Licensor."]
    )


@pytest.mark.parametrize(
    "sentence",
    [
        "The agreement between the Company and the Employee ends on 1 March.",
        "The Buyer and the Seller shall each bear their own costs.",
        "Licensee, Licensor and the Distributor agree to the terms.",
    ],
)
def test_role_edits_leave_pairs_that_mean_the_same_swapped_alone(sentence):
    names = {"Company", "Employee", "Buyer", "Seller", "Licensee", "Licensor", "Distributor"}
    assert swapped_roles(sentence, names, random.Random(0)) is None


def test_number_and_negation_edits_change_what_they_say():
    spelled = set(SPELLED) | set(ORDINALS)

    def words_only(text: str) -> list[str]:
        return [t for t in tokens(text) if not t.isdigit() and t not in spelled]

    for sentence, edited in edits(changed_number):
        assert edited != sentence and words_only(edited) == words_only(sentence)
    for sentence, edited in edits(flipped_negation):
        assert edited != sentence
        assert set(changed_words(sentence, edited)) <= NEGATION_WORDS, (sentence, edited)


def test_rewording_is_faithful():
    sentence = (
        'The Licensee shall obtain the consent (the "Consent") of the Licensor prior to any '
        "assignment, in accordance with Clause 4."
    )
    assert reworded(sentence) == (
        "The Licensee must get the consent of the Licensor before any assignment, under Clause 4."
    )
    # A bracketed qualifier or reference is part of the claim and stays.
    kept = "The fee (but not any other charge) is due under subsection (1) of Rule 3."
    assert reworded(kept) is None
    assert reworded("Additional information will assist the Regulator.") == (
        "Further information will help the Regulator."
    )


def test_framing_keeps_the_sentence_and_its_names():
    made = framed("The FSRA may impose a fine.", "obliqa", {"FSRA"}, random.Random(1))
    assert made.endswith("the FSRA may impose a fine.")
    made = framed("FSRA rules apply.", "obliqa", {"FSRA"}, random.Random(1))
    assert made.endswith("FSRA rules apply.")


def test_sentences_survive_abbreviations_hard_wraps_and_headings():
    text = (
        "Held: The supply of a single component of a multicomponent invention\n"
        " for manufacture abroad does not give rise to liability. Pp. 4–11.\n\n"
        "Cerebral Vascular Disease\nCerebral vascular disease affects blood flow, e.g. to the "
        "brain. See Smith v. Jones, 510 U. S. 266.\n(a) a list item;\n"
    )
    found = split_sentences(text)
    assert "Cerebral Vascular Disease" in found
    assert (
        "Cerebral vascular disease affects blood flow, e.g. to the brain." in found
        and "See Smith v. Jones, 510 U. S. 266." in found
    )
    statements = [s for s in map(statement_from, found) if s]
    assert (
        "The supply of a single component of a multicomponent invention for manufacture "
        "abroad does not give rise to liability."
    ) in statements
    assert not any("list item" in s for s in statements)


def test_the_built_set_is_deterministic_and_labelled(rules_question_file, tmp_path):
    first = labelled_examples([rules_question_file], per_file=10)
    again = labelled_examples([rules_question_file], per_file=10)
    assert [e.record() for e in first] == [e.record() for e in again]
    assert len({e.id for e in first}) == len(first)
    kinds = {e.kind for e in first}
    assert {"verbatim", "reworded", "framed", "modality", "time", "quantity", "unit"} <= kinds
    assert all(e.label == ("supported" if e.supported else "unsupported") for e in first)
    assert all(e.split in ("tune", "held_out") and e.dataset == "minidev" for e in first)

    out = tmp_path / "examples.jsonl"
    assert write_examples(out, first) == len(first)
    lines = out.read_text().splitlines()
    assert all(tuple(json.loads(line)) == FIELDS for line in lines)
    assert [e.record() for e in read_examples(out)] == [e.record() for e in first]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "holds no examples"),
        ('{"id": "a"\n', "line 1: invalid JSON"),
        ("[1]\n", "line 1: not a JSON object"),
        ('{"id": "a", "statement": "s", "passage": "p", "kind": "k"}\n', 'line 1: missing "label"'),
        (
            '{"id": "a", "statement": "s", "passage": "p", "label": "maybe", "kind": "k"}\n',
            "line 1: unknown label 'maybe'",
        ),
        (
            '{"id": "a", "statement": 3, "passage": "p", "label": "supported", "kind": "k"}\n',
            "line 1",
        ),
    ],
)
def test_a_bad_labelled_file_is_named_by_line(tmp_path, content, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    with pytest.raises(ExamplesError, match=re.escape(message)):
        read_examples(path)


def test_a_duplicate_id_names_both_lines(tmp_path):
    line = '{"id": "a", "statement": "s", "passage": "p", "label": "supported", "kind": "k"}\n'
    path = tmp_path / "dup.jsonl"
    path.write_text(line + "\n" + line)
    with pytest.raises(ExamplesError, match="line 3: duplicate id 'a' \\(first used on line 1\\)"):
        read_examples(path)
