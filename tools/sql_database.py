"""A database that model-written SQL may query: its schema for prompts, and guarded execution
(static check, read-only connection, limits: see sql_guard)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
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

__all__ = ["SQLDatabase", "TableInfo"]

_MAX_HINTED_VALUES = 4  # text columns with at most this many distinct values get them listed


@dataclass(frozen=True)
class TableInfo:
    name: str
    ddl: str
    columns: tuple[str, ...]
    values: dict[str, tuple[str, ...]]  # the few distinct values of low-cardinality text columns

    def prompt(self) -> str:
        """DDL plus the values a text column takes, so a writer can filter on them."""
        hints = [f"-- {self.name}.{column} is one of: "
                 + ", ".join(f"'{v}'" for v in values) for column, values in self.values.items()]
        return "\n".join([self.ddl, *hints])


class SQLDatabase:
    """`url`: sqlite:///path or postgresql://… (use a role that can only read)."""

    def __init__(self, url: str | DatabaseURL, limits: GuardLimits | None = None) -> None:
        self.address = DatabaseURL.parse(url)
        self.url = self.address.text
        self.limits = limits or GuardLimits()
        self.is_sqlite = self.address.is_sqlite
        self._tables: list[TableInfo] | None = None

    @property
    def path(self) -> Path:
        return self.address.path

    def tables(self) -> list[TableInfo]:
        if self._tables is None:
            self._tables = self._sqlite_tables() if self.is_sqlite else self._pg_tables()
        return self._tables

    def _sqlite_tables(self) -> list[TableInfo]:
        import sqlite3

        if not self.path.is_file():
            raise InputError(f"database {self.path} does not exist", source=str(self.path),
                             fix="check the --db path (run ocr-to-sql first for the demo)")
        connection = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        try:
            rows = connection.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name").fetchall()
            tables = []
            for name, sql in rows:
                columns = [(c[1], str(c[2]).lower()) for c in connection.execute(
                    f'PRAGMA table_info("{name}")')]
                values = {}
                for column, kind in columns:
                    if "char" in kind or "text" in kind or kind == "":
                        found = [str(r[0]) for r in connection.execute(
                            f'SELECT DISTINCT "{column}" FROM "{name}" WHERE "{column}" IS NOT '
                            f"NULL LIMIT {_MAX_HINTED_VALUES + 1}")]
                        if 0 < len(found) <= _MAX_HINTED_VALUES:
                            values[column] = tuple(found)
                tables.append(TableInfo(name, sql.strip(), tuple(c for c, _ in columns), values))
            return tables
        finally:
            connection.close()

    def _pg_tables(self) -> list[TableInfo]:
        import psycopg

        with psycopg.connect(self.address.libpq) as connection:
            rows = connection.execute(
                "SELECT table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"
            ).fetchall()
        tables: dict[str, list[tuple[str, str]]] = {}
        for table, column, kind in rows:
            tables.setdefault(table, []).append((column, kind))
        return [TableInfo(t, f"CREATE TABLE {t} (" + ", ".join(f"{c} {k}" for c, k in cols)
                          + ");", tuple(c for c, _ in cols), {}) for t, cols in tables.items()]

    def ddl(self, names: list[str] | None = None) -> str:
        wanted = None if names is None else {n.lower() for n in names}
        return "\n".join(t.prompt() for t in self.tables()
                         if wanted is None or t.name.lower() in wanted)

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
