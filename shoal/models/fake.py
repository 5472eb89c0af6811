"""Test doubles shipped with Shoal, so tests never reach a real model by accident.

- `FakeChatModel`: scripted replies, in order; records every request it got.
- `FunctionChatModel`: replies computed by a function of the request (sync or async).
Both stream word by word. `fake:echo` (see registry) echoes the last user message.
"""

from __future__ import annotations

import inspect
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import TypeAlias

from shoal.errors import ModelResponseError
from shoal.models.types import ChatRequest, ChatResponse, ModelInfo, StreamChunk, ToolCall, Usage

__all__ = ["FakeChatModel", "FunctionChatModel", "Reply", "echo_last_user_message"]

Reply: TypeAlias = str | ToolCall | ChatResponse | Exception
ReplyFunction: TypeAlias = Callable[[ChatRequest], Reply | Awaitable[Reply]]


def _approx_tokens(text: str) -> int:
    return len(re.findall(r"\w+|[^\w\s]", text))


class _FakeBase:
    backend = "fake"

    def __init__(self, name: str) -> None:
        self._name = name
        self.requests: list[ChatRequest] = []

    @property
    def name(self) -> str:
        return self._name

    async def _reply(self, request: ChatRequest) -> Reply:
        raise NotImplementedError

    async def chat(self, request: ChatRequest) -> ChatResponse:
        started = time.perf_counter()
        self.requests.append(request)
        reply = await self._reply(request)
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, ChatResponse):
            return reply
        prompt = sum(_approx_tokens(m.content) for m in request.messages)
        text, calls = (reply, ()) if isinstance(reply, str) else ("", (reply,))
        usage = Usage(prompt_tokens=prompt, completion_tokens=_approx_tokens(text),
                      wall_seconds=time.perf_counter() - started)
        finish = "tool_calls" if calls else "stop"
        return ChatResponse(text=text, tool_calls=calls, usage=usage, model=self._name,
                            finish_reason=finish)

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        response = await self.chat(request)
        for piece in re.findall(r"\S+\s*|\s+", response.text):
            yield StreamChunk(text=piece)
        yield StreamChunk(text="", response=response)

    async def describe(self) -> ModelInfo:
        return ModelInfo(model=self._name, backend=self.backend)

    async def aclose(self) -> None:
        """Nothing to release."""


class FakeChatModel(_FakeBase):
    """Replies with `replies` in order: text, a tool call, a whole ChatResponse, or an
    exception to raise. Raises ModelResponseError when the script runs out."""

    def __init__(self, replies: Iterable[Reply], *, name: str = "fake:scripted") -> None:
        super().__init__(name)
        self._replies = list(replies)

    @property
    def remaining(self) -> int:
        return len(self._replies)

    async def _reply(self, request: ChatRequest) -> Reply:
        if not self._replies:
            raise ModelResponseError(
                f"{self._name} has no scripted reply left for call {len(self.requests)}",
                model=self._name, fix="script one reply per expected model call",
            )
        return self._replies.pop(0)


class FunctionChatModel(_FakeBase):
    """Replies with `function(request)`; the function may be async."""

    def __init__(self, function: ReplyFunction, *, name: str = "fake:function") -> None:
        super().__init__(name)
        self._function = function

    async def _reply(self, request: ChatRequest) -> Reply:
        reply = self._function(request)
        return await reply if inspect.isawaitable(reply) else reply


def echo_last_user_message(request: ChatRequest) -> str:
    """The content of the last user message (behind `fake:echo`)."""
    return next((m.content for m in reversed(request.messages) if m.role == "user"), "")
