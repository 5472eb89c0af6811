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
What a node reads (see shoal.graphs.reads): `reads: input`, `reads: classify.label` or
`reads: {message: input, desk: classify.label}`. By default a node reads the previous node's
output, and a routed branch (a node reached from a node with conditional edges) reads the run's
input: the message, not the label.

A spec is checked when loaded: every edge names known nodes, START has an edge, every node is
reachable from START and can reach END (no dead end, no cycle without an exit), and a node with
conditional edges has a default edge. Errors name the graph, the node or edge, and the field.
Every agent and function a spec names is resolved when the graph is built (`build_graph`): a
missing one is an error naming the node.
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
from shoal.graphs.reads import Reads, check_reads, field_of
from shoal.graphs.state import FlowState
from shoal.imports import config_roots, importable_from, resolve_import
from shoal.problems import validation_problems

__all__ = ["GraphSpec", "build_graph", "load_graph_spec"]

_ENDS = {"START": START, "END": END}


class NodeSpec(Frozen):
    agent: str | None = None
    function: str | None = None
    fan_out: str | None = None
    over: str = "items"
    reads: str | dict[str, str] | None = None

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
        value = field_of(value, self.field)
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
    roots: tuple[Path, ...] = ()  # where its functions import from (set by load_graph_spec)

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
        self._check_shape()
        for name, node in self.nodes.items():
            try:
                check_reads(name, node.reads, set(self.nodes) - {name})
            except ConfigError as exc:
                raise ValueError(f"nodes.{name}.reads: {exc.message}") from exc
        return self

    def _check_shape(self) -> None:
        """START leads somewhere, every node is reached and reaches END, defaults exist."""
        out: dict[str, list[EdgeSpec]] = {}
        for edge in self.edges:
            out.setdefault(edge.source, []).append(edge)
        if "START" not in out:
            raise ValueError("no edge from START: add {from: START, to: <first node>}")
        for name in self.nodes:
            if name not in out:
                raise ValueError(f"node {name!r} has no edge out: add {{from: {name}, to: END}}")
        for name, edges in out.items():
            if all(e.when is not None for e in edges):
                raise ValueError(f"every edge from {name!r} has a condition: add one without "
                                 "`when` as the default")
        reached = _reachable("START", {k: [e.target for e in v] for k, v in out.items()})
        for name in self.nodes:
            if name not in reached:
                raise ValueError(f"node {name!r} cannot be reached from START")
        backwards: dict[str, list[str]] = {}
        for edge in self.edges:
            backwards.setdefault(edge.target, []).append(edge.source)
        finishing = _reachable("END", backwards)
        for name in self.nodes:
            if name not in finishing:
                raise ValueError(f"node {name!r} never reaches END (a cycle with no exit): "
                                 "give one of its nodes an edge to END")

    def reads(self, name: str) -> Reads:
        """What node `name` reads: its `reads`, else the run's input for a routed branch,
        else the previous node's output."""
        node = self.nodes[name]
        if node.reads is not None:
            return node.reads
        routed = any(e.target == name and any(o.when is not None for o in self.edges
                                              if o.source == e.source)
                     for e in self.edges)
        return "input" if routed else None

    def agent_names(self) -> set[str]:
        return {n.agent or n.fan_out or "" for n in self.nodes.values()} - {""}


def _reachable(start: str, edges: Mapping[str, list[str]]) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for target in edges.get(todo.pop(), []):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def load_graph_spec(path: Path) -> GraphSpec:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        spec = GraphSpec.model_validate(data)
        return spec.model_copy(update={"roots": config_roots(path)})
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read graph spec {path}: {exc}", fix="check the path and YAML"
                          ) from exc
    except ValidationError as exc:
        problems = "; ".join(validation_problems(exc, root="spec"))
        raise ConfigError(f"invalid graph spec {path}: {problems}",
                          fix="correct the named nodes and fields") from exc


def _function(spec: GraphSpec, node: str, path: str) -> Callable[[Any], Any]:
    try:
        with importable_from(spec.roots):
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
            graph.add_node(name, agent_node(name, _agent(spec, name, node.agent, agents),
                                            spec.reads(name)))
        elif node.function:
            graph.add_node(name, function_node(name, _function(spec, name, node.function),
                                               spec.reads(name)))
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
        raise AssertionError(f"graph {graph}: {source!r} has no default edge")  # checked in spec

    return choose
