from __future__ import annotations

import json
import math
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.corpora.models import Corpus, IngestionJob
from apps.retrieval import tuned_fusion
from apps.retrieval.models import Bm25Index, Bm25IndexStatus
from apps.retrieval.tuned_fusion import FusionChoice

SET = "minisets"
LEDGER = (
    "1.1 A licensed bank must keep a zorblax ledger of every customer transaction for six "
    "years.\n\n1.2 The ledger must be shown to the regulator on request."
)
OFFICER = (
    "2.1 An insurer must appoint a compliance officer who reports to the board.\n\n"
    "2.2 The compliance officer must hold a vendelqua certificate."
)
CONTRACT = (
    "This supply agreement is governed by the laws of Delaware. Either party may terminate "
    "this agreement on ninety days notice. The supplier grants a non-exclusive licence."
)
DOCUMENTS = [
    {"id": "doc-a", "title": "Ledger rules", "text": LEDGER},
    {"id": "doc-b", "title": "Officer rules", "text": OFFICER},
    {"id": "doc-c", "title": "Supply contract", "text": CONTRACT},
]


def whole(document_id: str, text: str) -> dict:
    return {"document": document_id, "start": 0, "end": len(text)}


QUESTIONS = [
    # Only doc-a holds "zorblax": BM25 ranks its chunk first and nothing else.
    {
        "id": "q-rare",
        "question": "zorblax",
        "gold_documents": ["doc-a"],
        "gold_spans": [whole("doc-a", LEDGER)],
        "mentions_rule_number": False,
    },
    # Two gold spans, only doc-b holds "vendelqua": one of two found, at rank 1.
    {
        "id": "q-half",
        "question": "vendelqua",
        "gold_documents": ["doc-b", "doc-a"],
        "gold_spans": [whole("doc-b", OFFICER), whole("doc-a", LEDGER)],
        "mentions_rule_number": True,
    },
    # pubmedqa style: the whole gold document is the gold span.
    {
        "id": "q-document",
        "question": "terminate on ninety days notice",
        "gold_documents": ["doc-c"],
        "gold_spans": [],
        "mentions_rule_number": True,
    },
    # cuad style, scoped to doc-c, asking for words that only the other documents hold.
    {
        "id": "q-scoped",
        "question": "compliance officer board",
        "scope_document": "doc-c",
        "gold_documents": ["doc-c"],
        "gold_spans": [{"document": "doc-c", "start": 0, "end": 58}],
        "answerable": True,
    },
    {
        "id": "q-abstain",
        "question": "Is there a non-compete clause?",
        "scope_document": "doc-c",
        "gold_documents": [],
        "gold_spans": [],
        "answerable": False,
    },
]


def write_jsonl(path, records) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


@pytest.fixture
def questions_file(tmp_path):
    folder = tmp_path / SET
    folder.mkdir()
    documents = [{**d, "metadata": {"domain": "regulatory"}} for d in DOCUMENTS]
    write_jsonl(folder / "documents.jsonl", documents)
    write_jsonl(folder / "questions.dev.jsonl", QUESTIONS)
    return folder / "questions.dev.jsonl"


def evaluate(questions_file, *args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(
        "evaluate_retrieval", "--questions", str(questions_file), *args, stdout=out, stderr=err
    )
    return out.getvalue(), err.getvalue()


def evaluate_json(questions_file, tmp_path, *args) -> dict:
    target = tmp_path / "report.json"
    evaluate(questions_file, "--json", str(target), *args)
    return json.loads(target.read_text())


def test_the_set_is_ingested_into_a_corpus_named_after_its_folder_then_reused(db, questions_file):
    first, _ = evaluate(questions_file)
    second, _ = evaluate(questions_file)

    corpus = Corpus.objects.get(slug=SET)
    assert corpus.domain == "regulatory" and corpus.documents.count() == 3
    assert IngestionJob.objects.count() == 1
    assert f"corpus {SET} (ingested (job #" in first
    assert f"corpus {SET} (reused)" in second
    assert Bm25Index.objects.filter(corpus=corpus, status=Bm25IndexStatus.READY).count() == 1


def test_bm25_numbers_match_a_case_computed_by_hand(db, questions_file, tmp_path):
    report = evaluate_json(questions_file, tmp_path, "--legs", "bm25")

    per_question = {row["id"]: row["results"]["bm25"] for row in report["per_question"]}
    assert [h["document"] for h in per_question["q-rare"]["hits"]] == ["doc-a"]
    half_ndcg = 1 / (1 + 1 / math.log2(3))
    half = per_question["q-half"]
    assert (half["recall"], half["average_precision"], half["reciprocal_rank"]) == (0.5, 0.5, 1)
    assert half["ndcg"] == pytest.approx(half_ndcg)
    assert per_question["q-document"]["reciprocal_rank"] == 1
    assert per_question["q-scoped"]["hits"] == []
    overall = report["summaries"]["bm25"]["all"]
    assert overall["questions"] == 4
    assert overall["recall"] == pytest.approx((1 + 0.5 + 1 + 0) / 4)
    assert overall["map"] == pytest.approx((1 + 0.5 + 1 + 0) / 4)
    assert overall["ndcg"] == pytest.approx((1 + half_ndcg + 1 + 0) / 4)
    assert overall["mrr"] == pytest.approx(3 / 4)


def test_questions_naming_a_rule_number_are_reported_as_two_groups(db, questions_file, tmp_path):
    report = evaluate_json(questions_file, tmp_path, "--legs", "bm25")

    groups = report["summaries"]["bm25"]
    assert groups["mentions_rule_number=true"]["questions"] == 2
    assert groups["mentions_rule_number=true"]["recall"] == pytest.approx(0.75)
    assert groups["mentions_rule_number=false"]["questions"] == 1
    assert groups["mentions_rule_number=false"]["recall"] == 1


def test_the_table_has_a_row_per_configuration_and_group(db, questions_file):
    out, err = evaluate(questions_file)

    assert "5 question(s), 4 scored, 1 without gold skipped" in out
    rows = [line.split() for line in out.splitlines()]
    header = next(row for row in rows if row[:2] == ["configuration", "group"])
    assert header[2:] == ["recall@10", "MAP@10", "nDCG@10", "MRR", "n", "ms/query"]
    names = ("vector", "bm25", "hybrid", "hybrid-rrf")
    labels = [row[:2] for row in rows if row and row[0] in names]
    groups = [
        "all",
        "mentions_rule_number=true",
        "mentions_rule_number=false",
        "split=tune",
        "split=held_out",
    ]
    assert labels == [[name, group] for name in names for group in groups]
    assert "hybrid: reciprocal rank fusion (vector 1, bm25 1)" in out
    assert "100%" in err


def test_the_json_holds_every_number_and_each_questions_hits(db, questions_file, tmp_path):
    report = evaluate_json(questions_file, tmp_path, "--k", "5")

    assert report["corpus"] == SET and report["k"] == 5 and report["questions"] == 5
    assert report["skipped_without_gold"] == ["q-abstain"]
    assert report["missing_gold_documents"] == []
    assert set(report["summaries"]) == {"vector", "bm25", "hybrid", "hybrid-rrf"}
    assert set(report["fusions"]) == {"hybrid", "hybrid-rrf"}
    for groups in report["summaries"].values():
        assert set(groups["all"]) == {"recall", "map", "ndcg", "mrr", "questions", "latency_ms"}
        assert groups["all"]["latency_ms"] > 0
    assert [row["id"] for row in report["per_question"]] == [q["id"] for q in QUESTIONS[:4]]
    result = report["per_question"][0]["results"]["hybrid"]
    assert set(result) == {
        "recall",
        "average_precision",
        "ndcg",
        "reciprocal_rank",
        "latency_ms",
        "hits",
    }
    assert 0 < len(result["hits"]) <= 5
    assert set(result["hits"][0]) == {"document", "start", "end", "relevant"}


def test_a_scoped_question_only_retrieves_from_its_document(db, questions_file, tmp_path):
    report = evaluate_json(questions_file, tmp_path)

    scoped = next(row for row in report["per_question"] if row["id"] == "q-scoped")
    assert scoped["results"]["vector"]["hits"]
    for result in scoped["results"].values():
        assert {hit["document"] for hit in result["hits"]} <= {"doc-c"}


def test_limit_evaluates_the_first_questions(db, questions_file, tmp_path):
    report = evaluate_json(questions_file, tmp_path, "--limit", "2", "--legs", "vector,bm25")

    assert report["questions"] == 2
    assert set(report["summaries"]) == {"vector", "bm25"}
    assert [row["id"] for row in report["per_question"]] == ["q-rare", "q-half"]


def test_with_the_database_task_backend_the_bm25_index_is_built_here(db, questions_file, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

    evaluate(questions_file, "--legs", "bm25")

    assert Bm25Index.objects.get(corpus__slug=SET).status == Bm25IndexStatus.READY


def test_an_existing_corpus_is_evaluated_as_it_is(db, questions_file, tmp_path):
    evaluate(questions_file, "--legs", "bm25")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "questions.jsonl").write_text(questions_file.read_text())

    out, _ = evaluate(elsewhere / "questions.jsonl", "--corpus", SET, "--legs", "bm25")

    assert f"corpus {SET} (given)" in out
    assert IngestionJob.objects.count() == 1
    with pytest.raises(CommandError, match=r"unknown corpus 'nope' \(known: minisets\)"):
        evaluate(questions_file, "--corpus", "nope")


def distractors(tmp_path) -> str:
    """A legal corpus holding the words the questions ask for, in a document whose id is also
    one of the set's gold documents, beside filler that makes those words rare."""
    folder = tmp_path / "distractors"
    folder.mkdir()
    rare = "zorblax vendelqua zorblax vendelqua. A zorblax ledger held by a vendelqua officer."
    filler = "Filler clause on notices, assignment and the governing law."
    documents = [("doc-a", rare), *((f"filler-{n}", filler) for n in range(5))]
    write_jsonl(
        folder / "documents.jsonl",
        [
            {"id": document, "title": "Distractor", "text": text, "metadata": {"domain": "legal"}}
            for document, text in documents
        ],
    )
    write_jsonl(folder / "questions.dev.jsonl", QUESTIONS[:1])
    evaluate(folder / "questions.dev.jsonl", "--legs", "bm25")
    return "distractors"


def test_other_corpora_searched_beside_compete_but_gold_stays_in_the_set(
    db, questions_file, tmp_path
):
    other = distractors(tmp_path)
    tuned_fusion.save("regulatory", FusionChoice("weighted", {"vector": 1.0, "bm25": 3.0}), {})

    alone = evaluate_json(questions_file, tmp_path, "--legs", "bm25,hybrid,hybrid-rrf")
    out, _ = evaluate(questions_file, "--also-search", other, "--legs", "bm25,hybrid,hybrid-rrf")
    beside = evaluate_json(
        questions_file, tmp_path, "--also-search", other, "--legs", "bm25,hybrid,hybrid-rrf"
    )

    assert f"corpus {SET} (reused)" in out and f"also searched: {other}" in out
    assert "hybrid: each domain's own fusion, merged by rank" in out
    assert alone["also_searched"] == [] and beside["also_searched"] == [other]
    rare = {row["id"]: row["results"]["bm25"] for row in beside["per_question"]}["q-rare"]
    assert [hit["document"] for hit in rare["hits"]] == [f"{other}/doc-a", "doc-a"]
    assert [hit["relevant"] for hit in rare["hits"]] == [False, True]
    assert beside["summaries"]["bm25"]["all"]["mrr"] < alone["summaries"]["bm25"]["all"]["mrr"]
    assert beside["missing_gold_documents"] == []


def test_an_unknown_corpus_to_search_beside_is_named(db, questions_file):
    with pytest.raises(CommandError, match=r"unknown corpus 'nope' \(known: minisets\)"):
        evaluate(questions_file, "--also-search", "nope")


def test_a_missing_questions_file_is_named(db, tmp_path):
    with pytest.raises(CommandError, match=r"no questions file at .*absent\.jsonl"):
        evaluate(tmp_path / "absent.jsonl")


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("{not json", "invalid JSON"),
        ('{"id": "x", "gold_spans": []}', 'missing "question"'),
        ('{"id": "x", "question": "q", "gold_spans": [{"document": "d", "start": 5}]}', "start"),
        ('["a list"]', "not a JSON object"),
    ],
)
def test_a_malformed_question_line_is_named(db, questions_file, line, problem):
    lines = questions_file.read_text().splitlines()
    lines.insert(2, line)
    questions_file.write_text("\n".join(lines) + "\n")

    with pytest.raises(CommandError, match=rf"questions.dev.jsonl line 3: .*{problem}"):
        evaluate(questions_file)
    assert not Corpus.objects.exists()


def test_a_folder_without_documents_is_refused(db, tmp_path):
    questions = tmp_path / "questions.jsonl"
    write_jsonl(questions, QUESTIONS)

    with pytest.raises(CommandError, match=r"documents\.jsonl: file not found"):
        evaluate(questions)


def test_a_corpus_holding_other_documents_is_not_mixed_with_the_set(db, questions_file):
    evaluate(questions_file, "--legs", "bm25")
    write_jsonl(questions_file.parent / "documents.jsonl", DOCUMENTS[:2])

    with pytest.raises(CommandError, match=r"holds 1 document\(s\) .* \(first: doc-c\)"):
        evaluate(questions_file)
    assert IngestionJob.objects.count() == 1
