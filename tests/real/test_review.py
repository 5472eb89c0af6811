"""The review flow on real SQLite and the real CLI: a document OCR-to-SQL could not settle
waits in a paused run; `shoal review fix` resumes it, and the rows change exactly once."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sqlite3
from pathlib import Path
from typing import Any

from shoal.graphs.ocr_to_sql import ocr_to_sql_definition, ocr_to_sql_spec, run_documents
from shoal.models import FunctionChatModel
from shoal.session import Session
from shoal.settings import load_settings

from .conftest import invoke
from .test_pipelines import ScriptedReader

KIOSK = "Kiosk Nord\nLatte 3.50\nBun 2.25\nTotal kr 5.75"  # kr: SEK, NOK, DKK or ISK?


def _extract(request: Any) -> str:
    return json.dumps({"vendor": "Kiosk Nord", "total": "5.75"})


async def _paused_document(tmp_path: Path, memory: str, db: Path) -> None:
    path = tmp_path / "kiosk.png"
    path.write_bytes(b"kiosk")
    models = {"fake:extractor": FunctionChatModel(_extract)}
    async with Session(load_settings(database_url=memory), models=models) as session:
        spec = ocr_to_sql_spec(model="fake:extractor", escalate_to=())
        definition = ocr_to_sql_definition(session, db_url=f"sqlite:///{db}", spec=spec)
        definition = dataclasses.replace(definition, deps=dataclasses.replace(
            definition.deps, reader=ScriptedReader({path: KIOSK})))
        (state,) = await run_documents([path], definition, session)
    assert state["status"] == "needs_review"


def _dump(db: Path) -> list[Any]:
    connection = sqlite3.connect(db)
    try:
        return [connection.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
                for t in ("documents", "document_lines", "document_reviews")]
    finally:
        connection.close()


def test_a_fixed_and_approved_document_changes_the_rows_once(tmp_path: Path) -> None:
    memory = f"sqlite:///{tmp_path / 'memory.db'}"
    db = tmp_path / "docs.db"
    env, url = {"SHOAL_DATABASE_URL": memory}, f"sqlite:///{db}"
    asyncio.run(_paused_document(tmp_path, memory, db))  # the CLI runs its own event loop

    listed = invoke("review", "list", "--db", url, "--json", env=env)
    assert listed.exit_code == 0, listed.output
    (pending,) = json.loads(listed.stdout)
    assert pending["file"] == "kiosk.png" and "'kr' may be" in pending["problems"]

    shown = invoke("review", "show", pending["id"], "--db", url, env=env)
    assert shown.exit_code == 0, shown.output
    detail = json.loads(shown.stdout)
    assert detail["text"] == KIOSK and detail["decision"] is None
    assert [li["amount"] for li in detail["line_items"]] == ["3.50", "2.25"]

    bad = invoke("review", "fix", pending["id"], "total=5,75", "--db", url, env=env)
    assert bad.exit_code == 1 and "not an amount" in str(bad.exception)
    before = _dump(db)

    fixed = invoke("review", "fix", pending["id"], "currency=sek", "--db", url, env=env)
    assert fixed.exit_code == 0, fixed.output
    assert fixed.stdout.strip() == f"{pending['id']}: approved"
    documents, lines, reviews = _dump(db)
    assert documents != before[0] and lines == before[1]  # the header changed, not the lines
    assert reviews != before[2]
    connection = sqlite3.connect(db)
    row = connection.execute("SELECT currency, status, total FROM documents").fetchone()
    review = connection.execute("SELECT decision, corrected, extracted FROM document_reviews"
                                ).fetchone()
    connection.close()
    assert row == ("SEK", "approved", 5.75)
    assert review[0] == "approved" and json.loads(review[1]) == {"currency": "sek"}
    assert json.loads(review[2])["record"]["currency"] is None  # what the pipeline gave, kept

    after = _dump(db)
    again = invoke("review", "approve", pending["id"], "--db", url, env=env)
    assert again.exit_code == 1 and "already" in str(again.exception)
    assert _dump(db) == after  # written once
    listed = invoke("review", "list", "--db", url, "--json", env=env)
    assert json.loads(listed.stdout) == []
    runs = sqlite3.connect(tmp_path / "memory.db").execute(
        "SELECT status FROM runs ORDER BY started_at").fetchall()
    assert runs == [("interrupted",), ("finished",)]  # the paused run, then its resumption
