"""The run ledger: every graph run and every model call, in SQL. (An agent's in-memory list of
attempts while it runs is its AttemptLog; this is the durable record.) Writes are async and go
through `Database.offload`; reads are synchronous, for the CLI."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
import uuid
from collections.abc import Sequence
from typing import Any

from sqlmodel import col, select

from shoal.memory.database import Database
from shoal.memory.tables import CallRow, RunRow
from shoal.models import Attempt

__all__ = ["RunLedger", "input_hash"]


def input_hash(value: Any) -> str:
    data = json.dumps(value, sort_keys=True, default=str).encode()
    return hashlib.sha256(data).hexdigest()


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


class RunLedger:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def start_run(self, graph: str, thread_id: str, value: Any) -> str:
        run_id = uuid.uuid4().hex
        await self.db.offload(self.mark_dead_runs)
        await self.db.offload(self.db.insert_ignore, RunRow, [{
            "id": run_id, "graph": graph, "thread_id": thread_id, "status": "running",
            "input_hash": input_hash(value), "started_at": time.time(), "owner": _owner()}])
        return run_id

    def mark_dead_runs(self) -> int:
        """Mark failed every run still `running` whose process on this host has ended (killed,
        crashed, powered off): a run is never left running. Returns how many were marked."""
        host = socket.gethostname()
        marked = 0
        with self.db.session() as session:
            for row in list(session.exec(select(RunRow).where(RunRow.status == "running"))):
                owner_host, _, pid = (row.owner or "").rpartition(":")
                if owner_host == host and pid.isdigit() and not _alive(int(pid)):
                    row.status, row.finished_at = "failed", time.time()
                    row.error = f"its process (pid {pid}) ended before the run finished"
                    session.add(row)
                    marked += 1
        return marked

    async def finish_run(self, run_id: str, status: str, error: str | None = None) -> None:
        await self.db.offload(self._finish_run, run_id, status, error)

    def _finish_run(self, run_id: str, status: str, error: str | None) -> None:
        with self.db.session() as session:
            row = session.get(RunRow, run_id)
            if row is not None:
                row.status, row.error, row.finished_at = status, error, time.time()
                session.add(row)

    async def record_attempts(self, *, run_id: str | None, node: str | None, agent: str,
                              chain: Sequence[str], attempts: Sequence[Attempt]) -> int:
        """One calls row per model call of an agent run; escalation = the model's place in
        the agent's chain."""
        now = time.time()
        rows = [{
            "id": uuid.uuid4().hex, "run_id": run_id, "node": node, "agent": agent,
            "model": a.model, "prompt_tokens": a.usage.prompt_tokens,
            "completion_tokens": a.usage.completion_tokens,
            "load_seconds": a.usage.load_seconds, "prefill_seconds": a.usage.prefill_seconds,
            "decode_seconds": a.usage.decode_seconds, "wall_seconds": a.usage.wall_seconds,
            "cache_hit": a.usage.cache_hits > 0,
            "escalation": chain.index(a.model) if a.model in chain else 0,
            "error": a.error, "created_at": now,
        } for a in attempts]
        return await self.db.offload(self.db.insert_ignore, CallRow, rows)

    def runs(self, limit: int = 20) -> list[RunRow]:
        self.mark_dead_runs()
        with self.db.session() as session:
            statement = select(RunRow).order_by(col(RunRow.started_at).desc()).limit(limit)
            return list(session.exec(statement))

    def run(self, run_id: str) -> RunRow | None:
        with self.db.session() as session:
            return session.get(RunRow, run_id)

    def latest_run(self, thread_id: str) -> RunRow | None:
        with self.db.session() as session:
            statement = (select(RunRow).where(RunRow.thread_id == thread_id)
                         .order_by(col(RunRow.started_at).desc()).limit(1))
            return session.exec(statement).first()

    def calls_of(self, run_ids: Sequence[str]) -> list[CallRow]:
        """The calls of the runs `run_ids`, oldest first."""
        if not run_ids:
            return []
        with self.db.session() as session:
            return list(session.exec(select(CallRow).where(col(CallRow.run_id).in_(run_ids))
                                     .order_by(col(CallRow.created_at))))

    def calls(self, run_id: str | None = None) -> list[CallRow]:
        with self.db.session() as session:
            statement = select(CallRow).order_by(col(CallRow.created_at))
            if run_id is not None:
                statement = statement.where(CallRow.run_id == run_id)
            return list(session.exec(statement))
