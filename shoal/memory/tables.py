"""The tables of Shoal's SQL memory (sqlmodel). Schema changes go through migrations.py."""

from __future__ import annotations

from sqlalchemy import Column, LargeBinary, Table, UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = ["CacheRow", "CallRow", "FactRow", "MessageRow", "MigrationRow", "RunRow", "table_of"]


def table_of(model: type[SQLModel]) -> Table:
    """The SQLAlchemy Table of a sqlmodel table class."""
    return SQLModel.metadata.tables[str(model.__tablename__)]


class MigrationRow(SQLModel, table=True):
    __tablename__ = "shoal_migrations"

    name: str = Field(primary_key=True)
    applied_at: float


class RunRow(SQLModel, table=True):
    """One graph run (a LangGraph thread may have several runs: start, resumes)."""

    __tablename__ = "runs"

    id: str = Field(primary_key=True)
    graph: str = Field(index=True)
    thread_id: str = Field(index=True)
    status: str  # running | interrupted | finished | failed
    input_hash: str
    started_at: float
    finished_at: float | None = None
    error: str | None = None
    owner: str | None = None  # host:pid of the process running it, to spot runs that died


class CallRow(SQLModel, table=True):
    """One model call: who made it, which model, tokens and seconds."""

    __tablename__ = "calls"

    id: str = Field(primary_key=True)  # uuid: a retried write inserts nothing twice
    run_id: str | None = Field(default=None, index=True)
    node: str | None = None
    agent: str | None = None
    model: str = Field(index=True)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    load_seconds: float = 0.0
    prefill_seconds: float = 0.0
    decode_seconds: float = 0.0
    wall_seconds: float = 0.0
    cache_hit: bool = False
    escalation: int = 0  # position in the agent's escalation chain (0: first model)
    error: str | None = None
    created_at: float


class MessageRow(SQLModel, table=True):
    """Conversation memory, per thread."""

    __tablename__ = "messages"

    id: int | None = Field(default=None, primary_key=True)
    thread_id: str = Field(index=True)
    role: str
    content: str
    created_at: float


class FactRow(SQLModel, table=True):
    """Long-term memory: a text and its embedding, searchable by meaning."""

    __tablename__ = "facts"
    __table_args__ = (UniqueConstraint("namespace", "text_sha256"),)

    id: int | None = Field(default=None, primary_key=True)
    namespace: str = Field(index=True)
    text: str
    text_sha256: str
    embedding: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # float32 x 384
    created_at: float


class CacheRow(SQLModel, table=True):
    """The exact cache of model calls (see shoal.agents.cache)."""

    __tablename__ = "call_cache"

    key: str = Field(primary_key=True)
    model: str
    response: str  # ChatResponse JSON
    created_at: float
