"""What each step of a graph reads (router branches, pipelines, YAML `reads`), checked shapes
of YAML specs, the step limit, and runs that died."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from shoal.agents import Agent, AgentSpec
from shoal.errors import ConfigError, GraphError
from shoal.graphs import (
    FlowDeps,
    GraphDefinition,
    GraphRunner,
    build_graph,
    load_graph_spec,
    pipeline,
    router,
    run_graph,
    step,
)
from shoal.graphs.runner import definition_from_spec
from shoal.memory import RunLedger
from shoal.memory.tables import RunRow
from shoal.models import ChatRequest, FunctionChatModel
from shoal.session import Session
from shoal.settings import PACKAGED_CONFIGS, Settings


class Label(BaseModel):
    label: str


class Reply(BaseModel):
    text: str


class Seen:
    """A fake model that answers `answer` and keeps the last user message it was sent."""

    def __init__(self, answer: dict[str, Any]) -> None:
        self.answer = answer
        self.inputs: list[str] = []

    def __call__(self, request: ChatRequest) -> str:
        self.inputs.append(request.messages[-1].content)
        return json.dumps(self.answer)


def _agent(session: Session, name: str, model: Seen, output: type[BaseModel]) -> Agent[Any]:
    """An agent on `model`, in a session of its own with the same settings."""
    own = Session(session.settings, models={f"fake:{name}": FunctionChatModel(model)})
    return Agent(AgentSpec(name=name, model=f"fake:{name}", output=output, retries=0),
                 session=own)


@pytest.fixture
def session(isolated_settings: Settings) -> Session:
    return Session(isolated_settings)


async def test_a_router_branch_reads_the_message_not_the_label(session: Session) -> None:
    classify, billing = Seen({"label": "billing"}), Seen({"text": "refund on its way"})
    graph = router(_agent(session, "classify", classify, Label),
                   {"billing": _agent(session, "billing", billing, Reply)}).compile()
    state = await graph.ainvoke({"input": "I was charged twice for order 7"}, context=FlowDeps())
    assert billing.inputs == ["I was charged twice for order 7"]
    assert state["outputs"] == {"classify": {"label": "billing"},
                                "billing": {"text": "refund on its way"}}


async def test_a_step_reads_the_input_and_earlier_outputs_it_names(session: Session) -> None:
    classify, desk = Seen({"label": "billing"}), Seen({"text": "ok"})
    graph = router(_agent(session, "classify", classify, Label), {"billing": step(
        _agent(session, "desk", desk, Reply),
        reads={"message": "input", "team": "classify.label"})}).compile()
    await graph.ainvoke({"input": "charged twice"}, context=FlowDeps())
    [seen] = desk.inputs
    assert "message: charged twice" in seen and "team: billing" in seen

    first, second = Seen({"text": "summary"}), Seen({"text": "done"})
    chain = pipeline(_agent(session, "first", first, Reply),
                     step(_agent(session, "second", second, Reply),
                          reads={"original": "input", "summary": "first.text"})).compile()
    await chain.ainvoke({"input": "long text"}, context=FlowDeps())
    [seen] = second.inputs
    assert "original: long text" in seen and "summary: summary" in seen


def test_reading_a_step_that_is_not_before_it_is_refused(session: Session) -> None:
    later = _agent(session, "later", Seen({"text": ""}), Reply)
    with pytest.raises(ConfigError, match=r"step 'later' reads 'nowhere.text'.*no step 'nowhere'"):
        pipeline(step(later, reads="nowhere.text"))


def _spec(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "g.yaml"
    path.write_text("name: g\n" + body)
    return path


@pytest.mark.parametrize(("body", "problem"), [
    ("nodes: {a: {function: 'json:dumps'}}\nedges: [{from: a, to: END}]\n",
     r"no edge from START"),
    ("nodes: {a: {function: 'json:dumps'}, b: {function: 'json:dumps'}}\n"
     "edges: [{from: START, to: a}, {from: a, to: END}, {from: b, to: END}]\n",
     r"node 'b' cannot be reached from START"),
    ("nodes: {a: {function: 'json:dumps'}, b: {function: 'json:dumps'}}\n"
     "edges: [{from: START, to: a}, {from: a, to: b}, {from: b, to: a}]\n",
     r"node 'a' never reaches END \(a cycle with no exit\)"),
    ("nodes: {a: {function: 'json:dumps'}}\nedges: [{from: START, to: a}]\n",
     r"node 'a' has no edge out"),
    ("nodes: {a: {function: 'json:dumps'}}\n"
     "edges: [{from: START, to: a}, {from: a, to: END, when: {field: x, equals: 1}}]\n",
     r"every edge from 'a' has a condition"),
    ("nodes: {a: {function: 'json:dumps', reads: ghost.label}}\n"
     "edges: [{from: START, to: a}, {from: a, to: END}]\n",
     r"nodes\.a\.reads: step 'a' reads 'ghost.label'"),
])
def test_yaml_graph_shapes_are_checked_when_loaded(tmp_path: Path, body: str, problem: str
                                                   ) -> None:
    with pytest.raises(ConfigError, match=problem):
        load_graph_spec(_spec(tmp_path, body))


async def test_shipped_support_triage_routes_the_message_to_a_desk(session: Session) -> None:
    spec = load_graph_spec(PACKAGED_CONFIGS / "graphs" / "support_triage.yaml")
    router_model, desk = Seen({"label": "billing"}), Seen({"text": "billing: refund asked"})
    agents = {"support_router": _agent(session, "support_router", router_model, Label),
              "summarizer": _agent(session, "summarizer", desk, Reply)}
    graph = build_graph(spec, agents).compile()
    state = await graph.ainvoke({"input": "Please refund invoice 88"}, context=FlowDeps())
    assert desk.inputs == ["Please refund invoice 88"]
    assert state["outputs"]["billing_desk"] == {"text": "billing: refund asked"}


async def test_a_loop_without_end_stops_at_the_step_limit_and_fails(
        tmp_path: Path, isolated_settings: Settings) -> None:
    path = _spec(tmp_path, "nodes: {a: {function: 'builtins:str'}, b: {function: 'builtins:str'}}\n"
                 "edges: [{from: START, to: a}, {from: a, to: b},\n"
                 "        {from: b, to: END, when: {field: never, equals: 1}}, {from: b, to: a}]\n")
    async with Session(isolated_settings.model_copy(update={"max_graph_steps": 7})) as s:
        definition = definition_from_spec(load_graph_spec(path), s, "loop")
        async with GraphRunner(definition, s) as runner:
            with pytest.raises(GraphError, match=r"graph loop stopped after 7 steps"):
                await runner.start("x")
        [run] = s.ledger.runs()
        assert run.status == "failed" and run.error is not None and "7 steps" in run.error


async def test_run_graph_runs_a_python_graph_and_records_it(session: Session) -> None:
    reply = Seen({"text": "hi"})
    outcome = await run_graph(pipeline(_agent(session, "greet", reply, Reply)), "hello",
                              session=session, name="greeting")
    assert outcome.status == "finished" and outcome.state["value"] == {"text": "hi"}
    [run] = session.ledger.runs()
    assert (run.graph, run.status) == ("greeting", "finished")
    assert [c.agent for c in session.ledger.calls(run.id)] == ["greet"]
    await session.aclose()


def test_a_run_whose_process_died_is_marked_failed(session: Session) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    ledger = RunLedger(session.database())
    import socket

    session.database().insert_ignore(RunRow, [{
        "id": "r1", "graph": "g", "thread_id": "t", "status": "running", "input_hash": "-",
        "started_at": time.time(), "owner": f"{socket.gethostname()}:{gone.pid}"}])
    [row] = ledger.runs()
    assert row.status == "failed" and f"pid {gone.pid}" in (row.error or "")


def test_graph_definition_is_reexported() -> None:
    assert GraphDefinition.__module__ == "shoal.graphs.runner"
