"""Resource bombs on a real PostgreSQL: no single statement runs longer than the timeout + 1 s
on the server or grows the client past the size limit, with the static layer off (the
connection and limits layers alone) and on. Each bomb runs in a fresh client process."""

from __future__ import annotations

import psycopg
import pytest

from tests.postgres import recreate_database
from tests.security.bomb_runner import assert_contained, run_bomb

BOMBS = [
    "SELECT length(lpad('', 500000000, 'x'))",
    "SELECT rpad('x', 200000000, 'y')",
    "SELECT format('%500000000s', 'x')",
    "SELECT format('%*s', 500000000, 'x')",
    "SELECT length(string_agg(md5(a::text), '')) FROM generate_series(1, 100000) AS a, "
    "generate_series(1, 100000) AS b",
    "WITH RECURSIVE r(s) AS (SELECT 'x' UNION ALL SELECT s || s FROM r) "
    "SELECT length(s) FROM r",
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
    "SELECT count(*) FROM singer a, singer b, singer c, singer d, singer e, singer f, "
    "singer g, singer h",
    "SELECT array_agg(a) FROM generate_series(1, 100000) AS a, generate_series(1, 1000) AS b",
    "SELECT string_agg(a.name || b.name || c.name, ',') FROM singer a, singer b, singer c",
]
@pytest.fixture(scope="module")
def bomb_url(postgres_server: str) -> str:
    url = recreate_database(postgres_server, "bombs")
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CREATE TABLE singer (id int PRIMARY KEY, name text)")
        connection.execute("INSERT INTO singer SELECT n, 'singer ' || n "
                           "FROM generate_series(1, 60) AS n")
    return url


def _server_alive(url: str) -> bool:
    with psycopg.connect(url) as connection:
        return connection.execute("SELECT count(*) FROM singer").fetchone() == (60,)


@pytest.mark.parametrize("static", ["off", "on"])
@pytest.mark.parametrize("sql", BOMBS)
def test_a_bomb_stays_within_time_and_size(bomb_url: str, sql: str, static: str) -> None:
    report = run_bomb("postgres", bomb_url, sql, static)
    print(sql[:50], static, report)
    assert_contained(report)
    assert _server_alive(bomb_url)
