"""Human approval before a side effect, subgraphs, and no secrets in checkpoints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shoal.agents import Agent, AgentSpec
from shoal.errors import ConfigError
from shoal.graphs import FlowDeps, GraphDefinition, GraphRunner, pipeline
from shoal.models import FunctionChatModel
from shoal.session import Session
from shoal.settings import load_settings

from .graph_fixtures import approval_flow, effect_rows


async def test_approval_waits_then_runs_the_side_effect_once(database_url: str,
                                                              tmp_path: Path) -> None:
    settings = load_settings(database_url=database_url, cache_dir=tmp_path)
    async with Session(settings) as session, GraphRunner(approval_flow(session),
                                                         session) as runner:
        await _approve_then_reject(runner, database_url)


async def _approve_then_reject(runner: GraphRunner[FlowDeps], database_url: str) -> None:
    first = await runner.start("refund order 17", thread_id="r1")
    assert first.status == "interrupted" and first.waiting_for["value"] == '{"amount": 54.6}'
    assert effect_rows(database_url, "refunds") == ([], [])
    with pytest.raises(ConfigError, match="waits for a decision"):
        await runner.resume("r1")
    done = await runner.resume("r1", decision=True)
    assert done.status == "finished" and done.state["approved"] is True
    assert effect_rows(database_url, "refunds")[0] == ['{"amount": 54.6}']
    assert [r.status for r in runner.ledger.runs()] == ["finished", "interrupted"]

    await runner.start("refund order 18", thread_id="r2")
    rejected = await runner.resume("r2", decision=False)
    assert rejected.status == "finished" and "payout" not in rejected.state.get("outputs", {})


async def test_subgraph_as_a_node_shares_state_and_context(tmp_path: Path) -> None:
    settings = load_settings(cache_dir=tmp_path)

    def echo(name: str) -> Agent[Any]:
        model = FunctionChatModel(lambda r: f"{name}({r.messages[-1].content})")
        return Agent(AgentSpec(name=name, model="fake:x", cache=False),
                     session=Session(settings, models={"fake:x": model}))

    inner = pipeline(echo("b"), echo("c")).compile()
    outer = pipeline(echo("a"), ("inner", inner)).compile()
    state = await outer.ainvoke({"input": "x"}, context=FlowDeps())
    assert state["value"] == "c(b(a(x)))"


async def test_no_secret_reaches_checkpoints_or_state(tmp_path: Path) -> None:
    secret = "sk-test-DO-NOT-PERSIST-1234567890"
    db_path = tmp_path / "shoal.db"
    settings = load_settings(database_url=f"sqlite:///{db_path}", cache_dir=tmp_path,
                             openai_api_key=secret)
    model = FunctionChatModel(lambda r: "done")
    async with Session(settings, models={"fake:x": model}) as session:
        agent: Agent[str] = Agent(AgentSpec(name="a", model="fake:x", cache=False),
                                  session=session)
        definition = GraphDefinition("secretless", pipeline(agent), FlowDeps())
        async with GraphRunner(definition, session) as runner:
            outcome = await runner.start("hello")
    assert outcome.status == "finished"
    stored = _database_bytes(tmp_path)
    assert b"hello" in stored  # the checkpoints hold the run's state...
    assert secret.encode() not in stored  # ...but never the key
    assert secret not in repr(outcome.state)


def _database_bytes(folder: Path) -> bytes:
    """Every byte of the SQLite files (main, WAL, checkpoints) in `folder`."""
    return b"".join(p.read_bytes() for p in sorted(folder.glob("shoal*")))
