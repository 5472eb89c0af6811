"""Durable graph runs: LangGraph checkpoints with durability "sync" (SQLite or PostgreSQL),
a ledger row per run, and resume after an interrupt or a crash.

A GraphDefinition is a builder plus the typed dependencies its nodes read; a GraphRunner,
opened with `async with`, compiles it once with its checkpointer and runs it any number of
times. Batch pipelines without checkpoints use `invoke_recorded`.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, TypeVar

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import StateGraph
from langgraph.types import Command

from shoal.agents import Agent, load_agent_spec
from shoal.errors import ConfigError
from shoal.graphs.context import FlowDeps, GraphDeps, Recorder
from shoal.graphs.spec import GraphSpec, build_graph, load_graph_spec
from shoal.imports import resolve_import
from shoal.memory import Database, RunLedger
from shoal.session import Session

__all__ = ["GraphDefinition", "GraphRunner", "RunOutcome", "invoke_recorded", "load_definition"]

DepsT = TypeVar("DepsT", bound=GraphDeps)


@dataclass(frozen=True)
class GraphDefinition(Generic[DepsT]):
    """A graph's builder, the dependencies its nodes get as runtime context, and the nodes
    to stop before for a human decision."""

    name: str
    builder: StateGraph[Any, DepsT, Any, Any]
    deps: DepsT
    interrupt_before: Sequence[str] = ()

    def compile(self, checkpointer: BaseCheckpointSaver[Any] | None = None) -> Any:
        return self.builder.compile(checkpointer=checkpointer,
                                    interrupt_before=list(self.interrupt_before))


def definition_from_spec(spec: GraphSpec, session: Session, name: str
                         ) -> GraphDefinition[FlowDeps]:
    agents: dict[str, Agent[Any]] = {}
    for agent in sorted(spec.agent_names()):
        path = session.settings.agents_dir / f"{agent}.yaml"
        if path.is_file():
            agents[agent] = Agent(load_agent_spec(path), session=session)
    return GraphDefinition(name, build_graph(spec, agents), FlowDeps(),
                           tuple(spec.interrupt_before))


def load_definition(name: str, session: Session, graphs_dir: Path | None = None
                    ) -> GraphDefinition[Any]:
    """`name` is a YAML graph in `graphs_dir` (default: the settings'), or
    `package.module:function` taking the session and returning a GraphDefinition."""
    graphs_dir = graphs_dir or session.settings.graphs_dir
    path = graphs_dir / f"{name}.yaml"
    if path.is_file():
        return definition_from_spec(load_graph_spec(path), session, name)
    if ":" in name:
        try:
            factory = resolve_import(name)
        except ValueError as exc:
            raise ConfigError(f"graph {name!r}: {exc}", fix="check the import path") from exc
        definition = factory(session)
        if not isinstance(definition, GraphDefinition):
            raise ConfigError(f"{name} returned {type(definition).__name__}, not a "
                              "GraphDefinition", fix="return shoal.graphs.GraphDefinition")
        return definition
    known = sorted(p.stem for p in graphs_dir.glob("*.yaml")) if graphs_dir.is_dir() else []
    raise ConfigError(f"no graph {name!r} in {graphs_dir}",
                      fix=f"use one of {', '.join(known) or '(none)'} or package.module:function")


@dataclass(frozen=True)
class RunOutcome:
    run_id: str
    thread_id: str
    status: str  # finished | interrupted
    state: dict[str, Any]
    waiting_for: Any = None  # what an approval interrupt shows the human


@asynccontextmanager
async def open_checkpointer(db: Database) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    """LangGraph's saver beside the memory database: a SQLite file next to it, or the same
    PostgreSQL database."""
    if db.is_sqlite:
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

        main = db.address.path
        path = main.with_name(main.stem + ".checkpoints.sqlite")
        async with AsyncSqliteSaver.from_conn_string(str(path)) as sqlite_saver:
            await sqlite_saver.setup()
            yield sqlite_saver
    else:
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

        async with AsyncPostgresSaver.from_conn_string(db.address.libpq) as pg_saver:
            await pg_saver.setup()
            yield pg_saver


class GraphRunner(Generic[DepsT]):
    """Runs one graph definition durably against the session's memory database. Use as
    `async with GraphRunner(definition, session) as runner:`."""

    def __init__(self, definition: GraphDefinition[DepsT], session: Session) -> None:
        self.definition = definition
        self.session = session
        self.ledger = session.ledger
        self._stack: AsyncExitStack | None = None
        self._graph: Any = None

    async def __aenter__(self) -> GraphRunner[DepsT]:
        self._stack = AsyncExitStack()
        saver = await self._stack.enter_async_context(
            open_checkpointer(self.session.database()))
        self._graph = self.definition.compile(saver)  # once, for every run of this runner
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        if self._stack is not None:
            await self._stack.aclose()
        self._stack, self._graph = None, None

    @property
    def graph(self) -> Any:
        if self._graph is None:
            raise ConfigError("the GraphRunner is not open",
                              fix="use it as `async with GraphRunner(definition, session)`")
        return self._graph

    async def start(self, value: Any, thread_id: str | None = None) -> RunOutcome:
        thread_id = thread_id or uuid.uuid4().hex
        return await self._go({"input": value}, thread_id, value)

    async def resume(self, thread_id: str, decision: Any = None) -> RunOutcome:
        """Continue a thread: after a crash from its last checkpoint; at an approval
        interrupt with `decision` (True runs the side effect)."""
        snapshot = await self.graph.aget_state(_config(thread_id))
        if not snapshot.values and not snapshot.next:
            raise ConfigError(f"thread {thread_id!r} has no checkpoint",
                              fix="start it with `shoal run GRAPH`")
        waiting = [i.value for task in snapshot.tasks for i in task.interrupts]
        if waiting and decision is None:
            raise ConfigError(f"thread {thread_id} waits for a decision: {waiting[0]}",
                              fix="resume with --approve or --reject")
        command: Command[Any] | None = Command(resume=decision) if waiting else None
        return await self._go(command, thread_id, {"resume": thread_id})

    async def _go(self, graph_input: Any, thread_id: str, value: Any) -> RunOutcome:
        graph = self.graph
        run_id = await self.ledger.start_run(self.definition.name, thread_id, value)
        deps = self.definition.deps.recording(Recorder(self.ledger, run_id))
        try:
            await graph.ainvoke(graph_input, config=_config(thread_id), context=deps,
                                durability="sync")
            snapshot = await graph.aget_state(_config(thread_id))
        except BaseException as exc:
            await self.ledger.finish_run(run_id, "failed", f"{type(exc).__name__}: {exc}")
            raise
        waiting = [i.value for task in snapshot.tasks for i in task.interrupts]
        status = "interrupted" if snapshot.next else "finished"
        await self.ledger.finish_run(run_id, status)
        return RunOutcome(run_id, thread_id, status, dict(snapshot.values),
                          waiting[0] if waiting else None)


async def invoke_recorded(definition: GraphDefinition[DepsT], graph: Any, state: dict[str, Any],
                          *, thread_id: str, ledger: RunLedger | None) -> Any:
    """One in-process run of a compiled `graph` without checkpoints (batch pipelines), with a
    ledger row: failed if it raises or its final state carries an `error`."""
    run_id = await ledger.start_run(definition.name, thread_id, state) if ledger else None
    deps = definition.deps.recording(Recorder(ledger, run_id))
    try:
        result = await graph.ainvoke(state, context=deps)
    except BaseException as exc:
        if ledger and run_id:
            await ledger.finish_run(run_id, "failed", f"{type(exc).__name__}: {exc}")
        raise
    if ledger and run_id:
        error = result.get("error")
        await ledger.finish_run(run_id, "failed" if error else "finished", error)
    return result


def _config(thread_id: str) -> Any:
    return {"configurable": {"thread_id": thread_id}}
