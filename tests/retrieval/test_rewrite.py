from __future__ import annotations

import pytest

from apps.retrieval import rewrite as rewrite_module
from apps.retrieval.rewrite import (
    DOMAINS,
    MAX_VARIANTS,
    QueryVariant,
    embedding_variants,
    expand_abbreviations,
    load_abbreviations,
    normalise_citations,
    rewrite,
)

LEGAL = frozenset({"legal"})
MEDICAL = frozenset({"medical"})
REGULATORY = frozenset({"regulatory"})


class FixedProvider:
    def __init__(self, *texts: str) -> None:
        self.texts = texts
        self.calls = 0

    def variants(self, query: str, domains: frozenset[str]) -> list[QueryVariant]:
        self.calls += 1
        return [QueryVariant(text, "model") for text in self.texts]


def texts(variants: list[QueryVariant]) -> list[tuple[str, str]]:
    return [(variant.text, variant.source) for variant in variants]


def test_the_original_comes_first_then_the_expanded_and_the_citation_variants():
    assert texts(rewrite("42 USC 1983 SOL", LEGAL)) == [
        ("42 USC 1983 SOL", "original"),
        ("42 USC 1983 SOL (statute of limitations)", "expanded"),
        ("42 U.S.C. § 1983 SOL", "citation"),
    ]


def test_a_query_with_nothing_to_rewrite_is_returned_alone():
    assert texts(rewrite("duties of a fund manager", REGULATORY)) == [
        ("duties of a fund manager", "original")
    ]


def test_abbreviations_are_expanded_in_parentheses():
    assert expand_abbreviations("AML rules", REGULATORY) == "AML (anti-money laundering) rules"
    assert expand_abbreviations("MI and HTN in T2DM", MEDICAL) == (
        "MI (myocardial infarction) and HTN (hypertension) in T2DM (type 2 diabetes mellitus)"
    )


def test_matching_is_whole_word_and_case_sensitive():
    assert expand_abbreviations("aml rules, AMLX and XAML", REGULATORY) == (
        "aml rules, AMLX and XAML"
    )


def test_a_plural_abbreviation_is_expanded():
    assert expand_abbreviations("screening PEPs", REGULATORY) == (
        "screening PEPs (politically exposed person)"
    )


def test_only_the_first_occurrence_is_expanded():
    assert expand_abbreviations("AML and AML", REGULATORY) == "AML (anti-money laundering) and AML"


def test_an_abbreviation_already_explained_is_left_alone():
    assert expand_abbreviations("AML (Anti-Money Laundering) rules", REGULATORY) == (
        "AML (Anti-Money Laundering) rules"
    )
    assert expand_abbreviations("anti-money laundering and AML", REGULATORY) == (
        "anti-money laundering and AML"
    )


def test_only_the_given_domains_are_used():
    assert expand_abbreviations("AML and NDA", LEGAL) == "AML and NDA (non-disclosure agreement)"
    assert expand_abbreviations("AML and NDA", frozenset()) == "AML and NDA"


def test_an_abbreviation_the_domains_expand_differently_is_not_expanded():
    assert expand_abbreviations("CVA", MEDICAL) == "CVA (cerebrovascular accident)"
    assert expand_abbreviations("CVA", MEDICAL | REGULATORY) == "CVA"


def test_an_unknown_domain_is_refused():
    with pytest.raises(ValueError, match="unknown domain"):
        rewrite("AML", frozenset({"tax"}))


def test_an_empty_query_is_refused():
    with pytest.raises(ValueError, match="empty"):
        rewrite("  ", LEGAL)


@pytest.mark.parametrize(
    ("query", "normalised"),
    [
        ("580 U.S. 5", "580 U. S. 5"),
        ("580 US 5", "580 U. S. 5"),
        ("42 USC 1983", "42 U.S.C. § 1983"),
        ("42 U.S.C. 1983", "42 U.S.C. § 1983"),
        ("claims under s. 1983", "claims under § 1983"),
        ("claims under sec. 1983 and Sec. 1985", "claims under § 1983 and § 1985"),
        ("ss. 1983-1985", "§§ 1983-1985"),
        ("137 S.Ct. 1002", "137 S. Ct. 1002"),
    ],
)
def test_citations_are_normalised(query, normalised):
    assert normalise_citations(query) == normalised


@pytest.mark.parametrize(
    "query", ["18 U. S. C. §117(a)", "42 U.S.C. §1983", "the U.S. market", "S. 1983 (a bill)"]
)
def test_citations_already_in_the_printed_form_are_left_alone(query):
    assert normalise_citations(query) == query


def test_provider_variants_follow_the_built_in_ones():
    provider = FixedProvider("funds rules on redemption")
    assert texts(rewrite("AML rules", REGULATORY, [provider])) == [
        ("AML rules", "original"),
        ("AML (anti-money laundering) rules", "expanded"),
        ("funds rules on redemption", "model"),
    ]


def test_the_original_and_the_provider_variants_are_embedded_the_rewritten_ones_not():
    provider = FixedProvider("funds rules on redemption")
    variants = rewrite("AML rules under 42 USC 1983", REGULATORY, [provider])
    assert len(variants) == 4
    assert texts(embedding_variants(variants)) == [
        ("AML rules under 42 USC 1983", "original"),
        ("funds rules on redemption", "model"),
    ]


def test_variants_are_deduplicated_by_text_and_blank_ones_dropped():
    provider = FixedProvider("AML rules", " AML  rules ", "", "money laundering rules")
    assert texts(rewrite("AML rules", frozenset(), [provider])) == [
        ("AML rules", "original"),
        ("money laundering rules", "model"),
    ]


def test_at_most_five_variants_and_no_provider_is_asked_once_full():
    first = FixedProvider("one", "two", "three", "four", "five")
    second = FixedProvider("six")
    variants = rewrite("AML rules", REGULATORY, [first, second])
    assert len(variants) == MAX_VARIANTS == 5
    assert [variant.source for variant in variants] == ["original", "expanded"] + ["model"] * 3
    assert second.calls == 0


@pytest.mark.parametrize("domain", sorted(DOMAINS))
def test_each_domain_table_has_at_least_forty_entries(domain):
    table = load_abbreviations(domain)
    assert len(table) >= 40
    assert all(a.strip() == a and e.strip() == e and e for a, e in table.items())


@pytest.mark.parametrize(
    ("domain", "abbreviation", "expansion"),
    [
        ("legal", "SOL", "statute of limitations"),
        ("legal", "NDA", "non-disclosure agreement"),
        ("legal", "IP", "intellectual property"),
        ("legal", "SCOTUS", "Supreme Court of the United States"),
        ("medical", "MI", "myocardial infarction"),
        ("medical", "HTN", "hypertension"),
        ("medical", "T2DM", "type 2 diabetes mellitus"),
        ("medical", "CKD", "chronic kidney disease"),
        ("medical", "COPD", "chronic obstructive pulmonary disease"),
        ("regulatory", "AML", "anti-money laundering"),
        ("regulatory", "KYC", "know your customer"),
        ("regulatory", "CDD", "customer due diligence"),
        ("regulatory", "PEP", "politically exposed person"),
        ("regulatory", "FSRA", "Financial Services Regulatory Authority"),
        ("regulatory", "ADGM", "Abu Dhabi Global Market"),
    ],
)
def test_the_well_known_abbreviations_are_listed(domain, abbreviation, expansion):
    assert load_abbreviations(domain)[abbreviation] == expansion


def test_tables_are_read_once():
    assert load_abbreviations("legal") is load_abbreviations("legal")


@pytest.fixture
def abbreviations_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(rewrite_module, "_ABBREVIATIONS_DIR", tmp_path)
    load_abbreviations.cache_clear()
    yield tmp_path
    load_abbreviations.cache_clear()


@pytest.mark.parametrize(
    "content",
    ["AML\n", "AML\tanti-money laundering\nAML\tagain\n", "\tno abbreviation\n"],
)
def test_a_malformed_table_is_reported_with_its_line(abbreviations_dir, content):
    (abbreviations_dir / "legal.tsv").write_text(f"# header\n{content}", encoding="utf-8")
    with pytest.raises(ValueError, match=r"legal\.tsv:\d"):
        load_abbreviations("legal")
