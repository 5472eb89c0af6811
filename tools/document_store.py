"""The OCR-to-SQL target table: one row per document, keyed by the file's sha256, so running
the same files again inserts nothing. Documents that failed validation are kept too, with
status `needs_review` and the problems found: nothing is lost."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

from sqlmodel import Field, SQLModel, col, select

from shoal.memory import Database
from shoal.memory.tables import table_of

__all__ = ["DOCUMENT_DESCRIPTIONS", "DocumentRow", "DocumentStore"]


class DocumentRow(SQLModel, table=True):
    __tablename__ = "documents"

    sha256: str = Field(primary_key=True, description="of the file: one row per document")
    file_name: str
    doc_type: str = Field(description="receipt or invoice")
    status: str = Field(description="stored, or needs_review when validation failed")
    vendor: str | None = Field(default=None, description="who issued the document")
    number: str | None = Field(default=None, description="the invoice or receipt number")
    date: str | None = Field(default=None, description="ISO 8601 date")
    currency: str | None = Field(default=None, description="ISO 4217 code")
    subtotal: float | None = Field(default=None, description="amount before tax")
    tax: float | None = Field(default=None, description="tax amount")
    total: float | None = Field(default=None, description="the total amount payable, tax "
                                "included: the document's amount")
    line_items: str = Field(default="[]", description='JSON: [{"description", "amount"}]')
    problems: str | None = None
    ocr_confidence: float = 0.0
    created_at: float = 0.0


DOCUMENT_DESCRIPTIONS = {"documents": "receipts and invoices read by shoal ocr-to-sql"} | {
    f"documents.{name}": info.description
    for name, info in DocumentRow.model_fields.items() if info.description}
"""What the SQL writer is told about the documents table (text_to_sql uses it)."""


def _number(value: Any) -> float | None:
    return None if value is None else float(Decimal(str(value)))


class DocumentStore:
    """The documents table in `db` (a user's database: opened without Shoal's memory
    migrations, e.g. `session.database(url, migrate=False)`; its owner disposes of it)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._ready = False

    def _ensure_table(self) -> None:
        if not self._ready:
            table_of(DocumentRow).create(self.db.engine, checkfirst=True)
            self._ready = True

    def insert(self, *, sha256: str, file_name: str, doc_type: str, status: str,
               record: dict[str, Any], problems: list[str], ocr_confidence: float) -> bool:
        """Insert one document; False if a document with this sha256 is stored already."""
        self._ensure_table()
        row = {
            "sha256": sha256, "file_name": file_name, "doc_type": doc_type, "status": status,
            "vendor": record.get("vendor"), "number": record.get("number"),
            "date": record.get("date"), "currency": record.get("currency"),
            "subtotal": _number(record.get("subtotal")), "tax": _number(record.get("tax")),
            "total": _number(record.get("total")),
            "line_items": json.dumps(record.get("line_items") or [], default=str),
            "problems": "; ".join(problems) or None, "ocr_confidence": ocr_confidence,
            "created_at": time.time(),
        }
        return self.db.insert_ignore(DocumentRow, [row]) == 1

    async def save(self, **fields: Any) -> bool:
        """`insert` from async code (in a worker thread)."""
        return await self.db.offload(lambda: self.insert(**fields))

    def all(self) -> list[DocumentRow]:
        self._ensure_table()
        with self.db.session() as session:
            return list(session.exec(select(DocumentRow).order_by(col(DocumentRow.file_name))))
