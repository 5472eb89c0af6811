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
        """One reply; with options.n > 1, n replies as the choices of one response."""
        started = time.perf_counter()
        self.requests.append(request)
        replies = [await self._reply(request) for _ in range(request.options.n)]
        for reply in replies:
            if isinstance(reply, Exception):
                raise reply
        if len(replies) == 1 and isinstance(replies[0], ChatResponse):
            return replies[0]
        texts = [r.text if isinstance(r, ChatResponse) else r if isinstance(r, str) else ""
                 for r in replies]
        first = replies[0]
        calls = (first,) if isinstance(first, ToolCall) else ()
        usage = Usage(prompt_tokens=sum(_approx_tokens(m.content) for m in request.messages),
                      completion_tokens=sum(_approx_tokens(t) for t in texts),
                      wall_seconds=time.perf_counter() - started)
        return ChatResponse(text=texts[0], tool_calls=calls, usage=usage, model=self._name,
                            finish_reason="tool_calls" if calls else "stop",
                            choices=tuple(texts) if len(texts) > 1 else ())

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
