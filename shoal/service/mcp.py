"""`shoal mcp`: every agent and both pipelines as Model Context Protocol tools (the official
`mcp` SDK), over stdio or streamable HTTP, so assistants and other agent frameworks can call
Shoal's small-model specialists. A tool's input schema is its agent's input schema; its result
is the same JSON the HTTP service returns (as text and as structured content). Errors come
back as tool errors with the message and the fix; they never end the server."""

from __future__ import annotations

import json
from typing import Any

import mcp_types as types
from mcp.server.lowlevel import Server

from shoal.errors import ShoalError
from shoal.service.service import Service

__all__ = ["mcp_server"]

_PIPELINE_TOOLS = {
    "ask": types.Tool(
        name="ask", description="Answer a question over the service's SQL database "
        "(text-to-SQL: read-only, the SQL and rows are returned with the answer)",
        input_schema={"type": "object", "required": ["question"], "properties": {
            "question": {"type": "string"},
            "conversation": {"type": "string", "description": "id of a conversation whose "
                             "last question this one follows up"}}}),
    "ocr_to_sql": types.Tool(
        name="ocr_to_sql", description="OCR documents (images or PDFs, paths on the "
        "server) and insert their fields into the service's database, idempotently",
        input_schema={"type": "object", "required": ["paths"], "properties": {
            "paths": {"type": "array", "items": {"type": "string"}}}}),
}


def mcp_server(service: Service) -> Server[Any]:
    """An MCP server over `service` (which its caller opens and closes)."""

    def agent_tools() -> dict[str, types.Tool]:
        return {a["name"]: types.Tool(name=a["name"], description=a["description"],
                                      input_schema=a["input_schema"],
                                      output_schema=None)
                for a in service.agents() if "error" not in a}

    async def list_tools(ctx: Any, params: types.PaginatedRequestParams | None
                         ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[*agent_tools().values(),
                                            *_PIPELINE_TOOLS.values()])

    async def call_tool(ctx: Any, params: types.CallToolRequestParams
                        ) -> types.CallToolResult:
        arguments = dict(params.arguments or {})
        try:
            if params.name == "ask":
                result = await service.ask(str(arguments.get("question", "")),
                                           arguments.get("conversation"))
            elif params.name == "ocr_to_sql":
                from pathlib import Path

                records = await service.ocr_to_sql([Path(p) for p in
                                                    arguments.get("paths", [])])
                result = {"documents": records}
            else:
                tools = agent_tools()
                if params.name not in tools:
                    return _error(f"no tool {params.name!r}",
                                  f"use one of: {', '.join([*tools, *_PIPELINE_TOOLS])}")
                value = arguments["input"] if set(arguments) == {"input"} else arguments
                result = await service.invoke_agent(params.name, value)
        except ShoalError as exc:
            return _error(exc.message, exc.fix)
        text = json.dumps(result, default=str, ensure_ascii=False)
        return types.CallToolResult(content=[types.TextContent(type="text", text=text)],
                                    structured_content=json.loads(text))

    return Server("shoal", version="1", on_list_tools=list_tools, on_call_tool=call_tool,
                  instructions="Small-model specialists: each tool is one Shoal agent or "
                  "pipeline; results carry the model used, tokens and cost.")


def _error(message: str, fix: str | None) -> types.CallToolResult:
    text = f"{message}\nfix: {fix}" if fix else message
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)],
                                is_error=True)
