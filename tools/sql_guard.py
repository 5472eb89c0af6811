"""The SQL guard: model-written SQL runs only if every layer agrees.

Layer 1 (connection): generated SQL runs on a read-only connection. SQLite: `mode=ro`, `PRAGMA
query_only`, and an authorizer that allows only reads of allowed tables and allowed
functions. PostgreSQL: a READ ONLY transaction with statement_timeout.
Layer 2 (static): sqlglot parses exactly one statement whose top level is SELECT or a set
operation of SELECTs; a walk of the whole tree rejects any write, DDL, INTO, PRAGMA, ATTACH,
COPY, command, locking clause or function off the allow-list, and any table off the
allow-list.
Layer 3 (limits): row cap, result-size cap and a time limit.

Each layer refuses on its own, with a `SQLRejected` naming the layer and the reason.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

__all__ = ["GuardLimits", "QueryResult", "SQLRejected", "check_sql", "run_readonly_sqlite"]

Layer = Literal["static", "connection", "limits"]

# Functions generated SQL may call: analytics, text, math, dates. Anything else is refused.
ALLOWED_FUNCTIONS = frozenset({
    "abs", "avg", "ceil", "ceiling", "coalesce", "count", "date", "datetime", "day", "extract",
    "floor", "group_concat", "string_agg", "ifnull", "iif", "instr", "julianday", "length",
    "lower", "ltrim", "max", "min", "month", "nullif", "printf", "round", "rtrim", "strftime",
    "substr", "substring", "sum", "time", "total", "trim", "upper", "year", "replace", "sign",
    "sqrt", "power", "pow", "mod", "like", "glob", "cast", "concat", "char_length", "left",
    "right", "position", "now", "current_date", "current_timestamp", "date_trunc", "to_char",
    "row_number", "rank", "dense_rank", "lag", "lead", "first_value", "last_value", "ntile",
    "percent_rank", "cume_dist", "stddev", "variance", "median", "greatest", "least",
    "unicode", "hex", "typeof",
})

_FORBIDDEN_NODES: tuple[type[exp.Expression], ...] = tuple(
    getattr(exp, name) for name in (
        "Insert", "Update", "Delete", "Merge", "Create", "Drop", "Alter", "AlterColumn",
        "Command", "Into", "Pragma", "Attach", "Detach", "Copy", "Transaction", "Commit",
        "Rollback", "Set", "Use", "LoadData", "Grant", "Lock", "TruncateTable", "Analyze",
        "Describe", "Cache", "Uncache", "Refresh", "Kill", "Show", "Execute",
    ) if hasattr(exp, name)
)
_SET_OPERATIONS = (exp.Union, exp.Intersect, exp.Except)
# sqlglot models some syntax as functions: these are SQL, not function calls.
_SYNTAX_FUNCS = (exp.Connector, exp.If, exp.Case, exp.Cast, exp.Exists)
_SYSTEM_TABLES = re.compile(r"^(sqlite_|pg_|information_schema)", re.IGNORECASE)


class SQLRejected(Exception):
    """Generated SQL was refused; `layer` says which layer refused it."""

    def __init__(self, layer: Layer, reason: str) -> None:
        super().__init__(f"refused by the {layer} layer: {reason}")
        self.layer = layer
        self.reason = reason


def _function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    return str(node.sql_name()).lower()


def check_sql(sql: str, *, allowed_tables: Iterable[str], dialect: str = "sqlite"
              ) -> exp.Expression:
    """Layer 2: the parsed statement, or SQLRejected('static', why)."""
    if "\x00" in sql:
        raise SQLRejected("static", "NUL byte in the statement")
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except (ParseError, TokenError) as exc:
        raise SQLRejected("static", f"cannot parse: {str(exc).splitlines()[0][:160]}") from exc
    if len(statements) != 1:
        raise SQLRejected("static", f"{len(statements)} statements; exactly one is allowed")
    tree = statements[0]
    if not isinstance(tree, (exp.Select, *_SET_OPERATIONS)):
        raise SQLRejected("static", f"top level is {tree.key.upper()}, not SELECT")
    allowed = {t.lower() for t in allowed_tables}
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    for node in tree.walk():
        if isinstance(node, _FORBIDDEN_NODES):
            raise SQLRejected("static", f"{node.key.upper()} is not allowed")
        if isinstance(node, exp.Func) and not isinstance(node, _SYNTAX_FUNCS):
            name = _function_name(node)
            if name not in ALLOWED_FUNCTIONS:
                raise SQLRejected("static", f"function {name}() is not allowed")
        if isinstance(node, exp.Table):
            name = node.name.lower()
            if node.args.get("db") or node.args.get("catalog"):
                raise SQLRejected("static", f"schema-qualified table {node.sql()} is not allowed")
            if isinstance(node.this, exp.Func) or not name:
                raise SQLRejected("static", f"table-valued function {node.sql()} is not allowed")
            if name not in ctes and (name not in allowed or _SYSTEM_TABLES.match(name)):
                raise SQLRejected("static", f"table {name!r} is not on the allow-list")
    return tree


@dataclass(frozen=True)
class GuardLimits:
    max_rows: int = 200
    max_bytes: int = 1_000_000
    timeout_seconds: float = 5.0


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool = False  # more rows existed than max_rows
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


_SQLITE_OK, _SQLITE_DENY = sqlite3.SQLITE_OK, sqlite3.SQLITE_DENY


def _authorizer(allowed: set[str]) -> Any:
    def decide(action: int, arg1: str | None, arg2: str | None, db: str | None,
               trigger: str | None) -> int:
        if action == sqlite3.SQLITE_SELECT:
            return _SQLITE_OK
        if action == sqlite3.SQLITE_READ:  # db is None only for a CTE of the query itself
            return _SQLITE_OK if db is None or (arg1 or "").lower() in allowed else _SQLITE_DENY
        if action == sqlite3.SQLITE_FUNCTION:
            return _SQLITE_OK if (arg2 or "").lower() in ALLOWED_FUNCTIONS else _SQLITE_DENY
        if action == sqlite3.SQLITE_RECURSIVE:  # WITH RECURSIVE over allowed tables
            return _SQLITE_OK
        return _SQLITE_DENY

    return decide


def run_readonly_sqlite(path: Path, sql: str, *, allowed_tables: Iterable[str],
                        limits: GuardLimits = GuardLimits()) -> QueryResult:
    """Layers 1 and 3 for SQLite: run `sql` on a read-only, authorized connection within the
    limits. Raises SQLRejected('connection' | 'limits', why). (Layer 2 is check_sql.)"""
    if not path.is_file():
        raise SQLRejected("connection", f"database {path} does not exist")
    allowed = {t.lower() for t in allowed_tables}
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    try:
        connection.execute("PRAGMA query_only = ON")
        connection.set_authorizer(_authorizer(allowed))
        deadline = time.monotonic() + limits.timeout_seconds
        connection.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        started = time.monotonic()
        try:
            cursor = connection.execute(sql)
            rows = cursor.fetchmany(limits.max_rows + 1)
        except sqlite3.OperationalError as exc:
            if "interrupted" in str(exc):
                raise SQLRejected("limits", f"ran longer than {limits.timeout_seconds} s"
                                  ) from exc
            raise SQLRejected("connection", str(exc)) from exc
        except (sqlite3.DatabaseError, sqlite3.Warning) as exc:
            raise SQLRejected("connection", str(exc)) from exc
        if cursor.description is None:  # REINDEX, BEGIN, ...: not a query
            raise SQLRejected("connection", "the statement returns no result set")
        columns = [d[0] for d in cursor.description]
        truncated = len(rows) > limits.max_rows
        rows = rows[: limits.max_rows]
        size = sum(len(repr(row)) for row in rows)
        if size > limits.max_bytes:
            raise SQLRejected("limits", f"result of {size} bytes exceeds {limits.max_bytes}")
        return QueryResult(columns, [tuple(r) for r in rows], truncated,
                           time.monotonic() - started)
    finally:
        connection.close()
