from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import asdict, dataclass

from apps.adapters.selectors import AdapterChoice
from apps.assistant.prompts import Prompt


class GeneratorError(Exception):
    """A generator failed or was misused, with a message fit to show the person asking."""


class UnknownAdapter(GeneratorError):
    """An adapter the registry does not serve: unknown, retired, or not approved and active."""


@dataclass(frozen=True)
class DecodingSettings:
    max_new_tokens: int = 768
    temperature: float = 0.0  # 0 means greedy, so that an answer can be replayed
    seed: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


class Generator(ABC):
    """Turns a prompt into the JSON text of answer_format.ANSWER_SCHEMA."""

    backend: str
    takes_adapters = True  # LoRA adapters from the registry

    @property
    @abstractmethod
    def model_name(self) -> str: ...

    @abstractmethod
    def stream(
        self, prompt: Prompt, *, adapter: AdapterChoice | None = None, decoding: DecodingSettings
    ) -> Iterator[str]:
        """Yield the output text in pieces as it is produced."""

    def generate(
        self, prompt: Prompt, *, adapter: AdapterChoice | None = None, decoding: DecodingSettings
    ) -> str:
        return "".join(self.stream(prompt, adapter=adapter, decoding=decoding))

    def check_adapter(self, adapter: AdapterChoice | None) -> None:
        """Raise GeneratorError if this backend cannot answer with `adapter` (chosen from the
        registry by adapters.selectors), before any work is done."""
        return None
