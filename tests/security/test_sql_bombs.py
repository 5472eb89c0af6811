"""Resource bombs: no single statement runs longer than the timeout + 1 s or grows memory past
the size limit, with the static layer off (the connection and limits layers alone) and on.
Each bomb runs in a fresh process, whose peak memory (ru_maxrss) is measured around it."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

TIMEOUT, MAX_BYTES = 1.0, 1_000_000
BOMBS = [
    "SELECT printf('%.*c', 1000000000, 'x')",
    "SELECT length(printf('%999999999d', 1))",
    "SELECT length(zeroblob(1000000000))",
    "SELECT length(randomblob(1000000000))",
    "WITH RECURSIVE r(s) AS (SELECT 'x' UNION ALL SELECT s || s FROM r) "
    "SELECT length(s) FROM r",
    "SELECT length(replace(printf('%.9999c', 'x'), 'x', printf('%.9999c', 'y')))",
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
    "SELECT count(*) FROM singer a, singer b, singer c, singer d, singer e, singer f, "
    "singer g, singer h",
    "WITH RECURSIVE r(n, s) AS (SELECT 1, 'ab' UNION ALL SELECT n + 1, s || s || s FROM r "
    "WHERE n < 40) SELECT max(length(s)) FROM r",
    "SELECT length(group_concat(a.name || b.name || c.name)) FROM singer a, singer b, singer c",
]
_RUN = """
import json, resource, sys, time
from pathlib import Path
from shoal.tools.sql_database import SQLDatabase
from shoal.tools.sql_guard import GuardLimits, SQLRejected, run_readonly_sqlite
path, sql, static = Path(sys.argv[1]), sys.argv[2], sys.argv[3] == "on"
limits = GuardLimits(timeout_seconds=float(sys.argv[4]), max_bytes=int(sys.argv[5]))
database = SQLDatabase(f"sqlite:///{path}", limits=limits)
database.tables()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.monotonic()
try:
    if static:
        database.run(sql)
    else:
        run_readonly_sqlite(path, sql, allowed_tables=["singer"], limits=limits)
    outcome = "ran"
except SQLRejected as exc:
    outcome = exc.layer
grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps({"seconds": time.monotonic() - started, "grew_kb": grew, "outcome": outcome}))
"""


@pytest.fixture(scope="module")
def bomb_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bombs") / "shop.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE singer (id INTEGER PRIMARY KEY, name TEXT)")
    connection.executemany("INSERT INTO singer (name) VALUES (?)",
                           [(f"singer {n}",) for n in range(60)])
    connection.commit()
    connection.close()
    return path


@pytest.mark.parametrize("static", ["off", "on"])
@pytest.mark.parametrize("sql", BOMBS)
def test_a_bomb_stays_within_time_and_size(bomb_db: Path, sql: str, static: str) -> None:
    child = subprocess.run([sys.executable, "-c", _RUN, str(bomb_db), sql, static,
                            str(TIMEOUT), str(MAX_BYTES)],
                           capture_output=True, text=True, timeout=60, check=False)
    assert child.returncode == 0, child.stderr[-2000:]
    report = json.loads(child.stdout.strip().splitlines()[-1])
    assert report["outcome"] in ("static", "connection", "limits"), report
    assert report["seconds"] <= TIMEOUT + 1, report
    # the peak may grow by the size limit a few times over (a value and its copy), never more
    assert report["grew_kb"] * 1024 <= 8 * MAX_BYTES + 16_000_000, report
