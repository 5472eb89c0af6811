"""Durable graph runs: LangGraph checkpoints with durability "sync" (SQLite or PostgreSQL),
a ledger row per run, and resume after an interrupt or a crash.

A GraphDefinition is a builder plus the typed dependencies its nodes read; a GraphRunner,
opened with `async with`, compiles it once with its checkpointer and runs it any number of
times. Batch pipelines without checkpoints use `invoke_recorded`.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, TypeVar

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.errors import GraphRecursionError
from langgraph.graph import StateGraph
from langgraph.types import Command

from shoal.agents import Agent, AgentResult, load_agent_spec
from shoal.catalog import config_files, find_config
from shoal.errors import ConfigError, GraphError
from shoal.graphs.compose import FlowBuilder
from shoal.graphs.context import FlowDeps, GraphDeps, NodeTokens, Recorder
from shoal.graphs.spec import GraphSpec, build_graph, load_graph_spec
from shoal.imports import resolve_import
from shoal.memory import Database, DatabaseURL, RunLedger
from shoal.session import Session

__all__ = ["GraphDefinition", "GraphRunner", "OnUpdate", "RunOutcome", "invoke_recorded",
           "load_definition", "run_agent", "run_graph"]

DepsT = TypeVar("DepsT", bound=GraphDeps)
T = TypeVar("T")
OnUpdate = Callable[[str, dict[str, Any]], Awaitable[None]]  # node name, its state update


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
    files = config_files(session.settings, "agents")
    for agent in sorted(spec.agent_names()):
        if agent in files:
            agents[agent] = Agent(load_agent_spec(files[agent]), session=session)
    return GraphDefinition(name, build_graph(spec, agents), FlowDeps(),
                           tuple(spec.interrupt_before))


def load_definition(name: str, session: Session) -> GraphDefinition[Any]:
    """`name` is a YAML graph on the settings' search path (see shoal.catalog), or
    `package.module:function` taking the session and returning a GraphDefinition."""
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
    path = find_config(session.settings, "graphs", name)
    return definition_from_spec(load_graph_spec(path), session, name)


@dataclass(frozen=True)
class RunOutcome:
    run_id: str
    thread_id: str
    status: str  # finished | interrupted
    state: dict[str, Any]
    waiting_for: Any = None  # what an approval interrupt shows the human


def checkpoint_file(db: DatabaseURL) -> Path | None:
    """Where the checkpoints of a SQLite memory database live (None: inside PostgreSQL)."""
    if not db.is_sqlite:
        return None
    return db.path.with_name(db.path.stem + ".checkpoints.sqlite")


@asynccontextmanager
async def open_checkpointer(db: Database) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    """LangGraph's saver beside the memory database: a SQLite file next to it, or the same
    PostgreSQL database."""
    path = checkpoint_file(db.address)
    if path is not None:
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

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
        # runs whose process died (killed, crashed) are marked failed before any new work
        await self.ledger.db.offload(self.ledger.mark_dead_runs)
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

    async def start(self, value: Any, thread_id: str | None = None, *,
                    on_update: OnUpdate | None = None,
                    on_token: NodeTokens | None = None) -> RunOutcome:
        """A new run whose input is `value` (the `input` of a FlowState graph). `on_update`
        is awaited with each node's name and state update as the node finishes; `on_token`
        with a node's name and each piece of text its models generate."""
        thread_id = thread_id or uuid.uuid4().hex
        return await self._go({"input": value}, thread_id, value, on_update, on_token)

    async def start_state(self, state: dict[str, Any], thread_id: str, *,
                          on_update: OnUpdate | None = None,
                          on_token: NodeTokens | None = None) -> RunOutcome:
        """A new run from the graph's own state type (e.g. the OCR-to-SQL DocState)."""
        return await self._go(state, thread_id, state, on_update, on_token)

    async def resume(self, thread_id: str, decision: Any = None, *,
                     on_update: OnUpdate | None = None,
                     on_token: NodeTokens | None = None) -> RunOutcome:
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
        return await self._go(command, thread_id, {"resume": thread_id}, on_update, on_token)

    async def _go(self, graph_input: Any, thread_id: str, value: Any,
                  on_update: OnUpdate | None, on_token: NodeTokens | None) -> RunOutcome:
        graph = self.graph
        run_id = await self.ledger.start_run(self.definition.name, thread_id, value)
        deps = self.definition.deps.recording(Recorder(self.ledger, run_id, on_token))
        config = _config(thread_id, self.session.settings.max_graph_steps)
        try:
            with _step_limit(self.definition.name, config):
                async for update in graph.astream(graph_input, config=config, context=deps,
                                                  durability="sync", stream_mode="updates"):
                    for node, change in update.items():
                        if on_update is not None and not node.startswith("__"):
                            await on_update(node, dict(change or {}))
            snapshot = await graph.aget_state(config)
        except BaseException as exc:
            await self.ledger.finish_run(run_id, "failed", f"{type(exc).__name__}: {exc}")
            raise
        waiting = [i.value for task in snapshot.tasks for i in task.interrupts]
        status = "interrupted" if snapshot.next else "finished"
        await self.ledger.finish_run(run_id, status)
        return RunOutcome(run_id, thread_id, status, dict(snapshot.values),
                          waiting[0] if waiting else None)


async def run_graph(graph: GraphDefinition[Any] | FlowBuilder, value: Any, *,
                    session: Session | None = None, name: str = "graph",
                    thread_id: str | None = None) -> RunOutcome:
    """Run a graph built in Python once, durably, and return its outcome (final state in
    `.state`, e.g. `.state["value"]`, `.state["outputs"]`). A builder from pipeline/router/...
    runs with FlowDeps under `name`. Without a session, a private one is opened and closed."""
    definition = (graph if isinstance(graph, GraphDefinition)
                  else GraphDefinition(name, graph, FlowDeps()))
    owned = Session() if session is None else None
    try:
        async with GraphRunner(definition, session or owned) as runner:  # type: ignore[arg-type]
            return await runner.start(value, thread_id)
    finally:
        if owned is not None:
            await owned.aclose()


@contextmanager
def _step_limit(graph: str, config: Any) -> Iterator[None]:
    try:
        yield
    except GraphRecursionError as exc:
        limit = config["recursion_limit"]
        raise GraphError(f"graph {graph} stopped after {limit} steps without reaching END",
                         graph=graph, fix="give its loop an exit condition, or raise "
                         "SHOAL_MAX_GRAPH_STEPS (max_graph_steps in shoal.toml)") from exc


async def run_agent(agent: Agent[T], value: Any, session: Session) -> AgentResult[T]:
    """One agent run recorded like a graph run: a ledger run named `agent:NAME`, finished or
    failed, with its model calls."""
    ledger = session.ledger
    run_id = await ledger.start_run(f"agent:{agent.spec.name}", uuid.uuid4().hex, value)
    try:
        result = await Recorder(ledger, run_id).run(agent.spec.name, agent, value)
    except BaseException as exc:
        await ledger.finish_run(run_id, "failed", f"{type(exc).__name__}: {exc}")
        raise
    await ledger.finish_run(run_id, "finished")
    return result


async def invoke_recorded(definition: GraphDefinition[DepsT], graph: Any, state: dict[str, Any],
                          *, thread_id: str, ledger: RunLedger | None,
                          max_steps: int = 50) -> Any:
    """One in-process run of a compiled `graph` without checkpoints (batch pipelines), with a
    ledger row: failed if it raises or its final state carries an `error`."""
    run_id = await ledger.start_run(definition.name, thread_id, state) if ledger else None
    deps = definition.deps.recording(Recorder(ledger, run_id))
    try:
        with _step_limit(definition.name, {"recursion_limit": max_steps}):
            result = await graph.ainvoke(state, context=deps, config={"recursion_limit": max_steps})
    except BaseException as exc:
        if ledger and run_id:
            await ledger.finish_run(run_id, "failed", f"{type(exc).__name__}: {exc}")
        raise
    if ledger and run_id:
        error = result.get("error")
        await ledger.finish_run(run_id, "failed" if error else "finished", error)
    return result


def _config(thread_id: str, max_steps: int | None = None) -> Any:
    config: dict[str, Any] = {"configurable": {"thread_id": thread_id}}
    if max_steps is not None:
        config["recursion_limit"] = max_steps
    return config
