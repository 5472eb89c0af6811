"""A document's line items read from its table rows, without a model, and the text left for
the extractor once they are taken out.

A row is a line that ends in an amount after a description ("Backup storage 500 GB  3  12.50
37.50", "Brot 2,40"). The items are the longest run of consecutive rows whose amounts add up,
to the cent, to the document's subtotal (else its total) once the extractor has read it, or
before that to an amount printed after them: arithmetic decides, not words of one language.
Inside the run, a row whose amount is the sum of the rows before it is a running total
("Carried forward", "Übertrag") and is not an item. A document whose rows add up to nothing
has no items read this way: none are stored rather than wrong ones.

Reading items here instead of in the model call saves what made long invoices slow: the
model copying every row into JSON (hundreds of output tokens) after reading them all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from shoal.tools.numbers import amounts_in

__all__ = ["ItemRow", "ReadItems", "read_items"]

# What may follow a row's amount, or sit between its numbers: currency signs and codes,
# quantity marks, percentages, other numbers.
_TAIL = re.compile(r"^[\s€$£¥₹%x\u00d7*A-Z]{0,6}$")
_BETWEEN = re.compile(r"^[\s€$£¥₹%x\u00d7*@/A-Za-z]{0,6}\d*[\s€$£¥₹%x\u00d7*@/A-Za-z]{0,6}$")
# What a description ends with before its numbers: a quantity ("2 x", "3 Stk"), signs.
_QUANTITY = re.compile(r"(?:[\s\d.,*@€$£%-]|\b[x\u00d7]\b)+$")
_LETTERS = re.compile(r"[^\W\d_]{3}")
# Words of totals and taxes: rows naming them stay in the extractor's text.
_TOTALS = re.compile(r"total|summe|gesamt|betrag|montant|importe|tax|vat|mwst|ust|tva|iva|"
                     r"btw|moms|gst|net|ht\b|ttc", re.I)
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class ItemRow:
    description: str
    amount: Decimal
    line: int  # index of its line in the text


@dataclass(frozen=True)
class ReadItems:
    items: tuple[ItemRow, ...]
    text: str  # the document's text without the item rows (all of it without items)


def _row(index: int, line: str) -> ItemRow | None:
    """The line as a table row: a description of 3+ letters, then numbers ending in an
    amount at the end of the line."""
    found = amounts_in(line)
    if not found or not _TAIL.match(line[found[-1][1]:]):
        return None
    start = found[-1][0]
    for earlier_start, earlier_end, _ in reversed(found[:-1]):  # the row's other amounts
        if not _BETWEEN.match(line[earlier_end:start]):
            break
        start = earlier_start
    description = _QUANTITY.sub("", line[:start]).strip(" :-\t")
    if not _LETTERS.search(description):
        return None
    return ItemRow(description, found[-1][2], index)


def _without_running_totals(rows: list[ItemRow]) -> list[ItemRow]:
    kept: list[ItemRow] = []
    total = Decimal(0)
    for row in rows:
        if kept and abs(row.amount - total) <= _CENT:
            continue
        kept.append(row)
        total += row.amount
    return kept


def read_items(text: str, target: Decimal | None = None, min_items: int = 2) -> ReadItems:
    """The line items of `text`: the longest run of rows (running totals left out) adding up
    to `target` (the document's subtotal, else its total), or without one to any amount
    printed after the run; and the text without the run's rows, except rows that name a
    total or a tax (kept for the extractor, whichever run was taken)."""
    lines = text.splitlines()
    rows = [row for i, line in enumerate(lines) if (row := _row(i, line)) is not None]
    printed = [(i, value) for i, line in enumerate(lines) for _, _, value in amounts_in(line)]
    best: list[ItemRow] = []
    for first in range(len(rows)):
        for last in range(len(rows) - 1, first, -1):
            run = _without_running_totals(rows[first:last + 1])
            if len(run) <= max(min_items - 1, len(best)):
                break  # shorter runs from here on
            total = sum((r.amount for r in run), Decimal(0))
            end = rows[last].line
            if abs(total - target) <= _CENT if target is not None else any(
                    i > end and abs(value - total) <= _CENT for i, value in printed):
                best = run
                break
    if not best:
        return ReadItems((), text)
    span = range(best[0].line, best[-1].line + 1)
    taken = {r.line for r in rows if r.line in span and not _TOTALS.search(r.description)}
    return ReadItems(tuple(best), "\n".join(line for i, line in enumerate(lines)
                                            if i not in taken))
