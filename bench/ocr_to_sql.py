"""OCR-to-SQL on the sample documents in examples/documents/: documents per minute, field
accuracy against expected.jsonl, and where the time goes (OCR, model load, prefill, decode,
the rest: grammar, validation, SQL, checkpoints).

    .venv/bin/python -m bench.ocr_to_sql [--escalate/--no-escalate]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.invoices import render_invoices
from shoal.graphs.ocr_to_sql import ocr_to_sql_definition, ocr_to_sql_spec, run_documents
from shoal.session import Session
from shoal.settings import load_settings
from shoal.tools.ocr import DocumentReader, OcrDocument

DOCS = Path(__file__).resolve().parents[1] / "examples" / "documents"
FIELDS = ("vendor", "number", "date", "currency", "subtotal", "tax", "total")
CORE = ("vendor", "number", "date", "currency", "total")  # the core fields


class TimedReader(DocumentReader):
    """The OCR reader, adding up the seconds it spends."""

    seconds = 0.0

    async def read(self, path: Path) -> OcrDocument:
        document = await super().read(path)
        self.seconds += document.seconds
        return document


def field_hits(record: dict[str, Any], expected: dict[str, Any],
               fields: tuple[str, ...] = FIELDS) -> int:
    hits = 0
    for name in fields:
        got, want = record.get(name), expected[name]
        if name in ("subtotal", "tax", "total"):
            hits += got is not None and Decimal(str(got)) == Decimal(want)
        else:
            hits += got is not None and str(got).casefold() == str(want).casefold()
    return hits


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--escalate", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--set", choices=("samples", "invoices"), default="samples",
                        help="samples: examples/documents; invoices: two-page EN/DE/FR "
                        "invoices rendered by bench.invoices")
    args = parser.parse_args()
    spec = ocr_to_sql_spec(escalate_to=("pack:qwen2.5-coder-1.5b",) if args.escalate else ())
    with tempfile.TemporaryDirectory() as tmp:
        folder = DOCS
        if args.set == "invoices":
            folder = Path(tmp) / "invoices"
            render_invoices(folder)  # with its expected.jsonl
        expected = {e["file"]: e for e in map(
            json.loads, (folder / "expected.jsonl").read_text().splitlines())}
        files = [folder / name for name in expected]
        settings = load_settings(database_url=f"sqlite:///{Path(tmp) / 'ledger.db'}")
        async with Session(settings) as session:  # no call cache: measure the model calls
            definition = ocr_to_sql_definition(session, db_url=f"sqlite:///{Path(tmp) / 'd.db'}",
                                               spec=spec)
            reader = TimedReader()
            definition = dataclasses.replace(definition, deps=dataclasses.replace(
                definition.deps, reader=reader))
            started = time.perf_counter()
            states = await run_documents(files, definition, session)
            seconds = time.perf_counter() - started
            calls = session.ledger.calls()
    hits = sum(field_hits(s.get("record") or {}, expected[Path(s["path"]).name])
               for s in states)
    statuses = [s.get("status") for s in states]
    model_seconds = sum(c.wall_seconds for c in calls)
    n = len(files)
    stage = {"OCR": reader.seconds, "model load": sum(c.load_seconds for c in calls),
             "prefill": sum(c.prefill_seconds for c in calls),
             "decode": sum(c.decode_seconds for c in calls)}
    stage["the rest"] = seconds - stage["OCR"] - model_seconds
    types = sum(s.get("doc_type") == expected[Path(s["path"]).name]["kind"] for s in states)
    print(f"{n} documents ({args.set}), escalation {'on' if args.escalate else 'off'}")
    print(f"documents/minute       {n / seconds * 60:.2f}")
    print(f"seconds/document       {seconds / n:.1f}: " + ", ".join(
        f"{name} {value / n:.1f}" for name, value in stage.items()))
    print(f"tokens/document        {sum(c.prompt_tokens for c in calls) / n:.0f} prompt, "
          f"{sum(c.completion_tokens for c in calls) / n:.0f} completion")
    print(f"document type          {types}/{n} right")
    core = sum(field_hits(s.get("record") or {}, expected[Path(s["path"]).name], CORE)
               for s in states)
    print(f"core fields            {core / (n * len(CORE)):.1%} ({', '.join(CORE)})")
    print(f"field accuracy         {hits / (len(files) * len(FIELDS)):.1%} "
          f"({hits}/{len(files) * len(FIELDS)})")
    print(f"stored / needs_review  {statuses.count('stored')} / {statuses.count('needs_review')}"
          f"   model calls {len(calls)}, escalated {sum(c.escalation > 0 for c in calls)}")


if __name__ == "__main__":
    asyncio.run(main())
