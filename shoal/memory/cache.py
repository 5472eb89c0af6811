"""An exact cache of model calls in the shared SQL store, keyed by model digest + the whole
request (messages, options, schema, tools). Only successful responses are stored; a hit is
reported as `usage.cache_hits`. Off unless a Session is opened with `cache=True` (the CLI and
the graph runner do): a library agent never answers from an old cache by surprise."""

from __future__ import annotations

import hashlib
import json
import time

from shoal.memory.database import Database
from shoal.memory.tables import CacheRow
from shoal.models import ChatRequest, ChatResponse, Usage

__all__ = ["CallCache"]


class CallCache:
    """Safe to share between agents, threads and processes (the database serializes)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @staticmethod
    def key(digest: str, request: ChatRequest) -> str:
        payload = json.dumps({"model": digest, "request": request.model_dump(mode="json")},
                             sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(payload.encode()).hexdigest()

    def _get(self, key: str) -> str | None:
        with self.db.session() as session:
            row = session.get(CacheRow, key)
            return None if row is None else row.response

    async def get(self, key: str) -> ChatResponse | None:
        """The cached response with a usage of one cache hit (no tokens spent), or None."""
        started = time.perf_counter()
        raw = await self.db.offload(self._get, key)
        if raw is None:
            return None
        response = ChatResponse.model_validate_json(raw)
        usage = Usage(cache_hits=1, wall_seconds=time.perf_counter() - started)
        return response.model_copy(update={"usage": usage})

    async def put(self, key: str, response: ChatResponse) -> None:
        row = {"key": key, "model": response.model, "response": response.model_dump_json(),
               "created_at": time.time()}
        await self.db.offload(self.db.insert_ignore, CacheRow, [row])
