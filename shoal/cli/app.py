"""`shoal` entry point: sub-commands are registered here; Shoal errors print with their fix."""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.markup import escape

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


def _environmental(exc: BaseException) -> bool:
    """A failure of the machine around Shoal (a file, a disk, a server), not a bug: it prints
    as an error line, never a traceback."""
    from sqlalchemy.exc import OperationalError as SQLOperationalError

    kinds: tuple[type[BaseException], ...] = (OSError, SQLOperationalError)
    try:
        import psycopg

        kinds += (psycopg.OperationalError,)
    except ImportError:
        pass
    return isinstance(exc, kinds)


def _fail(message: str, fix: str | None) -> None:
    err = Console(stderr=True, highlight=False, soft_wrap=True)  # paths stay whole
    err.print(f"[bold red]error:[/] {escape(message)}")
    if fix:
        err.print(f"[yellow]fix:[/] {escape(fix)}")
    sys.exit(1)


def main() -> None:
    """Run the CLI; a ShoalError, or a failure of a file, disk or server around Shoal, prints
    as one clear message and its fix (exit 1), not a traceback."""
    try:
        app()
    except ShoalError as exc:
        _fail(exc.message, exc.fix)
    except Exception as exc:
        if not _environmental(exc):
            raise
        reason = (str(exc).strip().splitlines() or [""])[0]
        _fail(f"{type(exc).__name__}: {reason}", "check the file, folder or server named "
              "above (that it exists, is reachable, and you may use it)")
