"""`shoal review list|show|fix|approve|reject --db URL`: the documents OCR-to-SQL could not
store on its own. A decision resumes the document's paused run, which writes it once."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.table import Table

from shoal.cli.output import table_console
from shoal.cli.session import in_session
from shoal.errors import InputError
from shoal.session import Session

__all__ = ["app"]

app = typer.Typer(help="Documents that need a person: see, fix, approve, reject.",
                  no_args_is_help=True)
Db = Annotated[str, typer.Option(help="the database ocr-to-sql wrote, e.g. sqlite:///docs.db")]
Id = Annotated[str, typer.Argument(help="the document id (the start of its sha256)")]


def _reviews(session: Session, db: str) -> Any:
    from shoal.graphs.ocr_to_sql import reviews_at

    return reviews_at(session, db)


@app.command("list")
def list_pending(db: Db, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The documents waiting for a decision."""
    async def go(session: Session) -> list[dict[str, Any]]:
        reviews = _reviews(session, db)
        pending = await reviews.store.db.offload(reviews.pending)
        return [{"id": d.sha256[:12], "file": d.file_name, "type": d.doc_type,
                 "total": d.total, "problems": d.problems} for d, _ in pending]

    rows = in_session(go)
    if as_json:
        json.dump(rows, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
        return
    table = Table("id", "file", "type", "total", "problems")
    for row in rows:
        table.add_row(*[str(row[k]) if row[k] is not None else "-" for k in row])
    table_console().print(table)


@app.command()
def show(document: Id, db: Db) -> None:
    """One document: its fields and line items, the problems, what the model read and gave."""
    async def go(session: Session) -> dict[str, Any]:
        reviews = _reviews(session, db)
        row, review = await reviews.store.db.offload(reviews.find, document)
        lines = await reviews.store.db.offload(reviews.store.lines, row.sha256)
        return {"id": row.sha256, "file": row.file_name, "status": row.status,
                **{k: getattr(row, k) for k in ("doc_type", "vendor", "number", "date",
                                                 "currency", "subtotal", "tax", "total")},
                "line_items": [{"description": li.description, "amount": li.amount}
                               for li in lines],
                "problems": row.problems, "decision": review.decision,
                "corrected": json.loads(review.corrected) if review.corrected else None,
                "extracted": json.loads(review.extracted), "text": review.text}

    json.dump(in_session(go), sys.stdout, indent=2, default=str, ensure_ascii=False)
    sys.stdout.write("\n")


def _decide(document: str, db: str, action: str, fix: dict[str, str]) -> None:
    from shoal.graphs.ocr_to_sql import decide_review
    from shoal.tools.document_review import ReviewDecision

    decision = ReviewDecision(action=action, fix=fix)  # type: ignore[arg-type]
    sha256, status = in_session(lambda session: decide_review(session, db, document, decision))
    typer.echo(f"{sha256[:12]}: {status}")


@app.command("fix")
def fix_fields(document: Id,
               fields: Annotated[list[str], typer.Argument(help="field=value, e.g. total=12.50")],
               db: Db) -> None:
    """Correct fields and approve the document with them (written once)."""
    pairs = {}
    for item in fields:
        name, sep, value = item.partition("=")
        if not sep:
            raise InputError(f"{item!r} is not field=value", source=item,
                             fix="write it like total=12.50 or currency=EUR")
        pairs[name.strip()] = value
    _decide(document, db, "approve", pairs)


@app.command()
def approve(document: Id, db: Db) -> None:
    """Approve the document as extracted."""
    _decide(document, db, "approve", {})


@app.command()
def reject(document: Id, db: Db) -> None:
    """Reject the document: it stays in the table with status rejected."""
    _decide(document, db, "reject", {})
