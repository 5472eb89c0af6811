"""The SQL guard on a real PostgreSQL: the role `shoal db grant` makes (the connection layer)
and the static layer, each alone, over the attack corpus and the unlisted-table class."""

from __future__ import annotations

import psycopg
import pytest

from shoal.tools.sql_database import SQLDatabase
from shoal.tools.sql_grants import grant_reader
from shoal.tools.sql_guard import GuardLimits, SQLRejected, check_sql

from .corpus import SECRET, TARGET, attack_categories

# What any role may do on the server, so a role alone cannot refuse it: read the catalogs,
# and signal its own sessions (pg_terminate_backend of a session of the same role). The
# static layer refuses these by name.
_EVERY_ROLE = ("pg_catalog", "information_schema", "pg_user", "pg_roles", "pg_tables",
               "pg_terminate_backend")


@pytest.fixture(scope="module")
def owner_url(postgres_server: str) -> str:
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS guard")
        admin.execute("CREATE DATABASE guard")
    owner = postgres_server.replace("/postgres?", "/guard?")
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
    report, leaked, ran = [], [], []
    for category, sqls in attack_categories().items():
        static = connection = catalog = 0
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
            if "hunter2" in repr(result.rows):
                leaked.append(sql)
            elif any(name in sql.lower() for name in _EVERY_ROLE):
                catalog += 1
            else:
                ran.append(sql)
        report.append((category, len(sqls), static, connection, catalog))
    with capsys.disabled():
        print("\nattacks by class (PostgreSQL): total, refused by static alone, by the "
              "granted role alone, what every role may do (catalogs, its own sessions)")
        for row in report:
            print(f"  {row[0]:<40}{row[1]:>6}{row[2]:>8}{row[3]:>8}{row[4]:>8}")
    assert _rows(owner_url) == before  # nothing written, whatever ran
    assert leaked == []
    for category, total, static, connection, catalog in report:
        assert static == total
        if category != "parser depth":  # PostgreSQL's parser takes deep nesting in stride
            assert connection + catalog == total, ran
