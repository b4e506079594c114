"""A loopback server that speaks TGI's documented HTTP API, for testing the TGI generator.

Every request body is validated against the request schema in the TGI OpenAPI description and
answered 422 with TGI's ErrorResponse when it does not conform. Each request is recorded, and each
generation request is answered with the next scripted outcome.

LoRA: `adapters` are the ids the server was started with (TGI's LORA_ADAPTERS, vLLM's
--lora-modules). As a TGI server it lists them in /info (`lora_adapters`) when told to advertise
them, and, as TGI does (its issue #2505), answers a request whose `adapter_id` it does not know
with its base model, silently (recorded in `fallbacks`). As a vLLM server (`flavour="vllm"`) it
lists them in /v1/models with the base model as their parent, and answers 404 to a chat request
naming a model it does not serve.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jsonschema

# The TGI 3.3.6 OpenAPI description, vendored with its source and licence (tests/data/README.md).
OPENAPI = Path(__file__).resolve().parents[1] / "data" / "tgi-openapi.json"
MODEL_ID = "acme/compliance-7b"
VLLM_BASE = "base"  # the --served-model-name of the base model
REQUEST_SCHEMAS = {
    "/generate": "GenerateRequest",
    "/generate_stream": "GenerateRequest",
    "/v1/chat/completions": "ChatRequest",
}


@dataclass(frozen=True)
class Tokens:
    """Answer with `text` split into `pieces` tokens. `delay_s` passes before the answer starts;
    a stream can end early by closing the connection after `cut_after` events, or with an error
    event in place of event `error_after` (events count from 0; a chat stream's first event
    carries only the role)."""

    text: str
    pieces: int = 4
    delay_s: float = 0.0
    cut_after: int | None = None
    error_after: int | None = None


@dataclass(frozen=True)
class Failure:
    """Answer with an HTTP error status and TGI's ErrorResponse body."""

    status: int
    error: str
    error_type: str
    retry_after: str | None = None


# An outcome, or a function of the request body that chooses one.
Reply = Tokens | Failure | Callable[[dict], Tokens | Failure]


@dataclass(frozen=True)
class ReceivedRequest:
    path: str
    body: dict
    headers: dict[str, str]


def request_validators() -> dict[str, jsonschema.Validator]:
    """A validator per generation path, with the OpenAPI components as the `$ref` targets."""
    components = openapi_nullable_as_json_schema(json.loads(OPENAPI.read_text())["components"])
    return {
        path: jsonschema.Draft202012Validator(
            {"$ref": f"#/components/schemas/{name}", "components": components}
        )
        for path, name in REQUEST_SCHEMAS.items()
    }


def openapi_nullable_as_json_schema(node):
    """OpenAPI 3.0's `nullable: true` rewritten as the JSON Schema that also admits null."""
    if isinstance(node, list):
        return [openapi_nullable_as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: openapi_nullable_as_json_schema(value) for key, value in node.items()}
    if converted.pop("nullable", False) is True:
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


def split_into(text: str, pieces: int) -> list[str]:
    size = max(1, -(-len(text) // pieces))
    return [text[start : start + size] for start in range(0, len(text), size)]


class TgiServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, flavour: str = "tgi") -> None:
        super().__init__(("127.0.0.1", 0), TgiHandler)
        self.flavour = flavour
        self.adapters: list[str] = []
        self.advertise_adapters = True
        self.fallbacks: list[str] = []
        self.validators = request_validators()
        self.replies: deque[Reply] = deque()
        self.requests: list[ReceivedRequest] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def script(self, *replies: Reply) -> None:
        """Queue the answers to the next generation requests, one each, in order."""
        self.replies.extend(replies)

    def next_outcome(self, body: dict) -> Tokens | Failure:
        with self.lock:
            if not self.replies:
                return Failure(500, "the test server had no answer scripted", "unscripted")
            reply = self.replies.popleft()
        return reply(body) if callable(reply) else reply

    def record(self, request: ReceivedRequest) -> None:
        with self.lock:
            self.requests.append(request)

    def start(self) -> TgiServer:
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class TgiHandler(BaseHTTPRequestHandler):
    # HTTP/1.1 so that streams are chunked: a stream cut short is then visible to the client.
    protocol_version = "HTTP/1.1"
    server: TgiServer

    def log_message(self, format, *args) -> None:
        pass

    def do_GET(self) -> None:
        self.server.record(ReceivedRequest(self.path, {}, dict(self.headers)))
        if self.path == "/health":
            self.send_json(200, {})
        elif self.path == "/info":
            listed = {"lora_adapters": [{"id": a} for a in self.server.adapters]}
            self.send_json(200, info() | (listed if self.server.advertise_adapters else {}))
        elif self.path == "/v1/models" and self.server.flavour == "vllm":
            self.send_json(200, vllm_models(self.server.adapters))
        else:
            self.send_error_response(404, "not found", "not_found")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        try:
            body = json.loads(self.rfile.read(length))
        except json.JSONDecodeError as exc:
            self.send_error_response(422, f"invalid JSON: {exc}", "validation")
            return
        self.server.record(ReceivedRequest(self.path, body, dict(self.headers)))
        validator = self.server.validators.get(self.path)
        if validator is None:
            self.send_error_response(404, "not found", "not_found")
            return
        error = jsonschema.exceptions.best_match(validator.iter_errors(body))
        if error is not None:
            where = "/".join(str(part) for part in error.absolute_path) or "body"
            self.send_error_response(422, f"{where}: {error.message}", "validation")
            return
        if self.unserved_model(body):
            return
        outcome = self.server.next_outcome(body)
        if isinstance(outcome, Failure):
            self.send_error_response(
                outcome.status, outcome.error, outcome.error_type, outcome.retry_after
            )
            return
        time.sleep(outcome.delay_s)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up
            self.answer(body, outcome)

    def unserved_model(self, body: dict) -> bool:
        """vLLM refuses a model it does not serve; TGI answers an unknown adapter_id with its
        base model, and only the record shows it."""
        vllm_chat = self.path == "/v1/chat/completions" and self.server.flavour == "vllm"
        if vllm_chat and body.get("model") not in (VLLM_BASE, *self.server.adapters):
            message = f"The model `{body.get('model')}` does not exist."
            error = {"object": "error", "message": message, "type": "NotFoundError"}
            self.send_json(404, error | {"param": None, "code": 404})
            return True
        adapter = (body.get("parameters") or {}).get("adapter_id")
        if adapter and adapter not in self.server.adapters:
            self.server.fallbacks.append(adapter)
        return False

    def answer(self, body: dict, outcome: Tokens) -> None:
        if self.path == "/generate":
            self.send_json(200, {"generated_text": outcome.text})
        elif self.path == "/generate_stream":
            self.send_events(generate_events(outcome), outcome)
        elif body.get("stream"):
            self.send_events([*chat_events(body, outcome), "[DONE]"], outcome)
        else:
            self.send_json(200, chat_completion(body, outcome))

    def send_events(self, events: list, outcome: Tokens) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for number, event in enumerate(events):
            if number == outcome.error_after:
                event = {"error": "CUDA out of memory", "error_type": "generation"}
            if number == outcome.cut_after:
                self.close_connection = True
                return  # no terminating chunk: the stream ends mid-answer
            data = event if isinstance(event, str) else json.dumps(event)
            self.send_chunk(f"data: {data}\n\n".encode())
            if number == outcome.error_after:
                break
        self.send_chunk(b"")

    def send_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def send_json(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def send_error_response(
        self, status: int, error: str, error_type: str, retry_after: str | None = None
    ) -> None:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        self.send_json(status, {"error": error, "error_type": error_type}, headers)


def info() -> dict:
    return {
        "model_id": MODEL_ID,
        "max_concurrent_requests": 128,
        "max_best_of": 2,
        "max_stop_sequences": 4,
        "max_input_tokens": 8191,
        "max_total_tokens": 8192,
        "validation_workers": 2,
        "max_client_batch_size": 4,
        "router": "text-generation-router",
        "version": "3.3.6-dev0",
    }


def vllm_models(adapters: list[str]) -> dict:
    """vLLM's /v1/models: the base model and each LoRA module, whose parent is the base."""

    def card(model_id: str, parent: str | None) -> dict:
        return {
            "id": model_id,
            "object": "model",
            "created": 0,
            "owned_by": "vllm",
            "root": model_id,
            "parent": parent,
            "max_model_len": 8192,
        }

    return {
        "object": "list",
        "data": [card(VLLM_BASE, None)] + [card(a, VLLM_BASE) for a in adapters],
    }


def generate_events(outcome: Tokens) -> list[dict]:
    """StreamResponse events: one per token, then the special end-of-sequence token that carries
    the generated text and details."""
    pieces = split_into(outcome.text, outcome.pieces)
    events = [
        {"index": index, "token": token(index, piece, special=False)}
        for index, piece in enumerate(pieces)
    ]
    end = len(pieces)
    details = {"finish_reason": "eos_token", "generated_tokens": end + 1, "input_length": 100}
    events.append(
        {
            "index": end,
            "token": token(end, "</s>", special=True),
            "generated_text": outcome.text,
            "details": details,
        }
    )
    return events


def token(index: int, text: str, *, special: bool) -> dict:
    return {"id": 1000 + index, "text": text, "logprob": -0.25, "special": special}


def chat_events(body: dict, outcome: Tokens) -> list[dict]:
    """ChatCompletionChunk events: the role, one per token, then the finish reason."""
    deltas = [{"role": "assistant", "content": ""}]
    deltas += [
        {"role": "assistant", "content": piece}
        for piece in split_into(outcome.text, outcome.pieces)
    ]
    chunks = [chat_chunk(body, delta, None) for delta in deltas]
    chunks.append(chat_chunk(body, {"role": "assistant", "content": ""}, "stop"))
    return chunks


def chat_chunk(body: dict, delta: dict, finish_reason: str | None) -> dict:
    return {
        "id": "",
        "created": int(time.time()),
        "model": body.get("model") or MODEL_ID,
        "system_fingerprint": "3.3.6-dev0-native",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
    }


def chat_completion(body: dict, outcome: Tokens) -> dict:
    return {
        "id": "",
        "created": int(time.time()),
        "model": body.get("model") or MODEL_ID,
        "system_fingerprint": "3.3.6-dev0-native",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": outcome.text},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110},
    }


@contextlib.contextmanager
def serving(flavour: str = "tgi") -> Iterator[TgiServer]:
    """A running test server, stopped on leaving."""
    server = TgiServer(flavour).start()
    try:
        yield server
    finally:
        server.stop()
