"""OCR-to-SQL tells the document type from the text, without a model call."""

from __future__ import annotations

import pytest

from shoal.graphs.ocr_to_sql import document_kind


@pytest.mark.parametrize("text", ["A photo of a cat\nsunny day", "Meeting at 10:30 in room 4",
                                  "Call 555 1234 tomorrow", ""])
def test_a_text_without_an_amount_is_other(text: str) -> None:
    assert document_kind(text) == "other"


@pytest.mark.parametrize("text", ["INVOICE\nInvoice number: 7\nTotal due 12.50",
                                  "Rechnung Nr. 4711\nSumme 1.234,56",
                                  "FACTURE\nDate d'échéance : 30/04\nTotal TTC 99,00",
                                  "Bill to: Acme Ltd\nAmount 40.00"])
def test_what_invoices_print_makes_an_invoice(text: str) -> None:
    assert document_kind(text) == "invoice"


@pytest.mark.parametrize("text", ["Corner Grocery\nTomatoes 3.50\nTOTAL EUR 3.50",
                                  "Kvitto\nSumma 1 234,50 kr", "Card payment approved $7.00"])
def test_an_amount_without_invoice_marks_is_a_receipt(text: str) -> None:
    assert document_kind(text) == "receipt"


def test_the_bench_documents_get_their_type() -> None:
    from bench.documents import make_documents

    docs = make_documents(60, seed=3)
    assert [document_kind(d.text) for d in docs] == [d.kind for d in docs]
