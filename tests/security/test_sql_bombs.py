"""Resource bombs: no single statement runs longer than the timeout + 1 s or grows memory past
the size limit, with the static layer off (the connection and limits layers alone) and on.
Each bomb runs in a fresh process (tests.security.bomb_runner), whose peak memory is measured
around it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.security.bomb_runner import assert_contained, run_bomb

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
    assert_contained(run_bomb("sqlite", str(bomb_db), sql, static))
