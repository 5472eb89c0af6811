"""SQL memory on SQLite and on a real PostgreSQL: the same tests for both."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlmodel import select

from shoal.agents import Agent, AgentSpec
from shoal.memory import Conversation, Database, FactStore, RunLedger
from shoal.memory.migrations import MIGRATIONS
from shoal.memory.tables import CallRow, MigrationRow
from shoal.models import Attempt, FakeChatModel, Message, Usage
from shoal.session import Session
from shoal.settings import load_settings


def test_migrations_apply_once_and_are_recorded(database_url: str) -> None:
    db = Database(database_url)
    with db.session() as session:
        names = [row.name for row in session.exec(select(MigrationRow))]
    assert names == [name for name, _ in MIGRATIONS]
    db.dispose()
    again = Database(database_url)
    from shoal.memory.migrations import migrate

    assert migrate(again.engine) == []  # nothing left to apply


async def test_ledger_records_runs_and_calls_idempotently(database_url: str) -> None:
    ledger = RunLedger(Database(database_url))
    run_id = await ledger.start_run("g", "thread-1", {"x": 1})
    attempts = [Attempt(model="pack:small", error="bad json",
                        usage=Usage(prompt_tokens=10, completion_tokens=5)),
                Attempt(model="pack:big", error=None,
                        usage=Usage(prompt_tokens=12, completion_tokens=7, cache_hits=1))]
    assert await ledger.record_attempts(run_id=run_id, node="n", agent="a",
                                        chain=("pack:small", "pack:big"), attempts=attempts) == 2
    await ledger.finish_run(run_id, "finished")
    calls = ledger.calls(run_id)
    assert [(c.model, c.escalation, c.cache_hit) for c in calls] == [
        ("pack:small", 0, False), ("pack:big", 1, True)]
    run = ledger.run(run_id)
    assert run is not None and run.status == "finished" and run.finished_at is not None
    assert ledger.latest_run("thread-1") == run


async def test_concurrent_writers_do_not_fail(database_url: str) -> None:
    """6 writers at once: the async writes run in worker threads, so they really overlap."""
    db = Database(database_url)
    ledger = RunLedger(db)

    async def write(worker: int) -> None:
        for i in range(25):
            await ledger.record_attempts(
                run_id=None, node=f"w{worker}", agent="a", chain=("m",),
                attempts=[Attempt(model="m", error=None, usage=Usage(prompt_tokens=i))])

    outcomes = await asyncio.gather(*(write(w) for w in range(6)), return_exceptions=True)
    assert [o for o in outcomes if o is not None] == []
    with db.session() as session:
        assert len(list(session.exec(select(CallRow)))) == 150


def test_facts_are_found_by_meaning(database_url: str) -> None:
    facts = FactStore(Database(database_url), namespace="support")
    texts = ["The customer's parcel was lost by the courier in Leeds.",
             "Invoice 2291 was paid twice by credit card.",
             "The mobile app crashes when uploading photos."]
    assert facts.remember(texts) == 3
    assert facts.remember(texts[:1]) == 0  # remembered once
    assert facts.search("where is my delivery?", k=1)[0].text == texts[0]
    assert facts.search("double charge on my card", k=1)[0].text == texts[1]
    assert FactStore(Database(database_url), namespace="other").search("parcel") == []


def test_conversation_keeps_order(database_url: str) -> None:
    conversation = Conversation(Database(database_url), "t1")
    conversation.append(Message.user("hi"), Message.assistant("hello"))
    conversation.append(Message.user("bye"))
    assert [m.content for m in conversation.history()] == ["hi", "hello", "bye"]
    assert [m.content for m in conversation.history(limit=2)] == ["hello", "bye"]


async def test_call_cache_in_the_shared_store(database_url: str, tmp_path: Path) -> None:
    spec: AgentSpec[str] = AgentSpec(name="echo", model="fake:x", output=None)
    model = FakeChatModel(["once"])
    settings = load_settings(cache_dir=tmp_path, database_url=database_url)

    async def run_in_new_session() -> str:
        async with Session(settings, cache=True, models={"fake:x": model}) as session:
            result = await Agent(spec, session=session).run("q")
            return f"{result.output}/{result.usage.cache_hits}"

    first, second = await run_in_new_session(), await run_in_new_session()
    assert (first, second) == ("once/0", "once/1")  # the second session hit the shared store

