"""Numbers as documents print them (1,234.56, 1.234,56, 1 234,56, kr238,78): found in text
and parsed to Decimal. Used by grounding (agents) and the line-item reader (tools)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

__all__ = ["NUMBER", "amounts_in", "parse_number"]

# Amounts may be glued to a currency ("kr238,78", "$16.61"): only digits and separators may not
# precede them. Thousands separators: , . space '. Decimals: . or , with 1-2 digits.
NUMBER = re.compile(r"(?<![\d.,])\d{1,3}(?:([,. '])\d{3})*(?:[.,]\d{1,2})?(?![\d])"
                    r"|(?<![\d.,])\d+(?:[.,]\d+)?(?![\d])")


def amounts_in(text: str) -> list[tuple[int, int, Decimal]]:
    """(start, end, value) of each amount in `text`: a number printed with two decimals."""
    found = []
    for match in NUMBER.finditer(text):
        raw = match.group(0)
        if len(raw) > 3 and raw[-3] in ".," and (value := parse_number(raw)) is not None:
            found.append((match.start(), match.end(), value))
    return found


def parse_number(raw: str) -> Decimal | None:
    """The value of a number as printed (one NUMBER match); None if it is none."""
    s = raw.replace(" ", "").replace("'", "")
    if "," in s and "." in s:  # the later separator is the decimal point
        s = s.replace(",", "") if s.rfind(".") > s.rfind(",") else s.replace(".", "").replace(
            ",", ".")
    elif "," in s:  # 9,72 is a decimal; 1,284 is thousands
        head, _, tail = s.rpartition(",")
        s = f"{head.replace(',', '')}.{tail}" if len(tail) <= 2 else s.replace(",", "")
    elif s.count(".") > 1:  # 1.284.000
        s = s.replace(".", "")
    try:
        return Decimal(s)
    except InvalidOperation:
        return None


