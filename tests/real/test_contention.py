"""Four processes write runs, model calls and documents (one of them shared: an idempotent
insert under conflict) to one fresh database at once, SQLite file or PostgreSQL: no error
reaches a caller (no "database is locked", no serialization failure, no migration race) and
every row is there exactly once."""

from __future__ import annotations

from bench.contention import contend


def test_four_writers_at_once_lose_nothing_and_see_no_error(database_url: str) -> None:
    result = contend(database_url, iterations=25)
    assert result["errors"] == {}
    assert result["rows"] == result["expected"]
