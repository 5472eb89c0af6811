"""Plain JSON schema vs grounded fields, per small model, on 30 receipts and invoices.

    .venv/bin/python -m bench.extraction [--docs 30] [--models a,b,c]

Both modes use grammar-constrained output of the same fields and one attempt (no repair, no
escalation), so the difference is grounding alone. Field accuracy counts the 7 fields of every
document (an invalid output scores 0 for all); valid = the output passed validation (pydantic,
and for grounded, every value found in the text).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import time
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from bench.documents import Document, make_documents
from shoal.agents import Agent, AgentSpec, Grounded
from shoal.errors import AgentError
from shoal.models import ChatOptions
from shoal.models.packs import ensure_pack
from shoal.session import Session
from shoal.settings import load_settings

FIELDS = ("vendor", "number", "date", "currency", "subtotal", "tax", "total")


class PlainFields(BaseModel):
    vendor: str = Field(description="the issuer: shop or company name")
    number: str | None = Field(default=None, description="invoice/receipt number")
    date: dt.date | None = Field(default=None, description="issue date")
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$",
                                 description="ISO 4217 code, e.g. EUR, USD, GBP")
    subtotal: Decimal | None = None
    tax: Decimal | None = None
    total: Decimal = Field(description="the amount due / paid")


class GroundedFields(BaseModel):
    vendor: Grounded[str] = Field(description="the issuer: shop or company name")
    number: Grounded[str | None] = Field(default=None, description="invoice/receipt number")
    date: Grounded[dt.date | None] = Field(default=None, description="issue date")
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$",
                                 description="ISO 4217 code, e.g. EUR, USD, GBP")
    subtotal: Grounded[Decimal | None] = None
    tax: Grounded[Decimal | None] = None
    total: Grounded[Decimal] = Field(description="the amount due / paid")


def spec(model: str, output: type[BaseModel]) -> AgentSpec[Any]:
    return AgentSpec(name="bench_extractor", model=f"pack:{model}", prompt="extractor.md",
                     output=output, retries=0, options=ChatOptions(temperature=0, max_tokens=200))


def correct_fields(output: BaseModel | None, doc: Document) -> int:
    if output is None:
        return 0
    hits = 0
    for name in FIELDS:
        got: Any = getattr(output, name)
        want = doc.expected[name]
        if isinstance(want, Decimal):
            hits += got is not None and Decimal(str(got)) == want
        elif isinstance(want, str) and isinstance(got, str):
            hits += got.casefold() == want.casefold()  # receipts print some shops in capitals
        else:
            hits += got == want
    return hits


async def measure(model: str, output: type[BaseModel], docs: list[Document],
                  session: Session) -> dict[str, float]:
    agent = Agent(spec(model, output), session=session)
    correct = valid = tokens = 0
    seconds = 0.0
    for doc in docs:
        started = time.perf_counter()
        try:
            result = await agent.run(doc.text)
            correct += correct_fields(result.output, doc)
            valid += 1
            tokens += result.usage.total_tokens
        except AgentError as exc:
            tokens += sum(a.usage.total_tokens for a in exc.attempts)
        seconds += time.perf_counter() - started
    n = len(docs)
    return {"accuracy": correct / (n * len(FIELDS)), "valid": valid / n, "seconds": seconds / n,
            "tokens": tokens / n}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=30)
    parser.add_argument("--models", default="smollm2-135m,qwen2.5-coder-0.5b,gemma3-270m")
    args = parser.parse_args()
    docs = make_documents(args.docs)
    settings = load_settings()
    models = args.models.split(",")
    for model in models:
        ensure_pack(model, settings.cache_dir, install=True)
    rows = []
    async with Session(settings) as session:  # no call cache: every call reaches the model
        for model in models:
            await session.model(f"pack:{model}").describe()  # load before timing
            for mode, output in (("plain schema", PlainFields), ("grounded", GroundedFields)):
                rows.append((model, mode, await measure(model, output, docs, session)))
                print(f"  done: {model} {mode}", file=sys.stderr)
    print(f"{len(docs)} documents ({sum(d.kind == 'invoice' for d in docs)} invoices), "
          f"{len(FIELDS)} fields each, 1 attempt, temperature 0")
    print(f"{'model':<22}{'mode':<15}{'field acc':>10}{'valid':>8}{'s/doc':>8}{'tokens':>8}")
    for model, mode, m in rows:
        print(f"{model:<22}{mode:<15}{m['accuracy']:>10.1%}{m['valid']:>8.0%}"
              f"{m['seconds']:>8.2f}{m['tokens']:>8.0f}")


if __name__ == "__main__":
    asyncio.run(main())
