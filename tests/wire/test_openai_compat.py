"""The OpenAI-compatible backend on the wire: exact /v1/chat/completions JSON."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from shoal.errors import ContextLengthError, ModelResponseError, ModelUnavailable
from shoal.models import ChatOptions, ChatRequest, Message
from shoal.models.openai_compat import OpenAICompatChatModel
from shoal.models.retry import RetryPolicy


def completion(content: str) -> dict[str, Any]:
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "qwen",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12}}


def model_at(server: HTTPServer, api_key: str | None = None) -> OpenAICompatChatModel:
    return OpenAICompatChatModel(server.url_for("/v1"), "qwen", timeout=10, api_key=api_key)


async def test_chat_sends_exact_json_and_key_only_when_configured(httpserver: HTTPServer) -> None:
    body = {"model": "qwen", "stream": False, "messages": [{"role": "user", "content": "hi"}],
            "seed": 3, "max_tokens": 7}
    httpserver.expect_oneshot_request("/v1/chat/completions", method="POST", json=body,
                                      headers={"Authorization": "Bearer sk-local"}
                                      ).respond_with_json(completion("yo"))
    request = ChatRequest(messages=(Message.user("hi"),),
                          options=ChatOptions(seed=3, max_tokens=7))
    response = await model_at(httpserver, api_key="sk-local").chat(request)
    assert response.text == "yo" and response.usage.total_tokens == 12
    httpserver.check_assertions()

    httpserver.expect_oneshot_request("/v1/chat/completions", json=body).respond_with_json(
        completion("yo"))
    await model_at(httpserver).chat(request)
    assert "Authorization" not in httpserver.log[-1][0].headers


async def test_sse_stream(httpserver: HTTPServer) -> None:
    events: list[dict[str, Any]] = [
        {"choices": [{"index": 0, "delta": {"content": t}}]} for t in ("a", "b")
    ]
    events.append({"choices": [], "usage": {"prompt_tokens": 4, "completion_tokens": 2}})
    sse = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
    httpserver.expect_oneshot_request("/v1/chat/completions", json={
        "model": "qwen", "stream": True, "stream_options": {"include_usage": True},
        "messages": [{"role": "user", "content": "hi"}],
    }).respond_with_data(sse, content_type="text/event-stream")
    chunks = [c async for c in model_at(httpserver).stream(
        ChatRequest(messages=(Message.user("hi"),)))]
    assert [c.text for c in chunks[:-1]] == ["a", "b"]
    assert chunks[-1].response is not None and chunks[-1].response.usage.completion_tokens == 2


async def test_errors(httpserver: HTTPServer, closed_port: int) -> None:
    request = ChatRequest(messages=(Message.user("hi"),))
    httpserver.expect_oneshot_request("/v1/chat/completions").respond_with_json(
        {"error": {"code": 400, "type": "exceed_context_size_error",
                   "message": "request (5000 tokens) exceeds the available context size",
                   "n_prompt_tokens": 5000, "n_ctx": 4096}}, status=400)
    with pytest.raises(ContextLengthError) as info:
        await model_at(httpserver).chat(request)
    assert info.value.prompt_tokens == 5000
    httpserver.expect_oneshot_request("/v1/chat/completions").respond_with_data("no", status=404)
    with pytest.raises(ModelUnavailable, match="has no model 'qwen'"):
        await model_at(httpserver).chat(request)
    down = OpenAICompatChatModel(f"http://127.0.0.1:{closed_port}/v1", "qwen", timeout=5)
    with pytest.raises(ModelUnavailable, match="no server answers"):
        await down.chat(request)


async def test_a_dropped_keep_alive_connection_is_retried_once() -> None:
    """The first connection closes unanswered (as llama.cpp's server may do to a pooled one)."""
    answered = json.dumps(completion("again")).encode()
    connections = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await reader.readuntil(b"\r\n\r\n")
        if connections > 1:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(answered), answered))
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    model = OpenAICompatChatModel(f"http://127.0.0.1:{port}/v1", "qwen", timeout=10,
                                  retry=RetryPolicy(attempts=3, base_seconds=0.01))
    try:
        response = await model.chat(ChatRequest(messages=(Message.user("hi"),)))
        assert response.text == "again" and connections == 2
        assert response.usage.retries == 0  # the resend on a fresh connection is no retry
        connections = -100  # every connection from here on drops: each try sends twice, then
        with pytest.raises(ModelResponseError, match="stopped answering"):  # the error surfaces
            await model.chat(ChatRequest(messages=(Message.user("hi"),)))
        assert connections == -100 + 2 * 3
    finally:
        await model.aclose()
        server.close()


async def test_n_answers_in_one_request(httpserver: HTTPServer) -> None:
    body = {"model": "qwen", "stream": False, "messages": [{"role": "user", "content": "hi"}],
            "temperature": 0.7, "n": 3}
    answer = completion("SELECT 1")
    answer["choices"] += [{"index": i, "finish_reason": "stop",
                           "message": {"role": "assistant", "content": t}}
                          for i, t in ((1, "SELECT 2"), (2, "SELECT 1"))]
    httpserver.expect_oneshot_request("/v1/chat/completions", json=body).respond_with_json(
        answer)
    response = await model_at(httpserver).chat(ChatRequest(
        messages=(Message.user("hi"),), options=ChatOptions(n=3, temperature=0.7)))
    httpserver.check_assertions()
    assert response.text == "SELECT 1" and response.texts == ("SELECT 1", "SELECT 2", "SELECT 1")


async def test_logprobs_are_asked_for_and_read(httpserver: HTTPServer) -> None:
    body = {"model": "qwen", "stream": False, "messages": [{"role": "user", "content": "hi"}],
            "logprobs": True}
    answer = completion("yo")
    answer["choices"][0]["logprobs"] = {"content": [
        {"token": "y", "logprob": -0.5, "bytes": [121], "top_logprobs": []},
        {"token": "o", "logprob": 0.0, "bytes": [111], "top_logprobs": []}]}
    httpserver.expect_oneshot_request("/v1/chat/completions", json=body
                                      ).respond_with_json(answer)
    response = await model_at(httpserver).chat(ChatRequest(
        messages=(Message.user("hi"),), options=ChatOptions(logprobs=True)))
    httpserver.check_assertions()
    assert response.logprobs == (-0.5, 0.0)
    assert response.token_confidence == pytest.approx(0.7788, abs=1e-4)  # exp(-0.25)
    plain = await _plain(httpserver)
    assert plain.logprobs == () and plain.token_confidence is None


async def _plain(httpserver: HTTPServer) -> Any:
    httpserver.expect_oneshot_request("/v1/chat/completions").respond_with_json(
        completion("yo"))
    return await model_at(httpserver).chat(ChatRequest(messages=(Message.user("hi"),)))


async def test_a_busy_server_is_asked_again_and_a_refusal_is_not(httpserver: HTTPServer) -> None:
    busy = {"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}}
    for _ in range(2):
        httpserver.expect_ordered_request("/v1/chat/completions").respond_with_json(
            busy, status=503)
    httpserver.expect_ordered_request("/v1/chat/completions").respond_with_json(
        completion("ready"))
    model = OpenAICompatChatModel(httpserver.url_for("/v1"), "qwen", timeout=10,
                                  retry=RetryPolicy(attempts=4, base_seconds=0.01))
    try:
        response = await model.chat(ChatRequest(messages=(Message.user("hi"),)))
        assert response.text == "ready" and response.usage.retries == 2
        assert response.usage.queue_seconds > 0
        httpserver.check_assertions()
        httpserver.clear()
        httpserver.expect_request("/v1/chat/completions").respond_with_json(
            {"error": {"message": "invalid api key"}}, status=401)
        with pytest.raises(ModelUnavailable, match="refused"):
            await model.chat(ChatRequest(messages=(Message.user("hi"),)))
        assert len(httpserver.log) == 1  # a refused key is not asked again
    finally:
        await model.aclose()
