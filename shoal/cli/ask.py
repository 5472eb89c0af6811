"""`shoal ask "question" --db URL` and batch `--questions FILE.jsonl`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from shoal.cli.options import EscalateTo, Escalation, ModelOption, escalation_chain
from shoal.cli.preflight import check_models
from shoal.cli.session import in_session
from shoal.errors import ConfigError, InputError, ShoalError
from shoal.memory import Conversation
from shoal.session import Session

__all__ = ["ask"]


def _questions(path: Path) -> list[dict[str, Any]]:
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise InputError(f"{path}:{number} is not JSON: {exc}", source=str(path),
                             fix='write one {"id": ..., "question": ...} per line') from exc
        if not isinstance(item, dict) or "question" not in item:
            raise InputError(f"{path}:{number} has no \"question\"", source=str(path),
                             fix='write one {"id": ..., "question": ...} per line')
        items.append(item)
    return items


def _line(item_id: Any, state: dict[str, Any]) -> dict[str, Any]:
    rows = state.get("rows") or []
    return {"id": item_id, "sql": state.get("sql") or None, "rows": rows,
            "error": state.get("error") if not rows else None,
            "confidence": state.get("confidence")}


def _answered(state: dict[str, Any]) -> bool:
    """A query ran (its rows, possibly none, are the answer)."""
    return bool(state.get("rows")) or (bool(state.get("sql")) and not state.get("error"))


def ask(
    question: Annotated[str | None, typer.Argument(help="a question about the data")] = None,
    db: Annotated[str, typer.Option(help="database URL, e.g. sqlite:///docs.db")] = "",
    questions: Annotated[Path | None, typer.Option(help="JSONL of {id, question} (batch)")]
    = None,
    model: ModelOption = None,
    escalate_to: EscalateTo = None,
    escalation: Escalation = True,
    conversation: Annotated[str | None, typer.Option(
        help="a conversation id: follow-up questions see the previous question and SQL")]
    = None,
    tables: Annotated[str | None, typer.Option(
        help="comma-separated tables the SQL may read (default: all but Shoal's own)")]
    = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Answer questions with SQL on a read-only, guarded connection. Exits 1 when no answer
    was found (batch: when no question got one)."""
    from shoal.graphs.text_to_sql import ask as ask_graph
    from shoal.graphs.text_to_sql import check_database, text_to_sql_definition

    if not db:
        raise ConfigError("--db is required", fix="pass --db sqlite:///file.db")
    if (question is None) == (questions is None):
        raise ConfigError("give one question, or --questions FILE.jsonl",
                          fix='shoal ask "How many invoices?" --db sqlite:///docs.db')
    big = next(iter(escalation_chain(escalate_to, escalation)), None)
    allowed = None if tables is None else [t.strip() for t in tables.split(",") if t.strip()]
    if questions is not None:
        items = _questions(questions)

        async def batch(session: Session) -> int:
            definition = text_to_sql_definition(session, db_url=db, small=model, big=big,
                                                tables=allowed)
            await check_database(definition.deps.database)  # else every question fails
            await check_models(session, definition.deps.writer.chain())
            graph = definition.compile()  # models load once, for every question
            answered = 0
            for item in items:
                try:
                    state = dict(await ask_graph(definition, str(item["question"]),
                                                 ledger=session.ledger, graph=graph))
                except ShoalError as exc:  # this question failed; the next may not
                    state = {"error": str(exc)}
                answered += _answered(state)
                sys.stdout.write(json.dumps(_line(item.get("id"), state), default=str) + "\n")
                sys.stdout.flush()
            return answered

        if items and in_session(batch) == 0:
            raise typer.Exit(1)
        return

    async def one(session: Session) -> dict[str, Any]:
        definition = text_to_sql_definition(session, db_url=db, small=model, big=big,
                                                tables=allowed)
        thread = Conversation(session.database(), f"ask:{conversation}") if conversation \
            else None
        await check_database(definition.deps.database)
        await check_models(session, definition.deps.writer.chain())
        return dict(await ask_graph(definition, str(question), ledger=session.ledger,
                                    conversation=thread))

    state = in_session(one)
    if as_json:
        json.dump({**_line(None, state), "columns": state.get("columns"),
                   "summary": state.get("summary"), "model": state.get("writer"),
                   "confidence": state.get("confidence"), "escalated": state.get("escalated")},
                  sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        _print(state)
    if not _answered(state):
        raise typer.Exit(1)


def _print(state: dict[str, Any]) -> None:
    from shoal.graphs.text_to_sql import show

    out = Console(highlight=False, soft_wrap=True)
    out.print(f"[bold]SQL[/]: {state.get('sql') or '-'}")
    if state.get("rows"):
        table = Table(*[str(c) for c in state.get("columns") or []])
        for row in state["rows"][:20]:
            table.add_row(*[show(v) for v in row])
        out.print(table)
    out.print(f"[bold]Answer[/]: {state.get('summary')}")
    if state.get("confidence") is not None:
        how = "after escalation" if state.get("escalated") else "by agreement"
        out.print(f"[dim]confidence {state['confidence']:.0%} ({how}; {state.get('writer')})[/]")
