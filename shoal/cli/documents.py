"""`shoal ocr-to-sql FILE... --db URL`: documents into SQL rows."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from shoal.cli.options import EscalateTo, Escalation, ModelOption, escalation_chain
from shoal.cli.output import table_console
from shoal.cli.preflight import check_files, check_models
from shoal.cli.session import in_session
from shoal.errors import ConfigError
from shoal.imports import resolve_import
from shoal.session import Session

__all__ = ["ocr_to_sql", "record_type"]


def record_type(path: str) -> type[BaseModel]:
    """The pydantic class at `path` (module:Class); ConfigError naming what is wrong."""
    try:
        found = resolve_import(path)
    except ValueError as exc:
        raise ConfigError(str(exc), fix="give module:Class of a pydantic model importable "
                          "from here (PYTHONPATH)") from exc
    if not (isinstance(found, type) and issubclass(found, BaseModel)):
        raise ConfigError(f"{path} is not a pydantic model class",
                          fix="give a class deriving from pydantic.BaseModel")
    return found


def ocr_to_sql(
    files: Annotated[list[Path], typer.Argument(help="images (PNG/JPEG/TIFF) or PDFs")],
    db: Annotated[str, typer.Option(help="target database URL, e.g. sqlite:///docs.db")],
    engine: Annotated[str, typer.Option(help="OCR engine: rapidocr or tesseract")] = "rapidocr",
    model: ModelOption = None,
    escalate_to: EscalateTo = None,
    escalation: Escalation = True,
    as_json: Annotated[bool, typer.Option("--json", help="print the records as JSON")] = False,
    into: Annotated[str | None, typer.Option(
        help="a table of yours that stored records also go into (one row per document, "
             "keyed by a unique sha256 column); checked before anything is written")] = None,
    lines: Annotated[str | None, typer.Option(
        help="with --into: the table for line items (default: the one with a foreign key "
             "to the --into table)")] = None,
    record: Annotated[str | None, typer.Option(
        help="your record type, module:Class (a pydantic model; default: the built-in "
             "invoice fields)")] = None,
) -> None:
    """OCR documents, extract typed fields with small models, insert them idempotently.
    Exits 1 when every file failed."""
    from shoal.graphs.ocr_to_sql import (
        DocState,
        document_record,
        ocr_to_sql_definition,
        ocr_to_sql_spec,
        run_documents,
    )
    from shoal.tools.ocr import Engine

    if engine not in ("rapidocr", "tesseract"):
        raise ConfigError(f"unknown OCR engine {engine!r}", fix="use rapidocr or tesseract")
    if lines and not into:
        raise ConfigError("--lines needs --into", fix="name the table for the records too: "
                          "--into TABLE --lines TABLE")
    output = record_type(record) if record else None
    check_files(files)
    err = Console(stderr=True)

    async def batch(session: Session) -> list[DocState]:
        spec = ocr_to_sql_spec(model, escalation_chain(escalate_to, escalation), output)
        definition = ocr_to_sql_definition(session, db_url=db, engine=cast(Engine, engine),
                                           spec=spec, into=into, lines=lines)
        await session.database().open()  # the memory database (runs, checkpoints)
        store = definition.deps.store  # the target opens and takes its tables first
        await store.db.offload(store.ensure_tables)
        await check_models(session, definition.deps.extractor.chain())
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      console=err, transient=as_json) as progress:
            task = progress.add_task("documents", total=len(files))

            def done(state: Any) -> None:
                progress.advance(task)
                if state.get("status") == "error":
                    err.print(f"[red]error[/] {Path(state['path']).name}: "
                              f"{state.get('error')}", highlight=False, soft_wrap=True)

            return await run_documents(list(files), definition, session, done)

    states = in_session(batch)
    records = [document_record(s) for s in states]
    if as_json:
        json.dump(records, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        columns = ("file", "status", "type", "vendor", "number", "date", "currency", "total")
        table = Table(*columns)
        for r in records:
            table.add_row(*[str(r[k]) if r[k] is not None else "-" for k in columns])
        out = table_console()
        out.print(table)
    waiting = sum(r["status"] == "needs_review" for r in records)
    if waiting:
        from shoal.memory import DatabaseURL

        where = DatabaseURL.parse(db).redacted  # no password on the screen
        err.print(f"{waiting} document(s) need review: shoal review list --db {where}",
                  highlight=False, soft_wrap=True)
    if records and all(r["status"] == "error" for r in records):
        raise typer.Exit(1)
