from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
import Stemmer
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.retrieval import tokenize
from apps.retrieval.tokenize import ANALYSER_VERSION, STOPWORDS, analyse, index_terms
from tests.shared_data import data_file, shared_documents


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("Rule 4.15.16", ["rule", "4.15.16"]),
        ("see Rule 4.15.16.", ["see", "rule", "4.15.16"]),
        ("1.1.1.(1) The AML Rulebook", ["1.1.1", "1.1.1(1)", "aml", "rulebook"]),
        ("Rule 4.1.1(4)(b)", ["rule", "4.1.1", "4.1.1(4)", "4.1.1(4)(b)"]),
        ("3.5 per cent", ["3.5", "per", "cent"]),
    ],
)
def test_rule_numbers_are_kept_with_their_levels(text, terms):
    assert analyse(text) == terms


def test_a_rule_named_in_a_question_shares_its_term_with_the_rule_text():
    assert "4.15.16" in set(analyse("Rule 4.15.16")) & set(analyse("4.15.16 A Person must"))


def test_the_adgm_and_the_question_spelling_of_a_sub_rule_meet():
    assert set(analyse("1.1.1.(1)")) == set(analyse("Rule 1.1.1(1)")) - {"rule"}


@pytest.mark.parametrize("text", ["§ 1983", "§1983", "§§ 1983", "§\u00a01983"])
def test_section_marks_join_their_number(text):
    assert analyse(text) == ["§1983"]


def test_subsections_nest_and_dashes_in_a_section_number_are_hyphens():
    assert analyse("§117(a)(1)") == ["§117", "§117(a)", "§117(a)(1)"]
    assert analyse("§2000e–2(a)") == ["§2000e-2", "§2000e-2(a)"]


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("580 U. S. 5", ["580us", "5"]),
        ("580 U.S. 5", ["580us", "5"]),
        ("42 U.S.C. § 1983", ["42usc", "§1983"]),
        ("U.S.C. § 1983", ["usc", "§1983"]),
        ("25\nU. S. C. §1302", ["25usc", "§1302"]),
        ("769 F. 3d 671", ["769f3d", "671"]),
        ("137 S. Ct. 1002", ["137sct", "1002"]),
    ],
)
def test_reporter_citations_become_one_normalised_term(text, terms):
    assert analyse(text) == terms


@pytest.mark.parametrize("text", ["No. 15–420", "No. 15-420", "15—420", "15\u2212420"])
def test_docket_numbers_are_one_term(text):
    assert analyse(text) == ["15-420"]


def test_a_dash_between_a_number_and_a_word_separates_them():
    assert analyse("Argued April 19, 2016—Decided") == ["argu", "april", "19", "2016", "decid"]


@pytest.mark.parametrize(
    ("text", "term"),
    [("COVID-19", "covid-19"), ("IL-6", "il-6"), ("BRCA1", "brca1"), ("HbA1c", "hba1c")],
)
def test_drug_and_gene_names_are_single_lowercase_terms(text, term):
    assert analyse(text) == [term]


def test_abbreviations_in_capitals_are_lowercased():
    assert analyse("AML and KYC checks") == ["aml", "kyc", "check"]


def test_hyphenated_words_without_a_number_split_into_their_parts():
    assert analyse("anti-money laundering") == ["anti", "money", "launder"]
    assert analyse("HER2-positive") == ["her2", "posit"]


def test_grouped_numbers_lose_their_commas():
    assert analyse("USD 1,000,000") == ["usd", "1000000"]


def test_stopwords_go_and_words_are_stemmed():
    assert analyse("The rules were running into the agreements") == ["rule", "run", "agreement"]
    assert analyse("What should they do with it?") == []


def test_a_ruling_reported_in_the_past_meets_a_question_in_the_present():
    assert analyse("Held: the statute applies.")[0] == analyse("What did the Court hold?")[-1]
    assert analyse("The jury found him guilty")[1] == analyse("finding of the jury")[0]
    assert analyse("holding")[0] == analyse("held")[0] == "hold"


def test_stems_are_fixed_points_of_the_stemmer():
    # Snowball alone gives "agreed" -> "agre", and "agre" -> "agr".
    assert analyse("agreed") == analyse("agre") == analyse("agr")


def test_unicode_is_folded():
    marked = "Shari’a re\u00adgulation under Rule \u200e1.3.3 caf\u00e9 \ufb01nancial \u200bfirms"
    assert analyse(marked) == analyse("Sharia regulation under Rule 1.3.3 cafe financial firms")


@pytest.mark.parametrize(
    "query",
    [
        "Under Rule 4.1.1(4)(b), what must the MLRO report?",
        "Is 18 U. S. C. §117(a) compatible with the Sixth Amendment? See No. 15–420.",
        "Does 580 U.S. 5 apply to 42 U.S.C. § 1983 claims agreed in 2016?",
        "COVID-19 and IL-6 in HbA1c-controlled T2DM organisations",
    ],
)
def test_analysing_query_terms_again_gives_the_same_terms(query):
    terms = analyse(query)
    assert set(analyse(" ".join(terms))) == set(terms)
    assert all(term in analyse(term) for term in terms)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_analyse_never_returns_empty_terms(text):
    assert all(isinstance(term, str) and term for term in analyse(text))


_CITATION_PIECES = st.sampled_from(
    [*"aAsS §.()-–—,0123456789 ’\u00ad\u200e", "U.S.", "U. S. C.", "F. 3d", "Rule", "the", "No."]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_CITATION_PIECES).map("".join) | st.text())
def test_analysis_is_idempotent_on_its_own_terms(text):
    terms = analyse(text)
    assert set(analyse(" ".join(terms))) == set(terms)


def test_the_stopword_list_is_lowercase_and_apostrophe_free():
    assert all(word.isalpha() and word.islower() for word in STOPWORDS)


_RULE_REF = re.compile(r"\d+(?:\.\d+)+(?:\.?\(\w+\))*")


def test_obliqa_rule_numbers_are_terms_of_their_gold_rules():
    (document,) = [d for d in shared_documents("obliqa") if d["id"] == "adgm-1"]
    checked = 0
    with data_file("obliqa", "questions.dev.adgm-1.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            for span in json.loads(line)["gold_spans"]:
                if span["document"] == document["id"] and _RULE_REF.fullmatch(span["ref"]):
                    rule_text = document["text"][span["start"] : span["end"]]
                    assert span["ref"].replace(".(", "(") in analyse(rule_text)
                    checked += 1
    assert checked > 10


def test_the_index_holds_each_term_and_each_pair_of_neighbouring_terms():
    terms = analyse("Early amortisation of the securitisation")

    assert index_terms("Early amortisation of the securitisation") == [
        *terms,
        f"{terms[0]} {terms[1]}",
        f"{terms[1]} {terms[2]}",
    ]
    assert index_terms("risk") == analyse("risk") and index_terms("") == []


def test_the_analyser_version_is_the_hash_of_its_own_source_and_stemmer():
    source = Path(tokenize.__file__).read_bytes()
    digest = hashlib.sha256(source + Stemmer.version().encode()).hexdigest()
    assert re.fullmatch(r"sha256:[0-9a-f]{16}", ANALYSER_VERSION)
    assert f"sha256:{digest[:16]}" == ANALYSER_VERSION
