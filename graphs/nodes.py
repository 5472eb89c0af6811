"""Node functions: a few lines each, calling agents and tools taken from the runtime context."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable
from typing import Any, Protocol

from langgraph.runtime import Runtime
from pydantic import BaseModel

from shoal.errors import AgentError
from shoal.graphs.context import ShoalContext
from shoal.graphs.state import FlowState

__all__ = ["NodeFn", "agent_node", "fan_out_node", "jsonable", "tool_node"]

class NodeFn(Protocol):
    """A node: LangGraph passes the state, and the runtime by keyword."""

    def __call__(self, state: FlowState, *, runtime: Runtime[ShoalContext]
                 ) -> Awaitable[dict[str, Any]]: ...


def jsonable(value: Any) -> Any:
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else value


async def run_agent(runtime: Runtime[ShoalContext], step: str, agent: str, value: Any) -> Any:
    """Run one agent and record its model calls in the ledger, success or not."""
    context = runtime.context
    runner = context.agents[agent]
    chain = (runner.spec.model, *runner.spec.escalate_to)
    try:
        result = await runner.run(value)
    except AgentError as exc:
        if context.ledger:
            context.ledger.record_attempts(run_id=context.run_id, node=step, agent=agent,
                                           chain=chain, attempts=exc.attempts)  # type: ignore[arg-type]  # AgentError keeps attempts untyped
        raise
    if context.ledger:
        context.ledger.record_attempts(run_id=context.run_id, node=step, agent=agent,
                                       chain=chain, attempts=result.attempts)
    return jsonable(result.output)


def agent_node(step: str, agent: str) -> NodeFn:
    """Runs `agent` on state["value"] (the run input for the first step)."""

    async def node(state: FlowState, *, runtime: Runtime[ShoalContext]) -> dict[str, Any]:
        value = state.get("value", state.get("input"))
        output = await run_agent(runtime, step, agent, value)
        return {"value": output, "outputs": {step: output}}

    node.__name__ = step
    return node


def fan_out_node(step: str, agent: str) -> NodeFn:
    """Runs `agent` on the one item a Send gave it; outputs gather in state["results"]."""

    async def node(state: FlowState, *, runtime: Runtime[ShoalContext]) -> dict[str, Any]:
        return {"results": [await run_agent(runtime, step, agent, state["value"])]}

    node.__name__ = step
    return node


def tool_node(step: str, tool: str) -> NodeFn:
    """Calls tool `tool` (from the context) with state["value"]; its result becomes the value.
    Tools that write must be idempotent: a resumed run may call them again."""

    async def node(state: FlowState, *, runtime: Runtime[ShoalContext]) -> dict[str, Any]:
        result = runtime.context.tools[tool](state.get("value", state.get("input")))
        output = jsonable(await result if inspect.isawaitable(result) else result)
        return {"value": output, "outputs": {step: output}}

    node.__name__ = step
    return node
