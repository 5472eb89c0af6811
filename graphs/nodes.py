"""Node functions of the general compositions: a few lines each, calling the agent or function
bound when the graph was built, and recording through the runtime context's Recorder."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from langgraph.runtime import Runtime

from shoal.agents import Agent
from shoal.graphs.context import FlowDeps, jsonable
from shoal.graphs.reads import Reads, read
from shoal.graphs.state import FlowState

__all__ = ["NodeFn", "agent_node", "fan_out_node", "function_node"]


class NodeFn(Protocol):
    """A node: LangGraph passes the state, and the runtime by keyword."""

    def __call__(self, state: FlowState, *, runtime: Runtime[FlowDeps]
                 ) -> Awaitable[dict[str, Any]]: ...


def agent_node(step: str, agent: Agent[Any], reads: Reads = None) -> NodeFn:
    """Runs `agent` on what `reads` names (default: the previous step's output)."""

    async def node(state: FlowState, *, runtime: Runtime[FlowDeps]) -> dict[str, Any]:
        value = read(state, reads)
        result = await runtime.context.recorder.run(step, agent, value)
        output = jsonable(result.output)
        return {"value": output, "outputs": {step: output}}

    node.__name__ = step
    return node


def fan_out_node(step: str, agent: Agent[Any]) -> NodeFn:
    """Runs `agent` on the one item a Send gave it; outputs gather in state["results"]."""

    async def node(state: FlowState, *, runtime: Runtime[FlowDeps]) -> dict[str, Any]:
        result = await runtime.context.recorder.run(step, agent, state["value"])
        return {"results": [jsonable(result.output)]}

    node.__name__ = step
    return node


def function_node(step: str, function: Callable[[Any], Any], reads: Reads = None) -> NodeFn:
    """Calls `function` (sync or async) with what `reads` names; its result becomes the value.
    Functions that write must be idempotent: a resumed run may call them again."""

    async def node(state: FlowState, *, runtime: Runtime[FlowDeps]) -> dict[str, Any]:
        result = function(read(state, reads))
        output = jsonable(await result if inspect.isawaitable(result) else result)
        return {"value": output, "outputs": {step: output}}

    node.__name__ = step
    return node
