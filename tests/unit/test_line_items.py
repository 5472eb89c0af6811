"""Line items read from table rows by arithmetic (shoal.tools.line_items)."""

from __future__ import annotations

from decimal import Decimal

from shoal.tools.line_items import read_items

RECEIPT = """Sunrise Bakery
Receipt 1800-76   2026-07-24
Sourdough loaf   2   4.50   9.00
2 x Croissant   6.30
Coffee 3.50
Subtotal   18.80
VAT 7%   1.32
Total   kr 20.12
Card   20.12"""

# Two pages in German: a running total carried over, an item named like a tax, thousands.
INVOICE = """ACME GmbH
Rechnungsnummer: 12345
Beschreibung   Menge   Einzelpreis   Betrag EUR
Servermiete        2      1.234,50      2.469,00
City tax            1          3,00          3,00
Übertrag                                 2.472,00
Seite 1 von 2
ACME GmbH - RECHNUNG 12345
Übertrag                                 2.472,00
Backup 1 TB          3         10,00         30,00
Zwischensumme                           2.502,00
MwSt. 19 %                                475,38
Gesamtbetrag                      € 2.977,38"""


def _items(text: str, target: str | None = None) -> list[tuple[str, str]]:
    read = read_items(text, None if target is None else Decimal(target))
    return [(i.description, str(i.amount)) for i in read.items]


def test_items_are_the_rows_that_add_up_to_the_subtotal() -> None:
    assert _items(RECEIPT, "18.80") == [("Sourdough loaf", "9.00"), ("2 x Croissant", "6.30"),
                                        ("Coffee", "3.50")]


def test_running_totals_are_no_items_and_thousands_are_read() -> None:
    assert _items(INVOICE, "2502.00") == [("Servermiete", "2469.00"), ("City tax", "3.00"),
                                          ("Backup 1 TB", "30.00")]


def test_the_text_left_for_the_extractor_keeps_headers_and_totals() -> None:
    text = read_items(INVOICE).text
    for kept in ("Rechnungsnummer: 12345", "Zwischensumme", "MwSt. 19 %", "Gesamtbetrag",
                 "City tax"):  # a row naming a tax stays, whichever run was taken
        assert kept in text
    for gone in ("Servermiete", "Backup 1 TB", "Übertrag"):
        assert gone not in text


def test_rows_that_add_up_to_nothing_give_no_items() -> None:
    text = "Shop\nApples 2.00\nPears 3.10\nTotal 9.99"
    assert _items(text) == [] and _items(text, "9.99") == []
    assert read_items(text).text == text  # nothing taken out


def test_a_target_decides_between_runs() -> None:
    # without the subtotal, the longest run adding up to something printed later is taken
    assert len(_items(RECEIPT)) == 4  # the VAT row joins: items + VAT = the total
    assert len(_items(RECEIPT, "18.80")) == 3
