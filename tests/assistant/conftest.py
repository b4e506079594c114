from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from apps.assistant.generators.base import DecodingSettings, Generator
from apps.assistant.prompts import Prompt
from tests.retrieval.conftest import CANARY, corpora  # noqa: F401

Script = Callable[[Prompt], list[str | Exception]]


class ScriptedGenerator(Generator):
    """Replays the output a script writes for the prompt it is given, piece by piece; an
    exception in the output is raised at that point, as a backend failing mid-stream would."""

    backend = "scripted"
    model_name = "scripted-1"

    def __init__(self, script: Script) -> None:
        self.script = script
        self.prompts: list[Prompt] = []

    def stream(self, prompt: Prompt, *, adapter=None, decoding: DecodingSettings):
        self.prompts.append(prompt)
        for piece in self.script(prompt):
            if isinstance(piece, Exception):
                raise piece
            yield piece


def answer_json(*statements: dict, abstain: str | None = None) -> str:
    output: dict = {"statements": list(statements)}
    if abstain:
        output["abstain"] = {"reason": abstain}
    return json.dumps(output)


def number_of(prompt: Prompt, needle: str) -> int:
    """The number the prompt gave the source whose text holds `needle`."""
    return next(s.number for s in prompt.sources if needle in s.hit.text)


CDD_SENTENCE = (
    "A Relevant Person must identify every beneficial owner holding 25% or more of a\n"
    "legal person that is its customer."
)


def faithful(prompt: Prompt) -> list[str]:
    """One supported statement, quoted from its source, written in two stream pieces."""
    text = " ".join(CDD_SENTENCE.split())
    number = number_of(prompt, "beneficial owner")
    output = answer_json({"text": text, "citations": [number], "quote": text})
    return [output[:40], output[40:]]


@pytest.fixture
def generator(monkeypatch):
    """Make the answer service use a ScriptedGenerator (`faithful` until told otherwise),
    in a live server's thread as in the test's."""

    def use(script: Script) -> ScriptedGenerator:
        scripted = ScriptedGenerator(script)
        monkeypatch.setattr("apps.assistant.services.get_generator", lambda: scripted)
        return scripted

    use(faithful)
    return use
