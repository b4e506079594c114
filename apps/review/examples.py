"""Reviews feed the model: labelled citations become items for the citation checker's
evaluation (`evaluate_checker --examples`), and answers whose citations were found wrong become
corrected targets for supervised fine-tuning (`build_sft_dataset --review-corrections`)."""

from __future__ import annotations

import json
from collections.abc import Iterable

from apps.review.models import ERRORS, Label, Review

# The checker judges whether a passage supports a statement: a misgrounded or incorrect
# statement is one it must reject, a correct one one it must accept. Irrelevant and fabricated
# say nothing of support by the cited passage, so they are left out.
CHECKER_LABELS = {
    Label.CORRECT: "supported",
    Label.MISGROUNDED: "unsupported",
    Label.INCORRECT: "unsupported",
}
NONE_SUPPORTED = "none of the sources supports an answer"


def checker_examples(reviews: Iterable[Review]) -> list[dict]:
    """One item per labelled citation, in the format evaluate_checker --examples reads: id,
    statement, passage (the exact passage the answer was given), label and kind."""
    items = []
    for review in reviews:
        hits = {hit["number"]: hit for hit in review.answer.hits}
        for item in review.labels:
            label = CHECKER_LABELS.get(item["label"])
            hit = hits.get(item["source"])
            statement = review.answer.statements[item["statement"]]
            if label is None or hit is None or not statement["text"].strip():
                continue
            items.append(
                {
                    "id": f"review-{review.pk}-s{item['statement'] + 1}-c{item['source']}",
                    "statement": statement["text"],
                    "passage": hit["text"],
                    "label": label,
                    "kind": f"review_{item['label']}",
                }
            )
    return items


def sft_corrections(reviews: Iterable[Review]) -> list[dict]:
    """For each answer with a citation labelled an error: its recorded prompt, and as target
    the statements whose every citation was labelled correct, or an abstention."""
    examples = []
    for review in reviews:
        labels = {(i["statement"], i["source"]): i["label"] for i in review.labels}
        if not any(label in ERRORS for label in labels.values()):
            continue
        answer = review.answer
        kept = [
            {"text": s["text"], "citations": s["citations"], "quote": s.get("quote")}
            for index, s in enumerate(answer.statements)
            if s["citations"]
            and all(labels.get((index, n)) == Label.CORRECT for n in s["citations"])
        ]
        target = (
            {"statements": kept}
            if kept
            else {"statements": [], "abstain": {"reason": NONE_SUPPORTED}}
        )
        examples.append(
            {
                "id": f"review-{review.pk}",
                "set": "reviews",
                "kind": "review_correction",
                "system": answer.prompt.get("system", ""),
                "user": answer.prompt.get("user", ""),
                "completion": json.dumps(target, ensure_ascii=False),
                "gold_numbers": sorted({n for s in kept for n in s["citations"]}),
            }
        )
    return examples
