"""The CLI's one session: settings from the environment and shoal.toml, the call cache on,
saved probe reports used. Every command runs its async work inside it, so models and
databases it opened are closed when the command ends."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from shoal.session import Session
from shoal.settings import load_settings

__all__ = ["cli_session", "in_session"]

T = TypeVar("T")


def cli_session() -> Session:
    return Session(load_settings(), cache=True, saved_probes=True)


def in_session(work: Callable[[Session], Awaitable[T]]) -> T:
    """Run `work(session)` to completion in a fresh CLI session, then close it."""
    async def main() -> T:
        async with cli_session() as session:
            return await work(session)

    return asyncio.run(main())
