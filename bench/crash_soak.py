"""Crash soak of OCR-to-SQL: a batch of documents (scripted OCR text, a fake extraction model,
real SQLite memory and target databases, durable runs) is killed with SIGKILL at a seeded
random moment (any SQL statement or checkpoint write) or at a named point (just before or just
after a checkpoint write, inside the document insert between header and lines), then started
again, which resumes every unfinished run. After each trial:

  every document in exactly one row and state (stored, or needs_review waiting for a person),
  no duplicate or torn rows (a header without its lines, lines without a header),
  PRAGMA integrity_check ok on both databases, no run left `running`,
  model calls <= documents + kills (only the call in flight when killed is repeated).

    .venv/bin/python -m bench.crash_soak [--trials 200] [--seed 1]
    (tests/real/test_crash_soak.py runs 20 trials in CI)
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

DOCS = 5
NAMED = ("before_checkpoint", "after_checkpoint", "inside_insert")
ROOT = Path(__file__).resolve().parents[1]


def _text(index: int) -> str:
    """A receipt; every fifth one shows an ambiguous currency ('kr') and waits for review."""
    currency = "kr" if index % 5 == 4 else "EUR"
    return (f"Shop {index}\nTea {index}.50\nCake 2.25\nTotal {currency} "
            f"{index + 2}.75")


def _extract(request: Any) -> str:
    found = re.search(r"Shop (\d+)", " ".join(m.content for m in request.messages))
    if found is None:
        raise ValueError("no document in the request")
    shop, index = found.group(0), int(found.group(1))
    with open(os.environ["SOAK_CALLS"], "a") as log:  # one line per model call
        log.write(f"{index}\n")
    return json.dumps({"vendor": shop, "total": f"{index + 2}.75", "line_items": [
        {"description": "Tea", "amount": f"{index}.50"},
        {"description": "Cake", "amount": "2.25"}]})


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class _Killer:
    """Counts moments (SQL statements on both databases, checkpoint writes) and named points;
    SIGKILLs this process at the chosen one."""

    def __init__(self, spec: str) -> None:
        kind, _, nth = spec.partition(":")
        self.kind, self.nth = kind, int(nth or 0)
        self.counts: Counter[str] = Counter()

    def hit(self, point: str) -> None:
        self.counts[point] += 1
        if point == self.kind and self.counts[point] == self.nth:
            _die()


async def _worker(folder: Path, kill: str) -> None:
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
    from sqlalchemy import event

    from shoal.graphs.ocr_to_sql import ocr_to_sql_definition, ocr_to_sql_spec
    from shoal.graphs.runner import GraphRunner
    from shoal.models import FunctionChatModel
    from shoal.session import Session
    from shoal.settings import load_settings
    from shoal.tools.ocr import DocumentReader, OcrDocument, OcrLine

    killer = _Killer(kill)
    texts = {f"doc-{i}.png": _text(i) for i in range(DOCS)}

    class Reader(DocumentReader):
        async def read(self, path: Path) -> OcrDocument:
            return OcrDocument(str(path), tuple(OcrLine(t, (0, 0, 0, 0), 0.99) for t in
                                                texts[path.name].splitlines()), 1, 0.0)

    original_put = AsyncSqliteSaver.aput

    async def put(self: Any, *args: Any, **kwargs: Any) -> Any:
        killer.hit("moment")
        killer.hit("before_checkpoint")
        result = await original_put(self, *args, **kwargs)
        killer.hit("after_checkpoint")
        return result

    AsyncSqliteSaver.aput = put  # type: ignore[method-assign]

    def on_statement(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        killer.hit("moment")
        if statement.lstrip().upper().startswith("INSERT INTO DOCUMENT_LINES"):
            killer.hit("inside_insert")  # the header is written, not committed

    settings = load_settings(database_url=f"sqlite:///{folder / 'memory.db'}")
    models = {"fake:extractor": FunctionChatModel(_extract, name="fake:extractor")}
    async with Session(settings, models=models) as session:
        spec = ocr_to_sql_spec(model="fake:extractor", escalate_to=())
        definition = ocr_to_sql_definition(session, db_url=f"sqlite:///{folder / 'docs.db'}",
                                           spec=spec)
        definition = dataclasses.replace(definition, deps=dataclasses.replace(
            definition.deps, reader=Reader()))
        for engine in (session.database().engine, definition.deps.store.db.engine):
            event.listen(engine, "before_cursor_execute", on_statement)
        async with GraphRunner(definition, session) as runner:
            for name in texts:
                path = folder / name
                thread = f"soak:{name}"
                snapshot = await runner.graph.aget_state({"configurable": {"thread_id": thread}})
                waiting = any(task.interrupts for task in snapshot.tasks)
                if not snapshot.values:
                    await runner.start_state({"path": str(path), "thread": thread}, thread)
                elif snapshot.next and not waiting:
                    await runner.resume(thread)
    print(json.dumps({"moments": killer.counts["moment"]}))


def _run_worker(folder: Path, kill: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SOAK_CALLS": str(folder / "calls.log"),
           "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "bench.crash_soak", "--worker", str(folder),
                           "--kill", kill], env=env, capture_output=True, text=True,
                          timeout=300)


def _prepare(folder: Path) -> None:
    for i in range(DOCS):
        (folder / f"doc-{i}.png").write_bytes(f"document {i}".encode())


def check(folder: Path, kills: int) -> list[str]:
    """The invariants that must hold after a finished trial; the broken ones, described."""
    broken = []
    with sqlite3.connect(folder / "docs.db") as docs:
        rows = docs.execute("SELECT file_name, status FROM documents").fetchall()
        names = Counter(name for name, _ in rows)
        if sorted(names) != [f"doc-{i}.png" for i in range(DOCS)] or max(names.values()) > 1:
            broken.append(f"documents rows {sorted(names.items())}")
        for name, status in rows:
            want = "needs_review" if name == "doc-4.png" else "stored"
            if status != want:
                broken.append(f"{name} is {status}, not {want}")
        torn = docs.execute(
            "SELECT d.file_name, count(l.sha256) FROM documents d LEFT JOIN document_lines l "
            "ON l.sha256 = d.sha256 GROUP BY d.sha256 HAVING count(l.sha256) != 2").fetchall()
        orphans = docs.execute("SELECT count(*) FROM document_lines WHERE sha256 NOT IN "
                               "(SELECT sha256 FROM documents)").fetchone()[0]
        if torn or orphans:
            broken.append(f"torn documents {torn}, lines without a header {orphans}")
        if docs.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            broken.append("docs.db integrity_check failed")
    with sqlite3.connect(folder / "memory.db") as memory:
        if memory.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            broken.append("memory.db integrity_check failed")
        running = memory.execute("SELECT count(*) FROM runs WHERE status = 'running'"
                                 ).fetchone()[0]
        if running:
            broken.append(f"{running} runs left running")
    calls = (folder / "calls.log").read_text().split()
    if len(calls) > DOCS + kills:
        broken.append(f"{len(calls)} model calls for {DOCS} documents and {kills} kill(s)")
    return broken


def trial(kill: str, folder: Path) -> dict[str, Any]:
    """Run the batch killed at `kill`, then again to the end; the outcome and what broke."""
    _prepare(folder)
    first = _run_worker(folder, kill)
    killed = first.returncode == -signal.SIGKILL
    if not killed and first.returncode != 0:
        return {"kill": kill, "killed": False, "broken": [f"worker failed: {first.stderr}"]}
    second = _run_worker(folder, "none")
    if second.returncode != 0:
        return {"kill": kill, "killed": killed, "broken": [f"resume failed: {second.stderr}"]}
    calls = len((folder / "calls.log").read_text().split())
    return {"kill": kill, "killed": killed, "calls": calls, "broken": check(folder, killed)}


def kill_points(trials: int, seed: int) -> list[str]:
    """Named points first (each at a seeded occurrence), then seeded random moments."""
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:  # a clean run: how many moments there are
        _prepare(Path(tmp))
        clean = _run_worker(Path(tmp), "none")
        moments = json.loads(clean.stdout.strip().splitlines()[-1])["moments"]
    points = []
    for i in range(trials):
        if i < trials // 4:
            kind = NAMED[i % len(NAMED)]
            points.append(f"{kind}:{rng.randint(1, DOCS if kind == 'inside_insert' else 12)}")
        else:
            points.append(f"moment:{rng.randint(1, moments)}")
    return points


def soak(trials: int, seed: int) -> list[dict[str, Any]]:
    results = []
    for point in kill_points(trials, seed):
        with tempfile.TemporaryDirectory() as tmp:
            results.append(trial(point, Path(tmp)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--kill", default="none", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        asyncio.run(_worker(args.worker, args.kill))
        return
    results = soak(args.trials, args.seed)
    by_kind: dict[str, Counter[str]] = {}
    for r in results:
        counts = by_kind.setdefault(r["kill"].split(":")[0], Counter())
        counts["trials"] += 1
        counts["killed"] += r["killed"]
        counts["broken"] += bool(r["broken"])
        counts["repeated calls"] += max(0, r.get("calls", DOCS) - DOCS)
    print(f"\n{len(results)} trials, {DOCS} documents each (seed {args.seed})")
    print(f"{'kill point':<19}{'trials':>7}{'killed':>8}{'broken':>8}{'repeated calls':>16}")
    for kind, c in by_kind.items():
        print(f"{kind:<19}{c['trials']:>7}{c['killed']:>8}{c['broken']:>8}"
              f"{c['repeated calls']:>16}")
    for r in results:
        if r["broken"]:
            print("broken:", r["kill"], r["broken"])


if __name__ == "__main__":
    main()
