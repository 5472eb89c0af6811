"""The Session owns models, databases, the call cache and probe reports; library defaults are
quiet (no cache, no saved probes)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shoal.agents import Agent, AgentSpec
from shoal.errors import ConfigError
from shoal.models import FakeChatModel, ModelInfo
from shoal.models.probe import ProbeReport
from shoal.session import Session
from shoal.settings import Settings
from shoal.tools import FunctionTool


class Closing(FakeChatModel):
    closed = 0

    async def aclose(self) -> None:
        self.closed += 1


async def test_one_model_per_uri_and_aclose_closes_what_it_opened(
        isolated_settings: Settings) -> None:
    given = Closing(["x"])
    session = Session(isolated_settings, models={"fake:given": given})
    echo = session.model("fake:echo")
    assert session.model("fake:echo") is echo and session.model("fake:given") is given
    db = session.database()
    assert session.database() is db and db.url == isolated_settings.database_url
    await session.aclose()
    assert given.closed == 0  # the caller's model stays the caller's
    with pytest.raises(ConfigError, match="closed"):
        session.model("fake:echo")
    await session.aclose()  # idempotent


async def test_a_library_agent_reads_and_writes_no_call_cache(
        isolated_settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    memory = tmp_path / "memory.db"
    monkeypatch.setenv("SHOAL_DATABASE_URL", f"sqlite:///{memory}")
    monkeypatch.setenv("SHOAL_CACHE_DIR", str(tmp_path / "cache"))
    agent: Agent[str] = Agent(AgentSpec(name="echo", model="fake:echo"))
    first = await agent.run("hello")
    second = await agent.run("hello")
    assert agent.cache is None
    assert (first.output, second.usage.cache_hits) == ("hello", 0)
    assert not memory.exists()  # no cache table was read or written: no database at all
    await agent.aclose()
    cached = Session(isolated_settings, cache=True)
    assert cached.cache is not None
    await cached.aclose()


def divide(a: float, b: float) -> float:
    """Divide a by b."""
    return a / b


def _report(uri: str, native: bool) -> ProbeReport:
    return ProbeReport(model=uri, backend="fake", json_schema_rate=1.0, native_tool_calls=native,
                       context_length=None, trained_context_length=None,
                       prefill_tokens_per_second=None, decode_tokens_per_second=None,
                       probed_at=datetime(2026, 12, 1, tzinfo=UTC))


async def test_tool_mode_comes_from_the_sessions_probes_and_is_recorded(
        isolated_settings: Settings) -> None:
    spec: AgentSpec[str] = AgentSpec(name="calc", model="fake:m", tools=(FunctionTool(divide),))
    answer = json.dumps({"final_answer": "2"})
    quiet = Session(isolated_settings, models={"fake:m": FakeChatModel([answer])})
    assert (await Agent(spec, session=quiet).run("4 / 2?")).tool_mode == "action"
    probed = Session(isolated_settings, models={"fake:m": FakeChatModel(["2"])},
                     probes={"fake:m": _report("fake:m", native=True)})
    assert (await Agent(spec, session=probed).run("4 / 2?")).tool_mode == "native"
    # saved reports (from `shoal models probe`) are read only when asked for
    cache = isolated_settings.cache_dir
    cache.mkdir(parents=True)
    (cache / "probes.json").write_text(json.dumps(
        {"fake:m": _report("fake:m", native=True).model_dump(mode="json")}))
    assert Session(isolated_settings).probe("fake:m") is None
    assert Session(isolated_settings, saved_probes=True).probe("fake:m") is not None
    assert isinstance(await quiet.model("fake:m").describe(), ModelInfo)
