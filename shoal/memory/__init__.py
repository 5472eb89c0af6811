"""SQL memory (sqlmodel): runs and model calls, conversations, facts searchable by meaning,
and the call cache. SQLite by default, PostgreSQL by URL."""

from __future__ import annotations

import threading

from shoal.memory.conversation import Conversation
from shoal.memory.database import Database
from shoal.memory.facts import Fact, FactStore
from shoal.memory.ledger import Ledger

__all__ = ["Conversation", "Database", "Fact", "FactStore", "Ledger", "open_database"]

_databases: dict[str, Database] = {}
_lock = threading.Lock()


def open_database(url: str) -> Database:
    """The process-wide Database for `url` (one engine and connection pool per URL)."""
    with _lock:
        if url not in _databases:
            _databases[url] = Database(url)
        return _databases[url]
