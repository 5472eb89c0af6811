"""`shoal serve`: the HTTP face of a Service (FastAPI). Every route but /v1/health and the
dashboard page needs an API key. Errors are JSON with a stable code and the fix:

    {"error": {"code": "input_error", "message": "...", "fix": "..."}}

Routes (OpenAPI at /openapi.json, docs at /docs):
    GET  /v1/health                          liveness, queue lengths
    GET  /v1/agents | /v1/graphs             what can be called, with JSON schemas
    POST /v1/agents/{name}/invoke            one agent call: output, model, usage, cost
    POST /v1/graphs/{name}/runs              mode wait | background | stream (SSE node updates)
    GET  /v1/runs | /v1/runs/{run_id}        the ledger: status, per-node tokens/seconds/cost
    GET  /v1/threads/{thread_id}             a run's status and final state
    POST /v1/threads/{thread_id}/resume      a human decision for a waiting run
    POST /v1/ocr-to-sql                      upload documents (multipart), get their records
    POST /v1/ask                             a question over the service's database
    GET  /v1/reviews | POST /v1/reviews/{id} documents that need a person; approve/fix/reject
    GET  /v1/graphs/{name}/diagram.svg       the graph's picture (dashboard)
    GET  /                                   the runs dashboard
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, File, Header, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from shoal.errors import (
    AgentError,
    AuthError,
    ConfigError,
    GraphError,
    InputError,
    ModelTimeout,
    ModelUnavailable,
    ServiceBusy,
    ShoalError,
)
from shoal.graphs.context import NodeTokens
from shoal.graphs.runner import OnUpdate, RunOutcome
from shoal.service.auth import KeyCheck
from shoal.service.diagram import graph_svg
from shoal.service.service import Service

__all__ = ["create_app"]

_STATUS: tuple[tuple[type[ShoalError], int], ...] = (
    (AuthError, 401), (ServiceBusy, 429), (InputError, 400), (ConfigError, 400),
    (AgentError, 422), (GraphError, 500), (ModelTimeout, 504), (ModelUnavailable, 503),
    (ShoalError, 502),  # the other ModelErrors: the model answered badly
)


def error_code(error: ShoalError) -> str:
    """The stable code of an error: its class name in snake case (input_error, ...)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(error).__name__).lower()


def _error_body(code: str, message: str, fix: str | None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fix": fix}}


def error_response(error: ShoalError) -> JSONResponse:
    status = next(code for kind, code in _STATUS if isinstance(error, kind))
    headers = {"Retry-After": str(error.retry_after)} if isinstance(error, ServiceBusy) else {}
    if isinstance(error, AuthError):
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(_error_body(error_code(error), error.message, error.fix),
                        status_code=status, headers=headers)


class AgentCall(BaseModel):
    input: Any = Field(description="the agent's input: text, or an object of its input schema")


class RunRequest(BaseModel):
    input: Any = None
    mode: Literal["wait", "background", "stream"] = "wait"


class Decision(BaseModel):
    """A person's decision: `approve` for an approval step; `action` (+ `fix`) for a
    document under review."""

    approve: bool | None = None
    action: Literal["approve", "reject"] | None = None
    fix: dict[str, str] = Field(default_factory=dict)

    def value(self) -> Any:
        if self.action is not None:
            return {"action": self.action, "fix": self.fix}
        if self.approve is None:
            raise InputError("the decision is empty", source="decision",
                             fix='send {"approve": true} or {"action": "approve", "fix": {...}}')
        return self.approve


class Question(BaseModel):
    question: str
    conversation: str | None = None


class BodyLimit:
    """ASGI middleware: a request body over `limit` bytes is refused with 413 (by its
    Content-Length, or as it streams in), before a handler reads it."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await self._refuse(scope, receive, send)
            return
        seen = 0

        async def counted() -> Any:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Any, receive: Any, send: Any) -> None:
        response = JSONResponse(_error_body(
            "request_too_large", f"the request body is over {self.limit} bytes",
            "send smaller files, or start the service with a larger --max-body-mb"),
            status_code=413)
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass


def _sse(event: str, data: Any) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, default=str)}\n\n".encode()


def _outcome(outcome: RunOutcome) -> dict[str, Any]:
    return {"run_id": outcome.run_id, "thread_id": outcome.thread_id,
            "status": outcome.status, "state": outcome.state,
            "waiting_for": outcome.waiting_for}


def create_app(service: Service, keys: KeyCheck) -> FastAPI:
    """The app over `service`, which it closes at shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await service.aclose()

    app = FastAPI(title="Shoal", version="1", lifespan=lifespan,
                  description="Small-model agents and pipelines over HTTP.")
    app.add_middleware(BodyLimit, limit=service.config.max_body_bytes)

    @app.exception_handler(ShoalError)
    async def shoal_error(request: Request, error: ShoalError) -> JSONResponse:
        return error_response(error)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return JSONResponse(_error_body("invalid_request", f"{where}: {first.get('msg')}",
                                        "see the request schema at /docs"), status_code=422)

    def key(authorization: Annotated[str | None, Header()] = None,
            x_api_key: Annotated[str | None, Header()] = None) -> None:
        keys.check(authorization, x_api_key)

    Auth = Depends(key)

    @app.get("/v1/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "auth": keys.required,
                "queues": {name: {"inside": g.inside, "refused": g.refused}
                           for name, g in service.gates().items()}}

    @app.get("/v1/agents", dependencies=[Auth])
    async def agents() -> list[dict[str, Any]]:
        return service.agents()

    @app.get("/v1/graphs", dependencies=[Auth])
    async def graphs() -> list[str]:
        return service.graphs()

    @app.post("/v1/agents/{name}/invoke", dependencies=[Auth])
    async def invoke(name: str, call: AgentCall) -> dict[str, Any]:
        return await service.invoke_agent(name, call.input)

    @app.post("/v1/graphs/{name}/runs", dependencies=[Auth], response_model=None)
    async def start(name: str, run: RunRequest) -> dict[str, Any] | StreamingResponse:
        if run.mode == "background":
            return {"thread_id": service.start_background(name, run.input),
                    "status": "running"}
        if run.mode == "wait":
            return _outcome(await service.start_run(name, run.input))
        service.definition(name)  # an unknown graph is a JSON error, not a broken stream
        return _stream(lambda on_update, on_token: service.start_run(
            name, run.input, on_update=on_update, on_token=on_token))

    @app.get("/v1/runs", dependencies=[Auth])
    async def runs(limit: int = 50) -> list[dict[str, Any]]:
        return await service.runs(min(max(limit, 1), 500))

    @app.get("/v1/runs/{run_id}", dependencies=[Auth])
    async def run(run_id: str) -> dict[str, Any]:
        return await service.run(run_id)

    @app.get("/v1/threads/{thread_id}", dependencies=[Auth])
    async def thread(thread_id: str) -> dict[str, Any]:
        return await service.run_status(thread_id)

    @app.post("/v1/threads/{thread_id}/resume", dependencies=[Auth], response_model=None)
    async def resume(thread_id: str, decision: Decision, stream: bool = False
                     ) -> dict[str, Any] | StreamingResponse:
        value = decision.value()
        if stream:
            return _stream(lambda on_update, on_token: service.resume(
                thread_id, value, on_update=on_update, on_token=on_token))
        return _outcome(await service.resume(thread_id, value))

    @app.post("/v1/ocr-to-sql", dependencies=[Auth])
    async def ocr_to_sql(files: Annotated[list[UploadFile], File()]) -> list[dict[str, Any]]:
        paths = []
        for upload in files:
            path = service.upload_path(upload.filename or "upload")
            await asyncio.to_thread(path.write_bytes, await upload.read())
            paths.append(path)
        return await service.ocr_to_sql(paths)

    @app.post("/v1/ask", dependencies=[Auth])
    async def ask(question: Question) -> dict[str, Any]:
        return await service.ask(question.question, question.conversation)

    @app.get("/v1/reviews", dependencies=[Auth])
    async def reviews() -> list[dict[str, Any]]:
        return await service.reviews()

    @app.post("/v1/reviews/{document}", dependencies=[Auth])
    async def decide(document: str, decision: Decision) -> dict[str, Any]:
        if decision.action is None:
            raise InputError("a review decision needs an action", source="action",
                             fix='send {"action": "approve"|"reject", "fix": {"total": "9.50"}}')
        return await service.decide(document, decision.action, decision.fix)

    @app.get("/v1/graphs/{name}/diagram.svg", dependencies=[Auth])
    async def diagram(name: str) -> Response:
        compiled = service.definition(name).compile()
        return Response(graph_svg(compiled.get_graph()), media_type="image/svg+xml")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def dashboard() -> str:
        return _asset("index.html")

    @app.get("/dashboard/{name}", include_in_schema=False)
    async def asset(name: str) -> Response:
        kinds = {".js": "text/javascript", ".css": "text/css"}
        suffix = Path(name).suffix
        if suffix not in kinds or "/" in name:
            raise InputError(f"no dashboard file {name!r}", source=name, fix="open /")
        return Response(_asset(name), media_type=kinds[suffix])

    return app


def _asset(name: str) -> str:
    try:
        return (resources.files("shoal.service") / "dashboard" / name).read_text("utf-8")
    except FileNotFoundError:
        raise InputError(f"no dashboard file {name!r}", source=name, fix="open /") from None


Start = Callable[[OnUpdate, NodeTokens], Awaitable[RunOutcome]]


def _stream(start: Start) -> StreamingResponse:
    """Server-sent events of one run: `token` as a node's model generates text, `update` per
    finished node, then `end` (the outcome) or `error` (code, message, fix)."""
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()

    async def on_update(node: str, update: dict[str, Any]) -> None:
        await queue.put(_sse("update", {"node": node, "update": update}))

    async def on_token(node: str, text: str) -> None:
        await queue.put(_sse("token", {"node": node, "text": text}))

    async def run() -> None:
        try:
            outcome = await start(on_update, on_token)
            await queue.put(_sse("end", _outcome(outcome)))
        except ShoalError as exc:
            await queue.put(_sse("error", _error_body(error_code(exc), exc.message,
                                                      exc.fix)["error"]))
        finally:
            await queue.put(None)

    async def events() -> AsyncIterator[bytes]:
        task = asyncio.create_task(run())
        try:
            while (item := await queue.get()) is not None:
                yield item
        finally:
            await task  # the run finishes (it is durable) even if the client went away

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache"})
