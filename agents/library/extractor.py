"""Field extractor for invoices and receipts: every value copied from the text (grounded)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, Field

from shoal.agents.grounding import Grounded
from shoal.agents.spec import AgentSpec

__all__ = ["Invoice", "LineItem", "extractor_spec"]


class LineItem(BaseModel):
    description: Grounded[str]
    amount: Grounded[Decimal]


class Invoice(BaseModel):
    """A receipt or invoice as printed. Optional grounded fields are `Grounded[X | None]`."""

    vendor: Grounded[str] = Field(description="the issuer: shop or company name")
    number: Grounded[str | None] = Field(default=None, description="invoice/receipt number")
    date: Grounded[dt.date | None] = Field(default=None, description="issue date")
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$",
                                 description="ISO 4217 code, e.g. EUR, USD, GBP")
    subtotal: Grounded[Decimal | None] = None
    tax: Grounded[Decimal | None] = None
    total: Grounded[Decimal] = Field(description="the amount due / paid")
    line_items: list[LineItem] = Field(default_factory=list)


def extractor_spec(
    name: str = "invoice_extractor",
    *,
    output: type[BaseModel] = Invoice,
    model: str = "pack:qwen2.5-coder-0.5b",
    escalate_to: tuple[str, ...] = ("pack:qwen2.5-coder-1.5b",),
) -> AgentSpec:
    return AgentSpec(
        name=name, description="extracts typed fields from document text", model=model,
        escalate_to=escalate_to, prompt="extractor.md", output=output,
        options={"temperature": 0, "max_tokens": 512}, retries=1,
    )
