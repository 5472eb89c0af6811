"""The currency of a document, derived from what it shows, not from what a model guesses.

Evidence, strongest first: an ISO 4217 code printed on it (`EUR`), a currency sign (`€`, `£`,
`kr`, `$`), and the country it names (a country name, a VAT number, a phone prefix, a web or
mail domain). A sign several currencies share (`kr`: SEK, NOK, DKK, ISK) is resolved by the
country; `$` alone is read as USD unless a dollar country other than the US is named. What
stays ambiguous, or shows no currency at all, is flagged for review.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["CurrencyReading", "read_currency"]

# Codes looked for as words in the text: the common ones, less those that are also English
# words in capitals (TRY, PHP: their signs still count). A rarer code counts when the
# extractor reports it and the text prints it.
_CODES = frozenset({
    "EUR", "USD", "GBP", "CHF", "SEK", "NOK", "DKK", "ISK", "PLN", "CZK", "HUF", "RON", "BGN",
    "JPY", "CNY", "INR", "KRW", "AUD", "CAD", "NZD", "SGD", "HKD", "MXN", "BRL", "ZAR", "RUB",
    "ILS", "AED", "SAR", "THB", "VND", "IDR", "MYR", "TWD", "UAH",
})

# Sign -> (the currencies that print it, the usual one when nothing else decides or None).
_SIGNS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "€": (("EUR",), "EUR"), "£": (("GBP",), "GBP"), "₹": (("INR",), "INR"),
    "₩": (("KRW",), "KRW"), "₺": (("TRY",), "TRY"), "₽": (("RUB",), "RUB"),
    "₪": (("ILS",), "ILS"), "₫": (("VND",), "VND"), "฿": (("THB",), "THB"),
    "₱": (("PHP",), "PHP"), "zł": (("PLN",), "PLN"), "kč": (("CZK",), "CZK"),
    "us$": (("USD",), "USD"), "c$": (("CAD",), "CAD"), "ca$": (("CAD",), "CAD"),
    "a$": (("AUD",), "AUD"), "au$": (("AUD",), "AUD"), "nz$": (("NZD",), "NZD"),
    "s$": (("SGD",), "SGD"), "hk$": (("HKD",), "HKD"), "r$": (("BRL",), "BRL"),
    "$": (("USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN"), "USD"),
    "kr": (("SEK", "NOK", "DKK", "ISK"), None),
    "¥": (("JPY", "CNY"), None),
}


def _sign_regex(sign: str) -> str:
    """A sign not inside a word: "kr" but not "Kraft", "US$" but not "BUS$"."""
    before = r"(?<![^\W\d_])" if sign[0].isalpha() else ""
    after = r"(?![^\W\d_])" if sign[-1].isalpha() else ""
    return before + re.escape(sign) + after


# longest first, so "US$" is read before "$"
_SIGN_PATTERN = re.compile("|".join(_sign_regex(s) for s in sorted(_SIGNS, key=len,
                                                                    reverse=True)), re.I)

# Country evidence -> that country's currency: names (English, German, French, the country's
# own), VAT numbers, phone prefixes, domains of web and mail addresses.
_COUNTRIES = {code: re.compile(pattern, re.I) for code, pattern in {
    "SEK": r"\b(sweden|sverige|schweden|suède)\b|\+46|\bSE\d{10}01\b|(@|www\.|://)[\w.-]*\.se\b",
    "NOK": r"\b(norway|norge|norwegen|norvège)\b|\+47|\bNO\d{9}\s?MVA\b|(@|www\.|://)[\w.-]*\.no\b",
    "DKK": r"\b(denmark|danmark|dänemark|danemark)\b|\+45|\bDK\d{8}\b|(@|www\.|://)[\w.-]*\.dk\b",
    "ISK": r"\b(iceland|ísland|islande)\b|\+354|(@|www\.|://)[\w.-]*\.is\b",
    "CAD": r"\b(canada|kanada)\b|(@|www\.|://)[\w.-]*\.ca\b",
    "AUD": r"\b(australia|australien|australie)\b|\+61|(@|www\.|://)[\w.-]*\.au\b|\bABN\b",
    "NZD": r"\b(new zealand|neuseeland|nouvelle-zélande)\b|\+64|(@|www\.|://)[\w.-]*\.nz\b",
    "SGD": r"\b(singapore|singapur|singapour)\b|\+65|(@|www\.|://)[\w.-]*\.sg\b",
    "HKD": r"\bhong kong\b|\+852|(@|www\.|://)[\w.-]*\.hk\b",
    "MXN": r"\b(mexico|méxico|mexiko|mexique)\b|\+52|(@|www\.|://)[\w.-]*\.mx\b",
    "USD": r"\b(united states|usa|u\.s\.a\.|vereinigte staaten|états-unis)\b",
    "JPY": r"\b(japan|japon)\b|日本|\+81|(@|www\.|://)[\w.-]*\.jp\b",
    "CNY": r"\b(china|chine)\b|中国|\+86|(@|www\.|://)[\w.-]*\.cn\b",
}.items()}


@dataclass(frozen=True)
class CurrencyReading:
    """`code`: the ISO 4217 code to store (None when nothing can be read); `problem`: why a
    person should check it (None when the document decides)."""

    code: str | None
    problem: str | None = None


def _countries(text: str) -> set[str]:
    return {code for code, pattern in _COUNTRIES.items() if pattern.search(text)}


def read_currency(text: str, guess: str | None = None) -> CurrencyReading:
    """The currency `text` shows. `guess` (an extractor's answer) breaks a tie only among the
    currencies the text allows, and the tie is still flagged."""
    guess = guess.upper() if guess else None
    codes = sorted({m.upper() for m in re.findall(r"(?<![A-Za-z])([A-Z]{3})(?![A-Za-z])", text)
                    if m.upper() in _CODES} | ({guess} if guess and re.search(
                        rf"(?<![A-Za-z]){guess}(?![A-Za-z])", text) else set()))
    if len(codes) == 1:
        return CurrencyReading(codes[0])
    if len(codes) > 1:
        pick = guess if guess in codes else None
        return CurrencyReading(pick, f"currency: the document prints {', '.join(codes)}; "
                                     "check which one the amounts are in")
    signs = {m.group(0).lower() for m in _SIGN_PATTERN.finditer(text)}
    readings = [_SIGNS[sign] for sign in signs]
    if not readings:
        countries = _countries(text)
        if len(countries) == 1:
            return CurrencyReading(countries.pop())
        return CurrencyReading(None, "currency: the document shows no currency code or sign")
    candidates = set.intersection(*(set(options) for options, _ in readings))
    if len(candidates) == 1:
        return CurrencyReading(candidates.pop())
    if not candidates:
        shown = ", ".join(sorted(signs))
        return CurrencyReading(None, f"currency: the document shows signs of different "
                                     f"currencies ({shown})")
    named = candidates & _countries(text)
    if len(named) == 1:
        return CurrencyReading(named.pop())
    defaults = {default for _, default in readings if default in candidates}
    if len(defaults) == 1 and not named:
        return CurrencyReading(defaults.pop())
    options = ", ".join(sorted(named or candidates))
    sign = ", ".join(sorted(signs))
    return CurrencyReading(guess if guess in candidates else None,
                           f"currency: '{sign}' may be {options} and no country on the "
                           "document decides; check it")
