"""Compositions that return LangGraph builders over FlowState; whoever runs one compiles it
once, with its checkpointer (GraphRunner does).

A step is an Agent (the node is named after its spec), a (name, Agent) pair, a
(name, node function) pair, or a (name, compiled graph) pair: a subgraph as a node. Agents are
bound into the nodes here, so a graph cannot name an agent it was not given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Send, interrupt

from shoal.agents import Agent
from shoal.graphs.context import FlowDeps
from shoal.graphs.nodes import NodeFn, agent_node, fan_out_node
from shoal.graphs.state import FlowState

__all__ = ["FlowBuilder", "FlowGraph", "Step", "approval", "builder", "fan_out", "pipeline",
           "router"]

FlowGraph = CompiledStateGraph[FlowState, FlowDeps, FlowState, FlowState]
FlowBuilder = StateGraph[FlowState, FlowDeps, FlowState, FlowState]
Step = Agent[Any] | tuple[str, Agent[Any]] | tuple[str, NodeFn] | tuple[str, FlowGraph]


def builder() -> FlowBuilder:
    return StateGraph(FlowState, context_schema=FlowDeps)


def _add(graph: FlowBuilder, step: Step) -> str:
    if isinstance(step, Agent):
        step = (step.spec.name, step)
    name, node = step
    graph.add_node(name, agent_node(name, node) if isinstance(node, Agent) else node)
    return name


def pipeline(*steps: Step) -> FlowBuilder:
    """Steps in order, each on the previous one's output."""
    graph = builder()
    previous = START
    for step in steps:
        name = _add(graph, step)
        graph.add_edge(previous, name)
        previous = name
    graph.add_edge(previous, END)
    return graph


def _field(value: Any, path: str) -> Any:
    for part in path.split(".") if path else []:
        value = value.get(part) if isinstance(value, dict) else getattr(value, part, None)
    return value


def router(classifier: Step, branches: Mapping[str, Step], *, field: str = "label",
           default: Step | None = None) -> FlowBuilder:
    """Run `classifier`, then the branch named by its output's `field` (or `default`)."""
    graph = builder()
    first = _add(graph, classifier)
    graph.add_edge(START, first)
    targets = {label: _add(graph, step) for label, step in branches.items()}
    fallback = _add(graph, default) if default is not None else END

    def route(state: FlowState) -> str:
        return targets.get(str(_field(state.get("value"), field)), fallback)

    graph.add_conditional_edges(first, route, [*targets.values(), fallback])
    for target in {*targets.values(), fallback} - {END}:
        graph.add_edge(target, END)
    return graph


def fan_out(agent: Agent[Any], *, over: str = "items", step: str = "each") -> FlowBuilder:
    """Run `agent` on every element of state[over] in parallel (LangGraph Send); outputs are
    gathered in state["results"] in completion order."""
    graph = builder()

    def spread(state: FlowState) -> list[Send]:
        items: list[Any] = state.get(over) or []  # type: ignore[assignment]  # `over` names a list key
        return [Send(step, {"value": item}) for item in items]

    graph.add_node(step, fan_out_node(step, agent))
    graph.add_conditional_edges(START, spread, [step])
    graph.add_edge(step, END)
    return graph


def approval(step: Step, action: Step) -> FlowBuilder:
    """Run `step`, then stop for a human decision (LangGraph interrupt) before `action`, the
    side effect; resume with True to run it, anything else to skip it."""
    graph = builder()
    first = _add(graph, step)
    act = _add(graph, action)

    def review(state: FlowState) -> dict[str, Any]:
        decision = interrupt({"step": first, "value": state.get("value")})
        return {"approved": decision is True}

    graph.add_node("review", review)
    graph.add_edge(START, first)
    graph.add_edge(first, "review")
    graph.add_conditional_edges("review", lambda s: act if s.get("approved") else END,
                                [act, END])
    graph.add_edge(act, END)
    return graph
