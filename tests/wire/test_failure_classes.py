"""Each way a model call fails keeps its own error class and fix through an agent run, on the
wire of both HTTP backends. Prints the table of failure -> error, message, fix (run with -s)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from shoal.agents import Agent, AgentSpec
from shoal.errors import (
    ContextLengthError,
    ModelResponseError,
    ModelTimeout,
    ModelUnavailable,
    OutputValidationError,
    ShoalError,
)
from shoal.graphs import pipeline, run_graph
from shoal.graphs.runner import checkpoint_file
from shoal.memory import DatabaseURL
from shoal.models import StreamingChatModel
from shoal.models.ollama import OllamaChatModel
from shoal.models.openai_compat import OpenAICompatChatModel
from shoal.session import Session
from shoal.settings import Settings

KEY = "sk-test-4f9a1c0de2b7"
TIMEOUT = 0.5


class Total(BaseModel):
    total: int


def openai_at(server: HTTPServer) -> OpenAICompatChatModel:
    return OpenAICompatChatModel(server.url_for("/v1"), "qwen", timeout=TIMEOUT, api_key=KEY)


def ollama_at(server: HTTPServer) -> OllamaChatModel:
    return OllamaChatModel("qwen2.5-coder:0.5b", host=server.url_for("").rstrip("/"),
                           num_ctx=4096, timeout=TIMEOUT)


def slow(request: Request) -> Response:
    time.sleep(TIMEOUT * 3)
    return Response("{}", content_type="application/json")


def agent_on(model: StreamingChatModel, settings: Settings) -> Agent[Total]:
    spec = AgentSpec[Total](name="totals", model=model.name, instructions="Give the total.",
                            output=Total, retries=0, cache=False)
    return Agent(spec, session=Session(settings, models={model.name: model}))


# failure, backend, path, how the server answers, expected class, words in message, in fix
Answer = Callable[[Any], None]
CASES: list[tuple[str, str, str, Answer, type[ShoalError], str, str]] = [
    ("server busy (503)", "openai", "/v1/chat/completions",
     lambda r: r.respond_with_json({"error": {"message": "server busy", "code": 503}},
                                   status=503),
     ModelUnavailable, "is busy (503)", "retry later"),
    ("server busy (503)", "ollama", "/api/chat",
     lambda r: r.respond_with_json({"error": "server busy, please try again.  maximum pending "
                                             "requests exceeded"}, status=503),
     ModelUnavailable, "is busy (503)", "OLLAMA_NUM_PARALLEL"),
    ("key refused (401), key echoed", "openai", "/v1/chat/completions",
     lambda r: r.respond_with_json({"error": {"message": f"Incorrect API key provided: {KEY}",
                                              "code": 401}}, status=401),
     ModelUnavailable, "refused the request (401)", "SHOAL_OPENAI_API_KEY"),
    ("no answer in time", "openai", "/v1/chat/completions",
     lambda r: r.respond_with_handler(slow),
     ModelTimeout, f"no answer within {TIMEOUT:g} s", "SHOAL_REQUEST_TIMEOUT"),
    ("no answer in time", "ollama", "/api/chat", lambda r: r.respond_with_handler(slow),
     ModelTimeout, f"no answer within {TIMEOUT:g} s", "SHOAL_REQUEST_TIMEOUT"),
    ("malformed JSON reply", "openai", "/v1/chat/completions",
     lambda r: r.respond_with_data('{"choices": [', content_type="application/json"),
     ModelResponseError, "not the expected JSON", "right kind of server"),
    ("malformed JSON reply", "ollama", "/api/chat",
     lambda r: r.respond_with_data('{"message": ', content_type="application/json"),
     ModelResponseError, "not the expected JSON", "right kind of server"),
    ("context overflow on the server", "openai", "/v1/chat/completions",
     lambda r: r.respond_with_json({"error": {
         "code": 400, "type": "exceed_context_size_error", "n_prompt_tokens": 5000,
         "n_ctx": 4096, "message": "request exceeds the available context size"}}, status=400),
     ContextLengthError, "5000 prompt tokens, num_ctx 4096", "long document"),
    ("output never valid", "openai", "/v1/chat/completions",
     lambda r: r.respond_with_json({"choices": [{"message": {"content": '{"total": "many"}'},
                                                 "finish_reason": "stop"}]}),
     OutputValidationError, "no valid output", "escalate_to"),
]
TABLE: list[tuple[str, ...]] = []


@pytest.mark.parametrize(("failure", "backend", "path", "answer", "kind", "said", "fixed"),
                         CASES, ids=[f"{c[1]}: {c[0]}" for c in CASES])
async def test_each_failure_keeps_its_class_and_fix(
        httpserver: HTTPServer, isolated_settings: Settings, failure: str, backend: str,
        path: str, answer: Answer, kind: type[ShoalError], said: str, fixed: str) -> None:
    answer(httpserver.expect_request(path))
    model = openai_at(httpserver) if backend == "openai" else ollama_at(httpserver)
    async with agent_on(model, isolated_settings) as agent:
        with pytest.raises(ShoalError) as info:
            await agent.run("two plus two")
    error = info.value
    assert type(error) is kind, f"{failure}: got {type(error).__name__}: {error}"
    assert said in error.message and fixed in (error.fix or "")
    assert error.message.startswith("agent totals: ") and KEY not in str(error)
    assert len(getattr(error, "attempts", ())) == 1  # the call made is kept either way
    TABLE.append((f"{backend}: {failure}", type(error).__name__, error.message, error.fix or ""))


def test_print_the_table() -> None:
    """Runs after the cases above (file order): the table for the issue note."""
    if not TABLE:
        pytest.skip("run with the cases above")
    for row in [("failure", "error", "message", "fix"), *TABLE]:
        print(" | ".join(row))


async def test_a_key_in_server_error_text_is_stored_nowhere(
        httpserver: HTTPServer, isolated_settings: Settings) -> None:
    httpserver.expect_request("/v1/chat/completions").respond_with_json(
        {"error": {"message": f"key {KEY} is not allowed here", "code": 403}}, status=403)
    model = openai_at(httpserver)
    async with Session(isolated_settings, models={model.name: model}) as session:
        agent = Agent(AgentSpec[Total](name="totals", model=model.name, instructions="Total.",
                                       output=Total, cache=False), session=session)
        with pytest.raises(ModelUnavailable, match=r"\[redacted\]"):
            await run_graph(pipeline(agent), "two plus two", session=session, name="sums")
        runs = session.ledger.runs()
        assert runs[0].status == "failed" and "[redacted]" in (runs[0].error or "")
    address = DatabaseURL.parse(isolated_settings.database_url)
    checkpoints = checkpoint_file(address)
    assert checkpoints is not None
    stored = [address.path, checkpoints]
    for path in stored:
        assert path.is_file()
        dump = "\n".join(sqlite3.connect(path).iterdump())
        assert KEY not in dump and KEY.encode() not in path.read_bytes()
    calls = sqlite3.connect(stored[0]).execute("SELECT error FROM calls").fetchall()
    assert calls and all("[redacted]" in (e or "") for (e,) in calls)
