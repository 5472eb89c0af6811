"""Runs one resource bomb in a fresh process and reports what it cost, for the SQLite and the
PostgreSQL bomb tests: the guarded database (static layer on) or the connection layer alone
(off) runs the statement; the process's peak memory (ru_maxrss) is measured around it.

    python -m tests.security.bomb_runner sqlite|postgres TARGET SQL on|off
    -> {"seconds": ..., "grew_kb": ..., "outcome": "ran" | "static" | "connection" | "limits"}
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shoal.tools.sql_database import SQLDatabase
from shoal.tools.sql_guard import GuardLimits, SQLRejected, run_readonly_sqlite

TIMEOUT, MAX_BYTES = 1.0, 1_000_000
ROOT = Path(__file__).resolve().parents[2]


def run_bomb(dialect: str, target: str, sql: str, static: str) -> dict[str, Any]:
    """Run `sql` in a child process; its report (asserts the child itself did not fail)."""
    child = subprocess.run([sys.executable, "-m", "tests.security.bomb_runner", dialect,
                            target, sql, static], cwd=ROOT, capture_output=True, text=True,
                           timeout=60, check=False)
    assert child.returncode == 0, child.stderr[-2000:]
    report: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    return report


def assert_contained(report: dict[str, Any]) -> None:
    """Refused by a layer, within the timeout + 1 s, and the peak grew by the size limit a
    few times over at most (a value and its copy)."""
    assert report["outcome"] in ("static", "connection", "limits"), report
    assert report["seconds"] <= TIMEOUT + 1, report
    assert report["grew_kb"] * 1024 <= 8 * MAX_BYTES + 16_000_000, report


def _statement(dialect: str, target: str, sql: str, static: bool) -> Callable[[], Any]:
    limits = GuardLimits(timeout_seconds=TIMEOUT, max_bytes=MAX_BYTES)
    if dialect == "sqlite":
        database = SQLDatabase(f"sqlite:///{target}", limits=limits)
        database.tables()
        return (lambda: database.run(sql)) if static else (lambda: run_readonly_sqlite(
            Path(target), sql, allowed_tables=["singer"], limits=limits))
    database = SQLDatabase(target, limits=limits, tables=["singer"])
    database.tables()
    return (lambda: database.run(sql)) if static else (lambda: database._run_postgres(sql))


def main() -> None:
    dialect, target, sql, static = sys.argv[1:5]
    statement = _statement(dialect, target, sql, static == "on")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    try:
        statement()
        outcome = "ran"
    except SQLRejected as exc:
        outcome = exc.layer
    grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print(json.dumps({"seconds": time.monotonic() - started, "grew_kb": grew,
                      "outcome": outcome}))


if __name__ == "__main__":
    main()
