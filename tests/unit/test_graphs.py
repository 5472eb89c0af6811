"""Graph compositions on fake models (no checkpointer or an in-memory one; no I/O)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command
from pydantic import BaseModel

from shoal.agents import Agent, AgentSpec
from shoal.graphs import FlowDeps, approval, fan_out, pipeline, router
from shoal.models import FakeChatModel, FunctionChatModel
from shoal.session import Session
from shoal.settings import Settings


class Label(BaseModel):
    label: str


class Upper(BaseModel):
    text: str


def agent(name: str, model: Any, output: type[BaseModel] | None, settings: Settings
          ) -> Agent[Any]:
    spec = AgentSpec(name=name, model=f"fake:{name}", output=output, cache=False, retries=0)
    return Agent[Any](spec, session=Session(settings, models={f"fake:{name}": model}))


def shout(request: Any) -> str:
    text = request.messages[-1].content
    return json.dumps({"text": text.upper()})


async def test_pipeline_passes_each_output_on(isolated_settings: Settings) -> None:
    agents = {"first": agent("first", FunctionChatModel(shout), Upper, isolated_settings),
              "second": agent("second", FunctionChatModel(
                  lambda r: json.dumps({"text": "saw " + r.messages[-1].content})), Upper,
                  isolated_settings)}
    graph = pipeline(agents["first"], agents["second"]).compile()
    state = await graph.ainvoke({"input": "abc"}, context=FlowDeps())
    assert state["outputs"]["first"] == {"text": "ABC"}
    assert state["value"]["text"] == "saw text: ABC"  # the second step got the first's output


async def test_router_takes_the_labelled_branch(isolated_settings: Settings) -> None:
    agents = {
        "classify": agent("classify", FunctionChatModel(
            lambda r: json.dumps({"label": "loud" if "!" in r.messages[-1].content
                                  else "calm"})), Label, isolated_settings),
        "loud": agent("loud", FunctionChatModel(shout), Upper, isolated_settings),
        "calm": agent("calm", FunctionChatModel(lambda r: json.dumps({"text": "ok"})), Upper,
                      isolated_settings),
    }
    graph = router(agents["classify"], {"loud": agents["loud"], "calm": agents["calm"]}).compile()
    loud = await graph.ainvoke({"input": "hey!"}, context=FlowDeps())
    calm = await graph.ainvoke({"input": "hey"}, context=FlowDeps())
    assert "loud" in loud["outputs"] and "calm" not in loud["outputs"]
    assert calm["value"] == {"text": "ok"}


async def test_fan_out_runs_every_item_and_gathers(isolated_settings: Settings) -> None:
    agents = {"up": agent("up", FunctionChatModel(shout), Upper, isolated_settings)}
    graph = fan_out(agents["up"], over="items").compile()
    state = await graph.ainvoke({"items": ["a", "b", "c"]}, context=FlowDeps())
    assert sorted(r["text"] for r in state["results"]) == ["A", "B", "C"]


async def test_escalation_is_the_agents_chain(isolated_settings: Settings) -> None:
    """What `cascade` did (cheap first, the bigger one after invalid output) is the agent's
    own escalation chain inside one node."""
    spec = AgentSpec(name="step", model="fake:cheap", escalate_to=("fake:big",), output=Upper,
                     retries=0)
    session = Session(isolated_settings, models={"fake:cheap": FakeChatModel(["not json"]),
                                                 "fake:big": FunctionChatModel(shout)})
    state = await pipeline(Agent(spec, session=session)).compile().ainvoke(
        {"input": "x"}, context=FlowDeps())
    assert state["value"] == {"text": "X"}


async def test_approval_interrupts_before_the_side_effect(isolated_settings: Settings) -> None:
    written: list[Any] = []

    async def save(state: Any, *, runtime: Any) -> dict[str, Any]:
        written.append(state["value"])
        return {"outputs": {"save": "saved"}}

    agents = {"up": agent("up", FunctionChatModel(shout), Upper, isolated_settings)}
    graph = approval(agents["up"], ("save", save)).compile(checkpointer=InMemorySaver())
    config: Any = {"configurable": {"thread_id": "t1"}}
    context = FlowDeps()
    first = await graph.ainvoke({"input": "pay 10"}, config=config, context=context)
    assert written == [] and first["__interrupt__"][0].value["value"] == {"text": "PAY 10"}
    await graph.ainvoke(Command(resume=True), config=config, context=context)
    assert written == [{"text": "PAY 10"}]

    config2: Any = {"configurable": {"thread_id": "t2"}}
    await graph.ainvoke({"input": "pay 99"}, config=config2, context=context)
    final = await graph.ainvoke(Command(resume=False), config=config2, context=context)
    assert written == [{"text": "PAY 10"}] and final["approved"] is False


def test_yaml_graph_errors_name_node_and_field(tmp_path: Any) -> None:
    from shoal.errors import ConfigError
    from shoal.graphs import load_graph_spec

    bad = tmp_path / "g.yaml"
    bad.write_text("name: g\nnodes:\n  a: {agent: x, function: 'm:f'}\n"
                   "edges: [{from: START, to: a}]\n")
    with pytest.raises(ConfigError, match=r"nodes\.a.*exactly one of agent, function, fan_out"):
        load_graph_spec(bad)
    bad.write_text("name: g\nnodes:\n  a: {agent: x}\nedges: [{from: START, to: b}]\n")
    with pytest.raises(ConfigError, match=r"edges\.0\.to: unknown node 'b'"):
        load_graph_spec(bad)


def test_yaml_graph_names_are_checked_when_built(tmp_path: Any) -> None:
    from shoal.errors import ConfigError
    from shoal.graphs import build_graph, load_graph_spec

    path = tmp_path / "g.yaml"
    path.write_text("name: g\nnodes:\n  a: {agent: helper}\n"
                    "edges: [{from: START, to: a}, {from: a, to: END}]\n")
    with pytest.raises(ConfigError, match=r"node 'a': no agent named 'helper'"):
        build_graph(load_graph_spec(path), {})
    path.write_text("name: g\nnodes:\n  a: {function: 'json:nowhere'}\n"
                    "edges: [{from: START, to: a}, {from: a, to: END}]\n")
    with pytest.raises(ConfigError, match=r"node 'a': function: cannot import 'json:nowhere'"):
        build_graph(load_graph_spec(path), {})
