"""Review of the documents that need a person (`shoal review`): which ones wait, what the model
read and gave, and a decision (approve, with fixed fields or as is; reject) written once.

The OCR-to-SQL run of such a document pauses at its review step (a LangGraph interrupt);
the decision resumes it, and the step applies it here: the review row records the decision and
the correction, the document row takes the fixed values and its new status, in one
transaction. A second decision for the same document changes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import Field
from sqlalchemy import Connection, select, update

from shoal.errors import InputError
from shoal.frozen import Frozen
from shoal.memory.tables import table_of
from shoal.tools.document_store import (
    DocumentLineRow,
    DocumentReviewRow,
    DocumentRow,
    DocumentStore,
)
from shoal.tools.record_target import RecordTarget

__all__ = ["FIXABLE", "ReviewDecision", "Reviews", "parse_fix"]

FIXABLE = ("vendor", "number", "date", "currency", "subtotal", "tax", "total")
_MONEY_FIELDS = ("subtotal", "tax", "total")


class ReviewDecision(Frozen):
    """What a person decided about one document: `fix` maps fields to their right values
    (text, as typed: parse_fix checks them)."""

    action: Literal["approve", "reject"]
    fix: dict[str, str] = Field(default_factory=dict)


def parse_fix(fix: dict[str, str]) -> dict[str, Any]:
    """The typed values of `fix`; InputError naming the field and the expected form."""
    typed: dict[str, Any] = {}
    for name, value in fix.items():
        if name not in FIXABLE:
            raise InputError(f"{name!r} is not a field a review can fix", source=name,
                             fix=f"fix one of: {', '.join(FIXABLE)}")
        text = value.strip()
        if not text:
            typed[name] = None
        elif name in _MONEY_FIELDS:
            try:
                amount = Decimal(text)
            except InvalidOperation:
                amount = Decimal("NaN")
            if not amount.is_finite() or int(amount.as_tuple().exponent) < -2:
                raise InputError(f"{name}={value!r} is not an amount in cents",
                                 source=name, fix=f"write it like {name}=1234.50") from None
            typed[name] = amount
        elif name == "date":
            try:
                typed[name] = dt.date.fromisoformat(text)
            except ValueError:
                raise InputError(f"date={value!r} is not an ISO date", source=name,
                                 fix="write it like date=2026-03-31") from None
        elif name == "currency":
            if not re.fullmatch(r"[A-Za-z]{3}", text):
                raise InputError(f"currency={value!r} is not an ISO 4217 code",
                                 source=name, fix="write it like currency=EUR")
            typed[name] = text.upper()
        else:
            typed[name] = text
    return typed


class Reviews:
    """The review rows of a DocumentStore's database."""

    def __init__(self, store: DocumentStore) -> None:
        self.store = store

    def pending(self) -> list[tuple[DocumentRow, DocumentReviewRow]]:
        """Documents waiting for a decision, oldest first."""
        return [pair for pair in self._rows() if pair[1].decision is None]

    def find(self, prefix: str) -> tuple[DocumentRow, DocumentReviewRow]:
        """The reviewed document whose sha256 starts with `prefix` (InputError otherwise)."""
        found = [pair for pair in self._rows() if pair[0].sha256.startswith(prefix.lower())]
        if len(found) != 1:
            hint = "give more of the id" if found else "the ids are its first column"
            raise InputError(f"{len(found)} documents under review match {prefix!r}",
                             source=prefix, fix=f"see `shoal review list --db URL`: {hint}")
        return found[0]

    def _rows(self) -> list[tuple[DocumentRow, DocumentReviewRow]]:
        self.store.ensure_tables()
        with self.store.db.session() as session:
            rows = session.execute(
                select(DocumentRow, DocumentReviewRow)
                .join(DocumentReviewRow, DocumentReviewRow.sha256 == DocumentRow.sha256)  # type: ignore[arg-type]
                .order_by(DocumentReviewRow.created_at)).all()  # type: ignore[arg-type]
            return [(document, review) for document, review in rows]

    def decide(self, sha256: str, decision: ReviewDecision) -> str:
        """Apply `decision` once; the document's status after it (a document decided before
        keeps its status: nothing is written)."""
        typed = parse_fix(decision.fix) if decision.action == "approve" else {}
        status = "approved" if decision.action == "approve" else "rejected"
        reviews, documents = table_of(DocumentReviewRow), table_of(DocumentRow)
        self.store.ensure_tables()
        with self.store.db.session() as session:
            connection = session.connection()
            changed = connection.execute(
                update(reviews).where(reviews.c.sha256 == sha256, reviews.c.decision.is_(None))
                .values(decision=status, corrected=json.dumps(decision.fix) if typed else None,
                        decided_at=time.time())).rowcount
            if changed != 1:
                current = connection.execute(select(documents.c.status)
                                             .where(documents.c.sha256 == sha256)).scalar()
                return str(current)
            connection.execute(update(documents).where(documents.c.sha256 == sha256)
                               .values(status=status, **typed))
            review = connection.execute(select(reviews.c.extracted, reviews.c.target)
                                        .where(reviews.c.sha256 == sha256)).one()
            if status == "approved" and review.target:
                self._into_target(connection, sha256, json.loads(review.target),
                                  json.loads(review.extracted)["record"] | typed)
        return status

    def _into_target(self, connection: Connection, sha256: str, names: list[str | None],
                     record: dict[str, Any]) -> None:
        """The approved record (as extracted, with the fixes) into the user's tables the
        run was given (--into), with its line items."""
        table, lines = names
        assert table is not None
        target = RecordTarget.inspect(connection, table, None, lines)
        document = connection.execute(select(table_of(DocumentRow)).where(
            table_of(DocumentRow).c.sha256 == sha256)).one()
        items = [dict(row._mapping) for row in connection.execute(
            select(table_of(DocumentLineRow)).where(table_of(DocumentLineRow).c.sha256 == sha256)
            .order_by(table_of(DocumentLineRow).c.position))]
        target.insert(connection, sha256=sha256, items=items, values={
            **record, "file_name": document.file_name, "doc_type": document.doc_type,
            "status": "approved"})
