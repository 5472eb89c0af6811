"""Ollama backend (`ollama:<name>`): the official client, native /api/chat.

The only module that imports `ollama`. `format` carries the output JSON schema, `options` always
carries num_ctx (never left to the server's default), `keep_alive` is passed through. Every
client error becomes a Shoal error with a fix. When no server answers but the local Ollama
store has the model, calls go to a local model on the store's GGUF (`local_fallback`).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import ollama

from shoal.errors import ModelError, ModelResponseError, ModelUnavailable
from shoal.models.base import StreamingChatModel
from shoal.models.failures import (
    context_overflow,
    malformed_reply,
    status_error,
    transport_error,
)
from shoal.models.ollama_store import find_ollama_gguf
from shoal.models.retry import HostLimits, RetryPolicy
from shoal.models.types import (
    ChatRequest,
    ChatResponse,
    Message,
    ModelInfo,
    StreamChunk,
    ToolCall,
    Usage,
)

__all__ = ["OllamaChatModel"]

_NS = 1e9
_CONNECT_ERRORS = (ConnectionError, httpx.ConnectError, httpx.ConnectTimeout)


def _unreachable_cause(exc: ModelUnavailable) -> bool:
    """True when the server could not be reached at all (not: it lacks the model)."""
    return isinstance(exc.__cause__, _CONNECT_ERRORS)


def _message_json(message: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        out["tool_calls"] = [
            {"function": {"name": c.name, "arguments": c.arguments}} for c in message.tool_calls
        ]
    if message.role == "tool" and message.name:
        out["tool_name"] = message.name
    return out


def _options_json(request: ChatRequest, default_num_ctx: int) -> dict[str, Any]:
    o = request.options
    options: dict[str, Any] = {"num_ctx": o.num_ctx or default_num_ctx}
    for key, value in (("temperature", o.temperature), ("top_p", o.top_p), ("seed", o.seed),
                       ("num_predict", o.max_tokens)):
        if value is not None:
            options[key] = value
    if o.stop:
        options["stop"] = list(o.stop)
    return options


def _usage(reply: ollama.ChatResponse, wall_seconds: float) -> Usage:
    return Usage(
        prompt_tokens=reply.prompt_eval_count or 0,
        completion_tokens=reply.eval_count or 0,
        load_seconds=(reply.load_duration or 0) / _NS,
        prefill_seconds=(reply.prompt_eval_duration or 0) / _NS,
        decode_seconds=(reply.eval_duration or 0) / _NS,
        wall_seconds=wall_seconds,
    )


class OllamaChatModel:
    """A model served by Ollama. No I/O until the first call."""

    backend = "ollama"

    def __init__(
        self,
        model: str,
        *,
        host: str,
        num_ctx: int,
        timeout: float,
        local_fallback: Callable[[Path], StreamingChatModel] | None = None,
        store: Path | None = None,
        load_timeout: float | None = None,
        limits: HostLimits | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        """With `store` and `local_fallback`, a model found in the local Ollama store is run
        by `local_fallback(gguf_path)` whenever no server answers. Calls wait for a place
        under `limits` (shared by the session's models of one host); a busy or dropped call
        is retried by `retry`; until one call has succeeded (the server loaded the model), a
        call may take `load_timeout` instead of `timeout`."""
        self.model = model
        self.host = host
        self.num_ctx = num_ctx
        self.timeout = timeout
        self.load_timeout = max(load_timeout or timeout, timeout)
        self.store = store
        self._local_fallback = local_fallback
        self._fallback: StreamingChatModel | None = None
        self._limits = limits or HostLimits(per_host=4)
        self._retry = retry or RetryPolicy()
        self._client = ollama.AsyncClient(host=host, timeout=timeout)
        self._cold = ollama.AsyncClient(host=host, timeout=self.load_timeout)
        self._warm = False  # a call succeeded: the server has the model loaded

    @property
    def name(self) -> str:
        return f"ollama:{self.model}"

    def _fallback_for(self, exc: ModelUnavailable) -> StreamingChatModel | None:
        """The local model to use after `exc`, if the server is unreachable and the store
        holds the model's GGUF."""
        if not _unreachable_cause(exc) or self._local_fallback is None or self.store is None:
            return None
        if self._fallback is None:
            gguf = find_ollama_gguf(self.store, self.model)
            if gguf is None:
                return None
            self._fallback = self._local_fallback(gguf)
        return self._fallback

    def _retryable(self, exc: Exception) -> bool:
        """Busy (429/503), dropped, or unreachable (it may be restarting): worth another try,
        unless the server is unreachable and the local store can answer instead."""
        if isinstance(exc, ModelUnavailable) and _unreachable_cause(exc):
            return self._fallback_for(exc) is None
        return isinstance(exc, ModelError) and exc.retryable

    def _kwargs(self, request: ChatRequest) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": [_message_json(m) for m in request.messages],
            "options": _options_json(request, self.num_ctx),
        }
        if request.tools:
            kwargs["tools"] = [
                {"type": "function", "function": {"name": t.name, "description": t.description,
                                                  "parameters": t.parameters}}
                for t in request.tools
            ]
        if request.output_schema is not None:
            kwargs["format"] = request.output_schema
        if request.options.keep_alive is not None:
            kwargs["keep_alive"] = request.options.keep_alive
        if request.options.logprobs:
            kwargs["logprobs"] = True
        return kwargs

    def _unreachable(self, exc: BaseException) -> ModelUnavailable:
        return ModelUnavailable(
            f"no Ollama server answers at {self.host} ({type(exc).__name__})",
            model=self.name, retryable=True,
            fix="start it with `ollama serve`, or set OLLAMA_HOST / SHOAL_OLLAMA_HOST to "
            "where it runs",
        )

    def _translate(self, exc: ollama.ResponseError) -> ModelError:
        if exc.status_code == 404:
            return ModelUnavailable(
                f"Ollama at {self.host} does not have model {self.model!r}: {exc.error}",
                model=self.name, fix=f"run: ollama pull {self.model}",
            )
        lowered = str(exc.error).lower()
        if "context" in lowered and "exceed" in lowered:
            return context_overflow(str(exc.error), model=self.name, prompt_tokens=None,
                                    context_length=self.num_ctx)
        if exc.status_code < 0:  # an error inside a stream carries no status
            return ModelResponseError(f"Ollama at {self.host} failed mid-answer: {exc.error}",
                                      model=self.name, fix="retry; check Ollama's log")
        return status_error(exc.status_code, str(exc.error), model=self.name,
                            server=f"Ollama at {self.host}", key_setting=None)

    @asynccontextmanager
    async def _errors(self) -> AsyncIterator[None]:
        """Client errors -> Shoal errors. A refused connection surfaces as `ConnectionError`
        on plain calls but as a raw `httpx.ConnectError` when streaming: both are caught. A
        body the client cannot read raises ValueError (bad JSON, pydantic) or TypeError (JSON
        that is not an object)."""
        try:
            yield
        except ollama.ResponseError as exc:
            raise self._translate(exc) from exc
        except _CONNECT_ERRORS as exc:
            raise self._unreachable(exc) from exc
        except httpx.TransportError as exc:  # reached, then the connection failed or timed out
            raise transport_error(exc, model=self.name, server=f"Ollama at {self.host}",
                                  timeout=self.timeout) from exc
        except (ValueError, TypeError) as exc:
            raise malformed_reply(f"{type(exc).__name__}: {str(exc)[:200]}", model=self.name,
                                  server=f"Ollama at {self.host}") from exc

    async def chat(self, request: ChatRequest) -> ChatResponse:
        if request.options.n > 1:
            return await self._draw(request)
        try:
            return await self._chat(request)
        except ModelUnavailable as exc:
            fallback = self._fallback_for(exc)
            if fallback is None:
                raise
            return await fallback.chat(request)

    async def _draw(self, request: ChatRequest) -> ChatResponse:
        """`options.n` answers: Ollama has no `n`, so one call each, seeds apart (its prompt
        cache keeps the prefill of the calls after the first short)."""
        seed = request.options.seed or 0
        answers = [await self.chat(request.model_copy(update={"options": request.options
                   .model_copy(update={"n": 1, "seed": seed + i})}))
                   for i in range(request.options.n)]
        usage = answers[0].usage
        for answer in answers[1:]:
            usage = usage + answer.usage
        return answers[0].model_copy(update={"usage": usage,
                                             "choices": tuple(a.text for a in answers)})

    async def _chat(self, request: ChatRequest) -> ChatResponse:
        started = time.perf_counter()

        async def once() -> ollama.ChatResponse:
            client = self._client if self._warm else self._cold
            async with self._errors():
                return await client.chat(**self._kwargs(request), stream=False)

        reply, waited = await self._limits.call(self.host, self._retry, once,
                                                retryable=self._retryable)
        self._warm = True
        return waited.stamp(self._response(reply, reply.message.content or "",
                                           time.perf_counter() - started))

    def _response(self, reply: ollama.ChatResponse, text: str, wall: float) -> ChatResponse:
        calls = tuple(
            ToolCall(id=f"call_{i}", name=c.function.name, arguments=dict(c.function.arguments))
            for i, c in enumerate(reply.message.tool_calls or [])
        )
        return ChatResponse(text=text, tool_calls=calls, usage=_usage(reply, wall),
                            model=self.name, finish_reason=reply.done_reason,
                            logprobs=tuple(t.logprob for t in reply.logprobs or ()))

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        started = time.perf_counter()
        parts: list[str] = []
        try:
            async with self._limits.slot(self.host), self._errors():
                client = self._client if self._warm else self._cold
                chunks = await client.chat(**self._kwargs(request), stream=True)
                async for reply in chunks:
                    text = reply.message.content or ""
                    if text:
                        parts.append(text)
                        yield StreamChunk(text=text)
                    if reply.done:
                        self._warm = True
                        wall = time.perf_counter() - started
                        yield StreamChunk(text="", response=self._response(reply, "".join(parts),
                                                                           wall))
        except ModelUnavailable as exc:
            fallback = None if parts else self._fallback_for(exc)
            if fallback is None:
                raise
            async for chunk in fallback.stream(request):
                yield chunk

    async def describe(self) -> ModelInfo:
        async with self._errors():
            shown = await self._client.show(self.model)
        info = dict(shown.modelinfo or {})
        trained = next((v for k, v in info.items() if k.endswith(".context_length")), None)
        return ModelInfo(
            model=self.name, backend=self.backend, context_length=self.num_ctx,
            digest=f"ollama:{self.model}@{shown.modified_at}" if shown.modified_at else None,
            trained_context_length=trained, parameters=info.get("general.parameter_count"),
        )

    async def aclose(self) -> None:
        """Close the HTTP client, and free the local fallback model if one was loaded."""
        for client in (self._client, self._cold):  # the SDK has no close(); its httpx client has
            await client._client.aclose()
        if self._fallback is not None:
            await self._fallback.aclose()
