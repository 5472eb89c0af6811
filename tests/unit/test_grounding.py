from datetime import date
from decimal import Decimal

import pytest
from pydantic import BaseModel

from shoal.agents.grounding import Grounded, check_grounded, find_candidates, grounded_schema

INVOICE = """ACME Tools Ltd
Invoice No: INV-2291    Date: 03/11/2026
Widget x2   1,284.50
Tax 20%  256,90
TOTAL DUE: EUR 1.541,40
Paid Nov 5, 2026"""


class Line(BaseModel):
    description: Grounded[str]
    amount: Grounded[Decimal]


class Invoice(BaseModel):
    vendor: Grounded[str]
    number: Grounded[str | None] = None
    issued: Grounded[date]
    total: Grounded[Decimal]
    currency: str
    lines: list[Line] = []


def test_candidates_cover_numbers_in_both_conventions_and_dates() -> None:
    found = find_candidates(INVOICE)
    for amount in ("1284.50", "256.90", "1541.40"):
        assert Decimal(amount) in found.numbers
    assert {date(2026, 11, 3), date(2026, 3, 11), date(2026, 11, 5)} <= set(found.dates)
    assert {"ACME Tools Ltd", "INV-2291", "EUR"} <= set(found.texts)


def test_schema_narrows_grounded_fields_only() -> None:
    schema = grounded_schema(Invoice, INVOICE)
    assert schema is not None
    props = schema["properties"]
    assert "ACME Tools Ltd" in props["vendor"]["enum"]
    assert None in props["number"]["enum"] and "INV-2291" in props["number"]["enum"]
    assert "2026-11-03" in props["issued"]["enum"]
    assert 1541.4 in props["total"]["enum"]
    assert "enum" not in props["currency"]
    assert 1284.5 in schema["$defs"]["Line"]["properties"]["amount"]["enum"]
    assert grounded_schema(Line.__base__, INVOICE) is None  # type: ignore[arg-type]


def test_check_finds_invented_values_at_any_depth() -> None:
    good = Invoice(vendor="ACME Tools Ltd", issued=date(2026, 11, 3),
                   total=Decimal("1541.40"), currency="EUR",
                   lines=[Line(description="Widget x2", amount=Decimal("1284.5"))])
    assert check_grounded(good, INVOICE) == []
    bad = good.model_copy(update={"total": Decimal("1500"),
                                  "lines": [Line(description="Gadget", amount=Decimal("1"))]})
    problems = check_grounded(bad, INVOICE)
    assert len(problems) == 3
    assert problems[0].startswith("total: Decimal('1500')")
    assert problems[1].startswith("lines.0.description")


def test_grounding_refuses_unsupported_types() -> None:
    class Bad(BaseModel):
        tags: Grounded[list[str]]

    with pytest.raises(TypeError, match="Grounded works on"):
        grounded_schema(Bad, "x")


def test_an_amount_is_never_a_percentage_the_text_prints() -> None:
    from shoal.agents import GroundedAmount

    class Bill(BaseModel):
        tax: GroundedAmount[Decimal]
        rate: Grounded[Decimal]

    text = "Subtotal 100.00\nTax 7% 7.00\nVAT 19 %\nTotal 107.00"
    schema = grounded_schema(Bill, text)
    assert schema is not None
    assert 19.0 not in schema["properties"]["tax"]["enum"]
    assert 7.0 in schema["properties"]["tax"]["enum"]  # printed as an amount too: "7.00"
    assert 19.0 in schema["properties"]["rate"]["enum"]  # a plain grounded number may be one
    assert check_grounded(Bill(tax=Decimal("19"), rate=Decimal("19")), text) == [
        "tax: Decimal('19') does not occur in the input; copy it exactly from the text"]
