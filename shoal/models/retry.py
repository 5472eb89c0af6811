"""Trying again what a later attempt can fix, with full-jitter exponential backoff and a cap
(`retrying`): the one retry mechanism, for model servers and for database transactions.

An HTTP backend also bounds its requests in flight per host (`HostLimits`), and retries what
the server said was busy (429/503) or a connection that failed or dropped before an answer.
Everything else (a malformed reply, a missing model, a context overflow) fails at once with
its own error and fix.

    limits = HostLimits(per_host=4)            # one per Session: every model of a host shares it
    reply, waited = await limits.call(host, policy, send, retryable=lambda e: e.retryable)
    response = waited.stamp(response)          # queue seconds and retries into its usage
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from shoal.models.types import ChatResponse

__all__ = ["HostLimits", "RetryPolicy", "Waited", "retrying"]

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6  # tries in all, the first included
    base_seconds: float = 0.2  # the first backoff's upper bound; doubled per retry
    cap_seconds: float = 5.0  # no backoff is longer
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def delay(self, retry: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**retry)]."""
        return self.rng.uniform(0, min(self.cap_seconds, self.base_seconds * 2 ** retry))


@dataclass
class Waited:
    """Seconds a call spent waiting: for a place at its host, and backing off."""

    queue_seconds: float = 0.0
    retries: int = 0

    def stamp(self, response: ChatResponse) -> ChatResponse:
        """`response` with these waits in its usage."""
        usage = response.usage.model_copy(update={"queue_seconds": self.queue_seconds,
                                                  "retries": self.retries})
        return response.model_copy(update={"usage": usage})


async def retrying(policy: RetryPolicy, call: Callable[[], Awaitable[T]], *,
                   retryable: Callable[[Exception], bool], waited: Waited | None = None) -> T:
    """`call()`, tried again after an error `retryable` accepts until `policy.attempts` are
    spent; the last error is raised as it is (its type and fix intact)."""
    for retry in range(policy.attempts):
        try:
            return await call()
        except Exception as exc:
            if retry + 1 >= policy.attempts or not retryable(exc):
                raise
            pause = policy.delay(retry)
            if waited is not None:
                waited.queue_seconds += pause
                waited.retries += 1
            await asyncio.sleep(pause)
    raise AssertionError("unreachable: the loop returns or raises")


class HostLimits:
    """At most `per_host` requests in flight to one server, over every model object that
    talks to it. Owned by a Session; created on the event loop that uses it."""

    def __init__(self, per_host: int) -> None:
        if per_host < 1:
            raise ValueError("per_host must be >= 1")
        self.per_host = per_host
        self._hosts: dict[str, asyncio.Semaphore] = {}

    async def call(self, host: str, policy: RetryPolicy, send: Callable[[], Awaitable[T]], *,
                   retryable: Callable[[Exception], bool]) -> tuple[T, Waited]:
        """`send()` once a place at `host` is free, retried by `policy`; its result and how
        long it waited."""
        waited = Waited()
        async with self.slot(host, waited):
            return await retrying(policy, send, retryable=retryable, waited=waited), waited

    @asynccontextmanager
    async def slot(self, host: str, waited: Waited | None = None) -> AsyncIterator[None]:
        semaphore = self._hosts.setdefault(host, asyncio.Semaphore(self.per_host))
        started = time.perf_counter()
        async with semaphore:
            if waited is not None:
                waited.queue_seconds += time.perf_counter() - started
            yield
