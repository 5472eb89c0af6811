"""Guarded execution on a real PostgreSQL, through a read-only role."""

from __future__ import annotations

import psycopg
import pytest

from shoal.tools.sql_database import SQLDatabase
from shoal.tools.sql_guard import GuardLimits, SQLRejected
from tests.postgres import recreate_database


@pytest.fixture(scope="module")
def reader_url(postgres_server: str) -> str:
    owner = recreate_database(postgres_server, "shop")
    with psycopg.connect(owner, autocommit=True) as connection:
        connection.execute("CREATE TABLE orders (id int PRIMARY KEY, amount numeric)")
        connection.execute("INSERT INTO orders VALUES (1, 20), (2, 35.5)")
        connection.execute("DROP ROLE IF EXISTS shoal_reader")
        connection.execute("CREATE ROLE shoal_reader LOGIN")
        connection.execute("GRANT SELECT ON orders TO shoal_reader")
    return owner.replace("postgres@", "shoal_reader@")


def test_reads_work(reader_url: str) -> None:
    result = SQLDatabase(reader_url).run("SELECT count(*), sum(amount) FROM orders")
    assert result.rows[0][0] == 2


@pytest.mark.parametrize("sql", [
    "DELETE FROM orders", "UPDATE orders SET amount = 0", "DROP TABLE orders",
    "CREATE TABLE evil (x int)", "COPY orders TO PROGRAM 'id'",
    "SELECT pg_read_file('/etc/passwd')", "SELECT lo_import('/etc/passwd')",
])
def test_connection_layer_alone_refuses(reader_url: str, sql: str) -> None:
    with pytest.raises(SQLRejected) as info:
        SQLDatabase(reader_url)._run_postgres(sql)  # the static layer skipped on purpose
    assert info.value.layer in ("connection", "limits")
    assert SQLDatabase(reader_url).run("SELECT count(*) FROM orders").rows[0][0] == 2


def test_limits_layer_stops_a_long_query(reader_url: str) -> None:
    slow = SQLDatabase(reader_url, GuardLimits(timeout_seconds=0.5))
    with pytest.raises(SQLRejected) as info:  # allowed functions, 10^10 rows
        slow._run_postgres("SELECT count(*) FROM generate_series(1, 100000) AS a, "
                           "generate_series(1, 100000) AS b")
    assert info.value.layer == "limits"
    with pytest.raises(SQLRejected) as info:  # the plan check refuses sleeping by name
        slow._run_postgres("SELECT pg_sleep(5)")
    assert info.value.layer == "connection" and "pg_sleep" in str(info.value)


@pytest.mark.parametrize("sql", [
    "COMMIT; DELETE FROM orders", "ROLLBACK; DELETE FROM orders", "END; DELETE FROM orders",
    "SET statement_timeout = 0; SELECT pg_sleep(3)", "SELECT 1; DELETE FROM orders",
])
def test_one_statement_per_round_trip(reader_url: str, sql: str) -> None:
    """The connection layer alone: stacked text never escapes the READ ONLY transaction or
    its timeout (the extended protocol takes one statement)."""
    with pytest.raises(SQLRejected) as info:
        SQLDatabase(reader_url, GuardLimits(timeout_seconds=1))._run_postgres(sql)
    assert info.value.layer == "connection"
    assert SQLDatabase(reader_url).run("SELECT count(*) FROM orders").rows[0][0] == 2


def test_percent_signs_and_errors_without_values(reader_url: str) -> None:
    database = SQLDatabase(reader_url)
    found = database.run("SELECT count(*) FROM orders WHERE CAST(amount AS text) LIKE '%5%'")
    assert found.rows[0][0] == 1
    with pytest.raises(SQLRejected) as info:  # the cast error would quote the value
        database.run("SELECT CAST(CAST(amount AS text) || 'secret-7731' AS int) FROM orders")
    assert "secret-7731" not in str(info.value) and "35.5" not in str(info.value)
    assert "SQLSTATE 22" in info.value.reason
