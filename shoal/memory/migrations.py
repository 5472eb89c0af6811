"""Ordered, recorded schema migrations. Append new ones; never edit an applied one.

Each migration is a named function run inside one transaction; its name is recorded in
`shoal_migrations`, so every database applies each migration once, in order.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import Connection, Engine, inspect, text

from shoal.memory.tables import (
    CacheRow,
    CallRow,
    FactRow,
    MessageRow,
    MigrationRow,
    RunRow,
    table_of,
)

__all__ = ["MIGRATIONS", "Migration", "migrate"]


Migration = tuple[str, Callable[[Connection], None]]
"""(name, step): the step runs in the transaction that records the name."""


def _initial(connection: Connection) -> None:
    for table in (RunRow, CallRow, MessageRow, FactRow, CacheRow):
        table_of(table).create(connection, checkfirst=True)


def _run_owner(connection: Connection) -> None:
    """runs.owner (host:pid), so a run whose process died can be marked failed."""
    if "owner" not in {c["name"] for c in inspect(connection).get_columns("runs")}:
        connection.execute(text("ALTER TABLE runs ADD COLUMN owner VARCHAR"))


MIGRATIONS: list[Migration] = [  # the memory's tables
    ("0001_initial", _initial),
    ("0002_run_owner", _run_owner),
]


_LOCK = 0x5E0A1  # PostgreSQL advisory lock key: Shoal's migrations


def _serialize(connection: Connection) -> None:
    """One process at a time migrates a database: SQLite's transactions already begin
    IMMEDIATE; PostgreSQL takes an advisory lock until the transaction ends (two CREATE TABLE
    IF NOT EXISTS at once would otherwise collide)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})


def migrate(engine: Engine, migrations: list[Migration] | None = None) -> list[str]:
    """Apply the `migrations` (default: the memory's) this database lacks, recorded in
    shoal_migrations (so names must be unique across lists); the names applied now."""
    applied_now = []
    with engine.begin() as connection:
        _serialize(connection)
        table_of(MigrationRow).create(connection, checkfirst=True)
    for name, step in MIGRATIONS if migrations is None else migrations:
        with engine.begin() as connection:
            _serialize(connection)
            done = connection.execute(
                text("SELECT 1 FROM shoal_migrations WHERE name = :name"), {"name": name}
            ).first()
            if done:
                continue
            step(connection)
            connection.execute(
                text("INSERT INTO shoal_migrations (name, applied_at) VALUES (:name, :at) "
                     "ON CONFLICT (name) DO NOTHING"), {"name": name, "at": time.time()})
            applied_now.append(name)
    return applied_now
