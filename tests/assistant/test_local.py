"""The local generator, with a tiny random model built here, and (slow) the packaged Gemma."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time

import jsonschema
import pytest

from apps.adapters.files import files_sha256, folder_files, folder_sha256
from apps.adapters.selectors import AdapterChoice
from apps.assistant.answer_format import ANSWER_SCHEMA, parse_draft
from apps.assistant.generators.base import DecodingSettings, GeneratorError
from apps.assistant.generators.json_constraint import DONE, START, AnswerMachine
from apps.assistant.generators.local import LocalGenerator
from apps.assistant.prompts import build
from apps.retrieval.search import Hit

TRAINING_TEXT = [
    '{"statements": [{"citations": [1, 2], "quote": "must identify", "text": "A firm must'
    ' identify the beneficial owner."}], "abstain": {"reason": "The sources do not say."}}',
    "You answer questions for lawyers using only the numbered sources you are given.",
    "Question: Who must be identified? Sources: customer due diligence, records, reports.",
]


def hit(number: int, text: str) -> Hit:
    return Hit(
        chunk_id=number,
        corpus="aml",
        document_id=number,
        document_external_id=f"doc-{number}",
        document_version=1,
        citation_label=f"AML {number}",
        heading_path=(f"4.{number} Due diligence",),
        text=text,
        char_start=0,
        char_end=len(text),
        page_start=None,
        page_end=None,
        content_hash=f"hash-{number}",
        legs={},
        fused_score=1.0,
        fused_rank=number,
    )


PROMPT = build(
    "Who must a firm identify?",
    [
        hit(1, "A firm must identify every beneficial owner holding 25% or more."),
        hit(2, "Records of customer due diligence are kept for five years."),
        hit(3, "Suspicious activity is reported to the financial intelligence unit."),
    ],
)
NO_SOURCES = build("Who must a firm identify?", [])


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    """A random two-layer Llama with a byte-level tokenizer trained on a few lines."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<s>", "</s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(TRAINING_TEXT, trainer)
    wrapped = PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>")
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(wrapped),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
    )
    directory = tmp_path_factory.mktemp("tiny-model")
    LlamaForCausalLM(config).save_pretrained(directory)
    wrapped.save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def tiny_adapter_dir(tiny_model_dir, tmp_path_factory):
    """A LoRA adapter for the tiny model, with random (not zero) weights so that it matters."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(1)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    lora = LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    directory = tmp_path_factory.mktemp("tiny-adapter")
    get_peft_model(model, lora).save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def generator():
    """One generator for the module, as a process has one; it loads the model once."""
    return LocalGenerator()


def choice_of(path, name: str = "tuned", version: int = 1) -> AdapterChoice:
    """The adapter as the registry would hand it to the generator, with its files' hashes."""
    files = files_sha256(path, folder_files(path))
    return AdapterChoice(name, version, folder_sha256(files), str(path), "a test's", files)


@pytest.fixture
def tiny(settings, tiny_model_dir, generator):
    settings.LOCAL_MODEL = str(tiny_model_dir)
    return generator


def assert_valid_answer(raw: str, sources: int) -> dict:
    data = json.loads(raw)
    jsonschema.validate(data, ANSWER_SCHEMA)
    assert parse_draft(raw).malformed is None
    for statement in data["statements"]:
        assert all(1 <= number <= sources for number in statement["citations"])
    return data


@pytest.mark.parametrize(
    ("temperature", "seed", "max_new_tokens"),
    [(0.0, 0, 200), (1.0, 1, 150), (1.0, 2, 300), (2.0, 3, 120), (0.7, 4, 40)],
)
def test_a_random_model_still_writes_a_valid_answer(tiny, temperature, seed, max_new_tokens):
    decoding = DecodingSettings(max_new_tokens, temperature, seed)
    assert_valid_answer(tiny.generate(PROMPT, decoding=decoding), sources=3)


def test_without_sources_no_statement_can_be_written(tiny):
    for seed in range(2):
        raw = tiny.generate(NO_SOURCES, decoding=DecodingSettings(60, 1.5, seed))
        assert assert_valid_answer(raw, sources=0)["statements"] == []


def test_the_answer_streams_in_pieces(tiny):
    pieces = list(tiny.stream(PROMPT, decoding=DecodingSettings(60, 1.0, 5)))
    assert len(pieces) > 1
    assert_valid_answer("".join(pieces), sources=3)


def test_greedy_decoding_replays_and_sampling_follows_the_seed(tiny):
    def generate(temperature, seed):
        return tiny.generate(PROMPT, decoding=DecodingSettings(50, temperature, seed))

    assert generate(0.0, 0) == generate(0.0, 7)
    assert generate(1.0, 3) == generate(1.0, 3)


def test_the_smallest_budget_fits_an_empty_answer(tiny):
    assert tiny.generate(PROMPT, decoding=DecodingSettings(17)) == '{"statements":[]}'
    with pytest.raises(GeneratorError, match="at least 17"):
        tiny.generate(PROMPT, decoding=DecodingSettings(16))


def test_an_adapter_changes_the_model_and_can_be_turned_off(tiny, tiny_adapter_dir):
    import torch

    tuned_adapter = choice_of(tiny_adapter_dir)
    model = tiny.model()
    ids = model.prompt_ids(PROMPT)

    def logits(adapter):
        with model.adapter(adapter), torch.inference_mode():
            return (model.with_adapters or model.base)(input_ids=ids).logits[0, -1]

    base = logits(None)
    tuned = logits(tuned_adapter)
    assert not torch.allclose(base, tuned)
    assert torch.allclose(logits(None), base)
    decoding = DecodingSettings(80)
    answer = tiny.generate(PROMPT, adapter=tuned_adapter, decoding=decoding)
    assert_valid_answer(answer, sources=3)


def test_a_missing_or_tampered_adapter_is_refused_before_it_is_loaded(
    tiny, tiny_adapter_dir, tmp_path
):
    decoding = DecodingSettings(40)
    gone = AdapterChoice("gone", 1, "0" * 64, str(tmp_path / "gone"), "a test's", {})
    with pytest.raises(GeneratorError, match="no LoRA adapter"):
        tiny.generate(PROMPT, adapter=gone, decoding=decoding)
    copy = tmp_path / "copy"
    shutil.copytree(tiny_adapter_dir, copy)
    tampered = choice_of(copy, name="tampered")
    weights = copy / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-1] + b"\0")
    with pytest.raises(GeneratorError, match=r"refused.*changed: adapter_model\.safetensors"):
        tiny.generate(PROMPT, adapter=tampered, decoding=decoding)
    loaded = tiny.model().with_adapters
    assert loaded is None or tampered.key not in loaded.peft_config


def test_an_adapter_that_cannot_be_read_is_reported(tiny, tmp_path):
    (tmp_path / "adapter_config.json").write_text("not json")
    with pytest.raises(GeneratorError, match="cannot be loaded"):
        tiny.generate(PROMPT, adapter=choice_of(tmp_path, "broken"), decoding=DecodingSettings(40))


def test_running_out_of_memory_is_reported(tiny, monkeypatch):
    def exhausted(prompt):
        raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(tiny.model(), "prompt_ids", exhausted)
    with pytest.raises(GeneratorError, match="ran out of memory"):
        tiny.generate(PROMPT, decoding=DecodingSettings(40))


def test_a_model_with_a_chat_template_is_prompted_with_the_messages(
    settings, tiny_model_dir, tmp_path
):
    shutil.copytree(tiny_model_dir, tmp_path, dirs_exist_ok=True)
    config = json.loads((tmp_path / "tokenizer_config.json").read_text())
    config["chat_template"] = (
        "{% for message in messages %}<{{ message.role }}>{{ message.content }}{% endfor %}"
        "{% if add_generation_prompt %}<assistant>{% endif %}"
    )
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(config))
    settings.LOCAL_MODEL = str(tmp_path)
    model = LocalGenerator().model()
    text = model.tokenizer.decode(model.prompt_ids(PROMPT)[0])
    assert text.startswith("<system>You answer questions")
    assert text.endswith("Question: Who must a firm identify?<assistant>")


def test_a_missing_model_directory_is_reported(settings, tmp_path):
    settings.LOCAL_MODEL = str(tmp_path / "missing")
    with pytest.raises(GeneratorError, match="not a model directory"):
        LocalGenerator().generate(PROMPT, decoding=DecodingSettings(40))


def test_the_model_name_is_the_configured_model(settings):
    settings.LOCAL_MODEL = "/models/tuned-gemma"
    assert LocalGenerator().model_name == "/models/tuned-gemma"
    settings.LOCAL_MODEL = ""
    assert LocalGenerator().model_name == "gemma-3-270m"


@pytest.mark.parametrize(
    ("text", "sources", "complete"),
    [
        ('{"statements":[]}', 0, True),
        ('{"statements": [], "abstain": {"reason": "Nothing on this."}}', 0, True),
        (
            '{"statements": [{"citations": [1, 12], "quote": "q", "text": "Say \\"yes\\"."},'
            ' {"citations": [3], "text": "b"}]}',
            12,
            True,
        ),
        ('{"statements": [{"citations": [13], "text": "a"}]}', 12, False),
        ('{"statements": [{"citations": [0], "text": "a"}]}', 3, False),
        ('{"statements": [{"citations": [01], "text": "a"}]}', 3, False),
        ('{"statements": [{"citations": [], "text": "a"}]}', 3, False),
        ('{"statements": [{"citations": [1]}]}', 3, False),
        ('{"statements": [{"citations": [1], "quote": "q"}]}', 3, False),
        ('{"statements": [{"citations": [1], "text": "a", "quote": "q"}]}', 3, False),
        ('{"statements": [{"text": "a", "citations": [1]}]}', 3, False),
        ('{"statements": [{"citations": [1], "text": "a\nb"}]}', 3, False),
        ('{"statements": [{"citations": [1], "text": "a"}]}', 0, False),
        ('{"statements": []}\n', 0, False),
    ],
)
def test_the_machine_reads_only_the_answer_layout(text, sources, complete):
    state = AnswerMachine(sources).advance(START, text)
    assert (state == DONE) is complete
    if complete:
        assert_valid_answer(text, sources)


def test_importing_the_backend_does_not_import_torch():
    code = (
        "import sys, django; django.setup(); import apps.assistant.generators.local; "
        "print('torch' in sys.modules, 'transformers' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.split() == ["False", "False"]


@pytest.mark.slow
def test_the_packaged_gemma_answers_with_valid_json(settings):
    """Converts the packaged model into MODEL_CACHE on the first run (about a minute)."""
    settings.LOCAL_MODEL = ""
    generator = LocalGenerator()
    started = time.perf_counter()
    generator.model()
    loaded = time.perf_counter()
    raw, first_piece, first_statement_text = "", None, None
    for piece in generator.stream(PROMPT, decoding=DecodingSettings(160)):
        raw += piece
        first_piece = first_piece or time.perf_counter()
        if first_statement_text is None and '"text":' in raw and not raw.endswith('"'):
            first_statement_text = time.perf_counter()
    finished = time.perf_counter()
    tokens = generator.model().tokenizer(raw, add_special_tokens=False).input_ids
    print(
        f"\nload {loaded - started:.1f} s, first piece {first_piece - loaded:.1f} s, first "
        f"statement text {first_statement_text - loaded:.1f} s, "
        f"{(len(tokens) - 1) / (finished - first_piece):.1f} tokens/s after the first\n{raw}"
    )
    assert_valid_answer(raw, sources=3)
