"""`shoal mcp` over stdio, driven by the MCP SDK's own client: a real `python -m shoal mcp`
process lists the agents and pipelines as tools with their JSON schemas and runs a call."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from mcp import ClientSession, StdioServerParameters, stdio_client

ECHO = """name: echo
description: repeats the message (the shipped fake:echo model)
model: fake:echo
instructions: Repeat the message.
"""


async def test_an_mcp_client_lists_and_calls_an_agent_over_stdio(tmp_path: Path) -> None:
    agents = tmp_path / "configs" / "agents"
    agents.mkdir(parents=True)
    (agents / "echo.yaml").write_text(ECHO)
    (tmp_path / "shoal.toml").write_text("")  # the project folder: its configs/ are searched
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOAL_")}
    env["SHOAL_DATABASE_URL"] = f"sqlite:///{tmp_path / 'memory.db'}"
    server = StdioServerParameters(
        command=sys.executable, args=["-m", "shoal", "mcp", "--db",
                                      f"sqlite:///{tmp_path / 'docs.db'}"],
        env=env, cwd=str(tmp_path))
    with (tmp_path / "server.log").open("w") as log:
        async with stdio_client(server, errlog=log) as (read, write), \
                ClientSession(read, write) as session:
            await session.initialize()
            tools = {tool.name: tool for tool in (await session.list_tools()).tools}
            assert {"echo", "ask", "ocr_to_sql"} <= set(tools)
            assert tools["echo"].input_schema["required"] == ["input"]
            assert tools["ask"].input_schema["required"] == ["question"]

            result = await session.call_tool("echo", {"input": "parcel 42 is late"})
            assert not result.is_error
            answer = json.loads(result.content[0].text)  # type: ignore[union-attr]
            assert "parcel 42 is late" in answer["output"]
            assert answer["model"] == "fake:echo" and answer["usage"]["prompt_tokens"] > 0
            assert result.structured_content == answer

            missing = await session.call_tool("nosuch", {})
            assert missing.is_error
            assert "use one of" in missing.content[0].text  # type: ignore[union-attr]
