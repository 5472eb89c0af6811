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

import contextlib
import re
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

__all__ = ["GuardLimits", "QueryResult", "SQLRejected", "check_result_size", "check_sql",
           "run_readonly_sqlite"]

Layer = Literal["static", "connection", "limits"]

# Functions generated SQL may call, by their SQL names: aggregates, windows, text, math,
# dates, JSON. Anything else (file, network, catalog, sleep, large-object, config, extension
# and blob-building functions) is refused.
COMMON_FUNCTIONS = frozenset({
    # aggregates and windows
    "avg", "count", "max", "min", "sum", "row_number", "rank", "dense_rank", "percent_rank",
    "cume_dist", "ntile", "lag", "lead", "first_value", "last_value", "nth_value",
    # conditionals and types
    "coalesce", "nullif", "cast",
    # text
    "length", "lower", "upper", "ltrim", "rtrim", "trim", "replace", "substr", "substring",
    "like", "concat",
    # math
    "abs", "round", "ceil", "ceiling", "floor", "sign", "sqrt", "power", "pow", "mod", "exp",
    "ln", "log", "log10", "pi", "sin", "cos", "tan", "asin", "acos", "atan", "atan2",
    "degrees", "radians", "trunc", "greatest", "least", "random", "extract",
})
DIALECT_FUNCTIONS = {
    "sqlite": COMMON_FUNCTIONS | {
        "total", "group_concat", "string_agg", "ifnull", "iif", "instr", "glob", "printf",
        "format", "char", "unicode", "hex", "quote", "typeof", "likelihood", "likely",
        "unlikely", "date", "time", "datetime", "julianday", "strftime", "unixepoch",
        "timediff", "json", "json_array", "json_array_length", "json_extract", "json_object",
        "json_type", "json_valid", "json_quote", "json_group_array", "json_group_object",
        "json_each", "json_tree", "jsonb", "jsonb_extract", "median", "stddev", "variance",
    },
    "postgres": COMMON_FUNCTIONS | {
        "string_agg", "array_agg", "bool_and", "bool_or", "every", "stddev", "stddev_pop",
        "stddev_samp", "variance", "var_pop", "var_samp", "corr", "covar_pop", "covar_samp",
        "percentile_cont", "percentile_disc", "mode", "median", "regr_slope",
        "regr_intercept", "position", "strpos", "left", "right", "lpad", "rpad", "btrim",
        "initcap", "split_part", "char_length", "character_length", "octet_length",
        "regexp_replace", "regexp_match", "starts_with", "reverse", "to_char", "to_date",
        "to_number", "to_timestamp", "date_trunc", "date_part", "age", "now",
        "current_date", "current_timestamp", "make_date", "make_interval", "cbrt", "div",
        "width_bucket", "json_build_object", "json_agg", "jsonb_agg", "json_extract_path_text",
        "jsonb_extract_path_text", "json_array_length", "jsonb_array_length",
        "json_array_elements", "jsonb_array_elements", "json_each", "jsonb_each",
        "json_object_keys", "jsonb_object_keys", "jsonb_typeof", "array_length",
        "unnest", "generate_series", "format", "md5", "concat_ws", "translate", "ascii",
        "chr", "array_to_string", "string_to_array", "regexp_split_to_array", "date_bin",
        "make_timestamp", "justify_interval", "isfinite", "localtimestamp", "gcd", "lcm",
        "scale", "num_nulls", "num_nonnulls", "bit_and", "bit_or", "json_build_array",
        "jsonb_build_array", "jsonb_build_object", "json_object_agg", "jsonb_object_agg",
        "to_json", "to_jsonb", "json_typeof", "json_array_elements_text",
        "jsonb_array_elements_text", "json_each_text", "jsonb_each_text",
        "jsonb_extract_path", "json_extract_path", "jsonb_strip_nulls",
    },
}
ALLOWED_FUNCTIONS = DIALECT_FUNCTIONS["sqlite"] | DIALECT_FUNCTIONS["postgres"]
_SQLITE_FUNCTIONS = DIALECT_FUNCTIONS["sqlite"]
# Table-valued functions that only read their arguments (FROM json_each(t.doc)).
_TABLE_FUNCTIONS = frozenset({"json_each", "json_tree", "jsonb_each", "json_array_elements",
                              "jsonb_array_elements", "json_each_text", "jsonb_each_text",
                              "json_array_elements_text", "jsonb_array_elements_text",
                              "unnest", "generate_series"})
_MAX_SERIES = 100_000  # generate_series bounds larger than this are refused
MAX_PAD = 100_000  # lpad/rpad to more characters than this is refused: one call builds it
_CALL = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(")

_FORBIDDEN_NODES: tuple[type[exp.Expression], ...] = tuple(
    getattr(exp, name) for name in (
        "Insert", "Update", "Delete", "Merge", "Create", "Drop", "Alter", "AlterColumn",
        "Command", "Into", "Pragma", "Attach", "Detach", "Copy", "Transaction", "Commit",
        "Rollback", "Set", "Use", "LoadData", "Grant", "Lock", "TruncateTable", "Analyze",
        "Describe", "Cache", "Uncache", "Refresh", "Kill", "Show", "Execute",
    ) if hasattr(exp, name)
)
_SET_OPERATIONS = (exp.Union, exp.Intersect, exp.Except)
_SYSTEM_TABLES = re.compile(r"^(sqlite_|pg_|information_schema)", re.IGNORECASE)


class SQLRejected(Exception):
    """Generated SQL was refused; `layer` says which layer refused it."""

    def __init__(self, layer: Layer, reason: str) -> None:
        super().__init__(f"refused by the {layer} layer: {reason}")
        self.layer = layer
        self.reason = reason


def _function_name(node: exp.Func, dialect: str) -> str | None:
    """The name the database sees: the call as the dialect writes it (sqlglot's internal
    names differ: strftime is TIME_TO_STR). None when sqlglot models syntax as a function
    (CASE, x COLLATE NOCASE, an implicit conversion): that is no call."""
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    found = _CALL.match(node.sql(dialect=dialect))
    return found.group(1).lower() if found else None


def _visible_cte(table: exp.Table) -> bool:
    """Whether `table` names a CTE in scope where it stands: one of an enclosing WITH,
    defined before the CTE the reference is in (or that CTE itself, under WITH RECURSIVE).
    Otherwise the database reads a real table, whatever CTEs elsewhere are called."""
    if table.args.get("db") or table.args.get("catalog"):
        return False
    name = table.name.lower()
    node: exp.Expr = table
    inside: exp.Expr | None = None  # the CTE we came up through
    while (parent := node.parent) is not None:
        if isinstance(node, exp.CTE):
            inside = node
        owned = parent.args.get("with_") or parent.args.get("with")
        if isinstance(owned, exp.With):
            names = [cte.alias_or_name.lower() for cte in owned.expressions]
            if node is owned and inside is not None:
                index = next(i for i, cte in enumerate(owned.expressions) if cte is inside)
                names = names[: index + 1 if owned.args.get("recursive") else index]
            if name in names:
                return True
        node = parent
    return False


def _parse(sql: str, dialect: str) -> list[exp.Expr]:
    try:
        return [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except (ParseError, TokenError) as exc:
        raise SQLRejected("static", f"cannot parse: {str(exc).splitlines()[0][:160]}") from exc
    except RecursionError as exc:  # nesting deeper than any real query
        raise SQLRejected("static", "the statement is nested too deeply") from exc


def check_sql(sql: str, *, allowed_tables: Iterable[str], dialect: str = "sqlite"
              ) -> exp.Expression:
    """Layer 2: the parsed statement, or SQLRejected('static', why)."""
    if "\x00" in sql:
        raise SQLRejected("static", "NUL byte in the statement")
    statements = _parse(sql, dialect)
    if len(statements) != 1:
        raise SQLRejected("static", f"{len(statements)} statements; exactly one is allowed")
    tree = statements[0]
    if not isinstance(tree, (exp.Select, exp.Values, *_SET_OPERATIONS)):
        raise SQLRejected("static", f"top level is {tree.key.upper()}, not SELECT")
    try:
        _walk(tree, {t.lower() for t in allowed_tables}, dialect)
    except RecursionError as exc:
        raise SQLRejected("static", "the statement is nested too deeply") from exc
    return tree


def _walk(tree: exp.Expression, allowed: set[str], dialect: str) -> None:
    functions = DIALECT_FUNCTIONS.get(dialect, ALLOWED_FUNCTIONS)
    for node in tree.walk():
        if isinstance(node, _FORBIDDEN_NODES):
            raise SQLRejected("static", f"{node.key.upper()} is not allowed")
        if isinstance(node, exp.Func):
            name = _function_name(node, dialect)
            if name is not None and name not in functions:
                raise SQLRejected("static", f"function {name}() is not allowed")
            if name in ("printf", "format"):
                _check_format(node)
            if name in ("lpad", "rpad"):
                _check_pad(node)
            if name == "generate_series" and any(
                    isinstance(a, exp.Literal) and not a.is_string and abs(float(a.this))
                    > _MAX_SERIES for a in node.find_all(exp.Literal)):
                raise SQLRejected("static", f"generate_series beyond {_MAX_SERIES} rows")
        if isinstance(node, exp.Table):
            _check_table(node, allowed, dialect)


def _check_format(node: exp.Func) -> None:
    """printf/format need a literal template without huge or argument-given widths."""
    template = node.expressions[0] if isinstance(node, exp.Anonymous) and node.expressions \
        else node.this
    if not (isinstance(template, exp.Literal) and template.is_string):
        raise SQLRejected("static", "printf() needs a literal format string")
    if WIDE_FORMAT.search(str(template.this)):
        raise SQLRejected("static", "printf() width or precision too large")


def _check_pad(node: exp.Func) -> None:
    """lpad/rpad need a literal length of at most MAX_PAD."""
    length = node.args.get("expression") if isinstance(node, exp.Pad) else (
        node.expressions[1] if len(node.expressions) > 1 else None)
    if not (isinstance(length, exp.Literal) and not length.is_string
            and float(length.this) <= MAX_PAD):
        raise SQLRejected("static", f"lpad()/rpad() need a literal length up to {MAX_PAD}")


def _check_table(node: exp.Table, allowed: set[str], dialect: str) -> None:
    if isinstance(node.this, exp.Func):
        name = _function_name(node.this, dialect)
        if name not in _TABLE_FUNCTIONS or node.args.get("db"):
            raise SQLRejected("static", f"table-valued function {node.sql()} is not allowed")
        return  # its arguments are walked as functions and columns
    name = node.name.lower()
    if not name:
        raise SQLRejected("static", f"table source {node.sql()} is not allowed")
    if node.args.get("db") or node.args.get("catalog"):
        raise SQLRejected("static", f"schema-qualified table {node.sql()} is not allowed")
    if _visible_cte(node):
        return
    if name not in allowed or _SYSTEM_TABLES.match(name):
        raise SQLRejected("static", f"table {name!r} is not on the allow-list")


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


def _schema_names(connection: sqlite3.Connection) -> set[str]:
    """Every name a FROM can reach besides a CTE: tables, views and virtual-table modules."""
    names = {r[0].lower() for r in connection.execute(
        "SELECT name FROM sqlite_master UNION SELECT name FROM sqlite_temp_master")}
    with contextlib.suppress(sqlite3.DatabaseError):  # a build without introspection
        names |= {r[0].lower() for r in connection.execute(
            "SELECT name FROM pragma_module_list")}
    return names


def _authorizer(allowed: set[str], known: set[str]) -> Any:
    readable = allowed | (_TABLE_FUNCTIONS & _SQLITE_FUNCTIONS)

    def decide(action: int, arg1: str | None, arg2: str | None, db: str | None,
               trigger: str | None) -> int:
        if action == sqlite3.SQLITE_SELECT:
            return _SQLITE_OK
        if (action in (sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_READ) and arg1 == "sqlite_master"
                and db == "main" and (action == sqlite3.SQLITE_UPDATE or arg2 == "ROWID")):
            # SQLite authorizes these while it sets up a table-valued function (json_each)
            # on a connection that cannot write anyway (mode=ro, query_only): no schema
            # text is read through them
            return _SQLITE_OK
        if action == sqlite3.SQLITE_READ:
            table = (arg1 or "").lower()
            if table in readable:
                return _SQLITE_OK
            # No database: a CTE of the query, or a table read for no column (count(*)):
            # a name the schema does not have is the CTE.
            cte = db is None and table not in known and not table.startswith(
                ("sqlite_", "pragma_"))
            return _SQLITE_OK if cte else _SQLITE_DENY
        if action == sqlite3.SQLITE_FUNCTION:
            return _SQLITE_OK if (arg2 or "").lower() in _SQLITE_FUNCTIONS else _SQLITE_DENY
        if action == sqlite3.SQLITE_RECURSIVE:  # WITH RECURSIVE over allowed tables
            return _SQLITE_OK
        return _SQLITE_DENY

    return decide


WIDE_FORMAT = re.compile(r"%[-+ 0#,!]*(\*|\d{5,}|\.\*|\.\d{5,}|\d*\.\d{5,})")


def _bounded_printf(memory: sqlite3.Connection) -> Any:
    """SQLite's printf/format, refusing a width or precision from an argument (`%*c`) or of
    five digits or more: one such call builds a gigabyte string before any limit can act."""

    def printf(template: Any, *args: Any) -> Any:
        if isinstance(template, str) and WIDE_FORMAT.search(template):
            raise ValueError("printf width or precision too large")
        marks = ", ".join("?" for _ in range(len(args) + 1))
        return memory.execute(f"SELECT printf({marks})", (template, *args)).fetchone()[0]

    return printf


def check_result_size(rows: list[Any], limits: GuardLimits) -> None:
    """The limits layer on what came back: SQLRejected('limits') past max_bytes."""
    size = sum(len(repr(row)) for row in rows)
    if size > limits.max_bytes:
        raise SQLRejected("limits", f"result of {size} bytes exceeds {limits.max_bytes}")


def run_readonly_sqlite(path: Path, sql: str, *, allowed_tables: Iterable[str],
                        limits: GuardLimits = GuardLimits()) -> QueryResult:
    """Layers 1 and 3 for SQLite: run `sql` on a read-only, authorized connection within the
    limits. Raises SQLRejected('connection' | 'limits', why). (Layer 2 is check_sql.)"""
    if not path.is_file():
        raise SQLRejected("connection", f"database {path} does not exist")
    allowed = {t.lower() for t in allowed_tables}
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    # Hard caps that act inside a single call (printf with a huge width, zeroblob, string
    # doubling): no value may grow past the size limit, and a watchdog interrupts the
    # statement at the deadline even while one function call is still running.
    connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, max(limits.max_bytes, 1024))
    connection.setlimit(sqlite3.SQLITE_LIMIT_EXPR_DEPTH, 200)
    connection.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    watchdog = threading.Timer(limits.timeout_seconds, connection.interrupt)
    memory = sqlite3.connect(":memory:", check_same_thread=False)
    memory.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, max(limits.max_bytes, 1024))
    for name in ("printf", "format"):
        connection.create_function(name, -1, _bounded_printf(memory), deterministic=True)
    try:
        connection.execute("PRAGMA query_only = ON")
        connection.set_authorizer(_authorizer(allowed, _schema_names(connection)))
        deadline = time.monotonic() + limits.timeout_seconds
        connection.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        started = time.monotonic()
        watchdog.start()
        try:
            cursor = connection.execute(sql)
            rows = cursor.fetchmany(limits.max_rows + 1)
        except sqlite3.OperationalError as exc:
            if "interrupted" in str(exc):
                raise SQLRejected("limits", f"ran longer than {limits.timeout_seconds} s"
                                  ) from exc
            if "user-defined function raised exception" in str(exc):  # _bounded_printf
                raise SQLRejected("limits", "printf width or precision too large") from exc
            raise SQLRejected("connection", str(exc)) from exc
        except sqlite3.DataError as exc:  # a value past SQLITE_LIMIT_LENGTH
            raise SQLRejected("limits", f"a value larger than {limits.max_bytes} bytes"
                              ) from exc
        except (sqlite3.DatabaseError, sqlite3.Warning) as exc:
            raise SQLRejected("connection", str(exc)) from exc
        finally:
            watchdog.cancel()
        if cursor.description is None:  # REINDEX, BEGIN, ...: not a query
            raise SQLRejected("connection", "the statement returns no result set")
        columns = [d[0] for d in cursor.description]
        truncated = len(rows) > limits.max_rows
        rows = rows[: limits.max_rows]
        check_result_size(rows, limits)
        return QueryResult(columns, [tuple(r) for r in rows], truncated,
                           time.monotonic() - started)
    finally:
        connection.close()
        memory.close()
