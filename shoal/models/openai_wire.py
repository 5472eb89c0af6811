"""OpenAI chat-completions JSON <-> Shoal types.

Shared by the two backends that speak this dialect: the embedded llama.cpp runtime (which takes
and returns these dicts in process) and OpenAI-compatible HTTP servers (vLLM, llama-server).
"""

from __future__ import annotations

import json
from typing import Any

from shoal.errors import ModelError, ModelResponseError
from shoal.models.failures import context_overflow, malformed_reply, status_error
from shoal.models.types import ChatRequest, ChatResponse, Message, ToolCall, Usage

__all__ = [
    "StreamAssembler",
    "error_from_body",
    "request_payload",
    "response_from_body",
    "usage_from_body",
]


def _message_json(message: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        out["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
            }
            for call in message.tool_calls
        ]
    if message.tool_call_id is not None:
        out["tool_call_id"] = message.tool_call_id
    if message.name is not None and message.role == "tool":
        out["name"] = message.name
    return out


def request_payload(request: ChatRequest, *, model: str, stream: bool) -> dict[str, Any]:
    """The chat-completions body for `request`; unset options are left out."""
    options = request.options
    payload: dict[str, Any] = {
        "model": model,
        "messages": [_message_json(m) for m in request.messages],
        "stream": stream,
    }
    if stream:
        payload["stream_options"] = {"include_usage": True}
    if request.output_schema is not None:
        payload["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "output", "strict": True, "schema": request.output_schema},
        }
    if request.tools:
        payload["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": tool.name,
                    "description": tool.description,
                    "parameters": tool.parameters,
                },
            }
            for tool in request.tools
        ]
    for key, value in (
        ("temperature", options.temperature),
        ("top_p", options.top_p),
        ("seed", options.seed),
        ("max_tokens", options.max_tokens),
    ):
        if value is not None:
            payload[key] = value
    if options.stop:
        payload["stop"] = list(options.stop)
    if options.n > 1:
        payload["n"] = options.n
    if options.logprobs:
        payload["logprobs"] = True
    return payload


def usage_from_body(body: dict[str, Any], *, wall_seconds: float) -> Usage:
    """Usage from `usage` and, where the server is llama.cpp, its `timings`."""
    usage = body.get("usage") or {}
    timings = body.get("timings") or {}
    return Usage(
        prompt_tokens=int(usage.get("prompt_tokens", timings.get("prompt_n", 0))),
        completion_tokens=int(usage.get("completion_tokens", timings.get("predicted_n", 0))),
        prefill_seconds=float(timings.get("prompt_ms", 0.0)) / 1000,
        decode_seconds=float(timings.get("predicted_ms", 0.0)) / 1000,
        wall_seconds=wall_seconds,
    )


def _tool_calls(raw: list[dict[str, Any]] | None, *, model: str) -> tuple[ToolCall, ...]:
    calls = []
    for index, item in enumerate(raw or []):
        function = item.get("function") or {}
        arguments = function.get("arguments") or "{}"
        try:
            parsed = json.loads(arguments) if isinstance(arguments, str) else arguments
        except json.JSONDecodeError as exc:
            raise ModelResponseError(
                f"tool call {function.get('name')!r} has arguments that are not JSON: {exc}",
                model=model,
            ) from exc
        if not isinstance(parsed, dict):
            raise ModelResponseError(
                f"tool call {function.get('name')!r} arguments are not an object", model=model
            )
        calls.append(
            ToolCall(id=str(item.get("id") or f"call_{index}"), name=str(function.get("name")),
                     arguments=parsed)
        )
    return tuple(calls)


def response_from_body(body: dict[str, Any], *, model: str, wall_seconds: float) -> ChatResponse:
    """A ChatResponse from a non-streaming chat-completions body (errors already handled)."""
    try:
        choice = body["choices"][0]
        message = choice["message"]
    except (KeyError, IndexError, TypeError) as exc:
        raise malformed_reply(f"no choices[0].message in {str(body)[:200]}", model=model,
                              server=model) from exc
    texts = tuple((c.get("message") or {}).get("content") or "" for c in body["choices"])
    return ChatResponse(
        text=message.get("content") or "",
        tool_calls=_tool_calls(message.get("tool_calls"), model=model),
        usage=usage_from_body(body, wall_seconds=wall_seconds),
        model=model,
        finish_reason=choice.get("finish_reason"),
        choices=texts if len(texts) > 1 else (),
        logprobs=tuple(float(t["logprob"]) for t in
                       (choice.get("logprobs") or {}).get("content") or ()),
    )


def error_from_body(body: dict[str, Any], *, model: str, status_code: int | None,
                    key_setting: str | None = None) -> ModelError:
    """The Shoal error for an OpenAI-style `{"error": {...}}` body (`key_setting`: where the
    backend's API key is set, if it sends one)."""
    error = body.get("error")
    detail: dict[str, Any] = error if isinstance(error, dict) else {"message": str(error)}
    message = str(detail.get("message", "unknown error"))
    lowered = message.lower()
    if detail.get("type") == "exceed_context_size_error" or (
        "context" in lowered and "exceed" in lowered
    ):
        return context_overflow(message, model=model, prompt_tokens=detail.get("n_prompt_tokens"),
                                context_length=detail.get("n_ctx"))
    code = detail.get("code")
    if status_code is None and isinstance(code, int):
        status_code = code
    if status_code is None:
        return ModelResponseError(f"{model} answered with an error: {message}", model=model,
                                  fix="read the server's message above; check its log")
    return status_error(status_code, message, model=model, server=model,
                        key_setting=key_setting)


class StreamAssembler:
    """Collects streamed chat-completion chunks into text pieces and a final ChatResponse."""

    def __init__(self, *, model: str) -> None:
        self.model = model
        self.parts: list[str] = []
        self.finish_reason: str | None = None
        self._usage_body: dict[str, Any] = {}

    def feed(self, event: dict[str, Any]) -> str:
        """The text this chunk adds ('' for none); raises the Shoal error of an error chunk."""
        if "error" in event:
            raise error_from_body(event, model=self.model, status_code=None)
        text = ""
        for choice in event.get("choices") or []:
            self.finish_reason = choice.get("finish_reason") or self.finish_reason
            text += (choice.get("delta") or {}).get("content") or ""
        if event.get("usage") or event.get("timings"):
            self._usage_body = event
        self.parts.append(text)
        return text

    def response(self, *, wall_seconds: float) -> ChatResponse:
        return ChatResponse(
            text="".join(self.parts),
            usage=usage_from_body(self._usage_body, wall_seconds=wall_seconds),
            model=self.model,
            finish_reason=self.finish_reason,
        )
