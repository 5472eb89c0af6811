"""`shoal graph draw NAME` and `shoal run GRAPH --input ...`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from shoal.cli.output import table_console
from shoal.cli.session import cli_session, in_session
from shoal.errors import ConfigError
from shoal.session import Session
from shoal.settings import load_settings

__all__ = ["app", "run"]

app = typer.Typer(help="Graphs: YAML in configs/graphs/, or package.module:function.",
                  no_args_is_help=True)


@app.command("list")
def list_graphs() -> None:
    """List the YAML graphs on the search path (the project's, then the packaged ones)."""
    from rich.table import Table

    from shoal.catalog import config_files
    from shoal.graphs import load_graph_spec

    settings = load_settings()
    table = Table("name", "nodes", "description", "file")
    for name, path in config_files(settings, "graphs").items():
        try:
            spec = load_graph_spec(path)
        except ConfigError as exc:
            table.add_row(name, "-", f"[red]invalid: {exc.message}[/]", str(path))
            continue
        table.add_row(name, ", ".join(spec.nodes), spec.description, str(path))
    out = table_console()
    out.print(table)
    out.print(f"[dim]searched: {', '.join(str(d) for d in settings.search_dirs('graphs'))}[/]")
    out.print("[dim]Python graphs run by import path: shoal run package.module:function[/]")


@app.command()
def draw(name: Annotated[str, typer.Argument(help="graph name or import path")]) -> None:
    """Print the graph as a Mermaid diagram."""
    from shoal.graphs import load_definition

    graph = load_definition(name, cli_session()).compile()  # loads nothing: no session work
    sys.stdout.write(graph.get_graph().draw_mermaid())


def _parse_input(text: str | None, file: Path | None) -> Any:
    if (text is None) == (file is None):
        raise ConfigError("give the input with --input or --file",
                          fix='shoal run GRAPH --input "text"  (JSON is parsed when it parses)')
    raw = file.read_text(encoding="utf-8") if file else str(text)
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def print_outcome(outcome: Any, as_json: bool) -> None:
    body = {"run_id": outcome.run_id, "thread_id": outcome.thread_id, "status": outcome.status,
            "value": outcome.state.get("value"), "results": outcome.state.get("results"),
            "waiting_for": outcome.waiting_for}
    if as_json:
        json.dump(body, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
        return
    Console().print_json(json.dumps(body, default=str))


def run(
    graph: Annotated[str, typer.Argument(help="graph name or import path")],
    input_text: Annotated[str | None, typer.Option("--input", help="the input (text or JSON)")]
    = None,
    file: Annotated[Path | None, typer.Option(help="read the input from a file")] = None,
    thread: Annotated[str | None, typer.Option(help="thread id (default: a new one)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Run a graph durably; an interrupted or crashed run continues with `shoal runs resume`."""
    from shoal.graphs import GraphRunner, load_definition

    value = _parse_input(input_text, file)

    async def start(session: Session) -> Any:
        async with GraphRunner(load_definition(graph, session), session) as runner:
            return await runner.start(value, thread)

    print_outcome(in_session(start), as_json)
