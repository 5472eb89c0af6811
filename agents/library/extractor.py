"""Field extractor for invoices and receipts: every value copied from the text (grounded).

The model reads the header and totals fields (InvoiceFields); the line items of the stored
record (Invoice) are read from the table rows without a model (shoal.tools.line_items)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from shoal.agents.grounding import Grounded, GroundedAmount
from shoal.agents.spec import AgentSpec
from shoal.models import ChatOptions

__all__ = ["Invoice", "InvoiceFields", "LineItem", "amounts_add_up", "extractor_spec"]


class LineItem(BaseModel):
    description: Grounded[str]
    amount: GroundedAmount[Decimal]


class InvoiceFields(BaseModel):
    """What the extractor reads from a receipt or invoice. Optional grounded fields are
    `Grounded[X | None]`."""

    vendor: Grounded[str] = Field(description="the issuer: shop or company name")
    number: Grounded[str | None] = Field(default=None, pattern=r"^\S*\d\S*$",
                                         description="invoice/receipt number")
    date: Grounded[dt.date | None] = Field(default=None, description="issue date")
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$",
                                 description="ISO 4217 code, e.g. EUR, USD, GBP")
    subtotal: GroundedAmount[Decimal | None] = None
    tax: GroundedAmount[Decimal | None] = Field(default=None, description="the tax amount, "
                                                "not its rate")
    total: GroundedAmount[Decimal] = Field(description="the amount due / paid")


class Invoice(InvoiceFields):
    """A receipt or invoice as stored: its fields and line items."""

    line_items: list[LineItem] = Field(default_factory=list)


def extractor_spec(
    name: str = "invoice_extractor",
    *,
    output: type[BaseModel] = InvoiceFields,
    model: str | None = None,
    escalate_to: tuple[str, ...] = ("pack:qwen2.5-coder-1.5b",),
    check_amounts: bool = True,
) -> AgentSpec[Any]:
    """With `check_amounts`, arithmetic that does not add up asks for a repair."""
    return AgentSpec(
        name=name, description="extracts typed fields from document text", model=model,
        escalate_to=escalate_to, prompt="extractor.md", output=output,
        validators=(amounts_add_up,) if check_amounts and issubclass(output, InvoiceFields)
        else (),
        # A repair round only without a bigger model to hand over to: in bench/ocr_to_sql.py
        # each of 8 repairs of a greedy extraction gave the same answer again (one document
        # cost 3 calls more than its escalation), where the next model fixed it.
        options=ChatOptions(temperature=0, max_tokens=512), retries=0 if escalate_to else 1,
    )


def amounts_add_up(output: InvoiceFields, text: str) -> None:
    """Validator: subtotal + tax = total, within rounding; and line items, where the output
    has them, add up to the subtotal (or the total)."""
    cent = Decimal("0.02")
    if output.subtotal is not None and output.tax is not None and abs(
            output.subtotal + output.tax - output.total) > cent:
        raise ValueError(f"subtotal {output.subtotal} + tax {output.tax} is not the total "
                         f"{output.total}: recheck these amounts in the text")
    items: list[LineItem] = getattr(output, "line_items", [])
    if items:
        added = sum((item.amount for item in items), Decimal(0))
        target = output.subtotal if output.subtotal is not None else output.total
        if abs(added - target) > cent * len(items) and abs(
                added - output.total) > cent * len(items):
            raise ValueError(f"line items add up to {added}, not {target}: list each item line "
                             "once with its amount, and no subtotal, tax or total line")
