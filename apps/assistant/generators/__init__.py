"""Generator backends behind one interface, chosen by the GENERATOR_BACKEND setting."""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from apps.assistant.generators.base import Generator, GeneratorError

# Import paths, so that choosing a backend never imports another one's dependencies (torch).
BACKENDS = {
    "extractive": "apps.assistant.generators.extractive.ExtractiveGenerator",
    "local": "apps.assistant.generators.local.LocalGenerator",
    "tgi": "apps.assistant.generators.tgi.TgiGenerator",
}


def get_generator(backend: str | None = None) -> Generator:
    """The configured generator, or the named one; built once per process."""
    name = backend or settings.GENERATOR_BACKEND
    if name not in BACKENDS:
        raise GeneratorError(
            f"unknown generator backend {name!r}; choose one of {', '.join(BACKENDS)}"
        )
    return build_generator(name)


@cache
def build_generator(name: str) -> Generator:
    return import_string(BACKENDS[name])()
