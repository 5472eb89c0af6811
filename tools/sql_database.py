"""A database that model-written SQL may query: its schema for prompts, and guarded execution
(static check, read-only connection, limits: see sql_guard) of the tables on its allow-list.

The allow-list is `tables=[...]` when given, else every table of the database less Shoal's
own: the memory tables (runs, calls, messages, facts, call_cache), `shoal_*` bookkeeping and
the review log. Both the static walk and the connection layer enforce it."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from shoal.errors import InputError
from shoal.memory import DatabaseURL
from shoal.tools.sql_guard import (
    GuardLimits,
    QueryResult,
    SQLRejected,
    check_result_size,
    check_sql,
    run_readonly_sqlite,
)
from shoal.tools.sql_schema import (
    TableInfo,
    ground_literals,
    match_values,
    pg_tables,
    sqlite_tables,
)

__all__ = ["SHOAL_TABLES", "SQLDatabase", "TableInfo"]

# Tables Shoal writes for itself; generated SQL never reads them, even when listed.
SHOAL_TABLES = frozenset({"runs", "calls", "messages", "facts", "call_cache",
                          "document_reviews", "checkpoints", "writes", "checkpoint_blobs",
                          "checkpoint_writes", "checkpoint_migrations"})


def _shoal_owned(name: str) -> bool:
    return name.lower() in SHOAL_TABLES or name.lower().startswith("shoal_")


class SQLDatabase:
    """`url`: sqlite:///path or postgresql://… (use a role that can only read)."""

    def __init__(self, url: str | DatabaseURL, limits: GuardLimits | None = None,
                 descriptions: Mapping[str, str] | None = None,
                 tables: Iterable[str] | None = None) -> None:
        """`descriptions`: "table" or "table.column" -> text shown to the SQL writer.
        `tables`: the tables generated SQL may read (None: all but Shoal's own)."""
        self.address = DatabaseURL.parse(url)
        self.allowed = None if tables is None else tuple(tables)
        if self.allowed is not None and not self.allowed:
            raise InputError("the table allow-list is empty", source="tables",
                             fix="name at least one table (--tables documents,document_lines)"
                             " or leave it out to allow all of the database's own tables")
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
                     else pg_tables(self.address, self.descriptions))
            self._tables = self._allowed(found)
        return self._tables

    def _allowed(self, found: list[TableInfo]) -> list[TableInfo]:
        """The tables generated SQL may read: the allow-list (each must exist), or all of
        the database's tables; never Shoal's own."""
        own = [t for t in found if not _shoal_owned(t.name)]
        if self.allowed is None:
            return own
        wanted = {name.lower() for name in self.allowed}
        missing = sorted(wanted - {t.name.lower() for t in own})
        if missing:
            names = ", ".join(t.name for t in own) or "none"
            raise InputError(
                f"{self.address.redacted} has no table {', '.join(missing)} that generated "
                "SQL may read", source="tables",
                fix=f"list tables of the database (it has: {names}); Shoal's own tables "
                    "are never readable")
        return [t for t in own if t.name.lower() in wanted]

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

    def ground(self, sql: str) -> str:
        """`sql` with its string literals spelled as the columns they are compared to store
        them ('Math' -> 'math'): see sql_schema.ground_literals."""
        return ground_literals(sql, self.tables())

    def run(self, sql: str) -> QueryResult:
        """Every layer of the guard; raises SQLRejected naming the layer that refused."""
        allowed = [t.name for t in self.tables()]
        check_sql(sql, allowed_tables=allowed, dialect="sqlite" if self.is_sqlite else "postgres")
        if self.is_sqlite:
            return run_readonly_sqlite(self.path, sql, allowed_tables=allowed,
                                       limits=self.limits)
        return self._run_postgres(sql, allowed)

    async def execute(self, sql: str) -> QueryResult:
        """`run` from async code, in a worker thread (the guarded drivers are synchronous)."""
        return await asyncio.to_thread(self.run, sql)

    def _run_postgres(self, sql: str, allowed: list[str] | None = None) -> QueryResult:
        """The connection layer on PostgreSQL: a READ ONLY transaction whose statement_timeout
        is fixed when connecting; the text goes as one prepared statement (the extended
        protocol), so `COMMIT; DELETE ...` is refused by the server instead of run; the
        server's plan of it is checked first (pg_plan). `allowed` defaults to the allow-list.
        It runs in a worker thread the caller stops waiting for half a second past the
        timeout: one server-side call (a string doubling) can run past statement_timeout
        before the server looks at its cancel flag."""
        if allowed is None:
            allowed = [t.name for t in self.tables()]
        future: Future[QueryResult] = Future()

        def work() -> None:
            try:
                future.set_result(self._query_postgres(sql, allowed))
            except BaseException as exc:  # handed to the caller below
                future.set_exception(exc)

        threading.Thread(target=work, name="shoal-pg-query", daemon=True).start()
        try:
            return future.result(timeout=self.limits.timeout_seconds + 0.5)
        except TimeoutError as exc:
            raise SQLRejected("limits", f"ran longer than {self.limits.timeout_seconds} s"
                              ) from exc

    def _query_postgres(self, sql: str, allowed: list[str]) -> QueryResult:
        import psycopg

        from shoal.tools.pg_plan import check_plan, explain

        timeout_ms = int(self.limits.timeout_seconds * 1000)
        started = time.monotonic()
        try:
            with psycopg.connect(self.address.libpq, options=(
                    f"-c statement_timeout={timeout_ms} "
                    "-c default_transaction_read_only=on")) as connection:
                connection.read_only = True
                with connection.transaction(force_rollback=True):
                    plan = connection.execute(explain(sql), prepare=True).fetchone()
                    check_plan(plan[0] if plan else None, allowed)
                    cursor = connection.execute(sql.encode(), prepare=True)
                    if cursor.description is None:
                        raise SQLRejected("connection", "the statement returns no result set")
                    rows: list[Any] = cursor.fetchmany(self.limits.max_rows + 1)
                    columns = [d.name for d in cursor.description]
        except psycopg.errors.QueryCanceled as exc:
            raise SQLRejected("limits", f"ran longer than {self.limits.timeout_seconds} s"
                              ) from exc
        except psycopg.Error as exc:
            raise SQLRejected("connection", _pg_reason(exc)) from exc
        truncated = len(rows) > self.limits.max_rows
        rows = rows[: self.limits.max_rows]
        check_result_size(rows, self.limits)
        return QueryResult(columns, [tuple(r) for r in rows], truncated,
                           time.monotonic() - started)


def _pg_reason(exc: Exception) -> str:
    """The server's first line, except for data exceptions (SQLSTATE class 22: a failed
    cast, a bad date), whose text quotes the stored value: those say only what failed."""
    state = getattr(exc, "sqlstate", None) or ""
    if state.startswith("22"):
        return (f"a value could not be converted or computed (SQLSTATE {state}); "
                "check casts and functions on the columns used")
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
