"""`shoal agent list|run`: agents defined in YAML under the agents directory."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from shoal.cli.session import in_session
from shoal.errors import ConfigError
from shoal.session import Session
from shoal.settings import load_settings

__all__ = ["app"]

app = typer.Typer(help="Run agents defined in YAML (configs/agents/NAME.yaml).",
                  no_args_is_help=True)


def _spec_path(name: str) -> Path:
    directory = load_settings().agents_dir
    path = directory / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in directory.glob("*.yaml")) if directory.is_dir() else []
        raise ConfigError(f"no agent {name!r}: {path} does not exist",
                          fix=f"use one of: {', '.join(known) or '(none found)'}; or set "
                          "SHOAL_AGENTS_DIR")
    return path


def _jsonable(value: Any) -> Any:
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else value


@app.command("list")
def list_agents() -> None:
    """List the agents in the agents directory."""
    from shoal.agents import load_agent_spec

    table = Table("name", "model", "escalate to", "description")
    directory = load_settings().agents_dir
    for path in sorted(directory.glob("*.yaml")):
        spec = load_agent_spec(path)
        table.add_row(spec.name, spec.model, ", ".join(spec.escalate_to), spec.description)
    Console().print(table)


@app.command()
def run(
    name: Annotated[str, typer.Argument(help="agent name (NAME.yaml in the agents dir)")],
    text: Annotated[str | None, typer.Argument(help="the input; '-' reads stdin")] = None,
    file: Annotated[Path | None, typer.Option(help="read the input from a file")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print result and usage as JSON")]
    = False,
) -> None:
    """Run one agent on one input and print its validated output."""
    from shoal.agents import Agent, AgentResult, load_agent_spec

    if (text is None) == (file is None):
        raise ConfigError("give the input either as TEXT or with --file",
                          fix='shoal agent run NAME "text"  or  shoal agent run NAME --file F')
    value = file.read_text(encoding="utf-8") if file else (
        sys.stdin.read() if text == "-" else str(text))
    async def once(session: Session) -> AgentResult[Any]:
        return await Agent(load_agent_spec(_spec_path(name)), session=session).run(value)

    result = in_session(once)
    u = result.usage
    if as_json:
        json.dump({"agent": name, "output": _jsonable(result.output), "model": result.model,
                   "attempts": len(result.attempts), "seconds": round(result.seconds, 3),
                   "usage": u.model_dump(), "steps": [s.__dict__ for s in result.steps]},
                  sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
        return
    output = _jsonable(result.output)
    Console().print_json(json.dumps(output, default=str)) if not isinstance(output, str) else \
        Console().print(output)
    Console(stderr=True, highlight=False).print(
        f"[dim]{result.model}: {len(result.attempts)} call(s), {u.total_tokens} tokens, "
        f"{result.seconds:.2f} s, cache hits {u.cache_hits}[/]")
