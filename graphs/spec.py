"""YAML graph specs (configs/graphs/NAME.yaml) compiled to the same LangGraph graphs.

    name: support_triage
    nodes:
      classify: {agent: support_router}        # an agent from configs/agents/
      save: {tool: "package.module:function"}   # a function of the value (idempotent!)
      notes: {fan_out: summarizer, over: items} # an agent over a list, in parallel
    edges:
      - {from: START, to: classify}
      - {from: classify, to: save, when: {field: label, equals: billing}}
      - {from: classify, to: END}               # the default when no condition holds
      - {from: save, to: END}
    interrupt_before: [save]                    # human approval before a side effect

Conditions compare a field of the current value (dotted path) with `equals` or `in`.
Errors name the graph, the node or edge, and the field.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START
from langgraph.types import Send
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from shoal.agents.spec import resolve_import
from shoal.errors import ConfigError
from shoal.graphs.compose import Graph, builder
from shoal.graphs.nodes import agent_node, fan_out_node, tool_node
from shoal.graphs.state import FlowState

__all__ = ["GraphSpec", "compile_graph", "load_graph_spec"]

_ENDS = {"START": START, "END": END}


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class NodeSpec(_Strict):
    agent: str | None = None
    tool: str | None = None
    fan_out: str | None = None
    over: str = "items"

    @model_validator(mode="after")
    def _one_kind(self) -> NodeSpec:
        kinds = [k for k in ("agent", "tool", "fan_out") if getattr(self, k)]
        if len(kinds) != 1:
            raise ValueError("give exactly one of agent, tool, fan_out")
        return self


class Condition(_Strict):
    field: str
    equals: Any = None
    in_: list[Any] | None = None

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    def holds(self, value: Any) -> bool:
        for part in self.field.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value in self.in_ if self.in_ is not None else value == self.equals


class EdgeSpec(_Strict):
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


class GraphSpec(_Strict):
    name: str
    description: str = ""
    nodes: dict[str, NodeSpec]
    edges: list[EdgeSpec]
    interrupt_before: list[str] = []

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
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'spec'}: {e['msg']}"
                             for e in exc.errors())
        raise ConfigError(f"invalid graph spec {path}: {problems}",
                          fix="correct the named nodes and fields") from exc


def tools_of(spec: GraphSpec) -> dict[str, Callable[..., Any]]:
    """The tool functions a spec names, by import path (raises ConfigError)."""
    tools = {}
    for name, node in spec.nodes.items():
        if node.tool:
            try:
                tools[node.tool] = resolve_import(node.tool)
            except ValueError as exc:
                raise ConfigError(f"graph {spec.name}: node {name!r}: tool: {exc}",
                                  fix="name a function as package.module:function") from exc
    return tools


def compile_graph(spec: GraphSpec, *, checkpointer: BaseCheckpointSaver[Any] | None = None
                  ) -> Graph:
    graph = builder()
    fan_outs = {}
    for name, node in spec.nodes.items():
        if node.agent:
            graph.add_node(name, agent_node(name, node.agent))
        elif node.tool:
            graph.add_node(name, tool_node(name, node.tool))
        else:
            assert node.fan_out is not None  # one kind is guaranteed by NodeSpec
            graph.add_node(name, fan_out_node(name, node.fan_out))
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
    return graph.compile(checkpointer=checkpointer, interrupt_before=spec.interrupt_before)


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
