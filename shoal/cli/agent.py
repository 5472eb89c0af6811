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

from shoal.catalog import config_files, find_config
from shoal.cli.output import table_console
from shoal.cli.session import in_session
from shoal.errors import ConfigError
from shoal.session import Session
from shoal.settings import load_settings

__all__ = ["app"]

app = typer.Typer(help="Run agents defined in YAML (configs/agents/NAME.yaml).",
                  no_args_is_help=True)


def _jsonable(value: Any) -> Any:
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else value


@app.command("list")
def list_agents() -> None:
    """List the agents on the search path (the project's, then the packaged ones); a file
    that does not load is listed with its error, and the others still show."""
    from shoal.agents import load_agent_spec

    settings = load_settings()
    table = Table("name", "model", "escalate to", "description", "file")
    for name, path in config_files(settings, "agents").items():
        try:
            spec = load_agent_spec(path)
        except ConfigError as exc:
            table.add_row(name, "-", "-", f"[red]invalid: {exc.message}[/]", str(path))
            continue
        table.add_row(spec.name, spec.model or f"{settings.default_model} (default)",
                      ", ".join(spec.escalate_to), spec.description, str(path))
    out = table_console()
    out.print(table)
    out.print(f"[dim]searched: {', '.join(str(d) for d in settings.search_dirs('agents'))}[/]")


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
    from shoal.graphs.runner import run_agent

    if (text is None) == (file is None):
        raise ConfigError("give the input either as TEXT or with --file",
                          fix='shoal agent run NAME "text"  or  shoal agent run NAME --file F')
    value = file.read_text(encoding="utf-8") if file else (
        sys.stdin.read() if text == "-" else str(text))
    async def once(session: Session) -> AgentResult[Any]:
        from shoal.cli.preflight import check_models

        path = find_config(session.settings, "agents", name)
        agent = Agent(load_agent_spec(path), session=session)
        await session.database().open()  # the memory database, before any model call
        await check_models(session, agent.chain())
        return await run_agent(agent, value, session)

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
