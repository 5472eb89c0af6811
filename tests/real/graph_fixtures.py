"""Graphs for the durability tests, loaded by `shoal run tests.real.graph_fixtures:NAME`.

`effects` is a pipeline of tool steps; steps b and d write a side effect (an idempotent
insert keyed by thread and step) and also append to an attempts log, so a test can see a step
re-run after a crash without duplicating its effect. Every step touches a marker file on
entry (SHOAL_TEST_MARKERS) and then waits SHOAL_TEST_STEP_SECONDS, to be killed there.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, UniqueConstraint, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from shoal.graphs import FlowDeps, GraphDefinition, pipeline
from shoal.graphs.nodes import function_node
from shoal.memory import Database
from shoal.session import Session

metadata = MetaData()
side_effects = Table("test_side_effects", metadata, Column("thread_id", String, nullable=False),
                     Column("step", String, nullable=False),
                     UniqueConstraint("thread_id", "step"))
attempts_log = Table("test_effect_attempts", metadata,
                     Column("id", Integer, primary_key=True, autoincrement=True),
                     Column("thread_id", String), Column("step", String))

STEPS = ("a", "b", "c", "d")
WRITES = ("b", "d")


def _enter(step: str, thread: str) -> None:
    markers = os.environ.get("SHOAL_TEST_MARKERS")
    if markers:
        Path(markers, f"{thread}.{step}").touch()


def _step(name: str, db: Database) -> Any:
    def run(value: Any) -> Any:
        thread = value["thread"]
        _enter(name, thread)
        if name in WRITES:
            insert_ignore = sqlite_insert if db.is_sqlite else pg_insert
            with db.engine.begin() as connection:
                connection.execute(insert(attempts_log).values(thread_id=thread, step=name))
                connection.execute(insert_ignore(side_effects).values(
                    thread_id=thread, step=name).on_conflict_do_nothing())
        time.sleep(float(os.environ.get("SHOAL_TEST_STEP_SECONDS", "0")))
        return {**value, "done": [*value.get("done", []), name]}

    return run


def effects(session: Session) -> GraphDefinition[FlowDeps]:
    db = session.database()
    metadata.create_all(db.engine)
    graph = pipeline(*[(name, function_node(name, _step(name, db))) for name in STEPS])
    return GraphDefinition("tests.real.graph_fixtures:effects", graph, FlowDeps())


def effect_rows(database_url: str, thread: str) -> tuple[list[str], list[str]]:
    """(steps with a side effect, steps in the attempts log) for a thread."""
    db = Database(database_url)
    try:
        with db.engine.connect() as connection:
            done = [r.step for r in connection.execute(
                select(side_effects.c.step).where(side_effects.c.thread_id == thread))]
            tried = [r.step for r in connection.execute(
                select(attempts_log.c.step).where(attempts_log.c.thread_id == thread))]
        return sorted(done), sorted(tried)
    finally:
        db.dispose()


def approval_flow(session: Session) -> GraphDefinition[FlowDeps]:
    """An agent drafts a refund; a human approves before the (idempotent) payout is written."""
    from shoal.agents import Agent, AgentSpec
    from shoal.graphs import approval
    from shoal.models import FunctionChatModel

    db = session.database()
    metadata.create_all(db.engine)
    drafter = FunctionChatModel(lambda request: '{"amount": 54.6}', name="fake:drafter")
    spec: AgentSpec[str] = AgentSpec(name="draft", model="fake:drafter", output=None,
                                     cache=False)
    # the fake drafter owns nothing, so a session of its own needs no closing
    agent = Agent(spec, session=Session(session.settings, models={"fake:drafter": drafter}))

    def payout(value: Any) -> Any:
        insert_ignore = sqlite_insert if db.is_sqlite else pg_insert
        with db.engine.begin() as connection:
            connection.execute(insert_ignore(side_effects).values(
                thread_id="refunds", step=str(value)).on_conflict_do_nothing())
        return {"paid": value}

    graph = approval(agent, ("payout", function_node("payout", payout)))
    return GraphDefinition("tests.real.graph_fixtures:approval_flow", graph, FlowDeps())
