"""Embedded llama.cpp backend (`pack:` and `gguf:` URIs), in process through xllamacpp.

The only module that imports xllamacpp. Each EmbeddedChatModel owns at most one in-process
llama.cpp server for its GGUF, bound to loopback only; `aclose` frees it (memory and threads),
and a request needing a bigger n_ctx replaces it once no call is in flight. Share one model
object to share one server: a `shoal.Session` hands out one per URI. llama.cpp's load logs are
captured and routed to the `shoal.llamacpp` logger instead of being printed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import xllamacpp

from shoal.errors import ModelResponseError, ModelUnavailable
from shoal.models import openai_wire
from shoal.models.packs import file_digest
from shoal.models.types import ChatRequest, ChatResponse, ModelInfo, StreamChunk, Usage

__all__ = ["EmbeddedChatModel", "LoadedModel", "bounded_json_grammar", "load_gguf"]

_log = logging.getLogger("shoal.llamacpp")
_LOOPBACK = "127.0.0.1"
_SLOTS = 4


@dataclass(frozen=True)
class LoadedModel:
    """A GGUF loaded into an in-process llama.cpp server."""

    path: Path
    server: Any  # xllamacpp.Server: untyped extension object
    n_ctx: int
    n_threads: int
    base_url: str
    load_seconds: float


@contextmanager
def _stderr_routed_to_log() -> Iterator[None]:
    """Send whatever native code writes to fd 2 meanwhile to the `shoal.llamacpp` logger."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            for line in sink.read().decode("utf-8", errors="replace").splitlines():
                _log.debug("%s", line)


def _free_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind((_LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def _start_server(path: Path, n_ctx: int, n_threads: int, verbosity: int) -> tuple[Any, float]:
    params = xllamacpp.CommonParams()
    params.model.path = str(path)
    params.n_ctx = n_ctx
    # Slots for `n` answers to one prompt: the prompt is decoded once and its cache shared;
    # one unified KV buffer, so each sequence may use the whole n_ctx.
    params.n_parallel = _SLOTS
    params.kv_unified = True
    params.cpuparams.n_threads = n_threads
    params.cpuparams_batch.n_threads = n_threads
    params.hostnames = [_LOOPBACK]
    params.port = _free_loopback_port()
    params.use_jinja = True  # the GGUF's own chat template, with tool-call parsing
    params.verbosity = verbosity
    started = time.perf_counter()
    with _stderr_routed_to_log():
        server = xllamacpp.Server(params)
    return server, time.perf_counter() - started


_DIAGNOSE = """
import sys, xllamacpp
p = xllamacpp.CommonParams()
p.model.path, p.n_ctx, p.verbosity, p.port = sys.argv[1], 256, 3, int(sys.argv[2])
p.hostnames = ["127.0.0.1"]
xllamacpp.Server(p)
"""


def _load_diagnostics(path: Path) -> str:
    """llama.cpp prints why a load failed only at a verbose log level, which is process-wide;
    so a failed load is repeated in a child process, whose error lines become the reason."""
    child = subprocess.run(
        [sys.executable, "-c", _DIAGNOSE, str(path), str(_free_loopback_port())],
        capture_output=True, text=True, timeout=120, check=False,
    )
    errors = [line.split(" E ", 1)[1].strip() for line in child.stderr.splitlines()
              if " E " in line]
    for line in child.stderr.splitlines():
        _log.debug("%s", line)
    return "; ".join(list(dict.fromkeys(errors))[:3])


def load_gguf(
    path: Path, *, n_ctx: int, n_threads: int, verbosity: int = -1, uri: str | None = None
) -> LoadedModel:
    """A new llama.cpp server for `path` (blocking: call it off the event loop). Raises
    ModelUnavailable if the file is missing or llama.cpp refuses it."""
    path = path.resolve()
    if not path.is_file():
        raise ModelUnavailable(f"GGUF file {path} does not exist", model=uri or str(path),
                               fix="check the path, or pull a pack: shoal models pull NAME")
    _log.info("loading %s (n_ctx=%d, n_threads=%d)", path, n_ctx, n_threads)
    try:
        server, seconds = _start_server(path, n_ctx, n_threads, verbosity)
    except RuntimeError as exc:
        reason = _load_diagnostics(path) or str(exc)
        raise ModelUnavailable(
            f"llama.cpp could not load {path}: {reason}",
            model=uri or str(path),
            fix="the file is not a usable GGUF: re-download it, or `shoal models pull` a pack",
        ) from exc
    return LoadedModel(path, server, n_ctx, n_threads, str(server.listening_address), seconds)


class EmbeddedChatModel:
    """A GGUF model run in process by llama.cpp. No I/O until the first call."""

    backend = "llamacpp"

    def __init__(
        self,
        locate: Callable[[], Path],
        *,
        name: str,
        n_ctx: int,
        n_threads: int,
        verbosity: int = -1,
    ) -> None:
        """`locate` returns the GGUF path when first needed (a pack may assemble it then)."""
        self._locate = locate
        self._name = name
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.verbosity = verbosity
        self._server: LoadedModel | None = None
        self._in_flight = 0
        self._unreported_load = 0.0  # a load done by count_tokens/describe, for the next call
        self._state = threading.Condition()  # guards the three above, across threads

    @property
    def name(self) -> str:
        return self._name

    @property
    def server(self) -> LoadedModel | None:
        """The loaded server, or None before the first call and after `aclose`."""
        return self._server

    def _acquire(self, n_ctx: int) -> LoadedModel:
        """The server (loaded or replaced if it is missing or too small) with one more call
        in flight. Blocking: runs in a worker thread."""
        with self._state:
            while True:
                current = self._server
                if current is not None and current.n_ctx >= n_ctx:
                    self._in_flight += 1
                    return current
                if self._in_flight == 0:
                    break
                self._state.wait()  # a smaller server is busy: replace it once it is idle
            self._server = current = None  # the old server is freed before the new one loads
            loaded = load_gguf(self._locate(), n_ctx=n_ctx, n_threads=self.n_threads,
                               verbosity=self.verbosity, uri=self._name)
            self._server = loaded
            self._in_flight += 1
            self._unreported_load += loaded.load_seconds
            return loaded

    def _take_load_seconds(self) -> float:
        """Load seconds not reported in any response yet (the next generation reports them)."""
        with self._state:
            seconds, self._unreported_load = self._unreported_load, 0.0
            return seconds

    def _release(self) -> None:
        with self._state:
            self._in_flight -= 1
            self._state.notify_all()

    @asynccontextmanager
    async def loaded(self, num_ctx: int | None = None) -> AsyncIterator[LoadedModel]:
        """The server for one call, loading it off the event loop. It is not replaced or
        freed while the block runs. (Responses report load seconds through
        `_take_load_seconds`, so a load done while counting tokens shows up in the call that
        follows.)"""
        loaded = await asyncio.to_thread(self._acquire, num_ctx or self.n_ctx)
        try:
            yield loaded
        finally:
            self._release()

    def _payload(self, request: ChatRequest, stream: bool) -> dict[str, Any]:
        payload = openai_wire.request_payload(request, model=self._name, stream=stream)
        if request.output_schema is not None:
            del payload["response_format"]
            payload["grammar"] = bounded_json_grammar(request.output_schema)
        return payload

    def _check(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ModelResponseError(f"llama.cpp returned {type(body).__name__}, not a dict",
                                     model=self._name)
        if "error" in body:
            raise openai_wire.error_from_body(body, model=self._name, status_code=None)
        return body

    async def chat(self, request: ChatRequest) -> ChatResponse:
        payload = self._payload(request, stream=False)
        async with self.loaded(request.options.num_ctx) as loaded:
            load_seconds = self._take_load_seconds()
            started = time.perf_counter()
            body = await asyncio.to_thread(loaded.server.handle_chat_completions, payload)
            wall = time.perf_counter() - started + load_seconds
            response = openai_wire.response_from_body(self._check(body), model=self._name,
                                                      wall_seconds=wall)
            if len(response.choices) > 1:  # llama.cpp's usage counts the first choice only
                response = await self._count_choices(loaded, response)
        return _with_load(response, load_seconds)

    async def _count_choices(self, loaded: LoadedModel, response: ChatResponse) -> ChatResponse:
        async with httpx.AsyncClient(base_url=loaded.base_url, timeout=60) as client:
            extra = 0
            for text in response.choices[1:]:
                found = (await client.post("/tokenize", json={"content": text})).json()
                extra += len(found["tokens"])
        usage = response.usage.model_copy(
            update={"completion_tokens": response.usage.completion_tokens + extra})
        return response.model_copy(update={"usage": usage})

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        async with self.loaded(request.options.num_ctx) as loaded:
            async for chunk in self._stream(loaded, self._take_load_seconds(), request):
                yield chunk

    async def _stream(self, loaded: LoadedModel, load_seconds: float, request: ChatRequest
                      ) -> AsyncIterator[StreamChunk]:
        payload = self._payload(request, stream=True)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[dict[str, Any] | BaseException | None] = asyncio.Queue()
        cancelled = threading.Event()

        def on_chunk(chunk: dict[str, Any]) -> bool:
            loop.call_soon_threadsafe(queue.put_nowait, chunk)
            return cancelled.is_set()  # True asks llama.cpp to stop generating

        started = time.perf_counter()
        worker = asyncio.ensure_future(
            asyncio.to_thread(_run_streaming, loaded.server, payload, on_chunk, queue, loop)
        )
        assembler = openai_wire.StreamAssembler(model=self._name)
        try:
            while (item := await queue.get()) is not None:
                if isinstance(item, BaseException):
                    raise ModelResponseError(f"llama.cpp streaming failed: {item}",
                                             model=self._name) from item
                if text := assembler.feed(item):
                    yield StreamChunk(text=text)
        finally:
            cancelled.set()
            await worker
        response = assembler.response(wall_seconds=time.perf_counter() - started + load_seconds)
        yield StreamChunk(text="", response=_with_load(response, load_seconds))

    async def count_tokens(self, request: ChatRequest) -> int:
        """Prompt tokens of `request` after the GGUF's chat template, by llama.cpp itself."""
        payload = self._payload(request, stream=False)
        template = {k: payload[k] for k in ("messages", "tools") if k in payload}
        async with self.loaded(request.options.num_ctx) as loaded, httpx.AsyncClient(
                base_url=loaded.base_url, timeout=60) as client:
            prompt = (await client.post("/apply-template", json=template)).json()["prompt"]
            tokens = (await client.post("/tokenize", json={
                "content": prompt, "add_special": True, "parse_special": True})).json()
        return len(tokens["tokens"])

    async def describe(self) -> ModelInfo:
        async with self.loaded() as loaded, httpx.AsyncClient(
                base_url=loaded.base_url, timeout=10) as client:
            meta = (await client.get("/v1/models")).json()["data"][0].get("meta", {})
        return ModelInfo(
            model=self._name, backend=self.backend, digest=file_digest(loaded.path),
            context_length=loaded.n_ctx,
            trained_context_length=meta.get("n_ctx_train"), parameters=meta.get("n_params"),
            size_bytes=loaded.path.stat().st_size,
        )

    async def aclose(self) -> None:
        """Free the server (its memory and threads) once no call is in flight. A later call
        loads it again."""
        await asyncio.to_thread(self._unload)

    def _unload(self) -> None:
        with self._state:
            while self._in_flight:
                self._state.wait()
            self._server = None  # the last reference: llama.cpp's destructor joins its threads


def _run_streaming(
    server: Any,
    payload: dict[str, Any],
    on_chunk: Callable[[dict[str, Any]], bool],
    queue: asyncio.Queue[dict[str, Any] | BaseException | None],
    loop: asyncio.AbstractEventLoop,
) -> None:
    try:
        server.handle_chat_completions(payload, on_chunk)
    except Exception as exc:  # surfaced to the consumer as a ModelResponseError
        loop.call_soon_threadsafe(queue.put_nowait, exc)
    finally:
        loop.call_soon_threadsafe(queue.put_nowait, None)




def bounded_json_grammar(schema: dict[str, Any]) -> str:
    """A llguidance grammar for `schema` with fixed whitespace: with llama.cpp's default JSON
    grammar, weak models pad with spaces and tabs until max_tokens runs out; with none at all,
    models trained on pretty-printed JSON fill fewer fields. So: one item per line."""
    bounded = {**schema, "x-guidance": {"whitespace_flexible": False,
                                         "item_separator": ",\n  ", "key_separator": ": "}}
    return f"%llguidance {{}}\nstart: %json {json.dumps(bounded)}"


def _with_load(response: ChatResponse, load_seconds: float) -> ChatResponse:
    if not load_seconds:
        return response
    usage: Usage = response.usage.model_copy(update={"load_seconds": load_seconds})
    return response.model_copy(update={"usage": usage})
