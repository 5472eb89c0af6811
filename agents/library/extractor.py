"""Field extractor for invoices and receipts: every value copied from the text (grounded)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from shoal.agents.grounding import Grounded, GroundedAmount
from shoal.agents.spec import AgentSpec
from shoal.models import ChatOptions

__all__ = ["Invoice", "LineItem", "amounts_add_up", "extractor_spec"]


class LineItem(BaseModel):
    description: Grounded[str]
    amount: GroundedAmount[Decimal]


class Invoice(BaseModel):
    """A receipt or invoice as printed. Optional grounded fields are `Grounded[X | None]`."""

    vendor: Grounded[str] = Field(description="the issuer: shop or company name")
    number: Grounded[str | None] = Field(default=None, description="invoice/receipt number")
    date: Grounded[dt.date | None] = Field(default=None, description="issue date")
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$",
                                 description="ISO 4217 code, e.g. EUR, USD, GBP")
    subtotal: GroundedAmount[Decimal | None] = None
    tax: GroundedAmount[Decimal | None] = Field(default=None, description="the tax amount, "
                                                "not its rate")
    total: GroundedAmount[Decimal] = Field(description="the amount due / paid")
    line_items: list[LineItem] = Field(default_factory=list)


def extractor_spec(
    name: str = "invoice_extractor",
    *,
    output: type[BaseModel] = Invoice,
    model: str | None = None,
    escalate_to: tuple[str, ...] = ("pack:qwen2.5-coder-1.5b",),
    check_amounts: bool = True,
) -> AgentSpec[Any]:
    """With `check_amounts`, arithmetic that does not add up asks for a repair."""
    return AgentSpec(
        name=name, description="extracts typed fields from document text", model=model,
        escalate_to=escalate_to, prompt="extractor.md", output=output,
        validators=(amounts_add_up,) if check_amounts and output is Invoice else (),
        # A repair round only without a bigger model to hand over to: in bench/ocr_to_sql.py
        # each of 8 repairs of a greedy extraction gave the same answer again (one document
        # cost 3 calls more than its escalation), where the next model fixed it.
        options=ChatOptions(temperature=0, max_tokens=512), retries=0 if escalate_to else 1,
    )


def amounts_add_up(output: Invoice, text: str) -> None:
    """Validator: subtotal + tax = total, and line items add up to the subtotal (or the total),
    within rounding."""
    cent = Decimal("0.02")
    if output.subtotal is not None and output.tax is not None and abs(
            output.subtotal + output.tax - output.total) > cent:
        raise ValueError(f"subtotal {output.subtotal} + tax {output.tax} is not the total "
                         f"{output.total}: recheck these amounts in the text")
    if output.line_items:
        items = sum((item.amount for item in output.line_items), Decimal(0))
        target = output.subtotal if output.subtotal is not None else output.total
        if abs(items - target) > cent * len(output.line_items) and abs(
                items - output.total) > cent * len(output.line_items):
            raise ValueError(f"line items add up to {items}, not {target}: list each item line "
                             "once with its amount, and no subtotal, tax or total line")
