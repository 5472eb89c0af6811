"""Text-to-SQL answers a user can trust, on the embedded models: the README demo's question
over the documents ocr-to-sql stores (here stored from the samples' expected fields, without
OCR), answered from the right column and printed as an exact decimal."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path

from shoal.graphs.text_to_sql import ask, text_to_sql_definition
from shoal.memory import Conversation, Database
from shoal.session import Session
from shoal.tools.document_store import DocumentStore

DOCS = Path(__file__).resolve().parents[2] / "examples" / "documents"


def stored_samples(db_url: str) -> list[dict[str, str]]:
    expected = [json.loads(line) for line in (DOCS / "expected.jsonl").read_text().splitlines()]
    store = DocumentStore(Database(db_url, migrate=False))
    for item in expected:
        record = {k: item[k] for k in ("vendor", "number", "date", "currency", "subtotal",
                                        "tax", "total")}
        store.insert(sha256=hashlib.sha256(item["file"].encode()).hexdigest(),
                     file_name=item["file"], doc_type=item["kind"], status="stored",
                     record=record, problems=[], ocr_confidence=0.9)
    store.db.dispose()
    return expected


async def test_the_demo_question_sums_the_total_column(
        qwen_gguf: Path, qwen15_gguf: Path, tmp_path: Path, real_session: Session) -> None:
    db_url = f"sqlite:///{tmp_path / 'documents.db'}"
    expected = stored_samples(db_url)
    invoices = sum(Decimal(e["total"]) for e in expected if e["kind"] == "invoice")
    definition = text_to_sql_definition(real_session, db_url=db_url)
    state = await ask(definition, "What is the total amount of all invoices?")
    sql = " ".join(state["sql"].lower().split())
    assert "sum(total)" in sql and "subtotal" not in sql, state["sql"]
    assert Decimal(str(state["rows"][0][0])).quantize(Decimal("0.01")) == invoices
    assert f"The answer is {invoices}" in state["summary"]  # exact, no binary noise


async def test_a_follow_up_question_builds_on_the_previous_turn(
        qwen_gguf: Path, qwen15_gguf: Path, tmp_path: Path, real_session: Session) -> None:
    import sqlite3

    path = tmp_path / "people.db"
    connection = sqlite3.connect(path)
    connection.executescript(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, country TEXT);"
        "INSERT INTO customers VALUES (1, 'Grace', 'US'), (2, 'Gina', 'UK'), (3, 'Alan', 'US'),"
        " (4, 'Greta', 'SE'), (5, 'Bob', 'UK');")
    connection.commit()
    connection.close()
    definition = text_to_sql_definition(real_session, db_url=f"sqlite:///{path}")
    thread = Conversation(real_session.database(), "ask:follow-up")
    first = await ask(definition, "List the names of the customers from the US.",
                      conversation=thread)
    assert sorted(r[0] for r in first["rows"]) == ["Alan", "Grace"]
    follow = await ask(definition, "Only the ones whose name starts with G.",
                       conversation=thread)
    assert (follow.get("previous_question") or "").startswith("List the names")
    assert [r[0] for r in follow["rows"]] == ["Grace"], follow["sql"]  # not Gina or Greta
    assert len(thread.history()) == 4
