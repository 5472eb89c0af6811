"""SQL memory (sqlmodel): runs and model calls, conversations, facts searchable by meaning,
and the call cache. SQLite by default, PostgreSQL by URL. Databases are opened and closed by
their owner (a `shoal.Session`), never cached in a module."""

from shoal.memory.cache import CallCache
from shoal.memory.conversation import Conversation
from shoal.memory.database import Database
from shoal.memory.facts import Fact, FactStore
from shoal.memory.ledger import RunLedger
from shoal.memory.url import DatabaseURL

__all__ = ["CallCache", "Conversation", "Database", "DatabaseURL", "Fact", "FactStore",
           "RunLedger"]
