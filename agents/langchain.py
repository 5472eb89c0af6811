"""Shoal agents inside LangChain (langchain-core, the `langchain` extra): an agent as a
Runnable (compose it with `|`, batch it, stream it) and as a tool a LangChain agent can call.

    router = Agent(load_agent_spec(path), session=session)
    chain = as_runnable(router) | (lambda label: label.label)
    tool = as_tool(router)          # args: the agent's input model, or one `input` string
"""

from __future__ import annotations

import asyncio
from typing import Any

from langchain_core.runnables import Runnable, RunnableLambda
from langchain_core.tools import StructuredTool
from pydantic import BaseModel, Field, create_model

from shoal.agents.agent import Agent

__all__ = ["as_runnable", "as_tool"]


def as_runnable(agent: Agent[Any]) -> Runnable[Any, Any]:
    """A Runnable whose output is the agent's validated output (its pydantic model, or
    text). Synchronous `invoke` runs the agent in its own event loop: from async code, use
    `ainvoke`."""

    async def run(value: Any) -> Any:
        return (await agent.run(value)).output

    def run_sync(value: Any) -> Any:
        return asyncio.run(run(value))

    return RunnableLambda(run_sync, afunc=run, name=agent.spec.name)


def _arguments(agent: Agent[Any]) -> type[BaseModel]:
    if agent.spec.input is not None:
        return agent.spec.input
    return create_model(f"{agent.spec.name}_input",
                        input=(str, Field(description="the text for the agent")))


def as_tool(agent: Agent[Any]) -> StructuredTool:
    """A LangChain tool running the agent; it returns the output as JSON-ready data."""
    schema = _arguments(agent)

    async def call(**arguments: Any) -> Any:
        value = arguments["input"] if agent.spec.input is None else schema(**arguments)
        output = (await agent.run(value)).output
        return output.model_dump(mode="json") if isinstance(output, BaseModel) else output

    def call_sync(**arguments: Any) -> Any:
        return asyncio.run(call(**arguments))

    return StructuredTool.from_function(func=call_sync, coroutine=call, name=agent.spec.name,
                                        description=agent.spec.description or agent.spec.name,
                                        args_schema=schema)
