"""Conversation memory: the messages of a thread, in order."""

from __future__ import annotations

import time

from sqlmodel import col, select

from shoal.memory.database import Database
from shoal.memory.tables import MessageRow
from shoal.models import Message

__all__ = ["Conversation"]


class Conversation:
    def __init__(self, db: Database, thread_id: str) -> None:
        self.db = db
        self.thread_id = thread_id

    def append(self, *messages: Message) -> None:
        now = time.time()
        with self.db.session() as session:
            for message in messages:
                session.add(MessageRow(thread_id=self.thread_id, role=message.role,
                                       content=message.content, created_at=now))

    def history(self, limit: int | None = None) -> list[Message]:
        """The thread's messages, oldest first (the last `limit` of them)."""
        with self.db.session() as session:
            statement = (select(MessageRow).where(MessageRow.thread_id == self.thread_id)
                         .order_by(col(MessageRow.id).desc()))
            if limit is not None:
                statement = statement.limit(limit)
            rows = list(session.exec(statement))
        return [Message.model_validate({"role": r.role, "content": r.content})
                for r in reversed(rows)]
