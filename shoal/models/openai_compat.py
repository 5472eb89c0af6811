"""OpenAI-compatible HTTP backend (`openai:<base_url>#<model>`): vLLM, llama-server, LM Studio.

Plain httpx against POST {base_url}/chat/completions; the JSON dialect lives in openai_wire.
An API key is sent only when one is configured (SHOAL_OPENAI_API_KEY); it is redacted from
any server text that goes into an error.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from shoal.errors import ModelError, ModelUnavailable
from shoal.models import openai_wire
from shoal.models.failures import malformed_reply, redact, transport_error
from shoal.models.retry import HostLimits, RetryPolicy
from shoal.models.types import ChatRequest, ChatResponse, ModelInfo, StreamChunk

__all__ = ["OpenAICompatChatModel"]


class OpenAICompatChatModel:
    """A model behind an OpenAI-compatible server. No I/O until the first call."""

    backend = "openai"

    def __init__(
        self, base_url: str, model: str, *, timeout: float, api_key: str | None = None,
        limits: HostLimits | None = None, retry: RetryPolicy | None = None,
    ) -> None:
        """Calls wait for a place under `limits` (shared by a session's models of one
        server); a busy (429/503), dropped or refused call is tried again by `retry`."""
        self.base_url = base_url.rstrip("/")
        self.model = model
        self._timeout = timeout
        self._api_key = api_key
        self._limits = limits or HostLimits(per_host=4)
        self._retry = retry or RetryPolicy()
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(base_url=self.base_url, timeout=timeout, headers=headers)

    @property
    def name(self) -> str:
        return f"openai:{self.base_url}#{self.model}"

    @asynccontextmanager
    async def _errors(self) -> AsyncIterator[None]:
        try:
            yield
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise ModelUnavailable(
                f"no server answers at {self.base_url} ({type(exc).__name__})",
                model=self.name, retryable=True,
                fix="start the server, or correct the base URL in the model URI",
            ) from exc
        except httpx.TransportError as exc:
            raise transport_error(exc, model=self.name, server=self.base_url,
                                  timeout=self._timeout) from exc

    def _json(self, text: str, status_code: int | None = None) -> Any:
        """`text`, redacted of the API key, parsed as JSON; or the malformed-reply error."""
        text = redact(text, [self._api_key])
        try:
            return json.loads(text)
        except ValueError as exc:
            raise malformed_reply(f"{exc}: {text[:200]!r}",
                                  model=self.name, server=self.base_url,
                                  status_code=status_code) from exc

    async def _send(self, method: str, path: str, payload: object = None, *,
                    stream: bool = False) -> httpx.Response:
        """Send once more when the server dropped a pooled keep-alive connection unanswered.

        llama.cpp's server may close an idle connection just as the client reuses it; the
        request never reached the model, so sending it again on a fresh connection is safe.
        """
        request = self._client.build_request(method, path, json=payload)
        async with self._errors():
            try:
                return await self._client.send(request, stream=stream)
            except httpx.RemoteProtocolError:
                return await self._client.send(request, stream=stream)

    async def _raise_for_status(self, response: httpx.Response) -> None:
        if response.status_code < 400:
            return
        await response.aread()
        text = redact(response.text, [self._api_key])
        if response.status_code == 404:
            raise ModelUnavailable(
                f"{self.base_url} has no model {self.model!r} or no chat endpoint: {text[:200]}",
                model=self.name, fix="check the model name after '#' and the base URL (…/v1)",
            )
        try:
            body = json.loads(text)
        except ValueError:
            body = {"error": {"message": text[:300]}}
        raise openai_wire.error_from_body(
            body if isinstance(body, dict) else {"error": body}, model=self.name,
            status_code=response.status_code, key_setting="SHOAL_OPENAI_API_KEY")

    async def chat(self, request: ChatRequest) -> ChatResponse:
        payload = openai_wire.request_payload(request, model=self.model, stream=False)
        started = time.perf_counter()

        async def once() -> dict[str, Any]:
            response = await self._send("POST", "/chat/completions", payload)
            await self._raise_for_status(response)
            body = self._json(response.text, response.status_code)
            if not isinstance(body, dict):
                raise malformed_reply(f"a JSON {type(body).__name__}, not an object",
                                      model=self.name, server=self.base_url)
            return body

        body, waited = await self._limits.call(
            self.base_url, self._retry, once,
            retryable=lambda e: isinstance(e, ModelError) and e.retryable)
        return waited.stamp(openai_wire.response_from_body(
            body, model=self.name, wall_seconds=time.perf_counter() - started))

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        payload = openai_wire.request_payload(request, model=self.model, stream=True)
        started = time.perf_counter()
        assembler = openai_wire.StreamAssembler(model=self.name)
        async with self._limits.slot(self.base_url):  # held until the stream ends
            response = await self._send("POST", "/chat/completions", payload, stream=True)
            try:
                await self._raise_for_status(response)
                async with self._errors():
                    async for line in response.aiter_lines():
                        data = line.removeprefix("data:").strip()
                        if not line.startswith("data:") or not data or data == "[DONE]":
                            continue
                        if text := assembler.feed(self._json(data)):
                            yield StreamChunk(text=text)
            finally:
                await response.aclose()
        wall = time.perf_counter() - started
        yield StreamChunk(text="", response=assembler.response(wall_seconds=wall))

    async def describe(self) -> ModelInfo:
        response = await self._send("GET", "/models")
        await self._raise_for_status(response)
        listing = self._json(response.text, response.status_code)
        entries = (listing.get("data") if isinstance(listing, dict) else None) or []
        meta = next((e.get("meta") or {} for e in entries if e.get("id") == self.model), {})
        return ModelInfo(
            model=self.name, backend=self.backend, context_length=meta.get("n_ctx"),
            trained_context_length=meta.get("n_ctx_train"), parameters=meta.get("n_params"),
            size_bytes=meta.get("size"),
        )

    async def aclose(self) -> None:
        await self._client.aclose()
