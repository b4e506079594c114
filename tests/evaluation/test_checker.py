from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

PASSAGE = (
    "3.1.1 Records of customer due diligence must be kept for at least six years after the "
    "business relationship ends. A Relevant Person must identify every beneficial owner "
    "holding 25% or more of a legal person that is its customer."
)
LABELLED = [
    (
        "v1",
        "Records of customer due diligence must be kept for at least six years.",
        "supported",
        "verbatim",
    ),
    (
        "n1",
        "Records of customer due diligence must be kept for at least nine years.",
        "unsupported",
        "number",
    ),
    (
        "g1",
        "A Relevant Person must not identify every beneficial owner.",
        "unsupported",
        "negation",
    ),
    ("e1", "A Recognised Body must identify every beneficial owner.", "unsupported", "entity"),
]


def labelled_file(tmp_path: Path, rows=LABELLED) -> Path:
    path = tmp_path / "labelled.jsonl"
    records = [
        {"id": i, "statement": s, "passage": PASSAGE, "label": label, "kind": kind}
        for i, s, label, kind in rows
    ]
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return path


def run(*args: str) -> str:
    out = StringIO()
    call_command("evaluate_checker", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_a_labelled_file_is_judged_per_kind_and_every_example_listed(tmp_path):
    out = tmp_path / "report.json"
    printed = run("--examples", str(labelled_file(tmp_path)), "--json", str(out))
    report = json.loads(out.read_text())
    assert report["example_count"] == 4 and "splits" not in report
    assert [e["id"] for e in report["examples"]] == ["v1", "n1", "g1", "e1"]
    assert all(set(e) == {"id", "supported", "reason"} for e in report["examples"])
    verdicts = {e["id"]: e for e in report["examples"]}
    assert verdicts["v1"]["supported"] and verdicts["v1"]["reason"] == "supported"
    assert verdicts["n1"] == {"id": "n1", "supported": False, "reason": "number_missing"}
    overall = report["all"]
    assert (overall["supported"], overall["accepted"]) == (1, 1.0)
    assert (overall["unsupported"], overall["rejected"]) == (3, 1.0)
    number = overall["by_kind"]["number"]
    assert number == {
        "label": "unsupported",
        "examples": 1,
        "correct": 1,
        "rate": 1.0,
        "reasons": {"number_missing": 1},
    }
    assert list(overall["by_kind"]) == ["verbatim", "number", "negation", "entity"]
    assert "number        rejected" in printed and "thin kinds" in printed


def test_the_built_set_writes_the_examples_format_and_takes_the_same_path(
    rules_question_file, tmp_path
):
    examples, built, again = tmp_path / "ex.jsonl", tmp_path / "built.json", tmp_path / "f.json"
    questions = ["--questions", str(rules_question_file), "--per-file", "10"]
    run(*questions, "--write-examples", str(examples), "--json", str(built))
    lines = examples.read_text().splitlines()
    assert lines and all(
        list(json.loads(line)) == ["id", "statement", "passage", "label", "kind"] for line in lines
    )
    run("--examples", str(examples), "--json", str(again))
    built_report, file_report = json.loads(built.read_text()), json.loads(again.read_text())
    assert built_report["examples"] == file_report["examples"]
    assert built_report["all"] == file_report["all"]
    assert set(built_report["splits"]) == {"tune", "held_out"}
    assert set(built_report["fitted_on_tune"]) == {"support", "review_below"}
    assert len(built_report["examples"]) == len(lines)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"id": "a"\n', "line 1: invalid JSON"),
        (
            '{"id": "a", "statement": "s", "passage": "p", "label": "supported"}\n',
            'line 1: missing "kind"',
        ),
        (
            '{"id": "a", "statement": "s", "passage": "p", "label": "true", "kind": "k"}\n',
            "line 1: unknown label",
        ),
    ],
)
def test_bad_labelled_input_is_a_clear_command_error(tmp_path, content, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    with pytest.raises(CommandError, match=message):
        run("--examples", str(path))


def test_missing_files_and_clashing_options_are_explained(tmp_path):
    with pytest.raises(CommandError, match="no examples file"):
        run("--examples", str(tmp_path / "none.jsonl"))
    with pytest.raises(CommandError, match="no question file"):
        run("--questions", str(tmp_path / "none.jsonl"))
    with pytest.raises(CommandError, match="drop --examples"):
        run("--examples", "x.jsonl", "--write-examples", str(tmp_path / "out.jsonl"))
    with pytest.raises(CommandError, match="no folder"):
        run("--examples", "x.jsonl", "--json", str(tmp_path / "nowhere" / "out.json"))


def test_the_command_reads_the_development_sets_from_shared_data_dir(settings, tmp_path):
    settings.SHARED_DATA_DIR = tmp_path
    with pytest.raises(CommandError, match="no question file") as refused:
        call_command("evaluate_checker", stdout=StringIO())
    assert str(tmp_path / "obliqa" / "questions.dev.jsonl") in str(refused.value)
