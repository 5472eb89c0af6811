"""A user's own tables as where OCR-to-SQL records land (`shoal ocr-to-sql FILES --db URL
--into invoices`): one row per document in the table, its line items in a child table that
has a foreign key to it (found by that key, or named with `--lines`).

Columns are matched to the record's fields by name (the record type is the user's: the
built-in InvoiceFields by default, or their own pydantic class), plus `sha256` (the file's,
in a column that is a primary key or unique: inserts are idempotent on it), and, where the
table has them, `file_name`, `doc_type` and `status`. Line-item tables take `description`,
`amount` and `position`. Before anything is written the tables are checked: money in a
NUMERIC/DECIMAL column (a float loses cents), dates in a DATE column, text in a text column,
no NOT NULL column left without a value; every mismatch is reported at once, with its fix.

A record lands here with its line items in the transaction that stores the document in
Shoal's own `documents` table, or when a person approves it (shoal review).
"""

from __future__ import annotations

import datetime as dt
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import Connection, Engine, MetaData, Table, inspect
from sqlalchemy import types as sqltypes
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from shoal.errors import InputError

__all__ = ["FieldKind", "RecordTarget", "field_kinds"]

FieldKind = Literal["text", "money", "date", "integer", "number"]
_DOCUMENT: dict[str, FieldKind] = {"file_name": "text", "doc_type": "text", "status": "text"}
_ITEM: dict[str, FieldKind] = {"description": "text", "amount": "money", "position": "integer"}
_KEY = "sha256"


def field_kinds(record: type[BaseModel]) -> dict[str, FieldKind]:
    """The scalar fields of a record type and what they hold (lists, like line items, are
    not columns of the record's own table)."""
    kinds: dict[str, FieldKind] = {}
    for name, info in record.model_fields.items():
        kind = _kind(info.annotation)
        if kind is not None:
            kinds[name] = kind
    return kinds


def _kind(annotation: Any) -> FieldKind | None:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is typing.Annotated or (
            args and typing.get_origin(annotation) is not list and len(args) == 1):
        return _kind(args[0])
    for kind, python in (("money", Decimal), ("date", dt.date), ("integer", int),
                         ("number", float), ("text", str)):
        if isinstance(annotation, type) and issubclass(annotation, python):
            return kind  # type: ignore[return-value]
    return None


def _fits(kind: FieldKind, column: sqltypes.TypeEngine[Any]) -> bool:
    if kind == "money":
        return isinstance(column, sqltypes.Numeric) and not isinstance(column, sqltypes.Float)
    if kind == "date":
        return isinstance(column, sqltypes.Date)
    if kind == "integer":
        return isinstance(column, sqltypes.Integer)
    if kind == "number":
        return isinstance(column, sqltypes.Numeric)
    return isinstance(column, sqltypes.String)


def _value(column: sqltypes.TypeEngine[Any], value: Any) -> Any:
    """A record's value (JSON-shaped: amounts and dates as text) as the column takes it."""
    if value is None or value == "":
        return None
    if isinstance(column, sqltypes.Numeric) and not isinstance(column, sqltypes.Float):
        return Decimal(str(value))
    if isinstance(column, sqltypes.Date) and not isinstance(value, dt.date):
        return dt.date.fromisoformat(str(value))
    return value


_NEEDS = {"money": "NUMERIC(14, 2) or DECIMAL (a float loses cents)", "date": "DATE",
          "integer": "INTEGER", "number": "a numeric type", "text": "a text type (TEXT, VARCHAR)"}


@dataclass(frozen=True)
class RecordTarget:
    """Where records go: `table`, keyed by its sha256 column, and `lines` with `link`
    (its column, the table's column it references)."""

    table: Table
    lines: Table | None = None
    link: tuple[str, str] | None = None

    @property
    def names(self) -> tuple[str, str | None]:
        return self.table.name, None if self.lines is None else self.lines.name

    @classmethod
    def inspect(cls, engine: Engine | Connection, table: str,
                kinds: Mapping[str, FieldKind] | None, lines: str | None = None
                ) -> RecordTarget:
        """The target `table` (and its line-item table: `lines`, else the table with a
        foreign key to it). With `kinds` (a record's fields), its columns are checked
        against them; InputError lists every mismatch. Nothing is written. (Inside a
        transaction, give its connection: SQLite has one writer.)"""
        found = inspect(engine)
        names = set(found.get_table_names())
        if table not in names:
            raise InputError(f"the database has no table {table!r} to put records into",
                             source=table, fix=f"create it first, or pick one of: "
                             f"{', '.join(sorted(names)) or 'none'}")
        problems: list[str] = []
        head = Table(table, MetaData(), autoload_with=engine)
        if _KEY not in head.c:
            problems.append(f"{table} has no {_KEY} column for the file's sha256 (the key that "
                            "makes inserts idempotent): add `sha256 TEXT PRIMARY KEY` or UNIQUE")
        elif not _unique(found, head, _KEY):
            problems.append(f"{table}.{_KEY} is neither the primary key nor UNIQUE: add a "
                            "UNIQUE constraint, so a file is stored once")
        if kinds is not None:
            _check(head, {**kinds, **_DOCUMENT, _KEY: "text"}, problems)
        child, link = None, None
        name = lines or next((t for t in sorted(names) if any(
            fk["referred_table"] == table for fk in found.get_foreign_keys(t))), None)
        if lines and lines not in names:
            problems.append(f"the database has no line-item table {lines!r}")
        elif name is not None:
            child = Table(name, MetaData(), autoload_with=engine)
            refs = [fk for fk in found.get_foreign_keys(name) if fk["referred_table"] == table]
            if not refs:
                problems.append(f"{name} has no foreign key to {table}: add one, so its rows "
                                "belong to a document")
            else:
                link = (refs[0]["constrained_columns"][0], refs[0]["referred_columns"][0])
                if kinds is not None:
                    _check(child, _ITEM, problems, skip=link[0])
        if problems:
            raise InputError(f"records cannot go into {table}: " + "; ".join(problems),
                             source=table, fix="change the tables as said, or leave --into "
                             "out to use Shoal's own documents tables")
        return cls(head, child, link)

    def insert(self, connection: Connection, *, sha256: str, values: Mapping[str, Any],
               items: list[dict[str, Any]]) -> bool:
        """The record's row (`values` by column name: its fields, file_name, doc_type,
        status) and its items' rows, inside the caller's transaction; False (nothing
        written) when a row for `sha256` is there already."""
        values = {**values, _KEY: sha256}
        row = {c.name: _value(c.type, values[c.name]) for c in self.table.columns
               if c.name in values}
        insert = sqlite_insert if connection.dialect.name == "sqlite" else pg_insert
        linked = self.link[1] if self.link else _KEY
        inserted = connection.execute(
            insert(self.table).values(row).on_conflict_do_nothing(index_elements=[_KEY])
            .returning(self.table.c[linked])).first()
        if inserted is None:
            return False
        if self.lines is not None and self.link is not None and items:
            columns = [c for c in self.lines.columns if c.name != self.link[0]]
            connection.execute(insert(self.lines).values([
                {self.link[0]: inserted[0], **{c.name: _value(c.type, item[c.name])
                                               for c in columns if c.name in item}}
                for item in items]))
        return True


def _check(table: Table, kinds: Mapping[str, FieldKind], problems: list[str],
           skip: str | None = None) -> None:
    """Add to `problems` each column of `table` whose type does not hold its field's kind,
    and each NOT NULL column without a default that no field fills."""
    for column in table.columns:
        kind = kinds.get(column.name)
        if column.name == skip:
            continue
        if kind is None:
            if not column.nullable and column.server_default is None and not (
                    column.primary_key and isinstance(column.type, sqltypes.Integer)):
                problems.append(f"{table.name}.{column.name} is NOT NULL but no field of "
                                "the record fills it: give it a default or allow NULL")
        elif not _fits(kind, column.type):
            problems.append(f"{table.name}.{column.name} is {column.type}: "
                            f"{column.name} needs {_NEEDS[kind]}")


def _unique(found: Any, table: Table, column: str) -> bool:
    if [column] == [c.name for c in table.primary_key.columns]:
        return True
    return any(u["column_names"] == [column] for u in found.get_unique_constraints(
        table.name)) or any(i["unique"] and i["column_names"] == [column]
                            for i in found.get_indexes(table.name))
