"""Compositions that return compiled LangGraph graphs over FlowState.

A step is an agent name (the node runs that agent from the runtime context), or a
(name, node function) pair, or a (name, compiled graph) pair: a subgraph as a node.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime
from langgraph.types import Send, interrupt

from shoal.errors import AgentError
from shoal.graphs.context import ShoalContext
from shoal.graphs.nodes import NodeFn, agent_node, fan_out_node, run_agent
from shoal.graphs.state import FlowState

__all__ = ["Graph", "Step", "approval", "builder", "cascade", "fan_out", "pipeline", "router"]

Graph = CompiledStateGraph[FlowState, ShoalContext, FlowState, FlowState]
Step = str | tuple[str, NodeFn] | tuple[str, Graph]
Builder = StateGraph[FlowState, ShoalContext, FlowState, FlowState]


def builder() -> Builder:
    return StateGraph(FlowState, context_schema=ShoalContext)


def _add(graph: Builder, step: Step) -> str:
    if isinstance(step, str):
        graph.add_node(step, agent_node(step, step))
        return step
    name, node = step
    graph.add_node(name, node)
    return name


def _compile(graph: Builder, checkpointer: BaseCheckpointSaver[Any] | None,
             interrupt_before: Sequence[str] = ()) -> Graph:
    return graph.compile(checkpointer=checkpointer, interrupt_before=list(interrupt_before))


def pipeline(*steps: Step, checkpointer: BaseCheckpointSaver[Any] | None = None,
             interrupt_before: Sequence[str] = ()) -> Graph:
    """Steps in order, each on the previous one's output."""
    graph = builder()
    previous = START
    for step in steps:
        name = _add(graph, step)
        graph.add_edge(previous, name)
        previous = name
    graph.add_edge(previous, END)
    return _compile(graph, checkpointer, interrupt_before)


def _field(value: Any, path: str) -> Any:
    for part in path.split(".") if path else []:
        value = value.get(part) if isinstance(value, dict) else getattr(value, part, None)
    return value


def router(classifier: Step, branches: Mapping[str, Step], *, field: str = "label",
           default: Step | None = None,
           checkpointer: BaseCheckpointSaver[Any] | None = None) -> Graph:
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
    return _compile(graph, checkpointer)


def fan_out(agent: str, *, over: str = "items", step: str = "each",
            checkpointer: BaseCheckpointSaver[Any] | None = None) -> Graph:
    """Run `agent` on every element of state[over] in parallel (LangGraph Send); outputs are
    gathered in state["results"] in completion order."""
    graph = builder()

    def spread(state: FlowState) -> list[Send]:
        items: list[Any] = state.get(over) or []  # type: ignore[assignment]  # `over` names a list key
        return [Send(step, {"value": item}) for item in items]

    graph.add_node(step, fan_out_node(step, agent))
    graph.add_conditional_edges(START, spread, [step])
    graph.add_edge(step, END)
    return _compile(graph, checkpointer)


def cascade(*agents: str, checkpointer: BaseCheckpointSaver[Any] | None = None) -> Graph:
    """Cheap first: try each agent in order until one gives valid output."""
    graph = builder()

    def attempt(name: str) -> NodeFn:
        async def node(state: FlowState, *, runtime: Runtime[ShoalContext]) -> dict[str, Any]:
            try:
                output = await run_agent(runtime, name, name, state.get("input"))
            except AgentError:
                return {"failed": [name]}
            return {"value": output, "outputs": {name: output}}

        return node

    for index, name in enumerate(agents):
        graph.add_node(name, attempt(name))
        nxt = agents[index + 1] if index + 1 < len(agents) else END

        def route(state: FlowState, name: str = name, nxt: str = nxt) -> str:
            return nxt if name in state.get("failed", []) else END

        graph.add_conditional_edges(name, route, [nxt, END] if nxt != END else [END])
    graph.add_edge(START, agents[0])
    return _compile(graph, checkpointer)


def approval(step: Step, action: Step, *,
             checkpointer: BaseCheckpointSaver[Any] | None = None) -> Graph:
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
    return _compile(graph, checkpointer)
