"""SQL writer: a question and a schema in, one SELECT out. The prompt is the one code models
are trained on (the schema as CREATE TABLE text, then `-- SQLite query answering: ...`), with
no instructions: measured in bench/text_to_sql.py, it beats a chat-style system prompt.

Given a database, the writer checks its answer by running it (guarded, read-only), after
spelling its string literals as the database stores them (SQLDatabase.ground). A query that
fails or returns nothing goes up the escalation chain (a repair message when there is no
bigger model), and so does, with `min_confidence`, one the model was unsure of. With a vote
instead, the first model answers through two views of the schema (with and without sample
values); their results must agree, else the next model answers."""

from __future__ import annotations

import re
from collections.abc import Hashable
from typing import Any

from pydantic import BaseModel, Field, model_validator

from shoal.agents.spec import AgentSpec, Validator
from shoal.agents.vote import Vote, VoteKey
from shoal.models import ChatOptions
from shoal.tools.sql_database import SQLDatabase
from shoal.tools.sql_guard import SQLRejected

__all__ = ["SQLTask", "answers_on", "clean_sql", "query_of", "result_key", "sql_writer_spec",
           "starts_with_select"]


class SQLTask(BaseModel):
    """The writer's input, schema first: the prompt prefix stays byte-identical across the
    questions on one schema, so llama.cpp's prompt cache computes it once."""

    schema_sql: str = Field(description="CREATE TABLE text of the tables to use, with keys, "
                            "descriptions and sample values (SQLDatabase.ddl)")
    schema_plain: str | None = Field(default=None, description="the same without sample "
                                     "values: the vote's other view (None: schema_sql)")
    stored_values: str | None = Field(default=None, description="SQL comments naming the "
                                      "stored values the question's words stand for")
    previous_sql: str | None = Field(default=None, description="the SQL that answered the "
                                     "start of the question, in a conversation")
    dialect: str = "SQLite"
    question: str

    @model_validator(mode="after")
    def _plain_view(self) -> SQLTask:
        if self.schema_plain is None:  # one schema given: both views show it
            self.schema_plain = self.schema_sql
        return self


def clean_sql(text: str) -> str:
    """The SQL of a plain-text answer: without a code fence (closed or cut off by a stop
    sequence) or a trailing semicolon."""
    fenced = re.search(r"```(?:sql)?\s*(.*?)(?:```|$)", text, re.S | re.I)
    return (fenced.group(1) if fenced else text).strip().rstrip(";").strip()


def query_of(output: Any, database: SQLDatabase) -> str:
    """The query a writer's answer stands for on `database`: without code fence or ";", its
    literals spelled as stored."""
    return database.ground(clean_sql(str(output)))


def starts_with_select(output: str, text: str) -> None:
    sql = clean_sql(output)
    head = sql.lstrip("( \n\t").split(None, 1)[0].upper() if sql else ""
    if head not in ("SELECT", "WITH"):
        raise ValueError("answer with a single SELECT (or WITH ... SELECT) statement only")


def answers_on(database: SQLDatabase) -> Validator:
    """Validator: the query runs on `database` and returns at least one non-NULL value."""

    async def check(output: Any, text: str) -> None:
        sql = query_of(output, database)
        try:
            result = await database.execute(sql)
        except SQLRejected as exc:
            raise ValueError(f"this query fails: {exc.reason}. Write a corrected query."
                             ) from exc
        if not result.rows or all(v is None for row in result.rows for v in row):
            raise ValueError("this query returned no rows or only NULL: check the tables, "
                             "the filters and the values")

    return check


def result_key(database: SQLDatabase) -> VoteKey:
    """Vote key: the rows a query returns (as a multiset unless it orders them), so queries
    written differently that give the same answer agree."""

    async def key(output: Any, text: str) -> Hashable:
        sql = query_of(output, database)
        try:
            result = await database.execute(sql)
        except SQLRejected as exc:
            raise ValueError(f"this query fails: {exc.reason}") from exc
        rows = [tuple(round(v, 6) if isinstance(v, float) else v for v in row)
                for row in result.rows]
        if re.search(r"\border\s+by\b", sql, re.I):
            return tuple(rows)
        return tuple(sorted(rows, key=repr))

    return key


def sql_writer_spec(
    name: str = "sql_writer",
    *,
    model: str | None = None,
    escalate_to: tuple[str, ...] = ("pack:qwen2.5-coder-1.5b",),
    database: SQLDatabase | None = None,
    vote: bool = False,
    min_confidence: float | None = None,
    samples: bool = False,
) -> AgentSpec[str]:
    """With `database`, answers are checked by running them (`answers_on`). `samples`: the
    schema shown with sample values of its text columns (SQLTask.schema_sql) instead of
    without (schema_plain). `min_confidence`: escalate a valid query whose token confidence
    is below it (AgentSpec.min_confidence). With `vote` instead, the first model answers
    through both views; equal results decide, otherwise the next model answers
    (shoal.agents.vote). A query that fails is repaired only when there is no bigger model to
    hand it to: in bench/text_to_sql.py the repair cost more time than it won answers."""
    checks = (starts_with_select,) + ((answers_on(database),) if database else ())
    views = Vote(views=("sql_writer_plain.md", "sql_writer.md"), key=result_key(database)
                 ) if vote and database else None
    return AgentSpec(
        name=name, description="writes one SQL SELECT for a question", model=model,
        # Plain text, not JSON: small coder models write SQL best as they were trained to,
        # without escaping it into a JSON string (measured in bench/text_to_sql.py).
        escalate_to=escalate_to, input=SQLTask, output=None,
        template="sql_writer.md" if samples or views else "sql_writer_plain.md",
        # The statement ends at ";": stopping there saves the explanation small models add.
        validators=checks, options=ChatOptions(temperature=0, max_tokens=120, stop=(";",)),
        retries=0 if escalate_to else 1, vote=views, min_confidence=min_confidence,
    )
