"""The benign corpus on a real PostgreSQL: ordinary analytic SELECTs written in PostgreSQL's
dialect pass the static layer and run through a role `shoal db grant` made, over the Spider
dev schemas copied into one database each."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from psycopg import sql as pgsql

from shoal.tools.sql_database import SQLDatabase
from shoal.tools.sql_grants import grant_reader
from shoal.tools.sql_guard import SQLRejected, check_sql
from tests.postgres import recreate_database

from .corpus import SPIDER, benign_postgres, numeric, spider_columns


def _copy_schema(schema_id: str, owner: str) -> list[str]:
    """Copy one Spider SQLite schema into `owner`'s database: integers, floats and text; a
    stored value that does not fit its column's type becomes NULL. Returns the tables."""
    source = sqlite3.connect(SPIDER / "schemas" / f"{schema_id}.sqlite")
    tables = spider_columns()[schema_id]
    with psycopg.connect(owner, autocommit=True) as target:
        for table, columns in tables.items():
            kinds = ["bigint" if kind in ("int", "integer") else
                     "double precision" if numeric(kind) else "text" for _, kind in columns]
            target.execute(pgsql.SQL("CREATE TABLE {} ({})").format(
                pgsql.Identifier(table), pgsql.SQL(", ").join(
                    pgsql.SQL("{} {}").format(pgsql.Identifier(name), pgsql.SQL(kind))
                    for (name, _), kind in zip(columns, kinds, strict=True))))
            rows = [tuple(_fit(v, k) for v, k in zip(row, kinds, strict=True))
                    for row in source.execute(f'SELECT * FROM "{table}"')]
            if rows:
                with target.cursor() as cursor:
                    cursor.executemany(pgsql.SQL("INSERT INTO {} VALUES ({})").format(
                        pgsql.Identifier(table),
                        pgsql.SQL(", ").join(pgsql.Placeholder() * len(kinds))), rows)
    source.close()
    return list(tables)


def _fit(value: object, kind: str) -> object:
    if value is None or kind == "text":
        return None if value is None else str(value)
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if kind == "bigint":
        return int(number) if number.is_integer() and abs(number) < 2**63 else None
    return number


@pytest.fixture(scope="module")
def readers(postgres_server: str) -> dict[str, SQLDatabase]:
    databases = {}
    for index, schema_id in enumerate(spider_columns()):
        owner = recreate_database(postgres_server, f"benign{index}")
        tables = _copy_schema(schema_id, owner)
        grant_reader(owner, "benign_reader", tables)
        databases[schema_id] = SQLDatabase(
            owner.replace("postgres@", "benign_reader@"), tables=tables)
    return databases


def test_benign_queries_pass_every_layer_on_postgres(
        readers: dict[str, SQLDatabase], capsys: pytest.CaptureFixture[str]) -> None:
    corpus = benign_postgres()
    refused = []
    for schema_id, sql in corpus:
        database = readers[schema_id]
        try:
            check_sql(sql, allowed_tables=[t.name for t in database.tables()],
                      dialect="postgres")
            database._run_postgres(sql)  # the connection layer, through the granted role
        except SQLRejected as exc:
            refused.append(f"{exc.layer}: {exc} <- {sql}")
    with capsys.disabled():
        print(f"\nbenign corpus on PostgreSQL: {len(corpus) - len(refused)}/{len(corpus)} "
              "accepted by every layer")
        for line in refused:
            print("  refused", line)
    assert len(corpus) >= 300
    assert len(refused) <= len(corpus) // 100, refused[:10]
