import pytest

from shoal.errors import ContextLengthError, ModelResponseError, ModelUnavailable
from shoal.models import ChatOptions, ChatRequest, Message, Tool, ToolCall
from shoal.models.openai_wire import (
    StreamAssembler,
    error_from_body,
    request_payload,
    response_from_body,
)


def test_payload_carries_schema_tools_options_and_tool_history() -> None:
    call = ToolCall(id="c1", name="add", arguments={"a": 1})
    request = ChatRequest(
        messages=(
            Message.user("1+1?"), Message.assistant("", (call,)), Message.tool("2", call=call)
        ),
        output_schema={"type": "object"},
        tools=(Tool(name="add", description="adds"),),
        options=ChatOptions(temperature=0, max_tokens=5, stop=("\n",), keep_alive="1m"),
    )
    assert request_payload(request, model="m", stream=False) == {
        "model": "m",
        "stream": False,
        "messages": [
            {"role": "user", "content": "1+1?"},
            {"role": "assistant", "content": "", "tool_calls": [
                {"id": "c1", "type": "function",
                 "function": {"name": "add", "arguments": '{"a": 1}'}}]},
            {"role": "tool", "content": "2", "tool_call_id": "c1", "name": "add"},
        ],
        "response_format": {"type": "json_schema",
                            "json_schema": {"name": "output", "strict": True,
                                            "schema": {"type": "object"}}},
        "tools": [{"type": "function", "function": {
            "name": "add", "description": "adds",
            "parameters": {"type": "object", "properties": {}}}}],
        "temperature": 0,
        "max_tokens": 5,
        "stop": ["\n"],
    }


def test_response_reads_llama_cpp_timings_and_tool_calls() -> None:
    body = {
        "choices": [{"finish_reason": "tool_calls", "message": {
            "content": None,
            "tool_calls": [{"id": "x", "function": {"name": "add", "arguments": '{"a": 2}'}}]}}],
        "usage": {"prompt_tokens": 41, "completion_tokens": 18},
        "timings": {"prompt_ms": 401.6, "predicted_ms": 609.4},
    }
    response = response_from_body(body, model="m", wall_seconds=1.2)
    assert response.text == "" and response.tool_calls[0].arguments == {"a": 2}
    assert response.usage.prefill_seconds == pytest.approx(0.4016)
    assert response.usage.decode_tokens_per_second == pytest.approx(18 / 0.6094)


def test_malformed_bodies_are_response_errors() -> None:
    with pytest.raises(ModelResponseError, match="no choices"):
        response_from_body({"choices": []}, model="m", wall_seconds=0)
    bad_args = {"choices": [{"message": {"tool_calls": [
        {"function": {"name": "f", "arguments": "{oops"}}]}}]}
    with pytest.raises(ModelResponseError, match="not JSON"):
        response_from_body(bad_args, model="m", wall_seconds=0)


def test_error_bodies_map_to_the_right_error() -> None:
    context = error_from_body({"error": {"code": 400, "type": "exceed_context_size_error",
                                         "message": "request (630 tokens) exceeds the available "
                                         "context size (512 tokens)",
                                         "n_prompt_tokens": 630, "n_ctx": 512}},
                              model="m", status_code=None)
    assert isinstance(context, ContextLengthError) and context.context_length == 512
    busy = error_from_body({"error": {"code": 503, "message": "loading"}}, model="m",
                           status_code=None)
    assert isinstance(busy, ModelUnavailable) and "busy (503)" in busy.message
    refused = error_from_body({"error": {"message": "bad key"}}, model="m", status_code=401,
                              key_setting="SHOAL_OPENAI_API_KEY")
    assert isinstance(refused, ModelUnavailable) and "SHOAL_OPENAI_API_KEY" in str(refused.fix)
    other = error_from_body({"error": {"code": 500, "message": "crashed"}}, model="m",
                            status_code=None)
    assert isinstance(other, ModelResponseError) and other.status_code == 500


def test_stream_assembler_joins_text_and_keeps_final_usage() -> None:
    assembler = StreamAssembler(model="m")
    pieces = [assembler.feed({"choices": [{"delta": {"content": t}}]}) for t in ("Hel", "lo")]
    assembler.feed({"choices": [{"delta": {}, "finish_reason": "stop"}]})
    assembler.feed({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2}})
    response = assembler.response(wall_seconds=0.1)
    assert pieces == ["Hel", "lo"] and response.text == "Hello"
    assert response.finish_reason == "stop" and response.usage.completion_tokens == 2
    with pytest.raises(ContextLengthError):
        assembler.feed({"error": {"type": "exceed_context_size_error", "message": "too long"}})
