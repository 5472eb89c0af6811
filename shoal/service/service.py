"""What `shoal serve` and `shoal mcp` do, without HTTP: one Service owns one Session (its loaded
models and databases), a bounded queue per model, and the graph runs it started in the
background. The HTTP app (shoal.service.app) and the MCP server (shoal.service.mcp) are thin
translations of these methods.

    async with Service(ServiceConfig(db_url="sqlite:///docs.db"), Session()) as service:
        result = await service.invoke_agent("support_router", "my card was charged twice")
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

from pydantic import BaseModel, Field

from shoal.agents import Agent, AgentResult, load_agent_spec
from shoal.catalog import config_files, find_config
from shoal.errors import ConfigError, InputError
from shoal.frozen import Frozen
from shoal.graphs.context import NodeTokens
from shoal.graphs.runner import (
    GraphDefinition,
    GraphRunner,
    OnUpdate,
    RunOutcome,
    load_definition,
    run_agent,
)
from shoal.memory.costs import PriceTable, load_prices, totals
from shoal.memory.tables import CallRow, RunRow
from shoal.service.gate import Gate
from shoal.session import Session

__all__ = ["PIPELINES", "Service", "ServiceConfig"]

# The built-in pipelines, served as endpoints of their own (upload a file; ask a question).
PIPELINES = ("ocr_to_sql", "text_to_sql")


class ServiceConfig(Frozen):
    """How the service runs. `db_url` is the database the pipelines write (ocr-to-sql) and
    read (questions)."""

    db_url: str
    host: str = "127.0.0.1"
    port: int = Field(default=8321, ge=0, le=65535)
    max_body_bytes: int = Field(default=20 * 2**20, gt=0, description="largest request body")
    running: int = Field(default=1, ge=1, description="requests using one model at once")
    waiting: int = Field(default=8, ge=0, description="requests that may wait for a model; "
                         "one more is answered 429 with Retry-After")


class Service:
    def __init__(self, config: ServiceConfig, session: Session) -> None:
        self.config = config
        self.session = session
        self._gates: dict[str, Gate] = {}
        self._tasks: dict[str, asyncio.Task[RunOutcome]] = {}  # background runs by thread
        self._outcomes: dict[str, RunOutcome] = {}  # the last runs' outcomes, by thread
        self._uploads = tempfile.TemporaryDirectory(prefix="shoal-uploads-")
        self._prices: PriceTable | None = None  # read on first use

    async def __aenter__(self) -> Service:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self._uploads.cleanup()
        await self.session.aclose()

    # --- queues -------------------------------------------------------------------------
    def gate(self, model: str) -> Gate:
        if model not in self._gates:
            self._gates[model] = Gate(model, running=self.config.running,
                                      waiting=self.config.waiting)
        return self._gates[model]

    def gates(self) -> dict[str, Gate]:
        return dict(self._gates)

    @asynccontextmanager
    async def _admitted(self, models: Iterable[str]) -> AsyncIterator[None]:
        """Wait for every model's queue, in name order (no two requests wait on each other);
        ServiceBusy at once when one is full."""
        async with AsyncExitStack() as stack:
            for model in sorted(set(models)):
                await stack.enter_async_context(self.gate(model).admit())
            yield

    # --- catalog ------------------------------------------------------------------------
    def agents(self) -> list[dict[str, Any]]:
        """The agents on the settings' search path, with their input and output schemas."""
        found: list[dict[str, Any]] = []
        for name, path in config_files(self.session.settings, "agents").items():
            try:
                spec = load_agent_spec(path)
            except ConfigError as exc:
                found.append({"name": name, "error": exc.message})
                continue
            found.append({"name": spec.name, "description": spec.description,
                          "model": spec.model or self.session.settings.default_model,
                          "escalate_to": list(spec.escalate_to),
                          "input_schema": input_schema(spec.input),
                          "output_schema": output_schema(spec.output)})
        return found

    def graphs(self) -> list[str]:
        return sorted(config_files(self.session.settings, "graphs")) + list(PIPELINES)

    def agent(self, name: str) -> Agent[Any]:
        return Agent(load_agent_spec(find_config(self.session.settings, "agents", name)),
                     session=self.session)

    def definition(self, name: str) -> GraphDefinition[Any]:
        if name == "ocr_to_sql":
            from shoal.graphs.ocr_to_sql import ocr_to_sql_definition

            return ocr_to_sql_definition(self.session, db_url=self.config.db_url)
        if name == "text_to_sql":
            from shoal.graphs.text_to_sql import text_to_sql_definition

            return text_to_sql_definition(self.session, db_url=self.config.db_url)
        return load_definition(name, self.session)

    # --- agents -------------------------------------------------------------------------
    async def invoke_agent(self, name: str, value: Any) -> dict[str, Any]:
        agent = self.agent(name)
        async with self._admitted([agent.chain()[0]]):
            result = await run_agent(agent, value, self.session)
        return self._agent_answer(name, result)

    def _agent_answer(self, name: str, result: AgentResult[Any]) -> dict[str, Any]:
        output = result.output
        usage = result.usage
        return {"agent": name,
                "output": output.model_dump(mode="json") if isinstance(output, BaseModel)
                else output,
                "model": result.model, "escalated": result.escalated,
                "confidence": result.confidence, "attempts": len(result.attempts),
                "seconds": round(result.seconds, 4),
                "usage": {"prompt_tokens": usage.prompt_tokens,
                          "completion_tokens": usage.completion_tokens,
                          "wall_seconds": round(usage.wall_seconds, 4)},
                "cost_usd": self._local_cost(usage.wall_seconds)}

    def _local_cost(self, seconds: float) -> float:
        if self._prices is None:
            self._prices = load_prices(self.session.settings.prices_path())
        return round(seconds * self._prices.local.cpu_second_usd, 8)

    # --- graph runs ---------------------------------------------------------------------
    async def start_run(self, name: str, value: Any, *, thread_id: str | None = None,
                        on_update: OnUpdate | None = None,
                        on_token: NodeTokens | None = None) -> RunOutcome:
        """Run graph `name` on `value` to its end or its first interrupt."""
        if name in PIPELINES:
            raise InputError(f"{name} runs through its own endpoint", source=name,
                             fix="POST /v1/ocr-to-sql (a file) or /v1/ask (a question)")
        definition = self.definition(name)
        thread = thread_id or uuid.uuid4().hex
        async with self._admitted(self._graph_models(name)), \
                GraphRunner(definition, self.session) as runner:
            outcome = await runner.start(value, thread, on_update=on_update,
                                         on_token=on_token)
        return self._keep(outcome)

    def start_background(self, name: str, value: Any) -> str:
        """Start a run and return its thread id at once; `run_status` follows it."""
        self.definition(name)  # an unknown graph is refused now, not in the background
        thread = uuid.uuid4().hex
        task = asyncio.create_task(self.start_run(name, value, thread_id=thread))
        self._tasks[thread] = task
        task.add_done_callback(lambda done: self._finished(thread, done))
        return thread

    def _finished(self, thread: str, task: asyncio.Task[RunOutcome]) -> None:
        """A background run ended: the ledger has its status and error (the exception is
        taken here so it is not reported as never retrieved)."""
        self._tasks.pop(thread, None)
        if not task.cancelled():
            task.exception()

    async def resume(self, thread_id: str, decision: Any, *,
                     on_update: OnUpdate | None = None,
                     on_token: NodeTokens | None = None) -> RunOutcome:
        """Continue a run waiting for a person (approve: True/False; an OCR-to-SQL review:
        {"action": "approve"|"reject", "fix": {...}})."""
        row = await self.session.ledger.db.offload(self.session.ledger.latest_run, thread_id)
        if row is None:
            raise InputError(f"no run has thread {thread_id!r}", source=thread_id,
                             fix="take the thread_id a run's start returned (GET /v1/runs)")
        async with self._admitted(self._graph_models(row.graph)), \
                GraphRunner(self.definition(row.graph), self.session) as runner:
            outcome = await runner.resume(thread_id, decision, on_update=on_update,
                                          on_token=on_token)
        return self._keep(outcome)

    def _graph_models(self, name: str) -> list[str]:
        """The first models of a YAML graph's agents, whose queues its run waits for; a
        pipeline or a graph built in Python (`module:function`) waits for the default model."""
        from shoal.graphs.spec import load_graph_spec

        settings = self.session.settings
        if name in PIPELINES or ":" in name:
            return [settings.default_model]
        spec_files = config_files(settings, "agents")
        spec = load_graph_spec(find_config(settings, "graphs", name))
        return [load_agent_spec(spec_files[a]).model or settings.default_model
                for a in spec.agent_names() if a in spec_files]

    def _keep(self, outcome: RunOutcome) -> RunOutcome:
        self._outcomes[outcome.thread_id] = outcome
        while len(self._outcomes) > 200:
            self._outcomes.pop(next(iter(self._outcomes)))
        return outcome

    async def run_status(self, thread_id: str) -> dict[str, Any]:
        row = await self.session.ledger.db.offload(self.session.ledger.latest_run, thread_id)
        outcome = self._outcomes.get(thread_id)
        if row is None and thread_id not in self._tasks:
            raise InputError(f"no run has thread {thread_id!r}", source=thread_id,
                             fix="take the thread_id a run's start returned (GET /v1/runs)")
        status = row.status if row else "running"
        return {"thread_id": thread_id, "run_id": row.id if row else None, "status": status,
                "graph": row.graph if row else None,
                "state": outcome.state if outcome and status != "running" else None,
                "waiting_for": outcome.waiting_for if outcome else None,
                "error": row.error if row else None}

    # --- the ledger ---------------------------------------------------------------------
    async def runs(self, limit: int = 50) -> list[dict[str, Any]]:
        rows = await self.session.ledger.db.offload(self.session.ledger.runs, limit)
        calls = await self.session.ledger.db.offload(self._calls_of, [r.id for r in rows])
        return [self._run_row(row, calls.get(row.id, [])) for row in rows]

    async def run(self, run_id: str) -> dict[str, Any]:
        row = await self.session.ledger.db.offload(self.session.ledger.run, run_id)
        if row is None:
            raise InputError(f"no run {run_id!r}", source=run_id,
                             fix="take an id from GET /v1/runs")
        calls = await self.session.ledger.db.offload(self.session.ledger.calls, run_id)
        nodes: dict[str, list[CallRow]] = {}
        for call in calls:
            nodes.setdefault(call.node or "-", []).append(call)
        return self._run_row(row, calls) | {"nodes": [
            {"node": node, **self._cost(group)} for node, group in nodes.items()],
            "calls": [call.model_dump() for call in calls]}

    def _calls_of(self, run_ids: list[str]) -> dict[str, list[CallRow]]:
        by_run: dict[str, list[CallRow]] = {}
        for call in self.session.ledger.calls_of(run_ids):
            by_run.setdefault(call.run_id or "", []).append(call)
        return by_run

    def _run_row(self, row: RunRow, calls: list[CallRow]) -> dict[str, Any]:
        ended = row.finished_at or time.time()
        return {"id": row.id, "graph": row.graph, "thread_id": row.thread_id,
                "status": row.status, "started_at": row.started_at,
                "seconds": round(ended - row.started_at, 3), "error": row.error,
                **self._cost(calls)}

    def _cost(self, calls: list[CallRow]) -> dict[str, Any]:
        total = totals(calls)
        return {"calls": total.calls, "tokens": total.prompt_tokens + total.completion_tokens,
                "model_seconds": round(total.seconds, 4),
                "cost_usd": self._local_cost(total.seconds)}

    # --- pipelines ----------------------------------------------------------------------
    def upload_path(self, file_name: str) -> Path:
        """A fresh place for an uploaded file, keeping its name (its suffix tells OCR the
        format); never outside the service's upload folder."""
        name = Path(file_name or "upload").name or "upload"
        folder = Path(self._uploads.name) / uuid.uuid4().hex
        folder.mkdir()
        return folder / name

    async def ocr_to_sql(self, paths: list[Path]) -> list[dict[str, Any]]:
        from shoal.graphs.ocr_to_sql import document_record, ocr_to_sql_definition, run_documents

        definition = ocr_to_sql_definition(self.session, db_url=self.config.db_url)
        async with self._admitted([definition.deps.extractor.chain()[0]]):
            states = await run_documents(paths, definition, self.session)
        return [document_record(state) for state in states]

    async def ask(self, question: str, conversation: str | None = None) -> dict[str, Any]:
        from shoal.graphs.text_to_sql import ask, show
        from shoal.memory import Conversation

        definition = self.definition("text_to_sql")
        talk = Conversation(self.session.database(), conversation) if conversation else None
        async with self._admitted([definition.deps.writer.chain()[0]]):
            state = await ask(definition, question, ledger=self.session.ledger,
                              conversation=talk)
        return {"question": question, "answer": state.get("summary"), "sql": state.get("sql"),
                "columns": state.get("columns", []),
                "rows": [[show(v) for v in row] for row in state.get("rows", [])],
                "confidence": state.get("confidence"), "escalated": state.get("escalated"),
                "model": state.get("writer"), "error": state.get("error")}

    async def reviews(self) -> list[dict[str, Any]]:
        from shoal.graphs.ocr_to_sql import reviews_at

        reviews = reviews_at(self.session, self.config.db_url)
        pending = await reviews.store.db.offload(reviews.pending)
        return [{"id": d.sha256[:12], "sha256": d.sha256, "file": d.file_name,
                 "type": d.doc_type, "status": d.status, "problems": d.problems,
                 **{k: _plain(getattr(d, k)) for k in ("vendor", "number", "date",
                                                       "currency", "total")}}
                for d, _ in pending]

    async def decide(self, document: str, action: str, fix: dict[str, str]) -> dict[str, Any]:
        from shoal.graphs.ocr_to_sql import decide_review
        from shoal.tools.document_review import ReviewDecision

        decision = ReviewDecision(action=action, fix=fix)  # type: ignore[arg-type]
        sha256, status = await decide_review(self.session, self.config.db_url, document,
                                             decision)
        return {"id": sha256[:12], "sha256": sha256, "status": status}


def input_schema(model: type[BaseModel] | None) -> dict[str, Any]:
    """An agent's input as JSON schema: its input model, or one text field `input`."""
    if model is not None:
        return model.model_json_schema()
    return {"type": "object", "properties": {"input": {"type": "string"}},
            "required": ["input"]}


def output_schema(output: Any) -> dict[str, Any]:
    """An agent's output as JSON schema: its model's, the schema it was given, or text."""
    if isinstance(output, type) and issubclass(output, BaseModel):
        return output.model_json_schema()
    return dict(output) if isinstance(output, dict) else {"type": "string"}


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, (int, float, str)) else str(value)
