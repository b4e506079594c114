from __future__ import annotations

import datetime
import functools
import json
import logging
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.corpora.parsers import (
    SUPPORTED_SUFFIXES,
    ParsedDocument,
    ParseProblem,
    ParseResult,
    citation_label,
    parse_path,
)
from tests.corpora import pdf_samples
from tests.shared_data import FIXTURE_SETS, fixture_documents, fixture_file

MB = 1024 * 1024
LIMIT = 50 * MB
# tmp_path is reused across examples on purpose: each example overwrites the same file.
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def write(tmp_path: Path, name: str, content: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def parse_one(path: Path, **options: str) -> ParsedDocument:
    result = parse_path(path, max_bytes=LIMIT, **options)
    assert [str(problem) for problem in result.problems] == []
    assert len(result.documents) == 1
    return result.documents[0]


def only_problem(path: Path, *, max_bytes: int = LIMIT) -> str:
    result = parse_path(path, max_bytes=max_bytes)
    assert result.documents == []
    assert len(result.problems) == 1
    return str(result.problems[0])


def jsonl(*records: object) -> str:
    return "".join(
        (record if isinstance(record, str) else json.dumps(record)) + "\n" for record in records
    )


# Plain text and markdown


def test_text_file_is_decoded_and_line_endings_normalised(tmp_path):
    raw = b"\xef\xbb\xbfSanctions screening policy\r\n\r\nScreen every customer.\rDaily.\n"
    document = parse_one(write(tmp_path, "policy.txt", raw))
    assert document == ParsedDocument(
        external_id="policy.txt",
        title="Sanctions screening policy",
        text="Sanctions screening policy\n\nScreen every customer.\nDaily.\n",
        citation_label="Sanctions screening policy",
        source="policy.txt",
        doc_type="text",
        jurisdiction="",
        date=None,
        metadata={"encoding": "utf-8"},
    )


def test_text_title_is_the_file_stem_when_the_first_line_is_long(tmp_path):
    document = parse_one(write(tmp_path, "long-memo.txt", "\n\n" + "word " * 40 + "\nmore"))
    assert document.title == "long-memo"


def test_text_that_is_not_utf8_falls_back_to_cp1252(tmp_path):
    document = parse_one(write(tmp_path, "legacy.txt", b"Caf\xe9 \x93policy\x94 costs \x8010"))
    assert document.text == "Café \u201cpolicy\u201d costs €10"
    assert document.metadata == {"encoding": "cp1252"}


def test_utf16_text_with_a_byte_order_mark_is_not_mistaken_for_binary(tmp_path):
    document = parse_one(write(tmp_path, "notepad.txt", "Règle 1\r\nRègle 2".encode("utf-16")))
    assert document.text == "Règle 1\nRègle 2"


def test_markdown_title_is_the_first_level_one_heading(tmp_path):
    source = "Draft, do not circulate\n\n# Conduct of Business Rules #\n\n## 1 Application\n"
    path = write(tmp_path, "cobs.md", source)
    document = parse_one(path, external_id="cobs-v2")
    assert (document.external_id, document.title) == ("cobs-v2", "Conduct of Business Rules")
    assert (document.doc_type, document.text) == ("markdown", source)


# HTML

PAGE = """<!DOCTYPE html><html><head><title> Client   Money Rules </title>
<style>p { color: red }</style><script>var tracking = "SCRIPT TEXT";</script></head>
<body><header>SITE HEADER</header><nav><a href="/">Home</a> NAV LINK</nav>
<main><h1>Client Money</h1><p>A firm   must <b>segregate</b>
client money.</p><p>Second<br>line</p>
<h2>Records</h2><ul><li>Keep a ledger</li><li>Reconcile daily</li></ul>
<ol><li>First</li><li>Second</li></ol>
<table><tr><th>Rule</th><th>Period</th></tr><tr><td>2.1</td><td> 6 years </td></tr></table>
<div><div>Nested</div><div>divs&nbsp;&amp; more</div></div><!-- COMMENT -->
<pre>  kept
  <i>as</i> lines</pre>
<noscript>ENABLE JS</noscript></main><footer>FOOTER</footer></body></html>"""


def test_html_keeps_the_text_drops_the_chrome_and_lays_out_blocks(tmp_path):
    document = parse_one(write(tmp_path, "client-money.html", PAGE))
    assert document.text == (
        "Client Money\n\nA firm must segregate client money.\n\nSecond\nline\n\n"
        "Records\n\n- Keep a ledger\n- Reconcile daily\n\n1. First\n2. Second\n\n"
        "Rule\tPeriod\n2.1\t6 years\n\nNested\ndivs & more\n\nkept\nas lines"
    )
    assert (document.title, document.doc_type) == ("Client Money Rules", "html")


@pytest.mark.parametrize(
    ("markup", "title"),
    [
        ("<body><h2>Minor</h2><h1>Main  heading</h1><p>x</p></body>", "Main heading"),
        ("<p>No headings at all</p>", "page"),
    ],
)
def test_html_title_falls_back_to_the_first_h1_then_the_stem(tmp_path, markup, title):
    assert parse_one(write(tmp_path, "page.htm", markup)).title == title


def test_html_in_no_known_encoding_is_read_quietly(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    document = parse_one(write(tmp_path, "mixed.html", b"<p>caf\xe9 \x81\x8d done</p>"))
    assert document.text.startswith("caf") and document.text.endswith(" done")
    assert [record for record in caplog.records if record.name.startswith("bs4")] == []


def test_html_with_nothing_but_scripts_is_a_problem(tmp_path):
    path = write(tmp_path, "app.html", "<html><script>render()</script><nav>Menu</nav></html>")
    assert only_problem(path) == (
        "app.html: no text in the HTML once scripts, styles and navigation are removed"
    )


# PDF


def test_pdf_pages_are_joined_with_form_feeds(tmp_path):
    pages = ["Part 1 Scope", "Rule 2.1 Records\nKeep them six years.", "Schedule A"]
    path = write(tmp_path, "handbook.PDF", pdf_samples.text_pdf(pages, title="Handbook (2024)"))
    document = parse_one(path)
    assert document.text.split("\f") == pages
    assert document.metadata == {"pages": 3}
    assert (document.title, document.citation_label) == ("Handbook (2024)", "Handbook (2024)")
    assert (document.doc_type, document.external_id) == ("pdf", "handbook.PDF")


def test_pdf_page_text_never_contains_the_page_separator(tmp_path):
    path = write(tmp_path, "odd.pdf", pdf_samples.text_pdf(["before\fafter", "next"]))
    document = parse_one(path)
    assert document.text == "before\nafter\fnext"
    assert document.title == "odd"


def test_pdf_encrypted_only_against_editing_is_read(tmp_path):
    data = pdf_samples.encrypted_pdf(["Open to read"], user_password="")
    assert parse_one(write(tmp_path, "locked-edit.pdf", data)).text == "Open to read"


def test_pdf_needing_a_password_is_a_problem(tmp_path):
    data = pdf_samples.encrypted_pdf(["Secret"], user_password="hunter2")
    assert only_problem(write(tmp_path, "scan.pdf", data)) == (
        "scan.pdf: encrypted PDF; it cannot be read without its password"
    )


@pytest.mark.parametrize("data", [pdf_samples.truncated_pdf(), b"%PDF-1.7\nnot really a PDF\n"])
def test_corrupt_pdf_is_a_problem_and_pypdf_stays_quiet(tmp_path, caplog, data):
    caplog.set_level(logging.DEBUG)
    message = only_problem(write(tmp_path, "broken.pdf", data))
    assert message.startswith("broken.pdf: corrupt or unreadable PDF (")
    assert message.endswith(")")
    assert [record for record in caplog.records if record.name.startswith("pypdf")] == []
    assert logging.getLogger("pypdf").level == logging.NOTSET


def test_pdf_without_text_suggests_ocr(tmp_path):
    path = write(tmp_path, "scanned.pdf", pdf_samples.image_only_pdf())
    message = "scanned.pdf: no extractable text (a scanned PDF? run OCR first)"
    assert only_problem(path) == message


# JSONL


def test_jsonl_lines_become_documents(tmp_path):
    opinion = {
        "id": "scotus-1",
        "title": "Doe v. Roe",
        "text": "Held: the statute applies.\r\n\u2028Next\fpage",
        "metadata": {
            "doc_type": "opinion",
            "court": "Supreme Court of the United States",
            "jurisdiction": "US federal",
            "date": "2016-11-29",
            "citation": "580 U. S. ____ (2016)",
            "source_url": "https://example.org/opinion/1",
        },
    }
    bare = {"id": "note-2", "text": "Plain note", "metadata": {"year": "2011"}}
    labelled = {
        "id": "x",
        "title": "T",
        "text": "t",
        "citation_label": " Custom ",
        "metadata": None,
    }
    result = parse_path(
        write(tmp_path, "docs.jsonl", jsonl(opinion, "", bare, labelled)), max_bytes=LIMIT
    )
    assert result.problems == []
    first, second, third = result.documents
    assert first == ParsedDocument(
        external_id="scotus-1",
        title="Doe v. Roe",
        text=opinion["text"],
        citation_label="Doe v. Roe, 580 U. S. ____ (2016)",
        source="https://example.org/opinion/1",
        doc_type="opinion",
        jurisdiction="Supreme Court of the United States",
        date=datetime.date(2016, 11, 29),
        metadata=opinion["metadata"],
    )
    assert (second.title, second.doc_type) == ("note-2", "document")
    assert second.source == "docs.jsonl line 3"
    assert (second.jurisdiction, second.date, second.metadata) == ("", None, {"year": "2011"})
    assert (third.citation_label, third.metadata) == ("Custom", {})


def test_a_malformed_jsonl_line_does_not_stop_the_others(tmp_path):
    lines = jsonl(
        {"id": "a", "text": "first"}, '{"id": "b" "text": "x"}', {"id": "c", "text": "last"}
    )
    result = parse_path(write(tmp_path, "contracts.jsonl", lines), max_bytes=LIMIT)
    assert [document.external_id for document in result.documents] == ["a", "c"]
    assert result.problems == [
        ParseProblem("contracts.jsonl", 2, "invalid JSON (Expecting ',' delimiter: column 12)")
    ]
    assert str(result.problems[0]) == (
        "contracts.jsonl line 2: invalid JSON (Expecting ',' delimiter: column 12)"
    )


def test_a_duplicate_jsonl_id_keeps_the_first(tmp_path):
    lines = jsonl(
        {"id": "a", "text": "one"}, {"id": "b", "text": "two"}, {"id": "a", "text": "three"}
    )
    result = parse_path(write(tmp_path, "dup.jsonl", lines), max_bytes=LIMIT)
    assert [document.text for document in result.documents] == ["one", "two"]
    assert [str(problem) for problem in result.problems] == [
        'dup.jsonl line 3: duplicate id "a" (first used on line 1)'
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('["a", "b"]', "not a JSON object (found an array)"),
        ({"text": "no id"}, 'missing "id"'),
        ({"id": "  ", "text": "t"}, '"id" is empty'),
        ({"id": 7, "text": "t"}, '"id" must be a string, not a number'),
        ({"id": "a"}, 'missing "text"'),
        ({"id": "a", "text": " \n "}, '"text" is empty'),
        ({"id": "a", "text": ["t"]}, '"text" must be a string, not an array'),
        ({"id": "a", "text": "t", "title": True}, '"title" must be a string, not a boolean'),
        (
            {"id": "a", "text": "t", "metadata": "court"},
            '"metadata" must be an object, not a string',
        ),
        ({"id": "a", "text": "nul \u0000 here"}, '"text" contains a NUL character (U+0000)'),
        ('{"id": "a", "text": "\xe9"}', "not valid UTF-8 (bad byte at column 22)"),
        ("[" * 100_000, "invalid JSON (nested too deeply)"),
    ],
)
def test_bad_jsonl_lines_are_reported_with_their_line_number(tmp_path, line, message):
    content = jsonl({"id": "good", "text": "fine"}).encode() + (
        line.encode("latin-1") if isinstance(line, str) else json.dumps(line).encode()
    )
    result = parse_path(write(tmp_path, "lines.jsonl", content), max_bytes=LIMIT)
    assert [document.external_id for document in result.documents] == ["good"]
    assert [str(problem) for problem in result.problems] == [f"lines.jsonl line 2: {message}"]


@pytest.mark.parametrize("content", ["", "\n \n\t\n"])
def test_jsonl_without_documents_is_a_problem(tmp_path, content):
    message = only_problem(write(tmp_path, "none.jsonl", content))
    assert message == "none.jsonl: no documents in file"


# Problems every format shares


@pytest.mark.parametrize("name", ["empty.txt", "blank.md", "empty.html", "empty.pdf"])
@pytest.mark.parametrize("content", [b"", b" \r\n\t\n"])
def test_empty_files_are_a_problem(tmp_path, name, content):
    assert only_problem(write(tmp_path, name, content)) == f"{name}: empty file"


@pytest.mark.parametrize(
    "content", [b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", bytes(range(1, 9)) * 100 + b"some text"]
)
@pytest.mark.parametrize("name", ["photo.txt", "photo.html", "photo.jsonl"])
def test_binary_files_with_a_text_name_are_a_problem(tmp_path, name, content):
    message = only_problem(write(tmp_path, name, content))
    assert message == f"{name}: binary content; this is not a text file"


def test_oversize_files_are_refused(tmp_path):
    path = tmp_path / "huge.pdf"
    with path.open("wb") as handle:
        handle.truncate(int(61.2 * MB))  # sparse: the disk holds almost nothing
    assert only_problem(path) == (
        "huge.pdf: file is 61.2 MB, over the 50.0 MB limit (INGEST_MAX_BYTES)"
    )


@pytest.mark.parametrize(
    ("size", "max_bytes", "message"),
    [
        (2048, 10, "file is 2.0 KB, over the 10 bytes limit"),
        (LIMIT + 1, LIMIT, "file is 52,428,801 bytes, over the 52,428,800 bytes limit"),
    ],
)
def test_oversize_message_sizes(tmp_path, size, max_bytes, message):
    path = tmp_path / "big.txt"
    with path.open("wb") as handle:
        handle.truncate(size)
    assert only_problem(path, max_bytes=max_bytes) == f"big.txt: {message} (INGEST_MAX_BYTES)"


def test_a_file_exactly_at_the_limit_is_read(tmp_path):
    path = write(tmp_path, "exact.txt", "twelve bytes")
    assert parse_path(path, max_bytes=12).documents[0].text == "twelve bytes"


@pytest.mark.parametrize(
    ("name", "named"), [("report.docx", "type '.docx'"), ("README", "type (no extension)")]
)
def test_unsupported_suffixes_are_a_problem(tmp_path, name, named):
    supported = ".htm, .html, .jsonl, .markdown, .md, .pdf, .txt"
    assert only_problem(write(tmp_path, name, "text")) == (
        f"{name}: unsupported file {named} (supported: {supported})"
    )


def test_missing_paths_and_directories_are_a_problem(tmp_path):
    assert only_problem(tmp_path / "nowhere.txt") == "nowhere.txt: file not found"
    (tmp_path / "folder.txt").mkdir()
    assert only_problem(tmp_path / "folder.txt") == "folder.txt: not a regular file"


def test_supported_suffixes():
    assert {".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".jsonl"} == SUPPORTED_SUFFIXES


@FUZZ
@given(content=st.binary(max_size=3000), suffix=st.sampled_from(sorted(SUPPORTED_SUFFIXES)))
def test_arbitrary_bytes_never_raise(tmp_path, content, suffix):
    result = parse_path(write(tmp_path, "fuzz" + suffix, content), max_bytes=LIMIT)
    assert isinstance(result, ParseResult)
    assert result.documents or result.problems
    assert all(problem.source == "fuzz" + suffix for problem in result.problems)


@FUZZ
@given(
    damage=st.lists(st.tuples(st.integers(0, 10**6), st.binary(min_size=1, max_size=8)), max_size=6)
)
def test_damaged_pdfs_never_raise(tmp_path, damage):
    data = bytearray(pdf_samples.text_pdf(["Page one", "Page two"], title="Fuzz"))
    for position, replacement in damage:
        start = position % len(data)
        data[start : start + len(replacement)] = replacement
    result = parse_path(write(tmp_path, "damaged.pdf", bytes(data)), max_bytes=LIMIT)
    assert len(result.documents) + len(result.problems) >= 1
    for document in result.documents:
        assert document.text.count("\f") == document.metadata["pages"] - 1


@FUZZ
@given(text=st.text(min_size=1).filter(lambda text: text.strip() and "\0" not in text))
def test_jsonl_text_comes_back_exactly(tmp_path, text):
    line = json.dumps({"id": "d", "text": text, "metadata": {}}, ensure_ascii=False)
    path = write(tmp_path, "exact.jsonl", line + "\r\n")
    assert parse_one(path).text == text


# Citation labels


@pytest.mark.parametrize(
    ("title", "metadata", "label"),
    [
        (
            "Doe v. Roe",
            {"citation": "580 U. S. ____ (2016)", "pmid": "1"},
            "Doe v. Roe, 580 U. S. ____ (2016)",
        ),
        ("PubMed 1", {"pmid": 21645374}, "PMID 21645374"),
        ("Anti-Money Laundering and Sanctions Rules and Guidance (AML)", {}, "AML"),
        ("Fund Rules (FUNDS) ", {"jurisdiction": "ADGM"}, "FUNDS"),
        (" Agency Agreement", {"filer": "2ThemartComInc"}, "Agency Agreement (2ThemartComInc)"),
        ("Tuberculosis (TB)", {"publisher": "CDC"}, "Tuberculosis (TB) (CDC)"),
        ("Schedule (A)", {}, "Schedule (A)"),
        ("Guidance on outsourcing (draft)", {"publisher": ""}, "Guidance on outsourcing (draft)"),
    ],
)
def test_citation_label(title, metadata, label):
    assert citation_label(title, metadata) == label


# Real documents of every shared set: the demo corpora


@functools.cache
def parsed_fixture(corpus: str) -> ParseResult:
    path = fixture_file(corpus)
    return parse_path(path, max_bytes=path.stat().st_size)


@pytest.mark.parametrize("corpus", FIXTURE_SETS)
def test_the_demo_corpora_parse_exactly(corpus):
    records, result = fixture_documents(corpus), parsed_fixture(corpus)
    assert [str(problem) for problem in result.problems] == []
    assert len(result.documents) == len(records)
    for document, record in zip(result.documents, records, strict=True):
        assert document.external_id == record["id"]
        assert document.text == record["text"]
        assert document.metadata == record["metadata"]


@pytest.mark.parametrize(
    ("corpus", "external_id", "label", "doc_type", "jurisdiction"),
    [
        ("regulatory", "adgm-1", "AML", "rulebook", "ADGM (Abu Dhabi Global Market)"),
        ("legal", "cuad-084", "Distributor Agreement (ScansourceInc)", "contract", ""),
        (
            "medical",
            "medquad-CDC_0000001",
            "Acanthamoeba - Granulomatous Amebic Encephalitis (GAE); Keratitis (CDC)",
            "health topic",
            "",
        ),
        ("medical", "pmid-9569972", "PMID 9569972", "abstract", ""),
        (
            "legal",
            "scotus-4170684",
            "TC Heartland LLC v. Kraft Foods Group Brands LLC, 581 U. S. ____ (2017)",
            "opinion",
            "Supreme Court of the United States",
        ),
    ],
)
def test_citation_labels_of_real_documents(corpus, external_id, label, doc_type, jurisdiction):
    result = parsed_fixture(corpus)
    document = next(doc for doc in result.documents if doc.external_id == external_id)
    assert (document.citation_label, document.doc_type) == (label, doc_type)
    assert document.jurisdiction == jurisdiction
