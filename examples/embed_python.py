"""Embed Shoal in a Python application: call agents and graphs by name, follow a graph run node
by node, and read back what every call cost. `Service` is the same object `shoal serve` puts
behind HTTP; it owns the session (the loaded models) and closes it at the end.

    .venv/bin/python examples/embed_python.py
"""

import asyncio
from typing import Any

from shoal import Session
from shoal.service import Service, ServiceConfig
from shoal.settings import load_settings

MESSAGE = "I was charged twice for order 1182, please refund one payment."


async def main() -> None:
    settings = load_settings()
    async with Service(ServiceConfig(db_url=settings.database_url), Session(settings)) as app:
        print("agents:", ", ".join(a["name"] for a in app.agents()))
        routed = await app.invoke_agent("support_router", MESSAGE)
        print(f"support_router -> {routed['output']} ({routed['model']}, "
              f"{routed['seconds']:.1f} s, {routed['cost_usd']} USD)")

        async def progress(node: str, update: dict[str, Any]) -> None:
            print(f"  node {node} finished")

        outcome = await app.start_run("support_triage", MESSAGE, on_update=progress)
        print(f"support_triage {outcome.status}: {outcome.state['outputs']}")
        run = await app.run(outcome.run_id)
        for node in run["nodes"]:
            print(f"  {node['node']}: {node['calls']} call(s), {node['tokens']} tokens, "
                  f"{node['model_seconds']} s")


if __name__ == "__main__":
    asyncio.run(main())
