"""The PostgreSQL half of the connection layer that does not trust our parser: before a
statement runs, the server plans it (`EXPLAIN (VERBOSE, FORMAT JSON)`, which executes
nothing) and the plan is read. Every relation the plan scans must be a listed table of the
public schema (views and catalogs show as the tables behind them), no node may modify
anything, and every function in the server's own rendering of the expressions must be on the
dialect's allow-list, under the static layer's argument rules (format without huge widths,
lpad/rpad to a literal length). The server resolves names, search_path, quoting and views, so text
that fools a parser on our side still shows here as what it does."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from shoal.tools.sql_guard import DIALECT_FUNCTIONS, MAX_PAD, WIDE_FORMAT, SQLRejected

__all__ = ["check_plan", "explain"]

# Keys whose values are names or labels, not expressions.
_LABELS = frozenset({"Node Type", "Relation Name", "Schema", "Alias", "Parent Relationship",
                     "Strategy", "Join Type", "Partial Mode", "Scan Direction", "Index Name",
                     "Subplan Name", "CTE Name", "Command", "Operation", "Function Name",
                     "Sort Method", "Sort Space Type"})
_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"")
# A call as the server renders it: name( with no space; `::numeric(10,2)` is a cast.
_CALL = re.compile(r"(?<![:\w.])((?:[A-Za-z_]\w*\.)?[A-Za-z_]\w*)\(")


def explain(sql: str) -> bytes:
    """The EXPLAIN statement for `sql` (sent as one prepared statement, like `sql` itself)."""
    return b"EXPLAIN (VERBOSE, FORMAT JSON) " + sql.encode()


def check_plan(plan: Any, allowed_tables: Iterable[str]) -> None:
    """Refuse (SQLRejected, layer 'connection') a plan that reads an unlisted relation,
    modifies anything or calls a function off the PostgreSQL allow-list."""
    allowed = {name for name in allowed_tables}
    functions = DIALECT_FUNCTIONS["postgres"]
    for key, value in _fields(plan):
        if key == "Relation Name":
            continue  # checked with its schema below
        if key == "Node Type" and value in ("ModifyTable", "LockRows"):
            raise SQLRejected("connection", f"the plan {value} rows: only reads are allowed")
        if key == "Scan":
            schema, relation = value
            if schema != "public" or relation not in allowed:
                raise SQLRejected("connection", f"the plan reads {schema}.{relation}, which "
                                  "is not on the table allow-list")
        elif key == "Function Name":
            if value.lower() not in functions:
                raise SQLRejected("connection", f"the plan calls {value}(), which is not "
                                  "allowed")
        elif key not in _LABELS:
            _check_calls(value, functions)


def _check_calls(text: str, functions: frozenset[str]) -> None:
    masked = _QUOTED.sub(lambda m: m[0][0] + " " * (len(m[0]) - 2) + m[0][-1], text)
    for call in _CALL.finditer(masked):
        name = call[1].lower().removeprefix("pg_catalog.")
        if name not in functions:
            raise SQLRejected("connection", f"the plan calls {call[1]}(), which is not "
                              "allowed")
        if name in ("format", "lpad", "rpad"):
            _check_arguments(name, _arguments(text, masked, call.end()))


def _check_arguments(name: str, arguments: list[str]) -> None:
    """format needs a literal template without huge widths, lpad/rpad a literal length."""
    if name == "format":
        template = re.fullmatch(r"'((?:[^']|'')*)'(::text)?", arguments[0] if arguments else "")
        if template is None or WIDE_FORMAT.search(template[1]):
            raise SQLRejected("connection", "format() needs a literal template without huge "
                              "widths")
    elif not (len(arguments) > 1 and arguments[1].isdigit() and int(arguments[1]) <= MAX_PAD):
        raise SQLRejected("connection", f"{name}() needs a literal length up to {MAX_PAD}")


def _arguments(text: str, masked: str, start: int) -> list[str]:
    """The top-level arguments of the call whose `(` ends just before `start`."""
    depth, begin, found = 0, start, []
    for index in range(start, len(masked)):
        char = masked[index]
        if char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif char in ",)" and depth == 0:
            found.append(text[begin:index].strip())
            begin = index + 1
            if char == ")":
                break
    return found


def _fields(node: Any) -> Iterator[tuple[str, Any]]:
    """(key, text) of every field of the plan tree; scans as ('Scan', (schema, relation))."""
    if isinstance(node, list):
        for item in node:
            yield from _fields(item)
    elif isinstance(node, dict):
        if "Relation Name" in node:
            yield "Scan", (node.get("Schema"), node["Relation Name"])
        for key, value in node.items():
            if isinstance(value, str):
                yield key, value
            elif isinstance(value, list) and all(isinstance(v, str) for v in value):
                for text in value:
                    yield key, text
            else:
                yield from _fields(value)
