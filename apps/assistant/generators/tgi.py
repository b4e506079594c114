"""The TGI backend: a Text Generation Inference server over HTTP.

TGI_API=generate streams from TGI's native /generate_stream, with the answer schema as a JSON
grammar and the adapter as `adapter_id` (TGI's multi-LoRA, loaded from LORA_ADAPTERS).
TGI_API=chat streams from the OpenAI-compatible /v1/chat/completions with the answer schema as
TGI's `response_format`; there an adapter is sent as the request's `model`, the field by which
OpenAI-compatible servers such as vLLM select a LoRA adapter.

An adapter id is checked before it is sent: TGI answers with its base model, silently, for an
adapter id it does not know (text-generation-inference issue #2505). The registry chose the
adapter version, sent by its key (`regulatory-answer-v3`, as serving_config names it); the server
must also say that it serves it: TGI in /info (`lora_adapters`), vLLM in
/v1/models. A server that does not say is trusted only with TGI_ADAPTER_CHECK=registry.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import partial
from time import sleep

import httpx2
from django.conf import settings
from huggingface_hub import InferenceClient, get_session
from huggingface_hub.errors import HfHubHTTPError, InferenceTimeoutError, TextGenerationError

from apps.adapters.selectors import AdapterChoice
from apps.assistant.answer_format import ANSWER_SCHEMA
from apps.assistant.generators.base import DecodingSettings, Generator, GeneratorError
from apps.assistant.prompts import Prompt

APIS = ("generate", "chat")
RETRIED_STATUSES = (429, 503)
ADAPTERS_TTL_S = 30.0  # servers load adapters at start-up only
# TGI's GrammarType: the output must be JSON that conforms to this schema.
ANSWER_GRAMMAR = {"type": "json", "value": ANSWER_SCHEMA}


class TgiGenerator(Generator):
    backend = "tgi"
    # Before retry n (from 0) on 429 or 503 it waits this × 2**n, unless the server says otherwise.
    retry_delay_s = 0.5

    def __init__(self) -> None:
        self.served_models: dict[str, str] = {}
        self.advertised: dict[str, tuple[float, set[str] | None]] = {}

    @property
    def model_name(self) -> str:
        """TGI_MODEL for the chat API; for the native API, the model the server reports in
        /info, or its URL while the server cannot say."""
        if settings.TGI_API == "chat":
            return settings.TGI_MODEL
        url = server_url()
        if url not in self.served_models:
            try:
                self.served_models[url] = served_model_id(url)
            except (httpx2.HTTPError, ValueError, KeyError):
                return url
        return self.served_models[url]

    def stream(
        self, prompt: Prompt, *, adapter: AdapterChoice | None = None, decoding: DecodingSettings
    ) -> Iterator[str]:
        self.check_adapter(adapter)
        url = server_url()
        client = InferenceClient(url, headers=authorization(), timeout=settings.TGI_TIMEOUT_S)
        if settings.TGI_API == "chat":
            start = partial(start_chat, client, prompt, adapter and adapter.key, decoding)
            pieces = chat_pieces
        else:
            start = partial(start_generate, client, url, prompt, adapter and adapter.key, decoding)
            pieces = token_pieces
        with client, user_facing_errors(url):
            yield from pieces(self.with_retries(start))

    def check_adapter(self, adapter: AdapterChoice | None) -> None:
        """Raise GeneratorError unless the server says it serves the adapter: never let it
        answer with its base model in the adapter's name."""
        if settings.TGI_API not in APIS:
            raise GeneratorError(
                f"TGI_API must be one of {', '.join(APIS)}, not {settings.TGI_API!r}"
            )
        if adapter is None:
            return
        url = server_url()
        served = self.served_adapters(url)
        if served is None:
            if settings.TGI_ADAPTER_CHECK == "registry":
                return
            raise GeneratorError(
                f"the server at {url} does not say which adapters it serves, so adapter "
                f"{adapter.key!r} cannot be checked (set TGI_ADAPTER_CHECK=registry to trust "
                f"the registry's serving_config alone)"
            )
        if adapter.key not in served:
            raise GeneratorError(
                f"the server at {url} does not serve adapter {adapter.key!r} (it serves: "
                f"{', '.join(sorted(served)) or 'none'}); it would answer with its base model"
            )

    def served_adapters(self, url: str) -> set[str] | None:
        """The adapter ids the server advertises, read at most every ADAPTERS_TTL_S seconds;
        None when it does not advertise them."""
        cached = self.advertised.get(url)
        if cached is not None and time.monotonic() - cached[0] < ADAPTERS_TTL_S:
            return cached[1]
        try:
            served = advertised_adapters(url, settings.TGI_API)
        except (httpx2.HTTPError, ValueError, KeyError, TypeError) as exc:
            raise GeneratorError(f"cannot read the adapters served at {url}: {exc}") from None
        self.advertised[url] = (time.monotonic(), served)
        return served

    def with_retries(self, start: Callable[[], Iterable]) -> Iterable:
        """Start the request, retrying while the server is overloaded or unavailable. Only the
        start is retried: once output has been streamed, a failure is final."""
        attempt = 0
        while True:
            try:
                return start()
            except (HfHubHTTPError, TextGenerationError) as exc:
                response = http_response(exc)
                retried = response is not None and response.status_code in RETRIED_STATUSES
                if not retried or attempt >= settings.TGI_MAX_RETRIES:
                    raise
                sleep(self.backoff_s(attempt, response))
                attempt += 1

    def backoff_s(self, attempt: int, response: httpx2.Response) -> float:
        """The server's Retry-After in seconds (at most TGI_TIMEOUT_S), else exponential."""
        try:
            wait_s = float(response.headers["Retry-After"])
            return min(max(wait_s, 0.0), settings.TGI_TIMEOUT_S)
        except (KeyError, ValueError):
            return self.retry_delay_s * 2**attempt


def server_url() -> str:
    return settings.TGI_URL.rstrip("/")


def authorization() -> dict[str, str]:
    """TGI_TOKEN as a bearer token. Without one the header is sent empty: the client library
    would otherwise send the Hugging Face token saved on this machine to the TGI server."""
    return {"authorization": f"Bearer {settings.TGI_TOKEN}" if settings.TGI_TOKEN else ""}


def advertised_adapters(url: str, api: str) -> set[str] | None:
    """TGI: /info's `lora_adapters` (ids, or objects with an `id`); vLLM and other OpenAI-
    compatible servers: the models of /v1/models that have a parent (the LoRA modules)."""
    if api == "chat":
        models = get_json(f"{url}/v1/models")["data"]
        return {m["id"] for m in models if m.get("parent")}
    listed = get_json(f"{url}/info").get("lora_adapters")
    if listed is None:
        return None
    return {item["id"] if isinstance(item, dict) else str(item) for item in listed}


def get_json(url: str):
    response = get_session().get(url, headers=authorization(), timeout=settings.TGI_TIMEOUT_S)
    response.raise_for_status()
    return response.json()


def served_model_id(url: str) -> str:
    response = get_session().get(
        f"{url}/info", headers=authorization(), timeout=settings.TGI_TIMEOUT_S
    )
    response.raise_for_status()
    return response.json()["model_id"]


def start_generate(
    client: InferenceClient,
    url: str,
    prompt: Prompt,
    adapter: str | None,
    decoding: DecodingSettings,
) -> Iterable:
    if decoding.temperature == 0:
        sampling = {"do_sample": False}
    else:
        # TGI's API takes only a positive seed; with seed 0 the server picks one.
        seed = decoding.seed or None
        sampling = {"do_sample": True, "temperature": decoding.temperature, "seed": seed}
    return client.text_generation(
        prompt.text(),
        model=f"{url}/generate_stream",
        stream=True,
        details=True,
        adapter_id=adapter,
        grammar=ANSWER_GRAMMAR,
        max_new_tokens=decoding.max_new_tokens,
        **sampling,
    )


def start_chat(
    client: InferenceClient, prompt: Prompt, adapter: str | None, decoding: DecodingSettings
) -> Iterable:
    return client.chat_completion(
        prompt.messages(),
        model=adapter or settings.TGI_MODEL,
        stream=True,
        response_format=ANSWER_GRAMMAR,
        max_tokens=decoding.max_new_tokens,
        temperature=decoding.temperature,
        seed=decoding.seed,
    )


def token_pieces(outputs: Iterable) -> Iterator[str]:
    """The text of each generated token, leaving out special tokens such as end-of-sequence."""
    for output in outputs:
        if output.token.text and not output.token.special:
            yield output.token.text


def chat_pieces(chunks: Iterable) -> Iterator[str]:
    for chunk in chunks:
        for choice in chunk.choices:
            if choice.delta.content:
                yield choice.delta.content


@contextmanager
def user_facing_errors(url: str) -> Iterator[None]:
    """Turn the client's exceptions into GeneratorErrors that say what went wrong."""
    try:
        yield
    except (InferenceTimeoutError, httpx2.TimeoutException) as exc:
        raise GeneratorError(
            f"the TGI server at {url} did not answer within {settings.TGI_TIMEOUT_S} s"
        ) from exc
    except httpx2.ConnectError as exc:
        raise GeneratorError(f"the TGI server at {url} is not reachable") from exc
    except (HfHubHTTPError, TextGenerationError) as exc:
        raise GeneratorError(http_error_message(exc)) from exc
    except (httpx2.TransportError, json.JSONDecodeError) as exc:
        raise GeneratorError(
            f"the TGI server at {url} sent an incomplete or unreadable answer stream"
        ) from exc


def http_response(exc: Exception) -> httpx2.Response | None:
    """The HTTP response behind an error; None for an error event inside a stream."""
    for error in (exc, exc.__cause__):
        response = getattr(error, "response", None)
        if isinstance(response, httpx2.Response):
            return response
    return None


def http_error_message(exc: Exception) -> str:
    response = http_response(exc)
    if response is None:
        return f"the model failed while writing the answer: {exc}"
    status, detail = response.status_code, server_error_text(response)
    if status == 422:
        return f"the TGI server rejected the request (HTTP 422): {detail}"
    if status == 424:
        return f"the model failed to generate an answer (HTTP 424): {detail}"
    if status in RETRIED_STATUSES:
        return (
            f"the TGI server is overloaded or unavailable (HTTP {status}) and still was after "
            f"{settings.TGI_MAX_RETRIES} retries: {detail}"
        )
    return f"the TGI server answered HTTP {status}: {detail}"


def server_error_text(response: httpx2.Response) -> str:
    """The `error` of TGI's ErrorResponse, or the start of whatever body came instead."""
    try:
        body = response.read()
    except httpx2.HTTPError:
        return response.reason_phrase
    try:
        return str(json.loads(body)["error"])
    except (ValueError, KeyError, TypeError):
        return body.decode(errors="replace")[:500] or response.reason_phrase
