"""YAML graph specs (configs/graphs/NAME.yaml) compiled to the same LangGraph graphs.

    name: support_triage
    nodes:
      classify: {agent: support_router}        # an agent from configs/agents/
      save: {function: "package.module:function"}   # a function of the value (idempotent!)
      notes: {fan_out: summarizer, over: items} # an agent over a list, in parallel
    edges:
      - {from: START, to: classify}
      - {from: classify, to: save, when: {field: label, equals: billing}}
      - {from: classify, to: END}               # the default when no condition holds
      - {from: save, to: END}
    interrupt_before: [save]                    # human approval before a side effect

Conditions compare a field of the current value (dotted path) with `equals` or `in`.
Errors name the graph, the node or edge, and the field. Every agent and function a spec names
is resolved when the graph is built (`build_graph`): a missing one is an error naming the node.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml
from langgraph.graph import END, START
from langgraph.types import Send
from pydantic import ConfigDict, ValidationError, model_validator

from shoal.agents import Agent
from shoal.errors import ConfigError
from shoal.frozen import Frozen
from shoal.graphs.compose import FlowBuilder, builder
from shoal.graphs.nodes import agent_node, fan_out_node, function_node
from shoal.graphs.state import FlowState
from shoal.imports import resolve_import
from shoal.problems import validation_problems

__all__ = ["GraphSpec", "build_graph", "load_graph_spec"]

_ENDS = {"START": START, "END": END}


class NodeSpec(Frozen):
    agent: str | None = None
    function: str | None = None
    fan_out: str | None = None
    over: str = "items"

    @model_validator(mode="after")
    def _one_kind(self) -> NodeSpec:
        kinds = [k for k in ("agent", "function", "fan_out") if getattr(self, k)]
        if len(kinds) != 1:
            raise ValueError("give exactly one of agent, function, fan_out")
        return self


class Condition(Frozen):
    field: str
    equals: Any = None
    in_: list[Any] | None = None

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    def holds(self, value: Any) -> bool:
        for part in self.field.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value in self.in_ if self.in_ is not None else value == self.equals


class EdgeSpec(Frozen):
    source: str
    target: str
    when: Condition | None = None

    @model_validator(mode="before")
    @classmethod
    def _names(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = {("source" if k == "from" else "target" if k == "to" else k): v
                    for k, v in data.items()}
            if isinstance(data.get("when"), dict) and "in" in data["when"]:
                data["when"] = {("in_" if k == "in" else k): v for k, v in data["when"].items()}
        return data


class GraphSpec(Frozen):
    name: str
    description: str = ""
    nodes: dict[str, NodeSpec]
    edges: list[EdgeSpec]
    interrupt_before: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _edges_name_nodes(self) -> GraphSpec:
        known = set(self.nodes) | set(_ENDS)
        for i, edge in enumerate(self.edges):
            for end, name in (("from", edge.source), ("to", edge.target)):
                if name not in known:
                    raise ValueError(f"edges.{i}.{end}: unknown node {name!r}")
        for name in self.interrupt_before:
            if name not in self.nodes:
                raise ValueError(f"interrupt_before: unknown node {name!r}")
        return self

    def agent_names(self) -> set[str]:
        return {n.agent or n.fan_out or "" for n in self.nodes.values()} - {""}


def load_graph_spec(path: Path) -> GraphSpec:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return GraphSpec.model_validate(data)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read graph spec {path}: {exc}", fix="check the path and YAML"
                          ) from exc
    except ValidationError as exc:
        problems = "; ".join(validation_problems(exc, root="spec"))
        raise ConfigError(f"invalid graph spec {path}: {problems}",
                          fix="correct the named nodes and fields") from exc


def _function(spec: GraphSpec, node: str, path: str) -> Callable[[Any], Any]:
    try:
        function = resolve_import(path)
    except ValueError as exc:
        raise ConfigError(f"graph {spec.name}: node {node!r}: function: {exc}",
                          fix="name a function as package.module:function") from exc
    if not callable(function):
        raise ConfigError(f"graph {spec.name}: node {node!r}: {path} is not callable",
                          fix="name a function as package.module:function")
    return function  # type: ignore[no-any-return]  # checked callable above


def _agent(spec: GraphSpec, node: str, name: str, agents: Mapping[str, Agent[Any]]
           ) -> Agent[Any]:
    if name not in agents:
        raise ConfigError(f"graph {spec.name}: node {node!r}: no agent named {name!r}",
                          fix=f"add {name}.yaml to the agents directory, or use one of: "
                          f"{', '.join(sorted(agents)) or '(none)'}")
    return agents[name]


def build_graph(spec: GraphSpec, agents: Mapping[str, Agent[Any]]) -> FlowBuilder:
    """The spec's graph with its agents (by name) and functions (by import path) bound into
    the nodes. Raises ConfigError naming the node whose agent or function is missing."""
    graph = builder()
    fan_outs = {}
    for name, node in spec.nodes.items():
        if node.agent:
            graph.add_node(name, agent_node(name, _agent(spec, name, node.agent, agents)))
        elif node.function:
            graph.add_node(name, function_node(name, _function(spec, name, node.function)))
        else:
            assert node.fan_out is not None  # one kind is guaranteed by NodeSpec
            graph.add_node(name, fan_out_node(name, _agent(spec, name, node.fan_out, agents)))
            fan_outs[name] = node.over
    by_source: dict[str, list[EdgeSpec]] = {}
    for edge in spec.edges:
        by_source.setdefault(edge.source, []).append(edge)
    for source, edges in by_source.items():
        start = _ENDS.get(source, source)
        if len(edges) == 1 and edges[0].when is None and edges[0].target not in fan_outs:
            graph.add_edge(start, _ENDS.get(edges[0].target, edges[0].target))
            continue
        graph.add_conditional_edges(start, _chooser(spec.name, source, edges, fan_outs),
                                    [_ENDS.get(e.target, e.target) for e in edges])
    return graph


def _chooser(graph: str, source: str, edges: list[EdgeSpec], fan_outs: dict[str, str]
             ) -> Callable[[FlowState], Any]:
    def choose(state: FlowState) -> Any:
        value = state.get("value", state.get("input"))
        for edge in edges:
            if edge.when is None or edge.when.holds(value):
                target = _ENDS.get(edge.target, edge.target)
                if edge.target in fan_outs:
                    items = value.get(fan_outs[edge.target]) if isinstance(value, dict) else None
                    items = items if items is not None else state.get("items", [])
                    return [Send(edge.target, {"value": item}) for item in items]
                return target
        raise ConfigError(f"graph {graph}: no edge from {source!r} matches the value",
                          fix=f"add an edge from {source} without `when` as the default")

    return choose
