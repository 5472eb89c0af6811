"""The one seam every model backend implements."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol, runtime_checkable

from shoal.models.types import ChatRequest, ChatResponse, ModelInfo, StreamChunk

__all__ = ["ChatModel", "StreamingChatModel", "TokenCountingChatModel", "stream_chat"]


@runtime_checkable
class ChatModel(Protocol):
    """A chat model. `chat` raises only `shoal.errors.ModelError` subclasses for model
    failures; `describe` reports what the backend knows without generating."""

    @property
    def name(self) -> str: ...

    async def chat(self, request: ChatRequest) -> ChatResponse: ...

    async def describe(self) -> ModelInfo: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class StreamingChatModel(ChatModel, Protocol):
    """A chat model that can also stream text as it is generated."""

    def stream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]: ...


@runtime_checkable
class TokenCountingChatModel(ChatModel, Protocol):
    """A chat model that can count a request's prompt tokens with its own tokenizer and
    chat template, before sending it."""

    async def count_tokens(self, request: ChatRequest) -> int: ...


async def stream_chat(model: ChatModel, request: ChatRequest) -> AsyncIterator[StreamChunk]:
    """Stream from any model: native streaming where the backend has it, else one chunk."""
    if isinstance(model, StreamingChatModel):
        async for chunk in model.stream(request):
            yield chunk
        return
    response = await model.chat(request)
    yield StreamChunk(text=response.text, response=response)
