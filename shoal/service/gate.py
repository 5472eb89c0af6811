"""A bounded queue in front of a model: at most `running` requests use it at once and at most
`waiting` more wait their turn; one more is refused at once with ServiceBusy (HTTP 429 with a
Retry-After), so a burst of clients never piles up unbounded work or crashes the process."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from shoal.errors import ServiceBusy

__all__ = ["Gate"]


class Gate:
    def __init__(self, name: str, *, running: int = 1, waiting: int = 8) -> None:
        if running < 1 or waiting < 0:
            raise ValueError("a gate needs running >= 1 and waiting >= 0")
        self.name = name
        self.running, self.waiting = running, waiting
        self._slots = asyncio.Semaphore(running)
        self._inside = 0  # running + waiting now
        self._seconds = 0.0  # moving mean of one request's seconds, for Retry-After
        self.refused = 0
        self.waited: list[float] = []  # seconds each admitted request waited

    @property
    def inside(self) -> int:
        """Requests running or waiting now."""
        return self._inside

    @asynccontextmanager
    async def admit(self) -> AsyncIterator[None]:
        if self._inside >= self.running + self.waiting:
            self.refused += 1
            raise ServiceBusy(f"{self.name} is busy: {self.running} running and "
                              f"{self.waiting} waiting", retry_after=self.retry_after())
        self._inside += 1
        queued = time.perf_counter()
        try:
            async with self._slots:
                started = time.perf_counter()
                self.waited.append(started - queued)
                del self.waited[:-1000]
                yield
                took = time.perf_counter() - started
                self._seconds = took if not self._seconds else 0.8 * self._seconds + 0.2 * took
        finally:
            self._inside -= 1

    def retry_after(self) -> int:
        """Seconds until a place is likely free: the queue ahead times a request's mean."""
        ahead = max(self._inside - self.running + 1, 1)
        return max(1, round(ahead * self._seconds / self.running))
