from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from apps.assistant.prompts import SYSTEM
from tests.adapters.conftest import model_admins  # noqa: F401 (a fixture)

RULES = [
    "A Relevant Person must keep records of customer due diligence for at least six years "
    "after the business relationship ends.",
    "An Authorised Person must notify the Regulator within 10 business days of any change in "
    "its Controllers.",
    "A Relevant Person must identify every beneficial owner holding 25% or more of a legal "
    "person that is its customer.",
    "Enhanced due diligence applies to every Politically Exposed Person and to their family "
    "members and close associates.",
    "A Fund Manager must ensure that the Prospectus of a Public Fund is approved by the Fund's "
    "Shari'a Supervisory Board.",
    "An Insurer must hold capital resources at least equal to its minimum capital requirement "
    "at all times.",
]
QUESTIONS = [
    "For how long must customer due diligence records be kept?",
    "When must an Authorised Person notify the Regulator of a change in its Controllers?",
    "Which beneficial owners must a Relevant Person identify?",
    "To whom does enhanced due diligence apply?",
    "Who must approve the Prospectus of a Public Fund?",
    "What capital resources must an Insurer hold?",
]
# Ids whose Question.split is "tune" (rq0, rq2, rq5) and "held_out" (rq1, rq3, rq4).
IDS = ["rq0", "rq1", "rq2", "rq3", "rq4", "rq5"]


@pytest.fixture
def rules_questions(tmp_path):
    """A question file in the shared format over six rules, one document each (three questions
    in each half), and an unanswerable file beside it."""
    folder = tmp_path / "minireg"
    folder.mkdir()
    documents = [
        {"id": f"rule-{n}", "title": f"Rule {n}", "text": f"{n}.1.1 {rule}", "metadata": {}}
        for n, rule in enumerate(RULES, start=1)
    ]
    (folder / "documents.jsonl").write_text("".join(json.dumps(d) + "\n" for d in documents))
    (folder / "ABOUT.md").write_text("Rules written for the tests.\n")
    lines = []
    for identifier, question, document in zip(IDS, QUESTIONS, documents, strict=True):
        span = {"document": document["id"], "start": 0, "end": len(document["text"])}
        lines.append({"id": identifier, "question": question, "gold_spans": [span]})
    path = folder / "questions.dev.jsonl"
    path.write_text("".join(json.dumps(q) + "\n" for q in lines))
    unanswerable = [
        {"id": f"unans-{n}", "question": q, "answerable": False, "gold_documents": []}
        for n, q in enumerate(
            [
                "What does the UK FCA require of crypto exchanges?",
                "What is Canada's PCMLTFA?",
                "Which Australian regulator licenses banks?",
                "What does OSFI Guideline E-21 say?",
            ]
        )
    ]
    other = folder / "questions.unanswerable.dev.jsonl"
    other.write_text("".join(json.dumps(q) + "\n" for q in unanswerable))
    return path, other


def dataset_built(out, questions, *options: str):
    """`out`, a dataset built by build_sft_dataset from these question files, two sources a
    prompt, with any further options."""
    paths = [str(path) for path in questions]
    call_command(
        "build_sft_dataset", "--questions", *paths, "--out", str(out), "--sources", "2", *options
    )
    return out


@pytest.fixture
def dataset(db, rules_questions, tmp_path):
    """A dataset built from the rules' questions."""
    return dataset_built(tmp_path / "dataset", rules_questions)


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory):
    """A random two-layer Gemma 3 from a config, with a byte-level tokenizer trained on the
    prompt's own words so that prompts stay a few hundred tokens long."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig, PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=1200,
        special_tokens=["<pad>", "<bos>", "<eos>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator([SYSTEM, *RULES, *QUESTIONS] * 3, trainer)
    wrapped = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, bos_token="<bos>", eos_token="<eos>", pad_token="<pad>"
    )
    torch.manual_seed(0)
    config = Gemma3TextConfig(
        vocab_size=len(wrapped),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=32,
        max_position_embeddings=4096,
        sliding_window=64,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
    )
    directory = tmp_path_factory.mktemp("tiny-gemma")
    Gemma3ForCausalLM(config).save_pretrained(directory)
    wrapped.save_pretrained(directory)
    return directory
