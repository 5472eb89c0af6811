"""`shoal` entry point: sub-commands are registered here; Shoal errors print with their fix."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from shoal.cli import agent, ask, chat, db, documents, graph, info, models, review, runs, serve
from shoal.errors import ShoalError

__all__ = ["app", "main"]

app = typer.Typer(
    name="shoal",
    help="Multi-agent workflows built from small specialized language models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(models.app, name="models")
app.add_typer(agent.app, name="agent")
app.add_typer(graph.app, name="graph")
app.add_typer(runs.app, name="runs")
app.add_typer(review.app, name="review")
app.add_typer(db.app, name="db")
app.command("run")(graph.run)
app.command("ocr-to-sql")(documents.ocr_to_sql)
app.command("ask")(ask.ask)
app.command("chat")(chat.chat)
app.command("info")(info.info)
app.command("serve")(serve.serve)
app.command("mcp")(serve.mcp)


def main() -> None:
    """Run the CLI; a ShoalError prints as one clear message (exit 1), not a traceback."""
    try:
        app()
    except ShoalError as exc:
        err = Console(stderr=True, highlight=False, soft_wrap=True)  # paths stay whole
        err.print(f"[bold red]error:[/] {exc.message}")
        if exc.fix:
            err.print(f"[yellow]fix:[/] {exc.fix}")
        sys.exit(1)
