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
from sqlalchemy import select, update

from shoal.errors import InputError
from shoal.frozen import Frozen
from shoal.memory.tables import table_of
from shoal.tools.document_store import DocumentReviewRow, DocumentRow, DocumentStore

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
        return status
