from __future__ import annotations

import re

from apps.corpora.normalise import find_running_headers, normalise_for_index, page_furniture
from apps.corpora.structure import HEADING, UNIT, Layout, parse_blocks


def layout_of(text: str) -> Layout:
    # One token per word keeps these tests independent of any tokenizer.
    headers = find_running_headers(text)
    norm = normalise_for_index(text, headers)
    word_starts = [match.start() for match in re.finditer(r"\S+", norm.text)]
    return Layout(text, norm, word_starts, page_furniture(text, headers))


def word_at(layout: Layout, token: int) -> str:
    return layout.norm.text[layout.token_starts[token] :].split(" ", 1)[0]


def blocks_of(text: str) -> list[tuple[str, str, tuple[str, ...]]]:
    layout = layout_of(text)
    return [
        (word_at(layout, block.first_token), block.kind, block.path)
        for block in parse_blocks(layout)
    ]


def test_markdown_headings_nest_by_level():
    text = "# Overview\n\nIntro text.\n\n## Scope\n\nScope text.\n\n# Next\n\nLast text."

    assert blocks_of(text) == [
        ("#", HEADING, ("Overview",)),
        ("Intro", UNIT, ("Overview",)),
        ("##", HEADING, ("Overview", "Scope")),
        ("Scope", UNIT, ("Overview", "Scope")),
        ("#", HEADING, ("Next",)),
        ("Last", UNIT, ("Next",)),
    ]


def test_a_numbered_heading_keeps_only_the_numbers_leading_into_its_own():
    text = (
        "1 GENERAL PROVISIONS\n\n1.1 Application\n\nApplies to all.\n\n"
        "1.2 Scope\n\nCovers firms.\n\n2 CONDUCT\n\nBehave well."
    )

    paths = [path for _, kind, path in blocks_of(text) if kind == UNIT]

    assert paths == [
        ("1 GENERAL PROVISIONS", "1.1 Application"),
        ("1 GENERAL PROVISIONS", "1.2 Scope"),
        ("2 CONDUCT",),
    ]


def test_a_bare_article_number_takes_the_capitals_line_below_as_its_caption():
    text = "ARTICLE 4\nGOVERNING LAW\n\nThis agreement is governed by the laws of Delaware."

    assert blocks_of(text) == [
        ("ARTICLE", HEADING, ("ARTICLE 4",)),
        ("This", UNIT, ("ARTICLE 4 GOVERNING LAW",)),
    ]


def test_a_roman_numeral_after_the_letter_before_it_continues_a_lettered_list():
    letters = "ABCDEFGHI"
    text = "II\n\n" + "".join(f"{letter}\n\nPoint {letter}.\n\n" for letter in letters)
    text += "III\n\nThe last part."

    units = [path for _, kind, path in blocks_of(text) if kind == UNIT]

    assert units == [*(("II", letter) for letter in letters), ("III",)]


def test_a_section_sign_opens_a_section_only_after_a_blank_line():
    heading = "§ 1983 Civil Action for Deprivation of Rights"
    text = f"Some statute text,\n{heading}\nis quoted here.\n\n{heading}\n\nEvery person who acts."

    assert [(word, kind) for word, kind, _ in blocks_of(text)] == [
        ("Some", UNIT),
        ("§", HEADING),
        ("Every", UNIT),
    ]


def test_a_short_line_ending_in_a_full_stop_is_not_a_title():
    text = "The opening paragraph of the text,\n\nSee the rules.\nThey apply to every firm."

    assert blocks_of(text) == [("The", UNIT, ()), ("See", UNIT, ())]


def test_an_indented_first_line_opens_a_paragraph_in_layout_text():
    text = (
        "The court considered the petition in detail,\nand it found no error.\n"
        "    A second paragraph opens here,\nand runs on to its end."
    )

    assert [word for word, _, _ in blocks_of(text)] == ["The", "A"]


def test_initials_do_not_end_a_sentence_but_semicolons_do():
    layout = layout_of(
        "Decided in 580 U. S. 12 (2016). The Court held that; it was right. So ends it."
    )

    starts = layout.sentence_starts(0, len(layout.token_starts))

    assert [word_at(layout, token) for token in starts] == ["The", "it", "So"]
