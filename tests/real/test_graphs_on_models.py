"""A router graph and a fan-out graph on embedded models, built in Python and from YAML."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shoal.agents import Agent, load_agent_spec
from shoal.graphs import FlowDeps, GraphRunner, fan_out, load_definition, router, run_graph
from shoal.session import Session
from shoal.settings import load_settings

from .conftest import invoke

ROOT = Path(__file__).resolve().parents[2]
AGENTS = ROOT / "configs" / "agents"
MESSAGE = "My parcel has not arrived and the tracking number does not work."
TEXTS = ["The council approved a 12 km tram line in Tampere; building starts in June.",
         "Invoice 2291 from ACME was paid twice; the customer wants a refund of 54.60 EUR."]


def agent(name: str, session: Session) -> Agent[Any]:
    return Agent(load_agent_spec(AGENTS / f"{name}.yaml"), session=session)


async def test_python_router_graph(qwen_gguf: Path, qwen15_gguf: Path,
                                   real_session: Session) -> None:
    summarizer = agent("summarizer", real_session)
    graph = router(agent("support_router", real_session),
                   {label: (label, summarizer) for label in ("billing", "technical", "shipping")})
    state = await graph.compile().ainvoke({"input": MESSAGE}, context=FlowDeps())
    assert state["outputs"]["support_router"] == {"label": "shipping"}
    assert "shipping" in state["outputs"] and isinstance(state["value"], str)
    assert any(w in state["value"].lower() for w in ("parcel", "tracking", "arriv"))


BILLING = "I was charged twice for invoice 4471 this month and I want a refund of 39 EUR."


async def test_shipped_triage_answers_about_the_message(qwen_gguf: Path, qwen15_gguf: Path,
                                                        tmp_path: Path) -> None:
    """The packaged support_triage (found with no agents_dir or graphs_dir set): the billing
    desk reads the customer's message, not the classifier's label."""
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'shoal.db'}")
    async with Session(settings) as session:
        outcome = await run_graph(load_definition("support_triage", session), BILLING,
                                  session=session)
    assert outcome.state["outputs"]["classify"] == {"label": "billing"}
    reply = str(outcome.state["outputs"]["billing_desk"]).lower()
    assert any(w in reply for w in ("charged", "twice", "refund", "4471", "39"))
    assert "is billing" not in reply


async def test_python_fan_out_graph(qwen_gguf: Path, real_session: Session) -> None:
    graph = fan_out(agent("summarizer", real_session), over="items").compile()
    state = await graph.ainvoke({"items": TEXTS}, context=FlowDeps())
    assert len(state["results"]) == 2 and all(isinstance(r, str) for r in state["results"])
    joined = " ".join(state["results"]).lower()
    assert "tram" in joined and ("invoice" in joined or "refund" in joined)


async def test_yaml_graphs_run_and_record_calls(qwen_gguf: Path, qwen15_gguf: Path,
                                                tmp_path: Path) -> None:
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'shoal.db'}",
                             agents_dir=AGENTS, graphs_dir=ROOT / "configs" / "graphs")
    async with Session(settings) as session:
        async with GraphRunner(load_definition("support_triage", session), session) as triage:
            outcome = await triage.start(MESSAGE)
        assert outcome.status == "finished"
        assert set(outcome.state["outputs"]) == {"classify", "shipping_desk"}
        calls = triage.ledger.calls(outcome.run_id)
        assert [c.node for c in calls] == ["classify", "shipping_desk"]
        assert all(c.prompt_tokens > 0 and c.wall_seconds > 0 for c in calls)

        async with GraphRunner(load_definition("summarize_all", session), session) as many:
            outcome = await many.start({"items": TEXTS})
        assert len(outcome.state["results"]) == 2
        assert len(many.ledger.calls(outcome.run_id)) == 2


def test_cli_draws_and_reports(qwen_gguf: Path, tmp_path: Path,
                               monkeypatch: Any) -> None:
    monkeypatch.chdir(ROOT)
    drawn = invoke("graph", "draw", "support_triage")
    assert drawn.exit_code == 0, drawn.output
    assert "graph TD" in drawn.stdout and "shipping_desk" in drawn.stdout
    env = {"SHOAL_DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}"}
    ran = invoke("run", "summarize_all", "--input", json.dumps({"items": TEXTS[:1]}), "--json",
                 env=env)
    assert ran.exit_code == 0, ran.output
    run_id = json.loads(ran.stdout)["run_id"]
    shown = invoke("runs", "show", run_id[:10], "--json", env=env)
    assert shown.exit_code == 0, shown.output
    node = json.loads(shown.stdout)["summaries"]
    assert node["calls"] == 1 and node["prompt_tokens"] > 0 and node["local_usd"] > 0
    assert node["cloud_usd"]["gpt-4o-mini"] > 0
    stats = invoke("runs", "stats", "--json", env=env)
    assert stats.exit_code == 0, stats.output
    assert json.loads(stats.stdout)["pack:qwen2.5-coder-0.5b"]["calls"] == 1
