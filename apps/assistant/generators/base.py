from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import asdict, dataclass

from django.conf import settings

from apps.assistant.prompts import Prompt


class GeneratorError(Exception):
    """A generator failed or was misused, with a message fit to show the person asking."""


class UnknownAdapter(GeneratorError):
    pass


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

    @property
    @abstractmethod
    def model_name(self) -> str: ...

    @abstractmethod
    def stream(
        self, prompt: Prompt, *, adapter: str | None = None, decoding: DecodingSettings
    ) -> Iterator[str]:
        """Yield the output text in pieces as it is produced."""

    def generate(
        self, prompt: Prompt, *, adapter: str | None = None, decoding: DecodingSettings
    ) -> str:
        return "".join(self.stream(prompt, adapter=adapter, decoding=decoding))

    def check_adapter(self, adapter: str | None) -> None:
        """Raise UnknownAdapter unless `adapter` is None or one this deployment serves."""
        if adapter is not None and adapter not in configured_adapters():
            known = ", ".join(sorted(configured_adapters())) or "none are configured"
            raise UnknownAdapter(f"unknown adapter {adapter!r} (known adapters: {known})")


def configured_adapters() -> dict[str, str]:
    """GENERATOR_ADAPTERS as {name: path}, in TGI's LORA_ADAPTERS form `name=/path,...`."""
    return dict(settings.GENERATOR_ADAPTERS)
