"""OCR-to-SQL on the sample documents in examples/documents/: documents per minute, field
accuracy against expected.jsonl, and where the time goes (OCR vs models).

    .venv/bin/python -m bench.ocr_to_sql [--escalate/--no-escalate]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from shoal.graphs.ocr_to_sql import ocr_to_sql_definition, ocr_to_sql_spec, run_documents
from shoal.session import Session
from shoal.settings import load_settings

DOCS = Path(__file__).resolve().parents[1] / "examples" / "documents"
FIELDS = ("vendor", "number", "date", "currency", "subtotal", "tax", "total")


def field_hits(record: dict[str, Any], expected: dict[str, Any]) -> int:
    hits = 0
    for name in FIELDS:
        got, want = record.get(name), expected[name]
        if name in ("subtotal", "tax", "total"):
            hits += got is not None and Decimal(str(got)) == Decimal(want)
        else:
            hits += got is not None and str(got).casefold() == str(want).casefold()
    return hits


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--escalate", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()
    expected = {e["file"]: e for e in map(json.loads,
                                          (DOCS / "expected.jsonl").read_text().splitlines())}
    files = [DOCS / name for name in expected]
    spec = ocr_to_sql_spec(escalate_to=("pack:qwen2.5-coder-1.5b",) if args.escalate else ())
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(database_url=f"sqlite:///{Path(tmp) / 'ledger.db'}")
        async with Session(settings) as session:  # no call cache: measure the model calls
            definition = ocr_to_sql_definition(session, db_url=f"sqlite:///{Path(tmp) / 'd.db'}",
                                               spec=spec)
            started = time.perf_counter()
            states = await run_documents(files, definition, session)
            seconds = time.perf_counter() - started
            calls = session.ledger.calls()
    hits = sum(field_hits(s.get("record") or {}, expected[Path(s["path"]).name])
               for s in states)
    statuses = [s.get("status") for s in states]
    model_seconds = sum(c.wall_seconds for c in calls)
    print(f"{len(files)} documents (PNG, JPEG, PDF), escalation "
          f"{'on' if args.escalate else 'off'}")
    print(f"documents/minute       {len(files) / seconds * 60:.2f}")
    print(f"seconds/document       {seconds / len(files):.1f} "
          f"(model calls {model_seconds / len(files):.1f}, OCR and the rest "
          f"{(seconds - model_seconds) / len(files):.1f})")
    print(f"field accuracy         {hits / (len(files) * len(FIELDS)):.1%} "
          f"({hits}/{len(files) * len(FIELDS)})")
    print(f"stored / needs_review  {statuses.count('stored')} / {statuses.count('needs_review')}"
          f"   model calls {len(calls)}, escalated {sum(c.escalation > 0 for c in calls)}")


if __name__ == "__main__":
    asyncio.run(main())
