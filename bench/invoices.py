"""Multi-page invoices in English, German and French, rendered as PDF scans, with the core
fields they contain: for bench/ocr_to_sql.py (`--set invoices`), never for prompt tuning.

Each has a letterhead, addresses, a VAT number, a line-item table long enough to run onto a
second page, totals in the language's number format, and footer text (bank, terms), several
hundred words in all, in one of three fonts, with scan noise. Seeded: the same every run.

    .venv/bin/python -m bench.invoices OUT_DIR     # writes the PDFs and expected.jsonl
"""

from __future__ import annotations

import json
import random
import sys
import textwrap
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from PIL import Image, ImageFont

from bench.documents import render_scan

__all__ = ["RenderedInvoice", "render_invoices"]

_FONTS = ("DejaVuSans.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf")
_FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")

_LANGUAGES: dict[str, dict[str, Any]] = {
    "en": {"title": "INVOICE", "number": "Invoice no.", "date": "Invoice date",
           "due": "Due date", "to": "Bill to", "head": ("Description", "Qty", "Unit price",
                                                        "Amount"),
           "subtotal": "Subtotal", "tax": "VAT {rate}%", "total": "Total due",
           "carried": "Carried forward", "page": "Page {n} of 2",
           "terms": "Payment terms: 30 days net. Late payments incur interest of 8% per year "
                    "above the base rate. Please quote the invoice number with your payment.",
           "bank": "Bank transfer to"},
    "de": {"title": "RECHNUNG", "number": "Rechnungsnummer", "date": "Rechnungsdatum",
           "due": "Zahlbar bis", "to": "Rechnungsempfänger",
           "head": ("Beschreibung", "Menge", "Einzelpreis", "Betrag"),
           "subtotal": "Zwischensumme", "tax": "MwSt. {rate} %", "total": "Gesamtbetrag",
           "carried": "Übertrag", "page": "Seite {n} von 2",
           "terms": "Zahlungsbedingungen: 30 Tage netto. Bitte geben Sie bei der Zahlung die "
                    "Rechnungsnummer an. Es gelten unsere Allgemeinen Geschäftsbedingungen.",
           "bank": "Bankverbindung"},
    "fr": {"title": "FACTURE", "number": "N° de facture", "date": "Date de facture",
           "due": "Date d'échéance", "to": "Facturé à",
           "head": ("Désignation", "Qté", "Prix unitaire", "Montant"),
           "subtotal": "Sous-total HT", "tax": "TVA {rate} %", "total": "Total TTC",
           "carried": "Report", "page": "Page {n} sur 2",
           "terms": "Conditions de paiement : 30 jours net. Tout retard de paiement entraîne "
                    "des pénalités au taux légal. Indemnité forfaitaire de recouvrement : 40 €.",
           "bank": "Coordonnées bancaires"},
}
_VENDORS = {  # language -> (vendor, industry items, currency, VAT prefix, city)
    "en": [("Northwind Hosting Ltd", "hosting", "GBP", "GB", "Manchester, United Kingdom"),
           ("Bluewave Telecom Inc", "telecom", "USD", "US", "Austin, TX, USA"),
           ("Harbourview Hotel Ltd", "hotel", "GBP", "GB", "Bristol, United Kingdom")],
    "de": [("Rheinnetz Telekom GmbH", "telecom", "EUR", "DE", "Köln, Deutschland"),
           ("Alpenblick Hotel AG", "hotel", "CHF", "CHE", "Luzern, Schweiz"),
           ("Bürobedarf Krause KG", "retail", "EUR", "DE", "Leipzig, Deutschland")],
    "fr": [("Hébergement Lumière SAS", "hosting", "EUR", "FR", "Lyon, France"),
           ("Papeterie Moreau SARL", "retail", "EUR", "FR", "Nantes, France"),
           ("Hôtel du Port SA", "hotel", "EUR", "FR", "Marseille, France")],
}
_ITEMS = {
    "hosting": ["Virtual server 4 vCPU", "Managed database", "Backup storage 500 GB",
                "Load balancer", "SSL certificate", "Support hours", "Domain renewal",
                "Object storage 1 TB", "Monitoring plan", "Dedicated IP"],
    "telecom": ["Mobile plan Business 20 GB", "Fibre line 1 Gbit/s", "Roaming package",
                "Extra SIM card", "Call minutes international", "Router rental",
                "Static IP address", "Installation fee", "Conference bridge", "Fax line"],
    "retail": ["Printer paper A4 (box)", "Toner cartridge black", "Ring binders (10)",
               "Ballpoint pens (50)", "Desk lamp LED", "Whiteboard markers", "Stapler",
               "Envelopes C5 (500)", "Sticky notes", "Archive boxes (20)"],
    "hotel": ["Double room, night", "Breakfast buffet", "Conference room, day",
              "Parking", "Minibar", "Dinner menu", "Laundry service", "City tax",
              "Late check-out", "Coffee break service"],
}


@dataclass(frozen=True)
class RenderedInvoice:
    file: str
    language: str
    expected: dict[str, str]  # vendor, number, date, currency, subtotal, tax, total


def _cents(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _money(value: Decimal, language: str) -> str:
    text = f"{value:,.2f}"
    if language == "de":
        return text.replace(",", "_").replace(".", ",").replace("_", ".")
    if language == "fr":
        return text.replace(",", " ").replace(".", ",")
    return text


def _date(day: date, language: str, rng: random.Random) -> str:
    if language == "de":
        return day.strftime("%d.%m.%Y")
    if language == "fr":
        return day.strftime("%d/%m/%Y")
    return rng.choice([day.strftime("%B %d, %Y"), day.isoformat()])


def _pages(rng: random.Random, language: str) -> tuple[list[list[str]], dict[str, str]]:
    words = _LANGUAGES[language]
    vendor, industry, currency, vat, city = rng.choice(_VENDORS[language])
    client = rng.choice(["Meridian Consulting Group", "Atlas Logistics BV", "Kowalski IT",
                         "Vega Analytics SARL", "Fjord Data AS", "Helios Energie GmbH"])
    day = date(2026, 1, 5) + timedelta(days=rng.randrange(320))
    number = rng.choice([f"INV-{day.year}-{rng.randint(1000, 9999)}",
                         f"{rng.randint(100000, 999999)}", f"R{day.year}/{rng.randint(10, 999)}"])
    lines, subtotal = [], Decimal(0)
    for item in rng.sample(_ITEMS[industry], 10) + rng.sample(_ITEMS[industry], 6):
        qty = rng.randint(1, 12)
        unit = _cents(rng.uniform(4, 180))
        amount = unit * qty
        subtotal += amount
        lines.append(f"{item:<34}{qty:>5}   {_money(unit, language):>12}   "
                     f"{_money(amount, language):>12}")
    rate = {"en": 20, "de": 19, "fr": 20}[language] if currency != "USD" else 8
    tax = _cents(float(subtotal * rate / 100))
    total = subtotal + tax
    sign = {"EUR": "€", "GBP": "£", "USD": "$", "CHF": "CHF"}[currency]
    head = words["head"]
    street = rng.choice(["Market Street", "Hauptstraße", "Rue de la Paix"])
    header: list[str] = [
        vendor, f"{rng.randint(1, 200)} {street}",
        city, f"VAT ID / USt-IdNr. / N° TVA: {vat}{rng.randint(10**8, 10**9 - 1)}",
        f"Tel. +{rng.randint(30, 49)} {rng.randint(100, 999)} {rng.randint(100000, 999999)}",
        "", words["title"], f"{words['number']}: {number}",
        f"{words['date']}: {_date(day, language, rng)}",
        f"{words['due']}: {_date(day + timedelta(days=30), language, rng)}", "",
        f"{words['to']}:", client, f"{rng.randint(1, 99)} Industrial Park", "",
        f"{head[0]:<34}{head[1]:>5}   {head[2]:>12}   {head[3] + ' ' + currency:>12}",
    ]
    first, second = lines[:9], lines[9:]
    carried = _money(sum((_parse(line, language) for line in first), Decimal(0)), language)
    page_one = [*header, *first, "", f"{words['carried']:<55}{carried:>12}", "",
                words["page"].format(n=1)]
    page_two = [
        f"{vendor} - {words['title']} {number}", "", f"{words['carried']:<55}{carried:>12}",
        *second, "", f"{words['subtotal']:<55}{_money(subtotal, language):>12}",
        f"{words['tax'].format(rate=rate):<55}{_money(tax, language):>12}",
        f"{words['total']:<50}{sign + ' ' + _money(total, language):>17}", "",
        *textwrap.wrap(words["terms"], 90),
        f"{words['bank']}: IBAN {vat[:2]}{rng.randint(10**19, 10**20 - 1)}",
        f"BIC {''.join(rng.choice('ABCDEFGHKLMNPRSTUVWXYZ') for _ in range(8))}",
        "", words["page"].format(n=2)]
    expected = {"vendor": vendor, "number": number, "date": day.isoformat(),
                "currency": currency, "subtotal": str(subtotal), "tax": str(tax),
                "total": str(total)}
    return [page_one, page_two], expected


def _parse(line: str, language: str) -> Decimal:
    raw = line.split()[-1]
    if language == "de":
        raw = raw.replace(".", "").replace(",", ".")
    elif language == "fr":
        raw = raw.replace(",", ".")
    else:
        raw = raw.replace(",", "")
    return Decimal(raw) if raw.replace(".", "").isdigit() else Decimal(0)


def _render(lines: list[str], rng: random.Random, font_name: str) -> Image.Image:
    path = _FONT_DIR / font_name
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont = (
        ImageFont.truetype(str(path), 19) if path.exists() else ImageFont.load_default(19))
    image: Image.Image = render_scan(
        lines, rng, size=(1240, 1754), font=font, paper=(228, 250), origin=(70, 70), step=34,
        jitter=3, ink=(10, 60), tilt=0.8, blur=(0.3, 0.6), expand=False)  # A4 at 150 dpi
    return image


def render_invoices(out: Path, n: int = 6, seed: int = 41) -> list[RenderedInvoice]:
    """Write n two-page invoice PDFs into `out` (languages in turn) with their fields in
    `out/expected.jsonl`, and return them."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    rendered = []
    for index in range(n):
        language = ("en", "de", "fr")[index % 3]
        pages, expected = _pages(rng, language)
        images = [_render(page, rng, _FONTS[index % len(_FONTS)]) for page in pages]
        name = f"invoice-{language}-{index + 1}.pdf"
        images[0].save(out / name, save_all=True, append_images=images[1:], resolution=150)
        rendered.append(RenderedInvoice(name, language, expected))
    (out / "expected.jsonl").write_text("".join(
        json.dumps({"file": d.file, "kind": "invoice", **d.expected}) + "\n" for d in rendered))
    return rendered


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "invoices")
    docs = render_invoices(target)
    print(f"{len(docs)} invoices in {target}")
