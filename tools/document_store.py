"""The OCR-to-SQL target tables: one `documents` row per document, keyed by the file's sha256,
and its line items in `document_lines` (foreign key to the document). Money is NUMERIC(14, 2)
read back as Decimal, dates are DATE. A document and its lines are inserted in one
transaction, or not at all; running the same files again inserts nothing. Documents that
failed validation are kept too, with status `needs_review` and the problems found: nothing is
lost.

SQLite stores NUMERIC values as 8-byte floats (its own type rules), so sums computed inside
SQLite carry binary noise that the answer step rounds away (graphs.text_to_sql.show);
PostgreSQL computes them exactly.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Date, Numeric, inspect, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, SQLModel, col, select

from shoal.memory import Database
from shoal.memory.migrations import Migration, migrate
from shoal.memory.tables import table_of
from shoal.tools.record_target import FieldKind, RecordTarget

__all__ = [
    "DOCUMENT_DESCRIPTIONS",
    "STORE_MIGRATIONS",
    "DocumentLineRow",
    "DocumentReviewRow",
    "DocumentRow",
    "DocumentStore",
]

_MONEY = Numeric(14, 2)


class DocumentRow(SQLModel, table=True):
    __tablename__ = "documents"

    sha256: str = Field(primary_key=True, description="of the file: one row per document")
    file_name: str
    doc_type: str = Field(description="receipt or invoice")
    status: str = Field(description="stored; needs_review when validation failed; approved "
                        "or rejected by a person")
    vendor: str | None = Field(default=None, description="who issued the document")
    number: str | None = Field(default=None, description="the invoice or receipt number")
    date: dt.date | None = Field(default=None, sa_type=Date, description="the issue date")
    currency: str | None = Field(default=None, description="ISO 4217 code")
    subtotal: Decimal | None = Field(default=None, sa_type=_MONEY,
                                     description="amount before tax")
    tax: Decimal | None = Field(default=None, sa_type=_MONEY, description="tax amount")
    total: Decimal | None = Field(default=None, sa_type=_MONEY, description="the total amount "
                                  "payable, tax included: the document's amount")
    problems: str | None = None
    ocr_confidence: float = 0.0
    created_at: float = 0.0


class DocumentLineRow(SQLModel, table=True):
    __tablename__ = "document_lines"

    sha256: str = Field(primary_key=True, foreign_key="documents.sha256", ondelete="CASCADE",
                        description="the document (documents.sha256)")
    position: int = Field(primary_key=True, description="1 for the first line item")
    description: str = Field(description="what was bought")
    amount: Decimal = Field(sa_type=_MONEY, description="the line's amount")


class DocumentReviewRow(SQLModel, table=True):
    """A document that needs a person: written with it, decided once (shoal review). What the
    model read and gave is kept beside the correction: tomorrow's training data."""

    __tablename__ = "document_reviews"

    sha256: str = Field(primary_key=True, foreign_key="documents.sha256", ondelete="CASCADE")
    thread_id: str = Field(description="the paused OCR-to-SQL run that waits for the decision")
    text: str = Field(description="the OCR text the model read")
    extracted: str = Field(description="JSON: the record as extracted, and the problems")
    decision: str | None = Field(default=None, description="approved or rejected")
    target: str | None = Field(default=None, description="JSON [table, line table]: the "
                               "user's tables the approved record goes into (--into)")
    corrected: str | None = Field(default=None, description="JSON: the fields a person fixed")
    created_at: float = 0.0
    decided_at: float | None = None


DOCUMENT_DESCRIPTIONS = {
    "documents": "receipts and invoices read by shoal ocr-to-sql",
    "document_lines": "the line items of those documents",
} | {f"{row.__tablename__}.{name}": info.description
     for row in (DocumentRow, DocumentLineRow)
     for name, info in row.model_fields.items() if info.description}
"""What the SQL writer is told about the tables (text_to_sql uses it)."""


def _tables(connection: Connection) -> None:
    for row in (DocumentRow, DocumentLineRow):
        table_of(row).create(connection, checkfirst=True)


def _reviews(connection: Connection) -> None:
    table_of(DocumentReviewRow).create(connection, checkfirst=True)


def _lines_out_of_json(connection: Connection) -> None:
    """Before this, line items were a JSON text column of documents and money was a float:
    move the items into document_lines and, on PostgreSQL, make the columns NUMERIC and DATE
    (SQLite keeps the values as they are: its column types do not constrain them)."""
    columns = {c["name"] for c in inspect(connection).get_columns("documents")}
    if "line_items" not in columns:
        return
    lines = table_of(DocumentLineRow)
    for sha256, items in connection.execute(text("SELECT sha256, line_items FROM documents")):
        if rows := _line_rows(sha256, json.loads(items or "[]")):
            connection.execute(lines.insert(), rows)
    connection.execute(text("ALTER TABLE documents DROP COLUMN line_items"))
    if connection.dialect.name == "postgresql":
        for name in ("subtotal", "tax", "total"):
            connection.execute(text(f"ALTER TABLE documents ALTER COLUMN {name} TYPE "
                                    f"NUMERIC(14, 2) USING round({name}::numeric, 2)"))
        connection.execute(text("ALTER TABLE documents ALTER COLUMN date TYPE DATE "
                                "USING date::date"))


def _review_target(connection: Connection) -> None:
    columns = {c["name"] for c in inspect(connection).get_columns("document_reviews")}
    if "target" not in columns:
        connection.execute(text("ALTER TABLE document_reviews ADD COLUMN target VARCHAR"))


STORE_MIGRATIONS: list[Migration] = [
    ("documents_0001_tables", _tables),
    ("documents_0002_lines_out_of_json", _lines_out_of_json),
    ("documents_0003_reviews", _reviews),
    ("documents_0004_review_target", _review_target),
]


def _money(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _line_rows(sha256: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """document_lines rows of one document's line items, numbered from 1."""
    return [{"sha256": sha256, "position": n, "description": str(item["description"]),
             "amount": _money(item["amount"])} for n, item in enumerate(items, 1)]


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


class DocumentStore:
    """The documents tables in `db` (a user's database: opened without Shoal's memory
    migrations, e.g. `session.database(url, migrate=False)`; its owner disposes of it). The
    store's own migrations run on first use. With `into` (a table of the user's, and its
    line-item table `lines`), a stored record also lands there, in the same transaction
    (shoal.tools.record_target); the tables are checked against the record's fields `kinds`
    first."""

    def __init__(self, db: Database, into: str | None = None, lines: str | None = None,
                 kinds: Mapping[str, FieldKind] | None = None) -> None:
        self.db = db
        self.into, self.lines_into, self.kinds = into, lines, kinds
        self.target: RecordTarget | None = None
        self._ready = False

    def ensure_tables(self) -> None:
        """Create or upgrade the tables and check the user's target tables (once per store);
        InputError when those do not fit the record."""
        if not self._ready:
            if self.into is not None:
                self.target = RecordTarget.inspect(self.db.engine, self.into, self.kinds,
                                                   self.lines_into)
            migrate(self.db.engine, STORE_MIGRATIONS)
            self._ready = True

    def insert(self, *, sha256: str, file_name: str, doc_type: str, status: str,
               record: dict[str, Any], problems: list[str], ocr_confidence: float,
               review: tuple[str, str] | None = None) -> bool:
        """Insert one document and its line items in one transaction; False if a document
        with this sha256 is stored already (then nothing is written). `review`: (thread id of
        the run that waits, the OCR text) for a document that needs a person."""
        self.ensure_tables()
        header = {
            "sha256": sha256, "file_name": file_name, "doc_type": doc_type, "status": status,
            "vendor": record.get("vendor"), "number": record.get("number"),
            "date": _date(record.get("date")), "currency": record.get("currency"),
            "subtotal": _money(record.get("subtotal")), "tax": _money(record.get("tax")),
            "total": _money(record.get("total")),
            "problems": "; ".join(problems) or None, "ocr_confidence": ocr_confidence,
            "created_at": time.time(),
        }
        lines = _line_rows(sha256, record.get("line_items") or [])
        insert = sqlite_insert if self.db.is_sqlite else pg_insert
        documents = table_of(DocumentRow)
        with self.db.session() as session:
            connection = session.connection()
            inserted = connection.execute(insert(documents).values(header)
                                          .on_conflict_do_nothing()
                                          .returning(documents.c.sha256)).first()
            if inserted is None:
                return False
            if lines:
                connection.execute(insert(table_of(DocumentLineRow)).values(lines))
            if self.target is not None and status == "stored":
                self.target.insert(connection, sha256=sha256, items=lines, values={
                    **record, "file_name": file_name, "doc_type": doc_type, "status": status})
            if review is not None:
                thread_id, text_read = review
                extracted = json.dumps({"record": record, "problems": problems}, default=str)
                connection.execute(insert(table_of(DocumentReviewRow)).values(
                    sha256=sha256, thread_id=thread_id, text=text_read, extracted=extracted,
                    created_at=time.time(), target=None if self.target is None
                    else json.dumps(self.target.names)))
        return True

    async def save(self, **fields: Any) -> bool:
        """`insert` from async code (in a worker thread)."""
        return await self.db.offload(lambda: self.insert(**fields))

    def all(self) -> list[DocumentRow]:
        self.ensure_tables()
        with self.db.session() as session:
            return list(session.exec(select(DocumentRow).order_by(col(DocumentRow.file_name))))

    def lines(self, sha256: str) -> list[DocumentLineRow]:
        """The line items of one document, in order."""
        self.ensure_tables()
        with self.db.session() as session:
            return list(session.exec(select(DocumentLineRow)
                                     .where(col(DocumentLineRow.sha256) == sha256)
                                     .order_by(col(DocumentLineRow.position))))
