"""SQL writer: a question and a schema in, one SQLite SELECT out. (It only writes SQL; running
it safely is the SQL guard's job.)"""

from __future__ import annotations

from pydantic import BaseModel, Field

from shoal.agents.spec import AgentSpec

__all__ = ["SQLQuery", "SQLTask", "sql_writer_spec", "starts_with_select"]


class SQLTask(BaseModel):
    schema_sql: str = Field(description="CREATE TABLE statements of the tables to use")
    question: str
    feedback: str | None = Field(default=None, description="why the last query was wrong")


class SQLQuery(BaseModel):
    sql: str = Field(description="one SQLite SELECT statement answering the question")


def starts_with_select(output: SQLQuery, text: str) -> None:
    head = output.sql.lstrip("( \n\t").split(None, 1)[0].upper() if output.sql.strip() else ""
    if head not in ("SELECT", "WITH"):
        raise ValueError("sql must be a single SELECT (or WITH ... SELECT) statement")


def sql_writer_spec(
    name: str = "sql_writer",
    *,
    model: str = "pack:qwen2.5-coder-0.5b",
    escalate_to: tuple[str, ...] = ("pack:qwen2.5-coder-1.5b",),
) -> AgentSpec:
    return AgentSpec(
        name=name, description="writes one SQLite SELECT for a question", model=model,
        escalate_to=escalate_to, prompt="sql_writer.md", input=SQLTask, output=SQLQuery,
        validators=(starts_with_select,), options={"temperature": 0, "max_tokens": 256},
        retries=1,
    )
