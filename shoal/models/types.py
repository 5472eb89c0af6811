"""Typed requests and responses of the one model seam; our own types, not a vendor's."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field

from shoal.frozen import Frozen

__all__ = [
    "Attempt",
    "ChatOptions",
    "ChatRequest",
    "ChatResponse",
    "Message",
    "ModelInfo",
    "Role",
    "StreamChunk",
    "Tool",
    "ToolCall",
    "Usage",
]

Role = Literal["system", "user", "assistant", "tool"]


class ToolCall(Frozen):
    """A call the model asked for: a tool name and its JSON arguments."""

    id: str
    name: str
    arguments: dict[str, Any]


class Message(Frozen):
    """One chat message. `tool_call_id`/`name` identify the call a tool message answers."""

    role: Role
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None

    @classmethod
    def system(cls, content: str) -> Message:
        return cls(role="system", content=content)

    @classmethod
    def user(cls, content: str) -> Message:
        return cls(role="user", content=content)

    @classmethod
    def assistant(cls, content: str, tool_calls: tuple[ToolCall, ...] = ()) -> Message:
        return cls(role="assistant", content=content, tool_calls=tool_calls)

    @classmethod
    def tool(cls, content: str, *, call: ToolCall) -> Message:
        return cls(role="tool", content=content, tool_call_id=call.id, name=call.name)


class Tool(Frozen):
    """A function the model may call: `parameters` is a JSON schema of an object."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})


class ChatOptions(Frozen):
    """Sampling and runtime options. None means the backend's documented default, except
    `num_ctx`: backends fill it from settings so the server never picks it silently."""

    num_ctx: int | None = Field(default=None, gt=0)
    temperature: float | None = Field(default=None, ge=0)
    top_p: float | None = Field(default=None, gt=0, le=1)
    seed: int | None = None
    max_tokens: int | None = Field(default=None, gt=0)
    stop: tuple[str, ...] = ()
    keep_alive: str | float | None = None
    n: int = Field(default=1, ge=1, le=16, description="answers to draw for one prompt; the "
                   "embedded and OpenAI-compatible backends decode them in parallel on one "
                   "prefill, others make n calls")
    logprobs: bool = Field(default=False, description="report the log-probability of each "
                           "generated token (ChatResponse.logprobs; not when streaming)")


class ChatRequest(Frozen):
    """What a model is asked. `output_schema` (a JSON schema) is enforced by the backend's
    grammar where it has one; `tools` are offered for native tool calling."""

    messages: tuple[Message, ...] = Field(min_length=1)
    output_schema: dict[str, Any] | None = None
    tools: tuple[Tool, ...] = ()
    options: ChatOptions = ChatOptions()


class Usage(Frozen):
    """Tokens and seconds of one call (or a sum of calls). Seconds the backend does not
    report are 0; `wall_seconds` is always measured by Shoal."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    load_seconds: float = 0.0
    prefill_seconds: float = 0.0
    decode_seconds: float = 0.0
    wall_seconds: float = 0.0
    calls: int = 1
    cache_hits: int = 0
    queue_seconds: float = 0.0  # waiting for a busy server: for a place, and backing off
    retries: int = 0  # attempts repeated because the server was busy or dropped the call

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def prefill_tokens_per_second(self) -> float | None:
        return self.prompt_tokens / self.prefill_seconds if self.prefill_seconds > 0 else None

    @property
    def decode_tokens_per_second(self) -> float | None:
        return self.completion_tokens / self.decode_seconds if self.decode_seconds > 0 else None

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            load_seconds=self.load_seconds + other.load_seconds,
            prefill_seconds=self.prefill_seconds + other.prefill_seconds,
            decode_seconds=self.decode_seconds + other.decode_seconds,
            wall_seconds=self.wall_seconds + other.wall_seconds,
            calls=self.calls + other.calls,
            cache_hits=self.cache_hits + other.cache_hits,
            queue_seconds=self.queue_seconds + other.queue_seconds,
            retries=self.retries + other.retries,
        )


class ChatResponse(Frozen):
    """A model's answer: text, parsed tool calls, usage, and the model that produced it."""

    text: str
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Usage = Usage()  # of every choice
    model: str
    finish_reason: str | None = None
    choices: tuple[str, ...] = ()  # with options.n > 1: every answer's text, `text` first
    logprobs: tuple[float, ...] = ()  # with options.logprobs: each token of `text`

    @property
    def token_confidence(self) -> float | None:
        """The geometric mean of the tokens' probabilities (None without logprobs): how sure
        the model was of its whole answer."""
        if not self.logprobs:
            return None
        return math.exp(sum(self.logprobs) / len(self.logprobs))

    @property
    def texts(self) -> tuple[str, ...]:
        """Every answer's text: the choices, or just `text`."""
        return self.choices or (self.text,)


class StreamChunk(Frozen):
    """A piece of streamed text; the last chunk of a stream carries the whole `response`."""

    text: str
    response: ChatResponse | None = None


class ModelInfo(Frozen):
    """What a backend knows about a model without generating anything."""

    model: str
    backend: str
    digest: str | None = None  # identifies the exact weights, for caching; None if unknown
    context_length: int | None = None
    trained_context_length: int | None = None
    parameters: int | None = None
    size_bytes: int | None = None


class Attempt(Frozen):
    """One model call of an agent run: which model, what it answered, and why that was not
    accepted (`error` is None for the call whose answer was used or that led to a tool step)."""

    model: str
    error: str | None
    usage: Usage
    answer: str = ""
