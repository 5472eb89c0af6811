"""A database's schema as a small model reads it best: per table its columns with types, the
primary and foreign keys, a few real values of each text column, and the descriptions the
database (PostgreSQL COMMENT, SQLite `--` comments in the DDL) or the user gives. And the
stored values a question's words stand for ('math' in the question, 'Math' in the table).
"""

from __future__ import annotations

import difflib
import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shoal.errors import InputError
from shoal.memory import DatabaseURL

__all__ = ["Column", "TableInfo", "ground_literals", "match_values", "pg_connect", "pg_tables",
           "sqlite_tables"]

_SAMPLES = 2  # values shown per text column
_ONE_OF = 4  # a text column with at most this many distinct values lists them all
_SHORT = 30  # longer values are not shown
_MATCHABLE = 2000  # distinct values per column kept for matching the question's words


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    primary_key: bool = False
    references: str | None = None  # "table(column)" of a foreign key
    description: str | None = None
    samples: tuple[str, ...] = ()
    complete: bool = False  # `samples` are all the values the column holds

    def prompt(self, last: bool = False, samples: bool = True) -> str:
        text = f"  {self.name} {self.type}".rstrip()
        if self.primary_key:
            text += " PRIMARY KEY"
        if self.references:
            text += f" REFERENCES {self.references}"
        notes = [self.description] if self.description else []
        if self.samples and samples:
            shown = ", ".join(_literal(v) for v in self.samples)
            notes.append(f"one of {shown}" if self.complete else f"e.g. {shown}")
        text += "" if last else ","
        return text + (f" -- {'; '.join(notes)}" if notes else "")


@dataclass(frozen=True)
class TableInfo:
    name: str
    columns: tuple[Column, ...]
    description: str | None = None
    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # for matching

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def prompt(self, samples: bool = True) -> str:
        """CREATE TABLE text with keys, descriptions and (`samples`) sample values as
        comments."""
        head = f"CREATE TABLE {self.name} (" + (
            f" -- {self.description}" if self.description else "")
        lines = [c.prompt(i == len(self.columns) - 1, samples)
                 for i, c in enumerate(self.columns)]
        return "\n".join([head, *lines, ");"])


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ddl_comments(sql: str) -> dict[str, str]:
    """`-- comment`s of a CREATE TABLE statement, by the column defined just before them."""
    found = {}
    for line in sql.splitlines():
        left, sep, comment = line.partition("--")
        starts = re.findall(r'(?:^|[(,])\s*["`\[]?(\w+)["`\]]?\s+[A-Za-z]', left)
        if sep and starts and comment.strip():
            found[starts[-1].lower()] = comment.strip()
    return found


def _is_text(kind: str) -> bool:
    kind = kind.lower()
    return kind == "" or any(k in kind for k in ("char", "text", "clob", "date", "time"))


def _samples(rows: list[Any]) -> tuple[tuple[str, ...], bool]:
    values = [str(r[0]) for r in rows if r[0] is not None]
    short = [v for v in values if 0 < len(v) <= _SHORT and "\n" not in v]
    if len(values) <= _ONE_OF and len(short) == len(values):
        return tuple(short), True
    return tuple(short[:_SAMPLES]), False


def sqlite_tables(path: Path, descriptions: Mapping[str, str]) -> list[TableInfo]:
    """The tables of the SQLite file at `path` (opened read-only). `descriptions` maps
    "table" or "table.column" to a description, over the DDL's own comments."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = connection.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%' ORDER BY name").fetchall()
        tables = []
        for name, sql in rows:
            comments = _ddl_comments(sql or "")
            keys = {str(fk[3]).lower(): f"{fk[2]}({fk[4] or fk[3]})" for fk in
                    connection.execute(f'PRAGMA foreign_key_list("{name}")')}
            columns, values = [], {}
            for _, column, kind, _, _, pk in connection.execute(f'PRAGMA table_info("{name}")'):
                kind = str(kind or "")
                samples: tuple[str, ...] = ()
                complete = False
                if _is_text(kind) and not pk:
                    found = connection.execute(
                        f'SELECT DISTINCT "{column}" FROM "{name}" WHERE "{column}" IS NOT NULL '
                        f"LIMIT {_MATCHABLE + 1}").fetchall()
                    samples, complete = _samples(found[:_ONE_OF + 1])
                    if len(found) <= _MATCHABLE:
                        values[column] = tuple(str(r[0]) for r in found)
                described = descriptions.get(f"{name}.{column}") or comments.get(column.lower())
                columns.append(Column(column, kind.upper(), bool(pk),
                                      keys.get(column.lower()), described, samples, complete))
            tables.append(TableInfo(name, tuple(columns), descriptions.get(name), values))
        return tables
    finally:
        connection.close()


def pg_connect(address: DatabaseURL, **options: Any) -> Any:
    """A psycopg connection to `address`; InputError with the fix when the server cannot be
    reached or refuses the login."""
    import psycopg

    try:
        return psycopg.connect(address.libpq, **options)
    except psycopg.OperationalError as exc:
        reason = (str(exc).strip().splitlines() or ["no reason given"])[0]
        raise InputError(f"cannot reach {address.redacted}: {reason}", source=address.redacted,
                         fix="start the PostgreSQL server, or check the host, port, user and "
                             "password in --db") from exc


def pg_tables(address: DatabaseURL, descriptions: Mapping[str, str]) -> list[TableInfo]:
    """The tables of the `public` schema, with COMMENTs, keys and sample values."""
    with pg_connect(address) as connection:
        connection.read_only = True
        rows = connection.execute(
            "SELECT c.table_name, c.column_name, c.data_type, "
            "col_description(format('%I', c.table_name)::regclass, c.ordinal_position), "
            "obj_description(format('%I', c.table_name)::regclass, 'pg_class') "
            "FROM information_schema.columns c WHERE c.table_schema = 'public' "
            "ORDER BY c.table_name, c.ordinal_position").fetchall()
        keys = {(t, c): kind for t, c, kind in connection.execute(
            "SELECT k.table_name, k.column_name, t.constraint_type "
            "FROM information_schema.key_column_usage k JOIN information_schema."
            "table_constraints t USING (constraint_name, table_schema) "
            "WHERE k.table_schema = 'public'").fetchall()}
        refs = {(t, c): f"{rt}({rc})" for t, c, rt, rc in connection.execute(
            "SELECT k.table_name, k.column_name, u.table_name, u.column_name "
            "FROM information_schema.key_column_usage k JOIN information_schema."
            "constraint_column_usage u USING (constraint_name, table_schema) JOIN "
            "information_schema.table_constraints t USING (constraint_name, table_schema) "
            "WHERE k.table_schema = 'public' AND t.constraint_type = 'FOREIGN KEY'").fetchall()}
        tables: dict[str, list[Column]] = {}
        about: dict[str, str | None] = {}
        values: dict[str, dict[str, tuple[str, ...]]] = {}
        for table, column, kind, comment, table_comment in rows:
            about[table] = descriptions.get(table) or table_comment
            samples: tuple[str, ...] = ()
            complete = False
            if _is_text(kind):
                found = connection.execute(
                    f'SELECT DISTINCT "{column}"::text FROM "{table}" WHERE "{column}" IS NOT '
                    f"NULL LIMIT {_MATCHABLE + 1}").fetchall()
                samples, complete = _samples(found[:_ONE_OF + 1])
                if len(found) <= _MATCHABLE:
                    values.setdefault(table, {})[column] = tuple(str(r[0]) for r in found)
            tables.setdefault(table, []).append(Column(
                column, str(kind).upper(), keys.get((table, column)) == "PRIMARY KEY",
                refs.get((table, column)), descriptions.get(f"{table}.{column}") or comment,
                samples, complete))
    return [TableInfo(t, tuple(cols), about[t], values.get(t, {})) for t, cols in tables.items()]


def match_values(tables: list[TableInfo], question: str) -> list[str]:
    """Lines naming the stored values that words of `question` stand for, where the stored
    spelling differs ('math' -> courses.name = 'Math'), or that a quoted phrase names."""
    words = re.findall(r"[\w'.-]+", question)
    phrases = {" ".join(words[i:i + n]).strip("'. ") for n in (1, 2, 3)
               for i in range(len(words) - n + 1)}
    phrases |= set(re.findall(r"['\"]([^'\"]+)['\"]", question))
    phrases = {p for p in phrases if len(p) >= 3 and not p.isdigit()}
    lines = []
    for table in tables:
        for column, stored in table.values.items():
            by_lower = {v.lower(): v for v in stored}
            for said in {p.lower(): p for p in phrases}.values():
                value = _stored_spelling(said, by_lower)
                if value is not None and (value != said or said in _quoted(question)):
                    lines.append(f"-- {said!r} in the question is stored as "
                                 f"{table.name}.{column} = {_literal(value)}")
    return sorted(set(lines))[:4]


def _stored_spelling(said: str, by_lower: Mapping[str, str]) -> str | None:
    """The stored value `said` stands for: equal up to case, or (5+ letters) a close
    spelling; None without one. `by_lower`: a column's values by their lower case."""
    low = said.lower()
    value = by_lower.get(low)
    if value is None and len(low) >= 5:
        close = difflib.get_close_matches(low, by_lower, n=1, cutoff=0.88)
        value = by_lower[close[0]] if close else None
    return value


def ground_literals(sql: str, tables: list[TableInfo]) -> str:
    """`sql` with each string literal compared to a column (`=`, `!=`, `<>`, `IN`) spelled
    as that column stores it, when it is none of the column's values but one matches it up
    to case or spelling (a model writes 'Math' where the table holds 'math'). Columns are
    found by name in `tables`; a literal any of them holds is left as written, and so is
    SQL that does not parse (the guard refuses it later)."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(sql, read="sqlite")
    except sqlglot.errors.SqlglotError:  # it does not tokenize or parse
        return sql
    stored: dict[str, set[str]] = {}
    for table in tables:
        for column, values in table.values.items():
            stored.setdefault(column.lower(), set()).update(values)
    replaced: dict[str, str] = {}
    for node in tree.find_all(exp.EQ, exp.NEQ, exp.In):
        target = node.this if isinstance(node.this, exp.Column) else node.expression
        if not isinstance(target, exp.Column) or target.name.lower() not in stored:
            continue
        held = stored[target.name.lower()]
        literals = node.expressions if isinstance(node, exp.In) else [node.this, node.expression]
        for literal in literals:
            if not (isinstance(literal, exp.Literal) and literal.is_string) \
                    or literal.this in held:
                continue
            value = _stored_spelling(literal.this, {v.lower(): v for v in held})
            if value is not None:
                replaced[literal.this] = value
    for said, value in replaced.items():
        sql = sql.replace(_literal(said), _literal(value))
    return sql


def _quoted(question: str) -> set[str]:
    return set(re.findall(r"['\"]([^'\"]+)['\"]", question))
