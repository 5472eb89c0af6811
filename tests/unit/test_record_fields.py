"""What each field of a record type holds, as the target-table check reads it."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel

from shoal.agents.grounding import Grounded
from shoal.agents.library import Invoice, InvoiceFields
from shoal.tools.record_target import field_kinds


class Trip(BaseModel):
    city: Grounded[str]
    nights: int | None = None
    distance_km: float
    paid: Decimal
    legs: list[str] = []


def test_the_invoice_fields_and_their_kinds() -> None:
    expected = {"vendor": "text", "number": "text", "date": "date", "currency": "text",
                "subtotal": "money", "tax": "money", "total": "money"}
    assert field_kinds(InvoiceFields) == expected
    assert field_kinds(Invoice) == expected  # line items are rows of another table


def test_a_users_record_type() -> None:
    assert field_kinds(Trip) == {"city": "text", "nights": "integer", "distance_km": "number",
                                 "paid": "money"}
