"""Embedded llama.cpp backend (`pack:` and `gguf:` URIs), in process through xllamacpp.

The only module that imports xllamacpp. One server per GGUF file per process, shared by every
model object and agent that names it; it binds to loopback only. llama.cpp's load logs are
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
from contextlib import contextmanager
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


@dataclass(frozen=True)
class LoadedModel:
    """A GGUF loaded into an in-process llama.cpp server."""

    path: Path
    server: Any  # xllamacpp.Server: untyped extension object
    n_ctx: int
    n_threads: int
    base_url: str
    load_seconds: float


_loaded: dict[Path, LoadedModel] = {}
_load_lock = threading.Lock()


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
    params.n_parallel = 1
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
) -> tuple[LoadedModel, bool]:
    """The process-wide server for `path` with at least `n_ctx` context, loading or reloading
    it if needed. Returns (model, loaded_now). Raises ModelUnavailable if llama.cpp refuses."""
    path = path.resolve()
    with _load_lock:
        current = _loaded.get(path)
        if current is not None and current.n_ctx >= n_ctx and current.n_threads == n_threads:
            return current, False
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
        address = str(server.listening_address)
        loaded = LoadedModel(path, server, n_ctx, n_threads, address, seconds)
        # A replaced server stays alive while in-flight calls still hold it.
        _loaded[path] = loaded
        return loaded, True


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

    @property
    def name(self) -> str:
        return self._name

    async def loaded(self, num_ctx: int | None = None) -> tuple[LoadedModel, float]:
        """The shared server, loading it off the event loop; also the seconds spent loading."""
        def locate_and_load() -> tuple[LoadedModel, bool]:
            return load_gguf(self._locate(), n_ctx=num_ctx or self.n_ctx,
                             n_threads=self.n_threads, verbosity=self.verbosity, uri=self._name)

        loaded, fresh = await asyncio.to_thread(locate_and_load)
        return loaded, (loaded.load_seconds if fresh else 0.0)

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
        loaded, load_seconds = await self.loaded(request.options.num_ctx)
        payload = self._payload(request, stream=False)
        started = time.perf_counter()
        body = await asyncio.to_thread(loaded.server.handle_chat_completions, payload)
        wall = time.perf_counter() - started + load_seconds
        response = openai_wire.response_from_body(self._check(body), model=self._name,
                                                  wall_seconds=wall)
        return _with_load(response, load_seconds)

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        loaded, load_seconds = await self.loaded(request.options.num_ctx)
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
        loaded, _ = await self.loaded(request.options.num_ctx)
        payload = self._payload(request, stream=False)
        template = {k: payload[k] for k in ("messages", "tools") if k in payload}
        async with httpx.AsyncClient(base_url=loaded.base_url, timeout=60) as client:
            prompt = (await client.post("/apply-template", json=template)).json()["prompt"]
            tokens = (await client.post("/tokenize", json={
                "content": prompt, "add_special": True, "parse_special": True})).json()
        return len(tokens["tokens"])

    async def describe(self) -> ModelInfo:
        loaded, _ = await self.loaded()
        async with httpx.AsyncClient(base_url=loaded.base_url, timeout=10) as client:
            meta = (await client.get("/v1/models")).json()["data"][0].get("meta", {})
        return ModelInfo(
            model=self._name, backend=self.backend, digest=file_digest(loaded.path),
            context_length=loaded.n_ctx,
            trained_context_length=meta.get("n_ctx_train"), parameters=meta.get("n_params"),
            size_bytes=loaded.path.stat().st_size,
        )

    async def aclose(self) -> None:
        """Nothing to release: the loaded server is shared for the life of the process."""


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
