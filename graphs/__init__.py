"""shoal.graphs: agents composed as LangGraph graphs, with durable runs and a SQL ledger."""

# Installed as shoal.graphs only: a top-level 'graphs' would clash with other libraries.
if __name__ != "shoal.graphs":
    raise ImportError(f"import shoal.graphs, not {__name__} (no top-level 'graphs' package)")

from shoal.graphs.compose import (
    FlowBuilder,
    FlowGraph,
    StepSpec,
    approval,
    fan_out,
    pipeline,
    router,
    step,
)
from shoal.graphs.context import FlowDeps, GraphDeps, Recorder
from shoal.graphs.reads import Reads
from shoal.graphs.runner import (
    GraphDefinition,
    GraphRunner,
    RunOutcome,
    load_definition,
    run_graph,
)
from shoal.graphs.spec import GraphSpec, build_graph, load_graph_spec
from shoal.graphs.state import FlowState

__all__ = [
    "FlowBuilder",
    "FlowDeps",
    "FlowGraph",
    "FlowState",
    "GraphDefinition",
    "GraphDeps",
    "GraphRunner",
    "GraphSpec",
    "Reads",
    "Recorder",
    "RunOutcome",
    "StepSpec",
    "approval",
    "build_graph",
    "fan_out",
    "load_definition",
    "load_graph_spec",
    "pipeline",
    "router",
    "run_graph",
    "step",
]
