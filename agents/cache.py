"""An exact cache of model calls in SQLite, keyed by model digest + the whole request
(messages, options, schema, tools). Only successful responses are stored; a hit is reported
as `usage.cache_hits`."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
import time
from pathlib import Path

from shoal.models import ChatRequest, ChatResponse, Usage

__all__ = ["CallCache"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS call_cache (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at REAL NOT NULL
)
"""


class CallCache:
    """Opens its database lazily; safe to share between agents and threads."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @staticmethod
    def key(digest: str, request: ChatRequest) -> str:
        payload = json.dumps({"model": digest, "request": request.model_dump(mode="json")},
                             sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(payload.encode()).hexdigest()

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=30)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(_SCHEMA)
        return connection

    def _get(self, key: str) -> str | None:
        with self._connect() as connection:
            row = connection.execute("SELECT response FROM call_cache WHERE key = ?",
                                     (key,)).fetchone()
        return None if row is None else str(row[0])

    def _put(self, key: str, response: ChatResponse) -> None:
        with self._connect() as connection:
            connection.execute(
                "INSERT INTO call_cache (key, model, response, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(key) DO NOTHING",
                (key, response.model, response.model_dump_json(), time.time()),
            )

    async def get(self, key: str) -> ChatResponse | None:
        """The cached response with a usage of one cache hit (no tokens spent), or None."""
        started = time.perf_counter()
        raw = await asyncio.to_thread(self._get, key)
        if raw is None:
            return None
        response = ChatResponse.model_validate_json(raw)
        usage = Usage(cache_hits=1, wall_seconds=time.perf_counter() - started)
        return response.model_copy(update={"usage": usage})

    async def put(self, key: str, response: ChatResponse) -> None:
        await asyncio.to_thread(self._put, key, response)
