"""The Ollama backend on the wire: exact /api/chat JSON, Ollama-shaped replies and errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from shoal.errors import ContextLengthError, ModelResponseError, ModelUnavailable
from shoal.models import (
    ChatOptions,
    ChatRequest,
    FakeChatModel,
    Message,
    Tool,
    ToolCall,
)
from shoal.models.ollama import OllamaChatModel

USER = {"role": "user", "content": "hi"}


def reply(content: str = "hello", **extra: Any) -> dict[str, Any]:
    """A non-streaming /api/chat response as Ollama documents it."""
    return {
        "model": "qwen2.5-coder:0.5b",
        "created_at": "2026-11-22T10:00:00.000000Z",
        "message": {"role": "assistant", "content": content, **extra},
        "done": True,
        "done_reason": "stop",
        "total_duration": 900_000_000,
        "load_duration": 100_000_000,
        "prompt_eval_count": 26,
        "prompt_eval_duration": 200_000_000,
        "eval_count": 12,
        "eval_duration": 500_000_000,
    }


def model_at(server: HTTPServer, **kwargs: Any) -> OllamaChatModel:
    return OllamaChatModel("qwen2.5-coder:0.5b", host=server.url_for("").rstrip("/"),
                           num_ctx=4096, timeout=10, **kwargs)


async def ask(model: OllamaChatModel, stream: bool) -> str:
    """Say hi, through stream() or chat(); the reply text."""
    request = ChatRequest(messages=(Message.user("hi"),))
    if stream:
        return "".join([c.text async for c in model.stream(request)])
    return (await model.chat(request)).text


def expect(server: HTTPServer, body: dict[str, Any]) -> Any:
    return server.expect_oneshot_request("/api/chat", method="POST", json=body)


async def test_plain_chat_sends_num_ctx_and_reads_usage(httpserver: HTTPServer) -> None:
    expect(httpserver, {"model": "qwen2.5-coder:0.5b", "stream": False,
                        "options": {"num_ctx": 4096}, "messages": [USER], "tools": []}
           ).respond_with_json(reply())
    response = await model_at(httpserver).chat(ChatRequest(messages=(Message.user("hi"),)))
    httpserver.check_assertions()
    assert response.text == "hello" and response.model == "ollama:qwen2.5-coder:0.5b"
    usage = response.usage
    assert (usage.prompt_tokens, usage.completion_tokens) == (26, 12)
    assert (usage.load_seconds, usage.prefill_seconds, usage.decode_seconds) == (0.1, 0.2, 0.5)
    assert usage.decode_tokens_per_second == pytest.approx(24.0)


async def test_schema_goes_in_format(httpserver: HTTPServer) -> None:
    schema = {"type": "object", "properties": {"total": {"type": "number"}},
              "required": ["total"]}
    expect(httpserver, {"model": "qwen2.5-coder:0.5b", "stream": False,
                        "options": {"num_ctx": 4096}, "format": schema, "messages": [USER],
                        "tools": []}).respond_with_json(reply('{"total": 12.5}'))
    request = ChatRequest(messages=(Message.user("hi"),), output_schema=schema)
    assert (await model_at(httpserver).chat(request)).text == '{"total": 12.5}'
    httpserver.check_assertions()


async def test_tools_and_tool_results(httpserver: HTTPServer) -> None:
    add = Tool(name="add", description="Add two integers.",
               parameters={"type": "object", "properties": {"a": {"type": "integer"},
                                                            "b": {"type": "integer"}},
                           "required": ["a", "b"]})
    expect(httpserver, {
        "model": "qwen2.5-coder:0.5b", "stream": False, "options": {"num_ctx": 4096},
        "messages": [USER],
        "tools": [{"type": "function", "function": {
            "name": "add", "description": "Add two integers.", "parameters": add.parameters}}],
    }).respond_with_json(reply("", tool_calls=[{"function": {"name": "add",
                                                             "arguments": {"a": 2, "b": 3}}}]))
    model = model_at(httpserver)
    response = await model.chat(ChatRequest(messages=(Message.user("hi"),), tools=(add,)))
    assert response.tool_calls == (ToolCall(id="call_0", name="add", arguments={"a": 2, "b": 3}),)

    call = response.tool_calls[0]
    expect(httpserver, {
        "model": "qwen2.5-coder:0.5b", "stream": False, "options": {"num_ctx": 4096},
        "messages": [USER,
                     {"role": "assistant",  # the SDK drops empty content
                      "tool_calls": [{"function": {"name": "add",
                                                   "arguments": {"a": 2, "b": 3}}}]},
                     {"role": "tool", "content": "5", "tool_name": "add"}],
        "tools": [],
    }).respond_with_json(reply("2 + 3 = 5"))
    history = (Message.user("hi"), Message.assistant("", (call,)), Message.tool("5", call=call))
    assert (await model.chat(ChatRequest(messages=history))).text == "2 + 3 = 5"
    httpserver.check_assertions()


async def test_options_and_keep_alive(httpserver: HTTPServer) -> None:
    expect(httpserver, {
        "model": "qwen2.5-coder:0.5b", "stream": False,
        "options": {"num_ctx": 8192, "temperature": 0.0, "top_p": 0.9, "seed": 42,
                    "num_predict": 64, "stop": ["\n\n"]},
        "keep_alive": "10m", "messages": [USER], "tools": [],
    }).respond_with_json(reply())
    options = ChatOptions(num_ctx=8192, temperature=0, top_p=0.9, seed=42, max_tokens=64,
                          stop=("\n\n",), keep_alive="10m")
    await model_at(httpserver).chat(ChatRequest(messages=(Message.user("hi"),), options=options))
    httpserver.check_assertions()


async def test_streaming_joins_chunks_and_keeps_final_usage(httpserver: HTTPServer) -> None:
    lines = [
        {"model": "m", "created_at": "2026-11-22T10:00:00Z",
         "message": {"role": "assistant", "content": text}, "done": False}
        for text in ("Hel", "lo")
    ] + [reply("")]
    body = "\n".join(json.dumps(line) for line in lines) + "\n"
    expect(httpserver, {"model": "qwen2.5-coder:0.5b", "stream": True,
                        "options": {"num_ctx": 4096}, "messages": [USER], "tools": []}
           ).respond_with_data(body, content_type="application/x-ndjson")
    model = model_at(httpserver)
    chunks = [c async for c in model.stream(ChatRequest(messages=(Message.user("hi"),)))]
    assert [c.text for c in chunks] == ["Hel", "lo", ""]
    final = chunks[-1].response
    assert final is not None and final.text == "Hello" and final.usage.completion_tokens == 12
    httpserver.check_assertions()


async def test_missing_model_404_says_ollama_pull(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/chat").respond_with_json(
        {"error": "model 'qwen2.5-coder:0.5b' not found"}, status=404)
    with pytest.raises(ModelUnavailable, match="does not have model") as info:
        await model_at(httpserver).chat(ChatRequest(messages=(Message.user("hi"),)))
    assert info.value.fix == "run: ollama pull qwen2.5-coder:0.5b"


@pytest.mark.parametrize("stream", [False, True])
async def test_server_500_is_a_response_error(httpserver: HTTPServer, stream: bool) -> None:
    httpserver.expect_request("/api/chat").respond_with_json(
        {"error": "llama runner process has terminated"}, status=500)
    with pytest.raises(ModelResponseError, match="runner process") as info:
        await ask(model_at(httpserver), stream)
    assert info.value.status_code == 500


async def test_context_overflow_is_a_context_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/chat").respond_with_json(
        {"error": "input length exceeds the context length"}, status=400)
    with pytest.raises(ContextLengthError):
        await model_at(httpserver).chat(ChatRequest(messages=(Message.user("hi"),)))


@pytest.mark.parametrize("stream", [False, True])
async def test_refused_connection_is_unavailable_with_fix(closed_port: int, stream: bool) -> None:
    model = OllamaChatModel("m", host=f"http://127.0.0.1:{closed_port}", num_ctx=2048, timeout=5)
    with pytest.raises(ModelUnavailable, match="no Ollama server answers") as info:
        await ask(model, stream)
    assert "ollama serve" in str(info.value.fix)


@pytest.mark.parametrize("stream", [False, True])
async def test_unreachable_server_falls_back_to_the_local_store(
    closed_port: int, tmp_path: Path, stream: bool
) -> None:
    manifest = tmp_path / "manifests/registry.ollama.ai/library/tiny/latest"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({"layers": [
        {"mediaType": "application/vnd.ollama.image.model", "digest": "sha256:abc"}]}))
    (tmp_path / "blobs").mkdir()
    (tmp_path / "blobs" / "sha256-abc").write_bytes(b"GGUF")
    opened: list[Path] = []
    local = FakeChatModel(["from the local store"])

    def local_fallback(path: Path) -> FakeChatModel:
        opened.append(path)
        return local

    model = OllamaChatModel("tiny", host=f"http://127.0.0.1:{closed_port}", num_ctx=2048,
                            timeout=5, store=tmp_path, local_fallback=local_fallback)
    assert await ask(model, stream) == "from the local store"
    assert opened == [tmp_path / "blobs" / "sha256-abc"]


async def test_n_answers_are_n_calls_seeds_apart(httpserver: HTTPServer) -> None:
    """Ollama has no `n`: one call per answer, each with its own seed, usage summed."""
    for seed, text in ((7, "SELECT 1"), (8, "SELECT 2"), (9, "SELECT 1")):
        expect(httpserver, {"model": "qwen2.5-coder:0.5b", "stream": False, "messages": [USER],
                            "options": {"num_ctx": 4096, "temperature": 0.7, "seed": seed},
                            "tools": []}).respond_with_json(reply(text))
    request = ChatRequest(messages=(Message.user("hi"),),
                          options=ChatOptions(n=3, temperature=0.7, seed=7))
    response = await model_at(httpserver).chat(request)
    httpserver.check_assertions()
    assert response.texts == ("SELECT 1", "SELECT 2", "SELECT 1")
    assert response.usage.completion_tokens == 36 and response.usage.calls == 3


async def test_logprobs_are_asked_for_and_read(httpserver: HTTPServer) -> None:
    expect(httpserver, {"model": "qwen2.5-coder:0.5b", "stream": False, "logprobs": True,
                        "options": {"num_ctx": 4096}, "messages": [USER], "tools": []}
           ).respond_with_json(reply("hello") | {"logprobs": [
               {"token": "hel", "logprob": -0.1, "bytes": [104, 101, 108]},
               {"token": "lo", "logprob": -0.3, "bytes": [108, 111]}]})
    response = await model_at(httpserver).chat(ChatRequest(
        messages=(Message.user("hi"),), options=ChatOptions(logprobs=True)))
    httpserver.check_assertions()
    assert response.logprobs == (-0.1, -0.3)
    assert response.token_confidence == pytest.approx(0.81873, abs=1e-4)  # exp(-0.2)
