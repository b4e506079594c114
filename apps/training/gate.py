"""The evaluation gate: an adapter version against the base model and the active version, on
the same held-out questions, in the same run, through the full answer path with the local
backend (retrieval, generation, the citation checker).

It passes when the share of answerable questions answered with a checked citation overlapping
gold is higher than the active version's (the base model's when none is active), and abstention
on unanswerable questions falls by no more than MAX_ABSTENTION_DROP. Dropped statements,
unsupported statements shown (always 0: the checker drops them), citation accuracy (of the
statements whose text lies in one source, the share citing it), time to first statement and
tokens per second are reported beside.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from django.conf import settings
from django.test.utils import override_settings

from apps.adapters.files import file_sha256
from apps.adapters.models import AdapterVersion
from apps.adapters.selectors import AdapterChoice, active_versions, choice_of
from apps.adapters.services import adapter_evaluation_record
from apps.evaluation.answers import evaluation_run

MAX_ABSTENTION_DROP = 0.02
HELD_OUT = "held_out"
DEFAULT_FILES = (
    "obliqa/questions.dev.jsonl",
    "obliqa/questions.unanswerable.dev.jsonl",
    "medquad/questions.dev.jsonl",
    "medquad/questions.unanswerable.dev.jsonl",
    "cuad/questions.dev.jsonl",
)


class GateError(Exception):
    """The gate cannot run as asked, with a message fit for the command line."""


def default_question_files(shared_data: Path) -> list[Path]:
    return [shared_data / name for name in DEFAULT_FILES if (shared_data / name).is_file()]


def arms_for(version: AdapterVersion) -> list[tuple[str, AdapterChoice]]:
    """The base model, the active version of the same name (if another), and the candidate."""
    arms = [("base", AdapterChoice.base("the evaluation's baseline"))]
    active = active_versions().filter(name=version.name).exclude(pk=version.pk).first()
    if active is not None:
        arms.append(("active", choice_of(active, "the active version, for comparison")))
    arms.append(("candidate", choice_of(version, "the version under evaluation")))
    return arms


def adapter_evaluate(
    *,
    version: AdapterVersion,
    user,
    questions: Sequence[Path],
    limit: int | None = None,
    max_new_tokens: int | None = None,
    stderr: TextIO | None = None,
    count_tokens: Callable[[str], int] | None = None,
) -> dict:
    """Run the gate, store its report on the version and return the report."""
    if not questions:
        raise GateError("no question files to evaluate on")
    sources = version.training_manifest.get("answer_sources") or settings.ANSWER_SOURCES
    budget = max_new_tokens or settings.GENERATOR_MAX_NEW_TOKENS
    arms = arms_for(version)
    runs: dict[str, list[dict]] = {name: [] for name, _ in arms}
    with override_settings(ANSWER_SOURCES=sources, GENERATOR_MAX_NEW_TOKENS=budget):
        for path in questions:
            for name, choice in arms:
                runs[name].append(
                    evaluation_run(
                        questions_path=path,
                        backend="local",
                        limit=limit,
                        stderr=stderr,
                        adapter=choice,
                        split=HELD_OUT,
                    )
                )
    summaries = {name: arm_summary(reports, count_tokens) for name, reports in runs.items()}
    reference = "active" if "active" in summaries else "base"
    gate = gate_verdict(summaries["candidate"], summaries[reference], reference)
    report = {
        "gate": gate,
        "arms": summaries,
        "settings": {
            "split": HELD_OUT,
            "limit_per_file": limit,
            "answer_sources": sources,
            "max_new_tokens": budget,
            "files": {str(p): file_sha256(p) for p in questions},
        },
        "versions": {name: choice.as_record() for name, choice in arms},
        "per_file": {name: [file_summary(r) for r in reports] for name, reports in runs.items()},
    }
    adapter_evaluation_record(version=version, user=user, report=report, passed=gate["passed"])
    return report


def gate_verdict(candidate: dict, reference: dict, against: str) -> dict:
    better = candidate["answered_with_gold"] > reference["answered_with_gold"]
    drop = (reference["abstention_unanswerable"] or 0) - (candidate["abstention_unanswerable"] or 0)
    held = drop <= MAX_ABSTENTION_DROP + 1e-9
    reasons = []
    if not better:
        reasons.append(
            f"answered with gold evidence {candidate['answered_with_gold']:.3f} is not above "
            f"the {against}'s {reference['answered_with_gold']:.3f}"
        )
    if not held:
        reasons.append(f"abstention on unanswerable questions fell by {drop:.3f}")
    return {"passed": better and held, "against": against, "reasons": reasons}


def arm_summary(reports: list[dict], count_tokens: Callable[[str], int] | None) -> dict:
    cases = [case for report in reports for case in report["questions"]]
    answerable = [c for c in cases if c["answerable"]]
    unanswerable = [c for c in cases if not c["answerable"]]
    written = sum(len(c["shown"]) + len(c["dropped"]) for c in cases)
    dropped = sum(len(c["dropped"]) for c in cases)
    located = sum(c["pointing"]["located"] for c in cases)
    pointed = sum(c["pointing"]["pointed"] for c in cases)
    return {
        "questions": len(cases),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "answered_with_gold": share(sum(c["evidence_hit"] for c in answerable), len(answerable)),
        "answer_rate": share(sum(c["status"] == "answered" for c in cases), len(cases)),
        "abstention_unanswerable": share(
            sum(c["status"] != "answered" for c in unanswerable), len(unanswerable)
        ),
        "statements_written": written,
        "dropped_statement_rate": share(dropped, written),
        "unsupported_shown": sum(
            not all(citation["supported"] for citation in s["citations"])
            for c in cases
            for s in c["shown"]
        ),
        "citation_accuracy": share(pointed, located),
        "statements_located": located,
        "first_statement_s_p50": median(
            [c["timings"]["first_statement"] for c in cases if "first_statement" in c["timings"]]
        ),
        "tokens_per_second": tokens_per_second(cases, count_tokens),
    }


def tokens_per_second(cases: list[dict], count_tokens) -> float | None:
    if count_tokens is None:
        return None
    timed = [c for c in cases if c["timings"].get("generate") and c["raw_output"]]
    seconds = sum(c["timings"]["generate"] for c in timed)
    tokens = sum(count_tokens(c["raw_output"]) for c in timed)
    return round(tokens / seconds, 2) if seconds else None


def file_summary(report: dict) -> dict:
    held = report["held_out"]
    return {
        "questions_file": report["questions_file"],
        "corpus": report["corpus"],
        "questions": held["questions"],
        "answered_with_gold": held["answerable"]["answered_with_gold_evidence"],
        "abstained_unanswerable": held["unanswerable"]["abstained"],
        "answer_rate": held["answer_rate"],
    }


def share(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None
