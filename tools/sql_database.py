"""A database that model-written SQL may query: its schema for prompts, and guarded execution
(static check, read-only connection, limits: see sql_guard)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shoal.errors import InputError
from shoal.memory import DatabaseURL
from shoal.tools.sql_guard import (
    GuardLimits,
    QueryResult,
    SQLRejected,
    check_sql,
    run_readonly_sqlite,
)
from shoal.tools.sql_schema import TableInfo, match_values, pg_tables, sqlite_tables

__all__ = ["SQLDatabase", "TableInfo"]


class SQLDatabase:
    """`url`: sqlite:///path or postgresql://… (use a role that can only read)."""

    def __init__(self, url: str | DatabaseURL, limits: GuardLimits | None = None,
                 descriptions: Mapping[str, str] | None = None) -> None:
        """`descriptions`: "table" or "table.column" -> text shown to the SQL writer."""
        self.address = DatabaseURL.parse(url)
        self.descriptions = dict(descriptions or {})
        self.url = self.address.text
        self.limits = limits or GuardLimits()
        self.is_sqlite = self.address.is_sqlite
        self._tables: list[TableInfo] | None = None

    @property
    def path(self) -> Path:
        return self.address.path

    def tables(self) -> list[TableInfo]:
        if self._tables is None:
            if self.is_sqlite and not self.path.is_file():
                raise InputError(f"database {self.path} does not exist", source=str(self.path),
                                 fix="check the --db path (run ocr-to-sql first for the demo)")
            found = (sqlite_tables(self.path, self.descriptions) if self.is_sqlite
                     else pg_tables(self.address.libpq, self.descriptions))
            # Shoal's bookkeeping (e.g. shoal_migrations) is not the user's data
            self._tables = [t for t in found if not t.name.lower().startswith("shoal_")]
        return self._tables

    def ddl(self, names: list[str] | None = None, samples: bool = True) -> str:
        """The schema text of the `names` tables (all by default), with sample values of
        their columns unless `samples` is False: see sql_schema."""
        wanted = None if names is None else {n.lower() for n in names}
        return "\n".join(t.prompt(samples) for t in self.tables()
                          if wanted is None or t.name.lower() in wanted)

    def matched_values(self, question: str, names: list[str] | None = None) -> str:
        """Lines naming the stored values the question's words stand for ('' for none)."""
        wanted = None if names is None else {n.lower() for n in names}
        tables = [t for t in self.tables() if wanted is None or t.name.lower() in wanted]
        return "\n".join(match_values(tables, question))

    def run(self, sql: str) -> QueryResult:
        """Every layer of the guard; raises SQLRejected naming the layer that refused."""
        allowed = [t.name for t in self.tables()]
        check_sql(sql, allowed_tables=allowed, dialect="sqlite" if self.is_sqlite else "postgres")
        if self.is_sqlite:
            return run_readonly_sqlite(self.path, sql, allowed_tables=allowed,
                                       limits=self.limits)
        return self._run_postgres(sql)

    async def execute(self, sql: str) -> QueryResult:
        """`run` from async code, in a worker thread (the guarded drivers are synchronous)."""
        return await asyncio.to_thread(self.run, sql)

    def _run_postgres(self, sql: str) -> QueryResult:
        import psycopg

        started = time.monotonic()
        try:
            with psycopg.connect(self.address.libpq) as connection:
                connection.read_only = True
                with connection.transaction(force_rollback=True):
                    timeout_ms = int(self.limits.timeout_seconds * 1000)
                    connection.execute(f"SET LOCAL statement_timeout = {timeout_ms}")
                    cursor = connection.execute(sql)
                    if cursor.description is None:
                        raise SQLRejected("connection", "the statement returns no result set")
                    rows: list[Any] = cursor.fetchmany(self.limits.max_rows + 1)
                    columns = [d.name for d in cursor.description]
        except psycopg.errors.QueryCanceled as exc:
            raise SQLRejected("limits", f"ran longer than {self.limits.timeout_seconds} s"
                              ) from exc
        except psycopg.Error as exc:
            raise SQLRejected("connection", str(exc).splitlines()[0]) from exc
        truncated = len(rows) > self.limits.max_rows
        rows = rows[: self.limits.max_rows]
        return QueryResult(columns, [tuple(r) for r in rows], truncated,
                           time.monotonic() - started)
