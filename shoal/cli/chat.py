"""`shoal chat URI PROMPT`: one prompt to any model, streamed."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from shoal.errors import ConfigError
from shoal.models import ChatOptions, ChatRequest, ChatResponse, Message, open_model, stream_chat
from shoal.settings import load_settings

__all__ = ["chat"]


def _schema(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read JSON schema {path}: {exc}",
                          fix="pass a file holding one JSON schema object") from exc
    if not isinstance(schema, dict):
        raise ConfigError(f"{path} holds no JSON object", fix="pass a JSON schema object")
    return schema


async def _run(uri: str, request: ChatRequest, as_json: bool) -> ChatResponse:
    model = open_model(uri, load_settings())
    out = Console(highlight=False)
    try:
        async for chunk in stream_chat(model, request):
            if chunk.response is not None:
                return chunk.response
            if not as_json:
                out.print(chunk.text, end="", soft_wrap=True)
    finally:
        await model.aclose()
    raise AssertionError("a stream always ends with a response")  # pragma: no cover


def chat(
    uri: Annotated[str, typer.Argument(help="model URI, e.g. pack:qwen2.5-coder-0.5b")],
    prompt: Annotated[str, typer.Argument(help="the user message")],
    system: Annotated[str | None, typer.Option(help="a system message")] = None,
    schema: Annotated[Path | None, typer.Option(help="JSON schema file the answer must follow")]
    = None,
    max_tokens: Annotated[int, typer.Option(help="most tokens to generate")] = 256,
    temperature: Annotated[float | None, typer.Option(help="sampling temperature")] = None,
    seed: Annotated[int | None, typer.Option(help="sampling seed")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the whole response as JSON")]
    = False,
) -> None:
    """Send one prompt to a model and stream the answer (usage goes to stderr)."""
    messages = ((Message.system(system),) if system else ()) + (Message.user(prompt),)
    request = ChatRequest(
        messages=messages,
        output_schema=_schema(schema),
        options=ChatOptions(max_tokens=max_tokens, temperature=temperature, seed=seed),
    )
    response = asyncio.run(_run(uri, request, as_json))
    if as_json:
        sys.stdout.write(response.model_dump_json(indent=2) + "\n")
        return
    u = response.usage
    decode = f"{u.decode_tokens_per_second:.1f}" if u.decode_tokens_per_second else "-"
    Console(stderr=True, highlight=False).print(
        f"\n[dim]{response.model}: {u.prompt_tokens} prompt + {u.completion_tokens} completion "
        f"tokens, {u.wall_seconds:.2f} s, decode {decode} tok/s[/]"
    )
