"""Durable graph runs: LangGraph checkpoints with durability "sync" (SQLite or PostgreSQL),
a ledger row per run, and resume after an interrupt or a crash."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.types import Command

from shoal.agents import Agent, load_agent_spec
from shoal.errors import ConfigError
from shoal.graphs.compose import Graph
from shoal.graphs.context import ShoalContext
from shoal.graphs.spec import GraphSpec, compile_graph, load_graph_spec, tools_of
from shoal.memory import Ledger, open_database
from shoal.settings import Settings

__all__ = ["GraphDefinition", "GraphRunner", "RunOutcome", "invoke_recorded", "load_definition"]


@dataclass(frozen=True)
class GraphDefinition:
    """A graph and what its nodes need: `build(checkpointer)` compiles it."""

    name: str
    build: Callable[[BaseCheckpointSaver[Any] | None], Graph]  # a FlowState graph, or any state
    agents: Mapping[str, Agent[Any]] = field(default_factory=dict)
    tools: Mapping[str, Callable[..., Any]] = field(default_factory=dict)


def definition_from_spec(spec: GraphSpec, settings: Settings, name: str) -> GraphDefinition:
    agents = {}
    for agent in sorted(spec.agent_names()):
        path = settings.agents_dir / f"{agent}.yaml"
        if not path.is_file():
            raise ConfigError(f"graph {spec.name}: agent {agent!r}: {path} does not exist",
                              fix="add the agent's YAML to the agents directory")
        agents[agent] = Agent[Any](load_agent_spec(path), settings=settings)
    return GraphDefinition(name, lambda cp: compile_graph(spec, checkpointer=cp), agents,
                           tools_of(spec))


def load_definition(name: str, settings: Settings, graphs_dir: Path) -> GraphDefinition:
    """`name` is a YAML graph in `graphs_dir`, or `package.module:function` returning a
    GraphDefinition."""
    path = graphs_dir / f"{name}.yaml"
    if path.is_file():
        return definition_from_spec(load_graph_spec(path), settings, name)
    if ":" in name:
        from shoal.agents.spec import resolve_import

        try:
            factory = resolve_import(name)
        except ValueError as exc:
            raise ConfigError(f"graph {name!r}: {exc}", fix="check the import path") from exc
        definition = factory(settings)
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


class GraphRunner:
    """Runs one graph definition against the settings' database."""

    def __init__(self, definition: GraphDefinition, settings: Settings) -> None:
        self.definition = definition
        self.settings = settings
        self.db = open_database(settings.database_url)
        self.ledger = Ledger(self.db)

    @asynccontextmanager
    async def checkpointer(self) -> AsyncIterator[BaseCheckpointSaver[Any]]:
        if self.db.is_sqlite:
            from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

            main = Path(self.db.url.removeprefix("sqlite:///"))
            path = main.with_name(main.stem + ".checkpoints.sqlite")
            async with AsyncSqliteSaver.from_conn_string(str(path)) as saver:
                await saver.setup()
                yield saver
        else:
            from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

            url = self.db.url.replace("postgresql+psycopg://", "postgresql://")
            async with AsyncPostgresSaver.from_conn_string(url) as saver:
                await saver.setup()
                yield saver

    async def start(self, value: Any, thread_id: str | None = None) -> RunOutcome:
        thread_id = thread_id or uuid.uuid4().hex
        return await self._go({"input": value}, thread_id, value)

    async def resume(self, thread_id: str, decision: Any = None) -> RunOutcome:
        """Continue a thread: after a crash from its last checkpoint; at an approval
        interrupt with `decision` (True runs the side effect)."""
        async with self.checkpointer() as saver:
            graph = self.definition.build(saver)
            snapshot = await graph.aget_state(_config(thread_id))
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
        run_id = self.ledger.start_run(self.definition.name, thread_id, value)
        context = ShoalContext(agents=self.definition.agents, tools=self.definition.tools,
                               ledger=self.ledger, run_id=run_id)
        try:
            async with self.checkpointer() as saver:
                graph = self.definition.build(saver)
                await graph.ainvoke(graph_input, config=_config(thread_id), context=context,
                                    durability="sync")
                snapshot = await graph.aget_state(_config(thread_id))
        except BaseException as exc:
            self.ledger.finish_run(run_id, "failed", f"{type(exc).__name__}: {exc}")
            raise
        waiting = [i.value for task in snapshot.tasks for i in task.interrupts]
        status = "interrupted" if snapshot.next else "finished"
        self.ledger.finish_run(run_id, status)
        return RunOutcome(run_id, thread_id, status, dict(snapshot.values),
                          waiting[0] if waiting else None)


async def invoke_recorded(definition: GraphDefinition, graph: Any, state: dict[str, Any], *,
                          thread_id: str, ledger: Ledger | None) -> Any:
    """One in-process run without checkpoints (batch pipelines), with a ledger row: failed if
    it raises or its final state carries an `error`."""
    run_id = ledger.start_run(definition.name, thread_id, state) if ledger else None
    context = ShoalContext(agents=definition.agents, tools=definition.tools, ledger=ledger,
                           run_id=run_id)
    try:
        result = await graph.ainvoke(state, context=context)
    except BaseException as exc:
        if ledger and run_id:
            ledger.finish_run(run_id, "failed", f"{type(exc).__name__}: {exc}")
        raise
    if ledger and run_id:
        error = result.get("error")
        ledger.finish_run(run_id, "failed" if error else "finished", error)
    return result


def _config(thread_id: str) -> Any:
    return {"configurable": {"thread_id": thread_id}}
