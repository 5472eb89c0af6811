"""Grounded fields: values a small model may only copy from the input, never invent.

Mark a field `Grounded[str]`, `Grounded[Decimal]`, `Grounded[date]` (or Optional of those). Before
a call, the candidate spans of the input text (lines and tokens, numbers, dates) become an `enum`
in that field's JSON schema, so the backend's grammar lets the model only pick one. After the
call, `check_grounded` re-checks every grounded value against the text, for backends without a
grammar (and as a guard).
"""

from __future__ import annotations

import functools
import json
import re
import types
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel

from shoal.tools.numbers import NUMBER, parse_number

__all__ = [
    "Candidates",
    "Grounded",
    "GroundedAmount",
    "GroundedSpan",
    "check_grounded",
    "find_candidates",
    "grounded_schema",
    "json_schema",
]

T = TypeVar("T")


@dataclass(frozen=True)
class GroundedSpan:
    """Field metadata: the value must occur in the agent's input text. `amount`: a money
    amount, which is never a number the text prints as a percentage ("Tax 7%")."""

    amount: bool = False


Grounded = Annotated[T, GroundedSpan()]
"""`Grounded[str]`: a field whose value must be copied from the input text."""

GroundedAmount = Annotated[T, GroundedSpan(amount=True)]
"""`GroundedAmount[Decimal]`: an amount copied from the text, not one of its percentages."""

Kind = Literal["text", "number", "amount", "integer", "date"]
_MAX_TEXT_CANDIDATES = 400
_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_PERCENT = re.compile(r"\s?%")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_NUMERIC_DATE = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})\b")
_DAY_MONTH = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]{3})[a-z]*\.?,?\s+(\d{4})\b")
_MONTH_DAY = re.compile(r"\b([A-Za-z]{3})[a-z]*\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b")


@dataclass(frozen=True)
class Candidates:
    """Everything a grounded field could take from one input text."""

    texts: tuple[str, ...]
    numbers: tuple[Decimal, ...]
    dates: tuple[date, ...]
    amounts: tuple[Decimal, ...] = ()  # the numbers not printed as a percentage

    def for_kind(self, kind: Kind) -> list[Any]:
        if kind == "text":
            return list(self.texts)
        if kind == "date":
            return [d.isoformat() for d in self.dates]
        if kind == "integer":
            return [int(n) for n in self.numbers if n == n.to_integral_value()]
        return [float(n) for n in (self.amounts if kind == "amount" else self.numbers)]

    def holds(self, kind: Kind, value: Decimal) -> bool:
        return value in (self.amounts if kind == "amount" else self.numbers)


def _valid_date(year: int, month: int, day: int) -> date | None:
    if year < 100:
        year += 2000
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _dates(text: str) -> list[date]:
    found: list[date | None] = []
    found += [_valid_date(int(y), int(m), int(d)) for y, m, d in _ISO_DATE.findall(text)]
    for a, b, y in _NUMERIC_DATE.findall(text):  # 03/11/2026: day-first and month-first
        found += [_valid_date(int(y), int(b), int(a)), _valid_date(int(y), int(a), int(b))]
    for d, mon, y in _DAY_MONTH.findall(text):
        if mon.lower() in _MONTHS:
            found.append(_valid_date(int(y), _MONTHS[mon.lower()], int(d)))
    for mon, d, y in _MONTH_DAY.findall(text):
        if mon.lower() in _MONTHS:
            found.append(_valid_date(int(y), _MONTHS[mon.lower()], int(d)))
    return [d for d in dict.fromkeys(found) if d is not None]


def _texts(text: str) -> list[str]:
    spans: list[str] = []
    for raw_line in text.splitlines():
        line = " ".join(raw_line.split())
        if len(line) < 2:
            continue
        spans.append(line)
        # "Invoice No: INV-2291" -> "INV-2291"; columns split by 2+ spaces in OCR text
        spans += [part.strip() for part in re.split(r":|\s{2,}|\t", raw_line) if part.strip()]
        spans += [token.strip(",;:()[]#") for token in line.split()]
    return [s for s in dict.fromkeys(spans) if len(s) >= 2][:_MAX_TEXT_CANDIDATES]


def find_candidates(text: str) -> Candidates:
    found = [(parse_number(m.group(0)), _PERCENT.match(text, m.end()) is not None)
             for m in NUMBER.finditer(text)]
    return Candidates(
        texts=tuple(_texts(text)),
        numbers=tuple(dict.fromkeys(n for n, _ in found if n is not None)),
        dates=tuple(_dates(text)),
        amounts=tuple(dict.fromkeys(n for n, rate in found if n is not None and not rate)),
    )


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return annotation, False


def _kind(annotation: Any, where: str) -> Kind:
    if annotation is str:
        return "text"
    if annotation is date:
        return "date"
    if annotation is int:
        return "integer"
    if annotation in (float, Decimal):
        return "number"
    raise TypeError(f"{where}: Grounded works on str, int, float, Decimal or date, "
                    f"not {annotation!r}")


def _grounded_fields(model: type[BaseModel]) -> dict[str, tuple[Kind, bool]]:
    """{field alias: (kind, optional)} for the grounded fields of `model` itself."""
    fields = {}
    for name, info in model.model_fields.items():
        spans = [m for m in info.metadata if isinstance(m, GroundedSpan)]
        if spans:
            annotation, optional = _unwrap_optional(info.annotation)
            kind = _kind(annotation, f"{model.__name__}.{name}")
            if spans[0].amount and kind != "number":
                raise TypeError(f"{model.__name__}.{name}: GroundedAmount works on float or "
                                f"Decimal, not {annotation!r}")
            fields[info.alias or name] = ("amount" if spans[0].amount else kind, optional)
    return fields


def _nested_models(model: type[BaseModel], seen: set[type[BaseModel]]) -> None:
    if model in seen:
        return
    seen.add(model)
    for info in model.model_fields.values():
        stack = [info.annotation]
        while stack:
            annotation = stack.pop()
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                _nested_models(annotation, seen)
            stack += list(get_args(annotation))


@functools.cache
def _schema_json(model: type[BaseModel]) -> str:
    return json.dumps(model.model_json_schema())


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """`model.model_json_schema()`, computed once per class; a fresh copy each call."""
    schema: dict[str, Any] = json.loads(_schema_json(model))
    return schema


@functools.cache
def _plans(model: type[BaseModel]) -> dict[type[BaseModel], dict[str, tuple[Kind, bool]]]:
    models: set[type[BaseModel]] = set()
    _nested_models(model, models)
    return {m: f for m in models if (f := _grounded_fields(m))}


def grounded_schema(model: type[BaseModel], text: str) -> dict[str, Any] | None:
    """`model`'s JSON schema with every grounded field narrowed to the candidates found in
    `text`; None when the model has no grounded field. A required field with no candidate
    keeps its plain schema (it cannot be grounded in this text) and will fail the check."""
    plans = _plans(model)
    if not plans:
        return None
    candidates = find_candidates(text)
    schema = json_schema(model)
    for owner, fields in plans.items():
        target = schema if owner is model else schema.get("$defs", {}).get(owner.__name__)
        if target is None:
            continue
        for alias, (kind, optional) in fields.items():
            old = target["properties"][alias]
            values = [v for v in candidates.for_kind(kind) if _matches(old, v)]
            values += [None] if optional else []
            if values:
                target["properties"][alias] = {
                    k: v for k, v in old.items() if k in ("title", "description")
                } | {"enum": values}
    return schema


def _matches(field: dict[str, Any], value: Any) -> bool:
    """Whether a candidate fits the field's `pattern` (its own, or of a type in its anyOf)."""
    patterns = [field.get("pattern")] + [t.get("pattern") for t in field.get("anyOf", [])]
    return all(re.search(p, value) for p in patterns if p) if isinstance(value, str) else True


def _normalize(text: str) -> str:
    return " ".join(text.split())


def check_grounded(output: BaseModel, text: str) -> list[str]:
    """Problems (one line each) with grounded values of `output` not found in `text`."""
    candidates = find_candidates(text)
    flat = _normalize(text)
    problems: list[str] = []

    def visit(node: BaseModel, path: str) -> None:
        grounded = _grounded_fields(type(node))
        for name, info in type(node).model_fields.items():
            value = getattr(node, name)
            where = f"{path}{name}"
            alias = info.alias or name
            if alias in grounded and value is not None:
                kind = grounded[alias][0]
                ok = (
                    _normalize(value) in flat if kind == "text"
                    else value in candidates.dates if kind == "date"
                    else candidates.holds(kind, Decimal(str(value)))
                )
                if not ok:
                    problems.append(f"{where}: {value!r} does not occur in the input; "
                                    "copy it exactly from the text")
            if isinstance(value, BaseModel):
                visit(value, f"{where}.")
            elif isinstance(value, list | tuple):
                for index, item in enumerate(value):
                    if isinstance(item, BaseModel):
                        visit(item, f"{where}.{index}.")

    visit(output, "")
    return problems
