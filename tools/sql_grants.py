"""`shoal db grant`: a PostgreSQL role that can read exactly the listed tables, for
`shoal ask --db` to connect as. With it, the connection layer holds on its own: whatever
text reaches the server (query_to_xml, a CTE, a catalog function) runs with this role's
rights, and those are SELECT on the listed tables only."""

from __future__ import annotations

from collections.abc import Sequence

from shoal.errors import InputError
from shoal.memory import DatabaseURL
from shoal.tools.sql_schema import pg_connect

__all__ = ["grant_reader"]


def grant_reader(owner_url: str | DatabaseURL, role: str, tables: Sequence[str]) -> list[str]:
    """Create `role` (LOGIN, read-only by default) if it is missing, take every table right
    it had in the public schema, and grant SELECT on `tables`. Run as the tables' owner.
    Returns the statements run. Raises InputError for a table that does not exist."""
    from psycopg import sql

    address = DatabaseURL.parse(owner_url)
    if address.is_sqlite:
        raise InputError("shoal db grant is for PostgreSQL", source=address.redacted,
                         fix="on SQLite, pass --tables to shoal ask: the authorizer enforces it")
    if not tables:
        raise InputError("no tables to grant", source="tables",
                         fix="name the tables the role may read: --tables a,b")
    who = sql.Identifier(role)
    run: list[str] = []
    with pg_connect(address, autocommit=True) as connection:
        present = {row[0] for row in connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        missing = [t for t in tables if t not in present]  # names as stored: case matters
        if missing:
            raise InputError(f"{address.redacted} has no table {', '.join(missing)}",
                             source="tables", fix="list tables of the public schema")
        exists = connection.execute("SELECT 1 FROM pg_roles WHERE rolname = %s",
                                    (role,)).fetchone()
        statements = [] if exists else [sql.SQL("CREATE ROLE {} LOGIN").format(who)]
        statements += [
            sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(who),
            sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {}").format(who),
            sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(who),
            *(sql.SQL("GRANT SELECT ON {} TO {}").format(sql.Identifier("public", t), who)
              for t in tables),
        ]
        for statement in statements:
            connection.execute(statement)
            run.append(statement.as_string(connection))
    return run
