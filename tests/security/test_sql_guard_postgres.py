"""The SQL guard on a real PostgreSQL, each layer alone over the attack corpus: the static
walk, and the connection layer (the role `shoal db grant` makes, a READ ONLY transaction,
one prepared statement, the server's plan checked before it runs)."""

from __future__ import annotations

import psycopg
import pytest

from shoal.tools.sql_database import SQLDatabase
from shoal.tools.sql_grants import grant_reader
from shoal.tools.sql_guard import GuardLimits, SQLRejected, check_sql
from tests.postgres import recreate_database

from .corpus import SECRET, TARGET, attack_categories


@pytest.fixture(scope="module")
def owner_url(postgres_server: str) -> str:
    owner = recreate_database(postgres_server, "guard")
    with psycopg.connect(owner, autocommit=True) as connection:
        connection.execute(f"CREATE TABLE {TARGET} (id int PRIMARY KEY, name text)")
        connection.execute(f"INSERT INTO {TARGET} VALUES (1, 'Ada'), (2, 'Linus')")
        connection.execute(f"CREATE TABLE {SECRET} (id int PRIMARY KEY, value text)")
        connection.execute(f"INSERT INTO {SECRET} VALUES (1, 'hunter2')")
    return owner


@pytest.fixture(scope="module")
def reader(owner_url: str) -> SQLDatabase:
    statements = grant_reader(owner_url, "guard_reader", [TARGET])
    assert any(f"GRANT SELECT ON \"public\".\"{TARGET}\"" in s for s in statements)
    url = owner_url.replace("postgres@", "guard_reader@")
    return SQLDatabase(url, GuardLimits(timeout_seconds=0.5), tables=[TARGET])


def _rows(owner_url: str) -> list[tuple[object, ...]]:
    with psycopg.connect(owner_url) as connection:
        return connection.execute(
            f"SELECT * FROM {TARGET} UNION ALL SELECT id, value FROM {SECRET} ORDER BY 1, 2"
        ).fetchall()


def test_the_granted_role_reads_only_its_tables(reader: SQLDatabase) -> None:
    assert reader.run(f"SELECT count(*) FROM {TARGET}").rows == [(2,)]
    for sql in (f"SELECT * FROM {SECRET}", f"SELECT query_to_xml('select * from {SECRET}', "
                "true, true, '')", f"SELECT table_to_xml('{SECRET}', true, true, '')",
                f"WITH {TARGET} AS (SELECT * FROM {SECRET}) SELECT * FROM {TARGET}"):
        with pytest.raises(SQLRejected) as info:
            reader._run_postgres(sql)  # the connection layer alone
        assert info.value.layer == "connection" and "hunter2" not in str(info.value)


def test_each_layer_alone_over_the_corpus(reader: SQLDatabase, owner_url: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    before = _rows(owner_url)
    report, ran = [], []
    for category, sqls in attack_categories().items():
        static = connection = 0
        for sql in sqls:
            try:
                check_sql(sql, allowed_tables=[TARGET], dialect="postgres")
            except SQLRejected:
                static += 1
            try:
                result = reader._run_postgres(sql)
            except SQLRejected:
                connection += 1
                continue
            ran.append((category, sql[:60], result.rows))
        report.append((category, len(sqls), static, connection))
    with capsys.disabled():
        print("\nattacks by class (PostgreSQL): total, refused by static alone, by connection "
              "alone")
        for row in report:
            print(f"  {row[0]:<40}{row[1]:>6}{row[2]:>8}{row[3]:>8}")
        for category, sql, rows in ran:
            print(f"  ran on the server ({category}): {sql}... -> {rows}")
    assert _rows(owner_url) == before  # nothing written, whatever ran
    for category, total, static, connection in report:
        assert static == total
        if category != "parser depth":
            assert connection == total, ran
    # Deep nesting targets a parser on our side (RecursionError); PostgreSQL's parser takes
    # it, and what runs is a constant or a read of the listed table.
    assert {category for category, _, _ in ran} <= {"parser depth"}
    assert "hunter2" not in repr(ran)
