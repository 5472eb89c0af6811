"""`shoal mcp` driven by the MCP SDK's own client, over stdio and over streamable HTTP: a real
`python -m shoal mcp` process lists the agents and pipelines as tools with their JSON schemas
and runs a call."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

ECHO = """name: echo
description: repeats the message (the shipped fake:echo model)
model: fake:echo
instructions: Repeat the message.
"""


def _project(folder: Path) -> dict[str, str]:
    """A project folder with the echo agent; the environment to run `shoal mcp` in it."""
    agents = folder / "configs" / "agents"
    agents.mkdir(parents=True)
    (agents / "echo.yaml").write_text(ECHO)
    (folder / "shoal.toml").write_text("")  # the project folder: its configs/ are searched
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOAL_")}
    env["SHOAL_DATABASE_URL"] = f"sqlite:///{folder / 'memory.db'}"
    return env


async def _use(session: ClientSession) -> None:
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


async def test_an_mcp_client_lists_and_calls_an_agent_over_stdio(tmp_path: Path) -> None:
    env = _project(tmp_path)
    server = StdioServerParameters(
        command=sys.executable, args=["-m", "shoal", "mcp", "--db",
                                      f"sqlite:///{tmp_path / 'docs.db'}"],
        env=env, cwd=str(tmp_path))
    with (tmp_path / "server.log").open("w") as log:
        async with stdio_client(server, errlog=log) as (read, write), \
                ClientSession(read, write) as session:
            await _use(session)


async def test_an_mcp_client_lists_and_calls_an_agent_over_streamable_http(
        tmp_path: Path) -> None:
    env = _project(tmp_path)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with (tmp_path / "server.log").open("w") as log:
        process = subprocess.Popen(  # noqa: ASYNC220 - the server lives for the test
            [sys.executable, "-m", "shoal", "mcp", "--transport", "http", "--port", str(port),
             "--db", f"sqlite:///{tmp_path / 'docs.db'}"], env=env, cwd=tmp_path,
            stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 60
            async with httpx.AsyncClient() as http:
                while True:
                    try:
                        await http.get(f"http://127.0.0.1:{port}/mcp", timeout=1)
                        break
                    except httpx.TransportError:
                        assert process.poll() is None and time.monotonic() < deadline
                        await asyncio.sleep(0.1)
            async with streamable_http_client(f"http://127.0.0.1:{port}/mcp") as (read, write), \
                    ClientSession(read, write) as session:
                await _use(session)
        finally:
            process.terminate()
            await asyncio.to_thread(process.wait, 30)
