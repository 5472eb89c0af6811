"""A router graph and a fan-out graph on embedded models, built in Python and from YAML."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from shoal.agents import Agent, load_agent_spec
from shoal.graphs import GraphRunner, ShoalContext, fan_out, load_definition, router
from shoal.graphs.nodes import agent_node
from shoal.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
AGENTS = ROOT / "configs" / "agents"
MESSAGE = "My parcel has not arrived and the tracking number does not work."
TEXTS = ["The council approved a 12 km tram line in Tampere; building starts in June.",
         "Invoice 2291 from ACME was paid twice; the customer wants a refund of 54.60 EUR."]


def agents(*names: str) -> dict[str, Agent[Any]]:
    settings = load_settings()
    return {n: Agent[Any](load_agent_spec(AGENTS / f"{n}.yaml"), settings=settings)
            for n in names}


async def test_python_router_graph(qwen_gguf: Path, qwen15_gguf: Path) -> None:
    graph = router("support_router", {label: (label, agent_node(label, "summarizer"))
                                      for label in ("billing", "technical", "shipping")})
    state = await graph.ainvoke({"input": MESSAGE}, context=ShoalContext(
        agents=agents("support_router", "summarizer")))
    assert state["outputs"]["support_router"] == {"label": "shipping"}
    assert "shipping" in state["outputs"] and isinstance(state["value"], str)


async def test_python_fan_out_graph(qwen_gguf: Path) -> None:
    graph = fan_out("summarizer", over="items")
    state = await graph.ainvoke({"items": TEXTS},
                                context=ShoalContext(agents=agents("summarizer")))
    assert len(state["results"]) == 2 and all(isinstance(r, str) for r in state["results"])
    joined = " ".join(state["results"]).lower()
    assert "tram" in joined and ("invoice" in joined or "refund" in joined)


async def test_yaml_graphs_run_and_record_calls(qwen_gguf: Path, qwen15_gguf: Path,
                                                tmp_path: Path) -> None:
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'shoal.db'}",
                             agents_dir=AGENTS, graphs_dir=ROOT / "configs" / "graphs")
    triage = GraphRunner(load_definition("support_triage", settings, settings.graphs_dir),
                         settings)
    outcome = await triage.start(MESSAGE)
    assert outcome.status == "finished"
    assert set(outcome.state["outputs"]) == {"classify", "shipping_desk"}
    calls = triage.ledger.calls(outcome.run_id)
    assert [c.node for c in calls] == ["classify", "shipping_desk"]
    assert all(c.prompt_tokens > 0 and c.wall_seconds > 0 for c in calls)

    many = GraphRunner(load_definition("summarize_all", settings, settings.graphs_dir), settings)
    outcome = await many.start({"items": TEXTS})
    assert len(outcome.state["results"]) == 2
    assert len(many.ledger.calls(outcome.run_id)) == 2


def test_cli_draws_and_reports(qwen_gguf: Path, tmp_path: Path) -> None:
    drawn = subprocess.run([sys.executable, "-m", "shoal", "graph", "draw", "support_triage"],
                           cwd=ROOT, capture_output=True, text=True, check=False)
    assert drawn.returncode == 0, drawn.stderr
    assert "graph TD" in drawn.stdout and "shipping_desk" in drawn.stdout
    env = {**os.environ, "SHOAL_DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}"}
    ran = subprocess.run([sys.executable, "-m", "shoal", "run", "summarize_all", "--input",
                          json.dumps({"items": TEXTS[:1]}), "--json"], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=False, timeout=600)
    assert ran.returncode == 0, ran.stderr
    run_id = json.loads(ran.stdout)["run_id"]
    shown = subprocess.run([sys.executable, "-m", "shoal", "runs", "show", run_id[:10],
                            "--json"], cwd=ROOT, env=env, capture_output=True, text=True,
                           check=False)
    assert shown.returncode == 0, shown.stderr
    node = json.loads(shown.stdout)["summaries"]
    assert node["calls"] == 1 and node["prompt_tokens"] > 0 and node["local_usd"] > 0
    assert node["cloud_usd"]["gpt-4o-mini"] > 0
    stats = subprocess.run([sys.executable, "-m", "shoal", "runs", "stats", "--json"], cwd=ROOT,
                           env=env, capture_output=True, text=True, check=False)
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout)["pack:qwen2.5-coder-0.5b"]["calls"] == 1
