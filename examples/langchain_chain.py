"""Shoal inside LangChain: a Shoal agent (small model, validated output) as a Runnable in an
LCEL chain and as a tool with its JSON schema.

    .venv/bin/python examples/langchain_chain.py
"""

import asyncio

from langchain_core.runnables import RunnableLambda

from shoal import Session
from shoal.agents import Agent, load_agent_spec
from shoal.agents.langchain import as_runnable, as_tool
from shoal.catalog import find_config


async def main() -> None:
    async with Session() as session:
        router = Agent(load_agent_spec(find_config(session.settings, "agents",
                                                   "support_router")), session=session)
        desk = {"billing": "payments team", "technical": "app team", "shipping": "warehouse"}
        chain = as_runnable(router) | RunnableLambda(lambda out: desk[out["label"]])
        for message in ("Where is my parcel? It was due on Monday.",
                        "You charged my card twice."):
            print(f"{message!r} -> {await chain.ainvoke(message)}")
        tool = as_tool(router)
        print(f"tool {tool.name}: args {list(tool.args)}")


if __name__ == "__main__":
    asyncio.run(main())
