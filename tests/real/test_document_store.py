"""The OCR-to-SQL tables on real SQLite and PostgreSQL: exact money and dates, line items in a
child table written with their document or not at all, and the upgrade of a table written by
the earlier layout (line items as JSON, money as floats)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import inspect, text

from shoal.memory import Database
from shoal.tools.document_store import DocumentStore

RECORD: dict[str, Any] = {
    "vendor": "Fjord Data AS", "number": "INV-7", "date": "2026-03-01", "currency": "NOK",
    "subtotal": "1000.10", "tax": "250.03", "total": "1250.13",
    "line_items": [{"description": "Hosting", "amount": "999.99"},
                   {"description": "Support", "amount": "0.11"}],
}


def _store(url: str) -> DocumentStore:
    return DocumentStore(Database(url, migrate=False))


def test_a_document_and_its_lines_are_exact_and_written_once(database_url: str) -> None:
    store = _store(database_url)
    try:
        for _ in range(2):
            store.insert(sha256="a" * 64, file_name="inv.pdf", doc_type="invoice",
                         status="stored", record=RECORD, problems=[], ocr_confidence=0.9)
        (row,) = store.all()
        assert (row.subtotal, row.tax, row.total) == (
            Decimal("1000.10"), Decimal("250.03"), Decimal("1250.13"))
        assert row.date == dt.date(2026, 3, 1)
        lines = store.lines("a" * 64)
        assert [(line.position, line.description, line.amount) for line in lines] == [
            (1, "Hosting", Decimal("999.99")), (2, "Support", Decimal("0.11"))]
        with store.db.engine.connect() as connection:
            total = connection.execute(text("SELECT sum(amount) FROM document_lines")).scalar()
        assert Decimal(str(total)).quantize(Decimal("0.01")) == Decimal("1000.10")
    finally:
        store.db.dispose()


def test_a_document_whose_lines_fail_leaves_no_row(database_url: str) -> None:
    from sqlalchemy.exc import IntegrityError

    store = _store(database_url)
    broken = RECORD | {"line_items": [{"description": "Hosting", "amount": None}]}
    try:
        with pytest.raises(IntegrityError):  # amount is NOT NULL: the line is refused
            store.insert(sha256="b" * 64, file_name="bad.pdf", doc_type="invoice",
                         status="stored", record=broken, problems=[], ocr_confidence=0.9)
        assert store.all() == [] and store.lines("b" * 64) == []  # nor is the header kept
    finally:
        store.db.dispose()


def test_a_table_of_the_earlier_layout_is_upgraded(database_url: str) -> None:
    db = Database(database_url, migrate=False)
    items = json.dumps([{"description": "Latte", "amount": 3.5}, {"description": "Bun",
                                                                  "amount": 2.25}])
    with db.engine.begin() as connection:
        connection.execute(text(
            "CREATE TABLE documents (sha256 VARCHAR PRIMARY KEY, file_name VARCHAR NOT NULL, "
            "doc_type VARCHAR NOT NULL, status VARCHAR NOT NULL, vendor VARCHAR, "
            "number VARCHAR, date VARCHAR, currency VARCHAR, subtotal FLOAT, tax FLOAT, "
            "total FLOAT, line_items VARCHAR NOT NULL, problems VARCHAR, "
            "ocr_confidence FLOAT NOT NULL, created_at FLOAT NOT NULL)"))
        connection.execute(text(
            "INSERT INTO documents VALUES ('old', 'r.png', 'receipt', 'stored', 'Cafe', '1', "
            "'2026-01-02', 'EUR', 5.75, NULL, 5.75, :items, NULL, 0.9, 0)"), {"items": items})
    store = DocumentStore(db)
    try:
        store.insert(sha256="new", file_name="inv.pdf", doc_type="invoice", status="stored",
                     record=RECORD, problems=[], ocr_confidence=0.9)
        assert [r.sha256 for r in store.all()] == ["new", "old"]  # by file name
        assert [(line.description, line.amount) for line in store.lines("old")] == [
            ("Latte", Decimal("3.50")), ("Bun", Decimal("2.25"))]
        assert "line_items" not in {c["name"] for c in inspect(db.engine).get_columns(
            "documents")}
        old = next(r for r in store.all() if r.sha256 == "old")
        assert old.total == Decimal("5.75") and old.date == dt.date(2026, 1, 2)
        store.insert(sha256="new", file_name="inv.pdf", doc_type="invoice", status="stored",
                     record=RECORD, problems=[], ocr_confidence=0.9)
        assert len(store.lines("new")) == 2  # the second run wrote nothing
    finally:
        db.dispose()
