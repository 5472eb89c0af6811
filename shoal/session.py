"""The one owner of process resources: settings, loaded models, databases, the call cache and
probe reports. Agents, graphs, the CLI and the HTTP service take what they need from a session;
nothing lives in a module-level cache.

    async with Session(load_settings()) as session:
        agent = Agent(spec, session=session)
        result = await agent.run(text)
    # every model the session opened is closed here: embedded llama.cpp servers are freed

Library defaults are quiet: no call cache and no saved probe reports unless asked for
(`cache=True`, `saved_probes=True`); the CLI and the graph runner ask for both.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from types import TracebackType

from shoal.errors import ConfigError
from shoal.memory import CallCache, Database, DatabaseURL, RunLedger
from shoal.models import ChatModel, open_model
from shoal.models.probe import ProbeReport, load_probes
from shoal.models.retry import HostLimits
from shoal.settings import Settings, load_settings

__all__ = ["Session"]


class Session:
    """Opens resources on first use and closes all of them in `aclose` (or `async with`).
    `models` maps URIs to model objects to use instead of opening them (fakes in tests);
    those belong to the caller and are not closed. Safe to use from worker threads."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        cache: bool = False,
        saved_probes: bool = False,
        models: Mapping[str, ChatModel] | None = None,
        probes: Mapping[str, ProbeReport] | None = None,
    ) -> None:
        self.settings = settings or load_settings()
        self.cache_enabled = cache
        self._given = dict(models or {})
        self._probes: dict[str, ProbeReport] | None = dict(probes) if probes is not None else (
            None if saved_probes else {})
        self._models: dict[str, ChatModel] = {}
        self._limits = HostLimits(self.settings.host_max_parallel)  # shared by its models
        self._databases: dict[tuple[str, bool], Database] = {}
        self._lock = threading.Lock()
        self._closed = False

    def _check_open(self) -> None:
        if self._closed:
            raise ConfigError("this Session is closed",
                              fix="open a new Session (or use it inside `async with`)")

    def model(self, uri: str) -> ChatModel:
        """The session's model for `uri`: one object (so one loaded server) per URI."""
        self._check_open()
        if uri in self._given:
            return self._given[uri]
        with self._lock:
            if uri not in self._models:
                self._models[uri] = open_model(uri, self.settings, self._limits)
            return self._models[uri]

    def database(self, url: str | DatabaseURL | None = None, *, migrate: bool = True
                 ) -> Database:
        """The session's Database for `url` (default: the settings' memory database).
        `migrate=False` for a user's own database: Shoal's memory tables are not created."""
        self._check_open()
        address = DatabaseURL.parse(url or self.settings.database_url)
        with self._lock:
            key = (address.text, migrate)
            if key not in self._databases:
                self._databases[key] = Database(address, migrate=migrate)
            return self._databases[key]

    @property
    def ledger(self) -> RunLedger:
        """The run ledger in the memory database."""
        return RunLedger(self.database())

    @property
    def cache(self) -> CallCache | None:
        """The exact call cache, or None unless the session was opened with `cache=True`."""
        return CallCache(self.database()) if self.cache_enabled else None

    def probe(self, uri: str) -> ProbeReport | None:
        """The probe report for model `uri` (given, or saved by `shoal models probe` when
        the session was opened with `saved_probes=True`), or None."""
        with self._lock:
            if self._probes is None:
                self._probes = load_probes(self.settings.cache_dir)
            return self._probes.get(uri)

    async def aclose(self) -> None:
        """Close every model and database this session opened. Idempotent."""
        with self._lock:
            self._closed = True
            models, self._models = list(self._models.values()), {}
            databases, self._databases = list(self._databases.values()), {}
        for model in models:
            await model.aclose()
        for database in databases:
            database.dispose()

    async def __aenter__(self) -> Session:
        self._check_open()
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        await self.aclose()
