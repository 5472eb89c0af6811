"""Compositions that return LangGraph builders over FlowState; whoever runs one compiles it
once, with its checkpointer (GraphRunner does).

A step is an Agent (the node is named after its spec), a (name, Agent) pair, a
(name, node function) pair, a (name, compiled graph) pair (a subgraph as a node), or
`step(agent_or_function, reads=...)` to say what it reads (see shoal.graphs.reads): by default
a pipeline step reads the previous step's output, and a router's branch reads the run's
input (the message, not the label). Agents are bound into the nodes here, so a
graph cannot name an agent it was not given; `reads` naming an unknown step is a ConfigError.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Send, interrupt

from shoal.agents import Agent
from shoal.errors import ConfigError
from shoal.graphs.context import FlowDeps
from shoal.graphs.nodes import NodeFn, agent_node, fan_out_node, function_node
from shoal.graphs.reads import Reads, check_reads, field_of
from shoal.graphs.state import FlowState

__all__ = ["FlowBuilder", "FlowGraph", "Step", "StepSpec", "approval", "builder", "fan_out",
           "pipeline", "router", "step"]

FlowGraph = CompiledStateGraph[FlowState, FlowDeps, FlowState, FlowState]
FlowBuilder = StateGraph[FlowState, FlowDeps, FlowState, FlowState]


@dataclass(frozen=True)
class StepSpec:
    """An agent or a plain function (sync or async, of one value) as a named step that reads
    what `reads` names. Build with `step(...)`."""

    name: str
    target: Agent[Any] | Callable[[Any], Any]
    reads: Reads


Step = (Agent[Any] | StepSpec | tuple[str, Agent[Any]] | tuple[str, NodeFn]
        | tuple[str, FlowGraph])


def step(target: Agent[Any] | Callable[[Any], Any], *, name: str | None = None,
         reads: Reads = None) -> StepSpec:
    """`target` as a step reading `reads` (None: the default of the composition it is in).
    The name defaults to the agent's spec name, or the function's __name__."""
    if name is None:
        name = target.spec.name if isinstance(target, Agent) else getattr(target, "__name__", "")
    if not name:
        raise ConfigError("a step needs a name", fix="pass step(..., name='...')")
    return StepSpec(name, target, reads)


def builder() -> FlowBuilder:
    return StateGraph(FlowState, context_schema=FlowDeps)


def _add(graph: FlowBuilder, item: Step, *, reads: Reads = None) -> str:
    """Add `item` as a node; `reads` is the composition's default for it."""
    if isinstance(item, Agent):
        item = StepSpec(item.spec.name, item, None)
    elif isinstance(item, tuple) and isinstance(item[1], Agent):
        item = StepSpec(item[0], item[1], None)
    if isinstance(item, tuple):  # a node function or a compiled subgraph: it reads the state
        graph.add_node(item[0], item[1])
        return item[0]
    chosen = item.reads if item.reads is not None else reads
    check_reads(item.name, chosen, graph.nodes)
    node = (agent_node(item.name, item.target, chosen) if isinstance(item.target, Agent)
            else function_node(item.name, item.target, chosen))
    graph.add_node(item.name, node)
    return item.name


def pipeline(*steps: Step) -> FlowBuilder:
    """Steps in order; each reads the previous one's output unless its `reads` says."""
    graph = builder()
    previous = START
    for item in steps:
        name = _add(graph, item)
        graph.add_edge(previous, name)
        previous = name
    graph.add_edge(previous, END)
    return graph


def router(classifier: Step, branches: Mapping[str, Step], *, field: str = "label",
           default: Step | None = None) -> FlowBuilder:
    """Run `classifier`, then the branch named by its output's `field` (or `default`).
    Branches read the run's input (the message, not the label) unless their `reads` says, e.g.
    `step(desk, reads={"message": "input", "label": "classify.label"})`."""
    graph = builder()
    first = _add(graph, classifier)
    graph.add_edge(START, first)
    targets = {label: _add(graph, item, reads="input") for label, item in branches.items()}
    fallback = _add(graph, default, reads="input") if default is not None else END

    def route(state: FlowState) -> str:
        decided = (state.get("outputs") or {}).get(first, state.get("value"))
        return targets.get(str(field_of(decided, field)), fallback)

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


def approval(first_step: Step, action: Step) -> FlowBuilder:
    """Run `step`, then stop for a human decision (LangGraph interrupt) before `action`, the
    side effect; resume with True to run it, anything else to skip it."""
    graph = builder()
    first = _add(graph, first_step)
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
