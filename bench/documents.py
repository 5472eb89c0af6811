"""Synthetic but realistic receipt and invoice texts (as OCR would give them), with the
fields they contain. Seeded: the same documents every run.

    .venv/bin/python -m bench.documents     # prints them
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

__all__ = ["Document", "make_documents", "render_scan"]

SHOPS = ["Blue Bottle Cafe", "MEGA HARDWARE GmbH", "Corner Grocery", "Libreria Rossi",
         "Nordic Outdoor AB", "Sunrise Bakery", "Pharmacie Centrale", "TechHub Store Ltd",
         "Green Leaf Market", "Café de Flore", "Oak & Iron Tools", "Harbor Fish House"]
COMPANIES = ["Acme Consulting Ltd", "Brightline Logistics BV", "Kowalski IT Sp. z o.o.",
             "Fjord Data AS", "Meridian Legal LLP", "Atlas Print Services Inc",
             "Vega Cloud SARL", "Helios Energy GmbH"]
ITEMS = ["Latte", "Croissant", "Hammer 500g", "Screwdriver set", "Paper A4 500 sheets",
         "USB-C cable", "Olive oil 1L", "Sourdough bread", "Hiking socks", "Notebook",
         "Aspirin 20 tabs", "Fresh salmon 400g", "Consulting hours", "Cloud hosting (month)",
         "Print job 250 flyers", "Support plan", "Delivery fee", "Tomatoes 1kg"]
CURRENCIES = [("EUR", "€"), ("USD", "$"), ("GBP", "£"), ("SEK", "kr")]


@dataclass(frozen=True)
class Document:
    kind: str  # receipt | invoice
    text: str
    expected: dict[str, object]  # vendor, number, date, currency, subtotal, tax, total


def _money(value: Decimal, style: str) -> str:
    text = f"{value:,.2f}"
    if style == "eu":  # 1.234,56
        return text.replace(",", "_").replace(".", ",").replace("_", ".")
    return text


def _date_text(d: date, style: int) -> str:
    return [d.isoformat(), d.strftime("%d.%m.%Y"), d.strftime("%d %b %Y"),
            d.strftime("%b %d, %Y")][style]


def _cents(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _receipt(rng: random.Random, index: int) -> Document:
    shop = rng.choice(SHOPS)
    code, symbol = rng.choice(CURRENCIES)
    style = "eu" if code in ("EUR", "SEK") and rng.random() < 0.6 else "us"
    day = date(2026, 1, 1) + timedelta(days=rng.randrange(300))
    lines, subtotal = [], Decimal("0")
    for item in rng.sample(ITEMS, rng.randint(1, 4)):
        qty = rng.randint(1, 3)
        amount = _cents(rng.uniform(1.5, 60) * qty)
        subtotal += amount
        lines.append(f"{qty}x {item:<22} {_money(amount, style):>9}")
    rate = rng.choice([Decimal("0.07"), Decimal("0.10"), Decimal("0.19"), Decimal("0.20")])
    tax = _cents(float(subtotal * rate))
    total = subtotal + tax
    number = f"{rng.randint(1000, 9999)}-{rng.randint(10, 99)}"
    show_code = rng.random() < 0.7
    total_label = f"TOTAL {code}" if show_code else "TOTAL"
    total_text = _money(total, style) if show_code else f"{symbol}{_money(total, style)}"
    text = "\n".join([
        shop.upper() if rng.random() < 0.3 else shop,
        f"{rng.randint(1, 200)} {rng.choice(['High St', 'Main Street', 'Via Roma', 'Storgatan'])}",
        f"Receipt #{number}   {_date_text(day, rng.randrange(4))} {rng.randint(7, 21)}:"
        f"{rng.randint(10, 59)}",
        *lines,
        f"Subtotal {_money(subtotal, style):>24}",
        f"Tax {int(rate * 100)}% {_money(tax, style):>22}",
        f"{total_label} {total_text:>20}",
        rng.choice(["Thank you!", "Please come again", "Card payment - approved"]),
    ])
    return Document("receipt", text, {"vendor": shop, "number": number, "date": day,
                                      "currency": code, "subtotal": subtotal, "tax": tax,
                                      "total": total})


def _invoice(rng: random.Random, index: int) -> Document:
    issuer = rng.choice(COMPANIES)
    client = rng.choice([c for c in COMPANIES if c != issuer])
    code, _ = rng.choice(CURRENCIES[:3])
    style = "eu" if code == "EUR" and rng.random() < 0.5 else "us"
    day = date(2026, 1, 1) + timedelta(days=rng.randrange(300))
    number = f"INV-{2026}-{rng.randint(100, 9999):04d}"
    lines, net = [], Decimal("0")
    for item in rng.sample(ITEMS[12:], rng.randint(1, 3)):
        amount = _cents(rng.uniform(80, 2500))
        net += amount
        lines.append(f"{item:<28} {_money(amount, style):>12}")
    rate = rng.choice([Decimal("0.19"), Decimal("0.20"), Decimal("0.21"), Decimal("0.25")])
    tax = _cents(float(net * rate))
    total = net + tax
    due = day + timedelta(days=30)
    text = "\n".join([
        issuer, f"VAT ID {rng.choice(['DE', 'NL', 'PL', 'GB'])}{rng.randint(10**8, 10**9)}",
        "", "INVOICE", f"Invoice number: {number}",
        f"Invoice date: {_date_text(day, rng.randrange(4))}",
        f"Due date: {_date_text(due, 0)}", f"Bill to: {client}", "",
        f"{'Description':<28} {'Amount ' + code:>12}", *lines,
        f"{'Net amount':<28} {_money(net, style):>12}",
        f"{'VAT ' + str(int(rate * 100)) + '%':<28} {_money(tax, style):>12}",
        f"{'Total due':<28} {_money(total, style):>12}",
        f"Please pay within 30 days. IBAN DE{rng.randint(10**19, 10**20 - 1)}",
    ])
    return Document("invoice", text, {"vendor": issuer, "number": number, "date": day,
                                      "currency": code, "subtotal": net, "tax": tax,
                                      "total": total})


def render_scan(lines: list[str], rng: random.Random, *, size: tuple[int, int], font: Any,
                paper: tuple[int, int], origin: tuple[int, int], step: int, jitter: int,
                ink: tuple[int, int], tilt: float, blur: tuple[float, float],
                expand: bool) -> Any:
    """`lines` printed on grey paper (a shade drawn from `paper`), slightly turned (up to
    `tilt` degrees), blurred and grainy: like a scan or a photo of a page."""
    from PIL import Image, ImageDraw, ImageFilter

    shade = rng.randint(*paper)
    image = Image.new("L", size, shade)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((origin[0] + rng.randint(0, jitter), origin[1] + step * i), line,
                  fill=rng.randint(*ink), font=font)
    image = image.rotate(rng.uniform(-tilt, tilt), expand=expand, fillcolor=shade)
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(*blur)))
    return Image.blend(image, Image.effect_noise(image.size, 40), 0.05).convert("RGB")


def make_documents(n: int = 30, seed: int = 7) -> list[Document]:
    rng = random.Random(seed)
    return [(_receipt if i % 3 else _invoice)(rng, i) for i in range(n)]


if __name__ == "__main__":
    for doc in make_documents():
        print(f"--- {doc.kind}: {doc.expected}\n{doc.text}\n")
