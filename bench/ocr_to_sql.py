"""OCR-to-SQL on documents with known fields, two ways side by side in one run, each with and
without escalation to the 1.5B:
  before   the model reads all of the text and copies every line item into its JSON
  after    the default: the model reads the text without its item rows, for the header and
           totals fields; the items are read from the rows (shoal.tools.line_items)
Printed: documents per minute, where the time goes (OCR, model load, prefill, decode, the rest:
grammar, validation, SQL, checkpoints), tokens, escalations, accuracy per field.

    .venv/bin/python -m bench.ocr_to_sql [--set samples|invoices] [--modes before,after]
                                         [--escalate both|on|off]
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
from shoal.agents.library import Invoice
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


@dataclasses.dataclass
class Run:
    name: str
    n: int
    seconds: float
    stage: dict[str, float]
    prompt: float
    completion: float
    escalated: int
    stored: int
    review: int
    fields: dict[str, float]


async def run(name: str, folder: Path, expected: dict[str, dict[str, Any]], tmp: Path,
              before: bool, escalate: bool) -> Run:
    chain = ("pack:qwen2.5-coder-1.5b",) if escalate else ()
    spec = ocr_to_sql_spec(escalate_to=chain, output=Invoice if before else None)
    files = [folder / name for name in expected]
    work = tmp / name.replace(" ", "_").replace(",", "")
    work.mkdir()
    settings = load_settings(database_url=f"sqlite:///{work / 'ledger.db'}")
    async with Session(settings) as session:  # no call cache: measure the model calls
        definition = ocr_to_sql_definition(session, db_url=f"sqlite:///{work / 'd.db'}",
                                           spec=spec, read_rows=not before)
        reader = TimedReader()
        definition = dataclasses.replace(definition, deps=dataclasses.replace(
            definition.deps, reader=reader))
        started = time.perf_counter()
        states = await run_documents(files, definition, session)
        seconds = time.perf_counter() - started
        calls = session.ledger.calls()
    n = len(files)
    model_seconds = sum(c.wall_seconds for c in calls)
    stage = {"OCR": reader.seconds, "model load": sum(c.load_seconds for c in calls),
             "prefill": sum(c.prefill_seconds for c in calls),
             "decode": sum(c.decode_seconds for c in calls)}
    stage["the rest"] = seconds - stage["OCR"] - model_seconds
    statuses = [s.get("status") for s in states]
    fields = {name: sum(field_hits(s.get("record") or {}, expected[Path(s["path"]).name],
                                   (name,)) for s in states) / n for name in FIELDS}
    return Run(name, n, seconds, {k: v / n for k, v in stage.items()},
               sum(c.prompt_tokens for c in calls) / n,
               sum(c.completion_tokens for c in calls) / n,
               sum(c.escalation > 0 for c in calls), statuses.count("stored"),
               statuses.count("needs_review"), fields)


def table(runs: list[Run]) -> str:
    rows: list[tuple[str, list[str]]] = [
        ("documents/minute", [f"{r.n / r.seconds * 60:.2f}" for r in runs]),
        ("seconds/document", [f"{r.seconds / r.n:.1f}" for r in runs]),
        *[(f"  {stage}", [f"{r.stage[stage]:.1f}" for r in runs]) for stage in runs[0].stage],
        ("prompt tokens/doc", [f"{r.prompt:.0f}" for r in runs]),
        ("completion tokens/doc", [f"{r.completion:.0f}" for r in runs]),
        ("escalated calls", [str(r.escalated) for r in runs]),
        ("stored / needs_review", [f"{r.stored} / {r.review}" for r in runs]),
        *[(f"  {name}", [f"{r.fields[name]:.0%}" for r in runs]) for name in FIELDS],
        ("core fields", [f"{sum(r.fields[f] for f in CORE) / len(CORE):.1%}" for r in runs]),
        ("all fields", [f"{sum(r.fields.values()) / len(FIELDS):.1%}" for r in runs]),
    ]
    width = max(16, *(len(r.name) + 2 for r in runs))
    lines = [f"{'':<24}" + "".join(f"{r.name:>{width}}" for r in runs)]
    lines += [f"{label:<24}" + "".join(f"{v:>{width}}" for v in values)
              for label, values in rows]
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--set", choices=("samples", "invoices"), default="samples",
                        help="samples: examples/documents; invoices: two-page EN/DE/FR "
                        "invoices rendered by bench.invoices")
    parser.add_argument("--modes", default="before,after")
    parser.add_argument("--escalate", choices=("both", "on", "off"), default="both")
    args = parser.parse_args()
    escalations = {"both": (True, False), "on": (True,), "off": (False,)}[args.escalate]
    with tempfile.TemporaryDirectory() as tmp:
        folder = DOCS
        if args.set == "invoices":
            folder = Path(tmp) / "invoices"
            render_invoices(folder)  # with its expected.jsonl
        expected = {e["file"]: e for e in map(
            json.loads, (folder / "expected.jsonl").read_text().splitlines())}
        runs = [await run(f"{mode}, {'esc' if escalate else 'no esc'}", folder, expected,
                          Path(tmp), mode == "before", escalate)
                for mode in args.modes.split(",") for escalate in escalations]
    print(f"{len(expected)} documents ({args.set}); core fields: {', '.join(CORE)}")
    print(table(runs))


if __name__ == "__main__":
    asyncio.run(main())
