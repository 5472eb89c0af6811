"""Write contention: 4 processes start at once on one fresh database and each records runs,
model calls and documents (one document shared by all of them: an idempotent insert under
conflict) as fast as it can. Printed per database: operations, errors that reached the caller
(by kind), rows written vs expected.

    .venv/bin/python -m bench.contention [--iterations 50] [--postgres URL]
    (tests/real/test_contention.py runs it on SQLite and on a test PostgreSQL server)
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PROCESSES = 4


async def _worker(url: str, worker: int, iterations: int, start_at: float) -> dict[str, Any]:
    from shoal.memory import Database, RunLedger
    from shoal.models import Attempt, Usage
    from shoal.tools.document_store import DocumentStore

    errors: Counter[str] = Counter()
    memory, target = Database(url), Database(url, migrate=False)
    ledger, store = RunLedger(memory), DocumentStore(target)
    await asyncio.sleep(max(0.0, start_at - time.time()))  # every process starts together
    attempt = Attempt(model="fake:m", usage=Usage(prompt_tokens=10, completion_tokens=2),
                      error=None)
    operations = 0
    for i in range(iterations):
        for name, work in (
                ("run", _run(ledger, attempt, worker, i)),
                ("document", store.save(**_document(f"w{worker}-{i}"))),
                ("shared document", store.save(**_document("shared")))):
            operations += 1
            try:
                await work
            except Exception as exc:  # counted: any error reaching a caller is a failure
                errors[f"{name}: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}"] += 1
    memory.dispose()
    target.dispose()
    return {"operations": operations, "errors": dict(errors)}


async def _run(ledger: Any, attempt: Any, worker: int, i: int) -> None:
    run_id = await ledger.start_run("contention", f"w{worker}-{i}", {"i": i})
    await ledger.record_attempts(run_id=run_id, node="n", agent="a", chain=["fake:m"],
                                 attempts=[attempt, attempt])
    await ledger.finish_run(run_id, "finished")


def _document(key: str) -> dict[str, Any]:
    items = [{"description": "a", "amount": "4.50"}, {"description": "b", "amount": "5.00"}]
    return {"sha256": hashlib.sha256(key.encode()).hexdigest(), "file_name": f"{key}.png",
            "doc_type": "receipt", "status": "stored",
            "record": {"vendor": key, "total": "9.50", "line_items": items},
            "problems": [], "ocr_confidence": 0.9}


def contend(url: str, iterations: int) -> dict[str, Any]:
    """Start the processes together on `url`; their counts, and the rows found after."""
    start_at = time.time() + 3.0  # time for every interpreter to start
    workers = [subprocess.Popen(
        [sys.executable, "-m", "bench.contention", "--worker", str(w), "--url", url,
         "--iterations", str(iterations), "--start-at", str(start_at)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)}) for w in range(PROCESSES)]
    results = []
    for process in workers:
        out, err = process.communicate(timeout=600)
        if process.returncode != 0:
            raise RuntimeError(f"a worker failed: {err[-2000:]}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    errors: Counter[str] = Counter()
    for result in results:
        errors.update(result["errors"])
    return {"operations": sum(r["operations"] for r in results), "errors": dict(errors),
            "rows": _rows(url), "expected": {
                "runs": PROCESSES * iterations, "calls": 2 * PROCESSES * iterations,
                "documents": PROCESSES * iterations + 1,
                "document_lines": 2 * (PROCESSES * iterations + 1)}}


def _rows(url: str) -> dict[str, int]:
    from sqlalchemy import text

    from shoal.memory import Database

    db = Database(url, migrate=False)
    try:
        with db.engine.connect() as connection:
            return {t: int(connection.execute(text(f"SELECT count(*) FROM {t}")).scalar() or 0)
                    for t in ("runs", "calls", "documents", "document_lines")}
    finally:
        db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iterations", type=int, default=50)
    parser.add_argument("--postgres", help="a PostgreSQL URL to contend on too")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--start-at", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        print(json.dumps(asyncio.run(_worker(args.url, args.worker, args.iterations,
                                             args.start_at))))
        return
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        urls = {"sqlite": f"sqlite:///{Path(tmp) / 'contended.db'}"}
        if args.postgres:
            urls["postgresql"] = args.postgres
        print(f"\n{PROCESSES} processes x {args.iterations} iterations "
              "(a run with 2 calls, a document, the shared document)")
        for name, url in urls.items():
            result = contend(url, args.iterations)
            print(f"{name}: {result['operations']} operations, "
                  f"{sum(result['errors'].values())} errors reached a caller; rows "
                  f"{result['rows']} (expected {result['expected']})")
            for error, count in result["errors"].items():
                print(f"  {count} x {error}")


if __name__ == "__main__":
    main()
