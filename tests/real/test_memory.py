"""SQL memory on SQLite and on a real PostgreSQL: the same tests for both."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlmodel import select

from shoal.agents import Agent, AgentSpec, Attempt, CallCache
from shoal.memory import Conversation, Database, FactStore, Ledger
from shoal.memory.migrations import MIGRATIONS
from shoal.memory.tables import CallRow, MigrationRow
from shoal.models import FakeChatModel, Message, Usage
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


def test_ledger_records_runs_and_calls_idempotently(database_url: str) -> None:
    ledger = Ledger(Database(database_url))
    run_id = ledger.start_run("g", "thread-1", {"x": 1})
    attempts = [Attempt("pack:small", "bad json", Usage(prompt_tokens=10, completion_tokens=5)),
                Attempt("pack:big", None, Usage(prompt_tokens=12, completion_tokens=7,
                                                cache_hits=1))]
    assert ledger.record_attempts(run_id=run_id, node="n", agent="a",
                                  chain=("pack:small", "pack:big"), attempts=attempts) == 2
    ledger.finish_run(run_id, "finished")
    calls = ledger.calls(run_id)
    assert [(c.model, c.escalation, c.cache_hit) for c in calls] == [
        ("pack:small", 0, False), ("pack:big", 1, True)]
    run = ledger.run(run_id)
    assert run is not None and run.status == "finished" and run.finished_at is not None
    assert ledger.latest_run("thread-1") == run


def test_concurrent_writers_do_not_fail(database_url: str) -> None:
    db = Database(database_url)
    ledger = Ledger(db)
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for i in range(25):
                ledger.record_attempts(run_id=None, node=f"w{worker}", agent="a", chain=("m",),
                                       attempts=[Attempt("m", None, Usage(prompt_tokens=i))])
        except BaseException as exc:  # collected: the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
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
    cache = CallCache(Database(database_url))
    spec = AgentSpec(name="echo", model="fake:x", output=None)
    model = FakeChatModel(["once"])
    settings = load_settings(cache_dir=tmp_path)
    first = await Agent[str](spec, session=Session(settings, cache=True, models={"fake:x": model})).run("q")
    second = await Agent[str](spec, session=Session(settings, cache=True, models={"fake:x": model})).run("q")
    assert first.output == second.output == "once" and second.usage.cache_hits == 1
