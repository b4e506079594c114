"""The TGI generator over real HTTP, against a loopback server that validates every request
against TGI's OpenAPI description."""

from __future__ import annotations

import json
import re
import socket
import urllib.error
import urllib.request

import pytest

from apps.adapters.selectors import AdapterChoice
from apps.assistant.answer_format import ANSWER_SCHEMA
from apps.assistant.generators import tgi
from apps.assistant.generators.base import DecodingSettings, GeneratorError
from apps.assistant.generators.tgi import TgiGenerator
from apps.assistant.models import AnswerStatus
from apps.assistant.prompts import Prompt
from apps.assistant.services import answer_question
from tests.assistant.conftest import CDD_SENTENCE, answer_json
from tests.assistant.tgi_server import MODEL_ID, Failure, Tokens, serving

PROMPT = Prompt(question="Who must be identified?", sources=(), system="Rules.", user="Question?")
ANSWER = answer_json({"text": "Every beneficial owner must be identified.", "citations": [1]})
GREEDY = DecodingSettings(max_new_tokens=256)
AML = AdapterChoice("aml", 1, "a" * 64, "/adapters/aml/v1", "named by the request")
TAX = AdapterChoice("tax", 2, "b" * 64, "/adapters/tax/v2", "named by the request")


def generate(adapter: AdapterChoice | None = None, decoding: DecodingSettings = GREEDY) -> str:
    return TgiGenerator().generate(PROMPT, adapter=adapter, decoding=decoding)


def generation_requests(server) -> list:
    return [request for request in server.requests if request.path != "/info"]


@pytest.fixture
def tgi_server(settings):
    """A running TGI test server that settings.TGI_URL points at."""
    with serving() as server:
        settings.TGI_URL = server.url
        yield server


@pytest.fixture
def delays(monkeypatch) -> list[float]:
    """The generator's waits before retrying, recorded instead of slept."""
    waited: list[float] = []
    monkeypatch.setattr(tgi, "sleep", waited.append)
    return waited


@pytest.fixture(params=["generate", "chat"])
def api(request, settings) -> str:
    settings.TGI_API = request.param
    return request.param


def test_the_native_stream_yields_the_text_token_by_token(tgi_server):
    tgi_server.script(Tokens(ANSWER, pieces=6))
    pieces = list(TgiGenerator().stream(PROMPT, decoding=GREEDY))
    assert len(pieces) == 6
    assert "".join(pieces) == ANSWER  # the closing special token is left out


def test_the_native_request_carries_the_answer_grammar_and_the_adapter(tgi_server):
    tgi_server.adapters = ["aml-v1"]
    tgi_server.script(Tokens(ANSWER))
    generate(adapter=AML)
    [request] = generation_requests(tgi_server)
    assert request.path == "/generate_stream"
    assert request.body["inputs"] == PROMPT.text()
    parameters = request.body["parameters"]
    assert parameters["grammar"] == {"type": "json", "value": ANSWER_SCHEMA}
    assert parameters["adapter_id"] == "aml-v1"  # the version's key, as serving_config names it
    assert tgi_server.fallbacks == []
    assert parameters["max_new_tokens"] == 256
    assert parameters["do_sample"] is False and "temperature" not in parameters


def test_sampling_sends_the_temperature_and_the_seed(tgi_server):
    tgi_server.script(Tokens(ANSWER))
    generate(decoding=DecodingSettings(temperature=0.7, seed=7))
    parameters = tgi_server.requests[0].body["parameters"]
    assert (parameters["do_sample"], parameters["temperature"], parameters["seed"]) == (
        True,
        0.7,
        7,
    )
    assert "adapter_id" not in parameters


def test_the_chat_api_streams_with_the_answer_schema_as_response_format(tgi_server, settings):
    settings.TGI_API = "chat"
    settings.TGI_MODEL = "compliance-7b"
    tgi_server.script(Tokens(ANSWER, pieces=5))
    pieces = list(TgiGenerator().stream(PROMPT, decoding=GREEDY))
    assert len(pieces) == 5 and "".join(pieces) == ANSWER
    [request] = tgi_server.requests
    assert request.path == "/v1/chat/completions"
    assert request.body["messages"] == PROMPT.messages()
    assert request.body["model"] == "compliance-7b"
    assert request.body["stream"] is True
    assert request.body["response_format"] == {"type": "json", "value": ANSWER_SCHEMA}
    assert (request.body["max_tokens"], request.body["temperature"]) == (256, 0.0)


def test_with_the_chat_api_the_adapter_is_sent_as_the_model(settings):
    settings.TGI_API = "chat"
    with serving("vllm") as vllm:
        settings.TGI_URL = vllm.url
        vllm.adapters = ["aml-v1"]
        vllm.script(Tokens(ANSWER))
        generate(adapter=AML)
        assert [r.path for r in vllm.requests] == ["/v1/models", "/v1/chat/completions"]
        assert vllm.requests[1].body["model"] == "aml-v1"


def test_the_model_name_is_the_served_model_fetched_once(tgi_server):
    generator = TgiGenerator()
    assert generator.model_name == MODEL_ID
    assert generator.model_name == MODEL_ID
    assert [request.path for request in tgi_server.requests] == ["/info"]


def test_the_model_name_of_the_chat_api_is_the_configured_model(settings):
    settings.TGI_API = "chat"
    settings.TGI_MODEL = "compliance-7b"
    assert TgiGenerator().model_name == "compliance-7b"


def test_the_model_name_falls_back_to_the_url_while_the_server_is_down(settings):
    settings.TGI_URL = closed_port_url()
    assert TgiGenerator().model_name == settings.TGI_URL


def test_only_the_configured_token_is_sent(tgi_server, settings, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_personal_token")
    settings.TGI_TOKEN = ""
    tgi_server.script(Tokens(ANSWER), Tokens(ANSWER))
    generate()
    settings.TGI_TOKEN = "tgi-secret"
    generate()
    sent = [request.headers.get("authorization") for request in tgi_server.requests]
    assert sent == ["", "Bearer tgi-secret"]


def test_overload_is_retried_with_exponential_backoff(tgi_server, api, settings, delays):
    settings.TGI_MAX_RETRIES = 3
    tgi_server.script(
        Failure(429, "Model is overloaded", "overloaded"),
        Failure(503, "unhealthy", "healthcheck"),
        Tokens(ANSWER),
    )
    assert generate() == ANSWER
    assert len(tgi_server.requests) == 3
    assert delays == [0.5, 1.0]


def test_the_servers_retry_after_is_honoured(tgi_server, delays):
    tgi_server.script(Failure(429, "Model is overloaded", "overloaded", retry_after="2"))
    tgi_server.script(Tokens(ANSWER))
    assert generate() == ANSWER
    assert delays == [2.0]


def test_retries_are_bounded(tgi_server, settings, delays):
    settings.TGI_MAX_RETRIES = 2
    tgi_server.script(*[Failure(503, "unhealthy", "healthcheck")] * 3)
    with pytest.raises(GeneratorError, match=r"HTTP 503.*after 2 retries: unhealthy"):
        generate()
    assert len(tgi_server.requests) == 3
    assert delays == [0.5, 1.0]


def test_a_rejected_request_reports_the_servers_reason_and_is_not_retried(tgi_server, api, delays):
    reason = "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 8192"
    tgi_server.script(Failure(422, reason, "validation"))
    with pytest.raises(GeneratorError, match="rejected the request") as raised:
        generate()
    assert reason in str(raised.value)
    assert len(tgi_server.requests) == 1 and delays == []


def test_a_failed_model_or_adapter_is_reported(tgi_server, api):
    tgi_server.script(Failure(424, "Request failed during generation: adapter aml", "generation"))
    with pytest.raises(GeneratorError, match=r"model failed to generate an answer .*adapter aml"):
        generate()


def test_a_server_that_does_not_answer_in_time_times_out(tgi_server, settings):
    settings.TGI_TIMEOUT_S = 1
    tgi_server.script(Tokens(ANSWER, delay_s=1.5))
    with pytest.raises(GeneratorError, match=r"did not answer within 1 s"):
        generate()


def test_an_unreachable_server_is_reported(settings):
    settings.TGI_URL = closed_port_url()
    with pytest.raises(GeneratorError, match=f"the TGI server at {settings.TGI_URL} is not reach"):
        generate()


def test_an_error_event_mid_stream_ends_the_answer_with_an_error(tgi_server, api):
    tgi_server.script(Tokens(ANSWER, pieces=4, error_after=3))
    pieces = []
    with pytest.raises(GeneratorError, match="failed while writing the answer: CUDA out of memory"):
        pieces.extend(TgiGenerator().stream(PROMPT, decoding=GREEDY))
    assert pieces and ANSWER.startswith("".join(pieces))
    assert len(tgi_server.requests) == 1


def test_a_stream_cut_short_yields_its_text_and_then_an_error(tgi_server, api, delays):
    """The partial text is kept (the answer pipeline checks the statements it completed) and
    the request is never retried once output has arrived."""
    tgi_server.script(Tokens(ANSWER, pieces=4, cut_after=3))
    pieces = []
    with pytest.raises(GeneratorError, match="incomplete or unreadable answer stream"):
        pieces.extend(TgiGenerator().stream(PROMPT, decoding=GREEDY))
    assert pieces and ANSWER.startswith("".join(pieces)) and "".join(pieces) != ANSWER
    assert len(tgi_server.requests) == 1 and delays == []


def test_an_adapter_id_the_server_does_not_serve_is_never_sent(tgi_server):
    """TGI would answer with its base model (its issue #2505): the id is checked first."""
    tgi_server.adapters = ["aml-v1"]
    generator = TgiGenerator()
    generator.check_adapter(AML)
    generator.check_adapter(None)
    with pytest.raises(GeneratorError, match=r"does not serve adapter 'tax-v2'.*aml-v1"):
        generator.generate(PROMPT, adapter=TAX, decoding=GREEDY)
    assert generation_requests(tgi_server) == [] and tgi_server.fallbacks == []


def test_the_test_server_falls_back_to_its_base_model_as_tgi_does(tgi_server):
    tgi_server.script(Tokens(ANSWER))
    body = {"inputs": "x", "parameters": {"adapter_id": "tax-v2", "max_new_tokens": 4}}
    request = urllib.request.Request(
        f"{tgi_server.url}/generate",
        json.dumps(body).encode(),
        {"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        assert response.status == 200
    assert tgi_server.fallbacks == ["tax-v2"]


def test_a_server_that_does_not_list_its_adapters_is_trusted_only_when_told(tgi_server, settings):
    tgi_server.adapters, tgi_server.advertise_adapters = ["aml-v1"], False
    with pytest.raises(GeneratorError, match="does not say which adapters it serves"):
        TgiGenerator().check_adapter(AML)
    settings.TGI_ADAPTER_CHECK = "registry"
    TgiGenerator().check_adapter(AML)


def test_vllm_refuses_a_model_it_does_not_serve_and_the_client_never_asks(settings):
    settings.TGI_API = "chat"
    with serving("vllm") as vllm:
        settings.TGI_URL = vllm.url
        vllm.adapters = ["aml-v1"]
        with pytest.raises(GeneratorError, match="does not serve adapter 'tax-v2'"):
            generate(adapter=TAX)
        assert [r.path for r in vllm.requests] == ["/v1/models"]
        request = urllib.request.Request(
            f"{vllm.url}/v1/chat/completions",
            json.dumps({"model": "tax-v2", "messages": PROMPT.messages()}).encode(),
            {"Content-Type": "application/json"},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request)
        assert refused.value.code == 404


@pytest.mark.parametrize(
    ("path", "body", "reason"),
    [
        ("/generate_stream", {"parameters": {}}, "'inputs' is a required property"),
        ("/generate_stream", {"inputs": "x", "parameters": {"max_new_tokens": -1}}, "-1"),
        ("/generate", {"inputs": "x", "parameters": {"grammar": {"type": "xml"}}}, "grammar"),
        ("/v1/chat/completions", {"messages": "hello"}, "messages"),
    ],
)
def test_the_test_server_rejects_requests_that_break_the_contract(tgi_server, path, body, reason):
    status, answer = post(f"{tgi_server.url}{path}", body)
    assert status == 422 and answer["error_type"] == "validation"
    assert reason in answer["error"]


def test_the_test_server_accepts_a_request_that_keeps_the_contract(tgi_server):
    tgi_server.script(Tokens("ok"))
    body = {"inputs": "x", "parameters": {"adapter_id": None, "seed": 3, "max_new_tokens": 4}}
    assert post(f"{tgi_server.url}/generate", body) == (200, {"generated_text": "ok"})


def test_a_question_is_answered_end_to_end_over_tgi(tgi_server, alice, corpora):
    tgi_server.script(faithful_answer)
    answer = answer_question(
        user=alice,
        question="Which beneficial owners must a relevant person identify?",
        generator=TgiGenerator(),
    )
    assert answer.status == AnswerStatus.ANSWERED
    [statement] = answer.shown_statements
    assert "25% or more" in statement["text"]
    assert (answer.backend, answer.model) == ("tgi", MODEL_ID)


def faithful_answer(body: dict) -> Tokens:
    """One statement quoted from the source that the prompt numbered for it."""
    number = re.search(r"<source id=(\d+)[^>]*>\n[^<]*beneficial owner", body["inputs"]).group(1)
    text = " ".join(CDD_SENTENCE.split())
    return Tokens(answer_json({"text": text, "citations": [int(number)], "quote": text}))


def post(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def closed_port_url() -> str:
    """The URL of a loopback port that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
