"""The SQL store: SQLite by default, PostgreSQL by URL.

SQLite is set up for several writers: WAL journal, a busy timeout, and write transactions
opened with BEGIN IMMEDIATE, so concurrent writers queue instead of failing with
"database is locked"; work that still meets another writer (a PostgreSQL serialization
failure or deadlock) is retried by `offload`. Every insert helper is idempotent (ON CONFLICT
DO NOTHING on natural or generated keys). Async code reaches the (synchronous) engine only
through `Database.offload`, which runs the work in a worker thread so the event loop never
blocks on SQL.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlmodel import Session, SQLModel

from shoal.errors import ConfigError
from shoal.memory.tables import table_of
from shoal.memory.url import DatabaseURL
from shoal.models.retry import RetryPolicy, retrying

__all__ = ["Database"]

_BUSY_TIMEOUT_MS = 30_000
# up to 5 tries, pauses uniform in [0, 0.05 * 2**retry] s
_TRANSACTIONS = RetryPolicy(attempts=5, base_seconds=0.05, cap_seconds=1.0)
_CONFLICT_STATES = ("40001", "40P01")  # PostgreSQL: serialization failure, deadlock
P = ParamSpec("P")
R = TypeVar("R")


def _in_the_way(exc: Exception) -> bool:
    """Did this fail only because a concurrent transaction was in the way?"""
    if not isinstance(exc, DBAPIError):
        return False
    state = getattr(exc.orig, "sqlstate", None)
    return state in _CONFLICT_STATES or "database is locked" in str(exc.orig)


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """A database by URL. Opens nothing until used; applies Shoal's memory migrations on first
    use unless `migrate` is False (a user's own database, e.g. the OCR-to-SQL target).
    Whoever creates one disposes of it (a Session does for the databases it opened)."""

    def __init__(self, url: str | DatabaseURL, *, migrate: bool = True) -> None:
        self.address = DatabaseURL.parse(url)
        self.migrate = migrate
        self._engine: Engine | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return self.address.text

    @property
    def is_sqlite(self) -> bool:
        return self.address.is_sqlite

    @property
    def engine(self) -> Engine:
        with self._lock:
            if self._engine is None:
                self._engine = self._connect()
                # a safety net: pooled connections close with the Database at the latest
                weakref.finalize(self, self._engine.dispose)
        return self._engine

    async def open(self) -> None:
        """Connect (and migrate) now: ConfigError with the fix if the database cannot be
        opened, before a command starts expensive work."""
        await self.offload(lambda: self.engine)

    async def offload(self, work: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Run blocking SQL work from async code, in a worker thread. Work that failed only
        because another writer was in the way (a PostgreSQL serialization failure or deadlock,
        SQLite still locked after its busy timeout) was rolled back: it runs again, after a
        short jittered pause, a few times before the error reaches the caller."""
        return await retrying(_TRANSACTIONS, lambda: asyncio.to_thread(work, *args, **kwargs),
                              retryable=_in_the_way)

    def _connect(self) -> Engine:
        from shoal.memory.migrations import migrate

        if self.is_sqlite:
            try:
                self.address.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(f"cannot open database {self.url}: its folder cannot be "
                                  f"created ({exc.strerror})", fix="point the database URL "
                                  "at a folder you can write") from exc
            engine = create_engine(self.address.sqlalchemy,
                                   connect_args={"timeout": 30, "check_same_thread": False})
            _sqlite_setup(engine)
        else:
            engine = create_engine(self.address.sqlalchemy, pool_pre_ping=True)
        try:
            if self.migrate:
                migrate(engine)
            else:
                engine.connect().close()  # fail now, with the fix below, if unreachable
        except SQLAlchemyError as exc:
            engine.dispose()
            raise ConfigError(f"cannot open database {self.url}: {exc.__class__.__name__}: "
                              f"{str(exc).splitlines()[0]}",
                              fix="check the database URL (--db; SHOAL_DATABASE_URL for "
                                  "Shoal's memory) and that its server runs") from exc
        return engine

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on error."""
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    def insert_ignore(self, model: type[SQLModel], rows: Sequence[dict[str, Any]]) -> int:
        """Insert rows, skipping any whose key exists already; the number inserted."""
        if not rows:
            return 0
        insert = sqlite_insert if self.is_sqlite else pg_insert
        table = table_of(model)
        # RETURNING yields only the rows inserted, on both dialects (rowcount may be -1)
        statement = (insert(table).values(list(rows)).on_conflict_do_nothing()
                     .returning(*table.primary_key.columns))
        with self.session() as session:
            return len(session.connection().execute(statement).fetchall())

    def dispose(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None
