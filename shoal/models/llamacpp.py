"""Embedded llama.cpp backend (`pack:` and `gguf:` URIs) through xllamacpp.

Each EmbeddedChatModel owns at most one llama.cpp server for its GGUF, run in a worker process
of its own (shoal/models/llamacpp_worker.py, the only module that imports xllamacpp: see there
why one process per model) and bound to loopback only. Calls go to it as OpenAI-style JSON
over HTTP. `aclose` stops the worker (memory and threads freed); a request needing a bigger
n_ctx replaces it once no call is in flight. Share one model object to share one server: a
`shoal.Session` hands out one per URI. A worker ends with the process that started it (its
stdin closes). llama.cpp's logs are routed to the `shoal.llamacpp` logger.
"""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

from shoal.errors import ModelResponseError, ModelUnavailable
from shoal.models import openai_wire
from shoal.models.packs import file_digest
from shoal.models.types import ChatRequest, ChatResponse, ModelInfo, StreamChunk, Usage

__all__ = ["EmbeddedChatModel", "LoadedModel", "bounded_json_grammar", "load_gguf"]

_log = logging.getLogger("shoal.llamacpp")
_WORKER = Path(__file__).with_name("llamacpp_worker.py")
_SLOTS = 4
_STOP_SECONDS = 10.0


@dataclass(frozen=True)
class LoadedModel:
    """A GGUF loaded into a llama.cpp server in a worker process."""

    path: Path
    process: subprocess.Popen[bytes]
    n_ctx: int
    n_threads: int
    base_url: str
    load_seconds: float
    log_tail: deque[str] = field(default_factory=lambda: deque(maxlen=20), compare=False)

    def client(self, timeout: float | None = None) -> httpx.AsyncClient:
        """A client for this server, for one call. Plain HTTP on loopback: no TLS context to
        build (verify=False saves loading a certificate store per call), and no proxy from the
        environment."""
        return httpx.AsyncClient(base_url=self.base_url, timeout=timeout, verify=False,
                                 trust_env=False)

    def stop(self) -> None:
        """End the worker: close its stdin (it exits), kill it if it does not."""
        _end(self.process)

    def stopped(self) -> str:
        """Why the server no longer answers: the worker's exit and its last log lines."""
        code = self.process.poll()
        state = "is not answering" if code is None else f"exited with code {code}"
        tail = " | ".join(list(self.log_tail)[-3:])
        return f"the llama.cpp worker for {self.path.name} {state}" + (
            f" ({tail})" if tail else "")


def _end(process: subprocess.Popen[bytes]) -> None:
    """Close the worker's stdin (it exits when it sees that), kill it if it does not, and
    close our end of its stdout (its stderr is closed by the thread that reads it)."""
    if process.stdin is not None:
        process.stdin.close()
    try:
        process.wait(_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout is not None:
        process.stdout.close()


def _route_log(stream: IO[bytes], tail: deque[str]) -> None:
    """Send the worker's stderr to the `shoal.llamacpp` logger (a daemon thread's loop)."""
    with stream:
        for raw in stream:
            line = raw.decode("utf-8", errors="replace").rstrip()
            tail.append(line)
            _log.debug("%s", line)


def load_gguf(
    path: Path, *, n_ctx: int, n_threads: int, verbosity: int = -1, uri: str | None = None
) -> LoadedModel:
    """A new llama.cpp server for `path` in a worker process (blocking: call it off the event
    loop). Raises ModelUnavailable if the file is missing or llama.cpp refuses it."""
    path = path.resolve()
    model = uri or str(path)
    if not path.is_file():
        raise ModelUnavailable(f"GGUF file {path} does not exist", model=model,
                               fix="check the path, or pull a pack: shoal models pull NAME")
    _log.info("loading %s (n_ctx=%d, n_threads=%d)", path, n_ctx, n_threads)
    config = {"path": str(path), "n_ctx": n_ctx, "n_threads": n_threads,
              "n_parallel": _SLOTS, "verbosity": verbosity}
    process = subprocess.Popen([sys.executable, str(_WORKER), json.dumps(config)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    tail: deque[str] = deque(maxlen=20)
    assert process.stdout is not None and process.stderr is not None
    threading.Thread(target=_route_log, args=(process.stderr, tail), daemon=True,
                     name=f"llama.cpp log {path.name}").start()
    line = process.stdout.readline()
    try:
        report = json.loads(line)
    except ValueError:
        report = {"error": f"the worker ended before loading ({' | '.join(tail) or 'no log'})"}
    if "error" in report:
        _end(process)
        raise ModelUnavailable(
            f"llama.cpp could not load {path}: {report['error']}", model=model,
            fix="the file is not a usable GGUF: re-download it, or `shoal models pull` a pack")
    loaded = LoadedModel(path, process, n_ctx, n_threads, str(report["address"]),
                         float(report["load_seconds"]), tail)
    weakref.finalize(loaded, _end, process)  # a model never closed still stops its worker
    return loaded


class EmbeddedChatModel:
    """A GGUF model run by llama.cpp in a worker process. No I/O until the first call."""

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
                if (current is not None and current.n_ctx >= n_ctx
                        and current.process.poll() is None):  # a dead worker is replaced
                    self._in_flight += 1
                    return current
                if self._in_flight == 0:
                    break
                self._state.wait()  # a smaller server is busy: replace it once it is idle
            if current is not None:  # the old server is stopped before the new one loads
                self._server = None
                current.stop()
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

    async def _post(self, loaded: LoadedModel, path: str, payload: dict[str, Any]
                    ) -> dict[str, Any]:
        """POST `payload` to the worker; its JSON reply, or the error it stands for."""
        try:
            async with loaded.client() as client:
                response = await client.post(path, json=payload)
        except httpx.TransportError as exc:
            raise ModelUnavailable(loaded.stopped(), model=self._name,
                                   fix="see the shoal.llamacpp log; the next call starts "
                                       "a new worker after `aclose`") from exc
        try:
            body = response.json()
        except ValueError as exc:
            raise ModelResponseError(f"llama.cpp answered {response.status_code} with no JSON: "
                                     f"{response.text[:200]!r}", model=self._name) from exc
        if not isinstance(body, dict):
            raise ModelResponseError(f"llama.cpp returned {type(body).__name__}, not a dict",
                                     model=self._name)
        if "error" in body or response.status_code >= 400:
            raise openai_wire.error_from_body(body, model=self._name,
                                              status_code=response.status_code)
        return body

    async def chat(self, request: ChatRequest) -> ChatResponse:
        payload = self._payload(request, stream=False)
        async with self.loaded(request.options.num_ctx) as loaded:
            load_seconds = self._take_load_seconds()
            started = time.perf_counter()
            body = await self._post(loaded, "/v1/chat/completions", payload)
            wall = time.perf_counter() - started + load_seconds
            response = openai_wire.response_from_body(body, model=self._name,
                                                      wall_seconds=wall)
            if len(response.choices) > 1:  # llama.cpp's usage counts the first choice only
                response = await self._count_choices(loaded, response)
        return _with_load(response, load_seconds)

    async def _count_choices(self, loaded: LoadedModel, response: ChatResponse) -> ChatResponse:
        extra = 0
        for text in response.choices[1:]:
            found = await self._post(loaded, "/tokenize", {"content": text})
            extra += len(found["tokens"])
        usage = response.usage.model_copy(
            update={"completion_tokens": response.usage.completion_tokens + extra})
        return response.model_copy(update={"usage": usage})

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        payload = self._payload(request, stream=True)
        async with self.loaded(request.options.num_ctx) as loaded:
            load_seconds = self._take_load_seconds()
            started = time.perf_counter()
            assembler = openai_wire.StreamAssembler(model=self._name)
            try:
                async with loaded.client() as client, client.stream(
                        "POST", "/v1/chat/completions", json=payload) as response:
                    if response.status_code >= 400:
                        await response.aread()
                        raise openai_wire.error_from_body(
                            _json_object(response.text), model=self._name,
                            status_code=response.status_code)
                    async for line in response.aiter_lines():
                        data = line.removeprefix("data:").strip()
                        if not line.startswith("data:") or not data or data == "[DONE]":
                            continue
                        event = _json_object(data)
                        if "error" in event:
                            raise openai_wire.error_from_body(event, model=self._name,
                                                              status_code=None)
                        if text := assembler.feed(event):
                            yield StreamChunk(text=text)
            except httpx.TransportError as exc:
                raise ModelResponseError(f"llama.cpp streaming failed: {loaded.stopped()}",
                                         model=self._name) from exc
        wall = time.perf_counter() - started + load_seconds
        yield StreamChunk(text="", response=_with_load(assembler.response(wall_seconds=wall),
                                                       load_seconds))

    async def count_tokens(self, request: ChatRequest) -> int:
        """Prompt tokens of `request` after the GGUF's chat template, by llama.cpp itself."""
        payload = self._payload(request, stream=False)
        template: dict[str, Any] = {k: payload[k] for k in ("messages", "tools")
                                    if k in payload}
        async with self.loaded(request.options.num_ctx) as loaded:
            prompt = (await self._post(loaded, "/apply-template", template))["prompt"]
            tokens = await self._post(loaded, "/tokenize", {
                "content": prompt, "add_special": True, "parse_special": True})
        return len(tokens["tokens"])

    async def describe(self) -> ModelInfo:
        async with self.loaded() as loaded, loaded.client(timeout=10) as client:
            meta = (await client.get("/v1/models")).json()["data"][0].get("meta", {})
        return ModelInfo(
            model=self._name, backend=self.backend, digest=file_digest(loaded.path),
            context_length=loaded.n_ctx,
            trained_context_length=meta.get("n_ctx_train"), parameters=meta.get("n_params"),
            size_bytes=loaded.path.stat().st_size,
        )

    async def aclose(self) -> None:
        """Stop the worker (its memory and threads are freed) once no call is in flight. A
        later call loads it again."""
        await asyncio.to_thread(self._unload)

    def _unload(self) -> None:
        with self._state:
            while self._in_flight:
                self._state.wait()
            loaded, self._server = self._server, None
        if loaded is not None:
            loaded.stop()


def _json_object(text: str) -> dict[str, Any]:
    """A JSON object from the worker, or {"error": ...} naming what came instead."""
    try:
        body = json.loads(text)
    except ValueError:
        return {"error": {"message": f"not JSON: {text[:200]!r}"}}
    return body if isinstance(body, dict) else {"error": {"message": f"not an object: {body!r}"}}


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
