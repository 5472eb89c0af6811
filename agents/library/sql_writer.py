"""SQL writer: a question and a schema in, one SQLite SELECT out. (It only writes SQL; running
it safely is the SQL guard's job.)"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from shoal.agents.spec import AgentSpec

__all__ = ["SQLTask", "clean_sql", "sql_writer_spec", "starts_with_select"]


class SQLTask(BaseModel):
    schema_sql: str = Field(description="CREATE TABLE statements of the tables to use")
    question: str
    feedback: str | None = Field(default=None, description="why the last query was wrong")


def clean_sql(text: str) -> str:
    """The SQL of a plain-text answer: without a code fence or a trailing semicolon."""
    fenced = re.search(r"```(?:sql)?\s*(.*?)```", text, re.S | re.I)
    return (fenced.group(1) if fenced else text).strip().rstrip(";").strip()


def starts_with_select(output: str, text: str) -> None:
    sql = clean_sql(output)
    head = sql.lstrip("( \n\t").split(None, 1)[0].upper() if sql else ""
    if head not in ("SELECT", "WITH"):
        raise ValueError("answer with a single SELECT (or WITH ... SELECT) statement only")


def sql_writer_spec(
    name: str = "sql_writer",
    *,
    model: str = "pack:qwen2.5-coder-0.5b",
    escalate_to: tuple[str, ...] = ("pack:qwen2.5-coder-1.5b",),
) -> AgentSpec:
    return AgentSpec(
        name=name, description="writes one SQLite SELECT for a question", model=model,
        # Plain text, not JSON: small coder models write SQL best as they were trained to,
        # without escaping it into a JSON string (measured in bench/text_to_sql.py).
        escalate_to=escalate_to, prompt="sql_writer.md", input=SQLTask, output=None,
        validators=(starts_with_select,), options={"temperature": 0, "max_tokens": 320},
        retries=1,
    )
