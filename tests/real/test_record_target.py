"""A record type the user declares lands in the user's own existing tables (`--into`), on real
SQLite and PostgreSQL: exact decimals, line items in the child table, nothing twice, and
tables that do not fit are refused before anything is written."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from pydantic import BaseModel, Field

from shoal.agents.grounding import Grounded, GroundedAmount
from shoal.errors import ConfigError, InputError
from shoal.graphs.ocr_to_sql import (
    decide_review,
    ocr_to_sql_definition,
    ocr_to_sql_spec,
    run_documents,
)
from shoal.models import FunctionChatModel
from shoal.session import Session
from shoal.settings import Settings
from shoal.tools.document_review import ReviewDecision

from .conftest import invoke
from .test_pipelines import ScriptedReader


class Expense(BaseModel):
    """The user's record: not Shoal's invoice fields."""

    vendor: Grounded[str]
    number: Grounded[str | None] = None
    date: Grounded[dt.date | None] = None
    total: GroundedAmount[Decimal] = Field(description="the amount paid")


TEXT = """Hotel Nord
Invoice no. HN-7781   2026-03-14
Double room, night   2   119.90   239.80
Breakfast buffet     2    18.45    36.90
City tax             2     2.60     5.20
Total EUR 281.90"""

TABLES = {
    "sqlite": """
        CREATE TABLE expenses (id INTEGER PRIMARY KEY AUTOINCREMENT,
            sha256 TEXT NOT NULL UNIQUE, vendor TEXT NOT NULL, number TEXT, date DATE,
            total NUMERIC(12, 2) NOT NULL, file_name TEXT, booked BOOLEAN DEFAULT 0);
        CREATE TABLE expense_items (expense_id INTEGER NOT NULL REFERENCES expenses(id),
            position INTEGER NOT NULL, description TEXT NOT NULL,
            amount NUMERIC(12, 2) NOT NULL, PRIMARY KEY (expense_id, position));""",
    "postgresql": """
        CREATE TABLE expenses (id SERIAL PRIMARY KEY, sha256 TEXT NOT NULL UNIQUE,
            vendor TEXT NOT NULL, number TEXT, date DATE, total NUMERIC(12, 2) NOT NULL,
            file_name TEXT, booked BOOLEAN DEFAULT false);
        CREATE TABLE expense_items (expense_id INTEGER NOT NULL REFERENCES expenses(id),
            position INTEGER NOT NULL, description TEXT NOT NULL,
            amount NUMERIC(12, 2) NOT NULL, PRIMARY KEY (expense_id, position));""",
}


def _extract(request: Any) -> str:
    return json.dumps({"vendor": "Hotel Nord", "number": "HN-7781", "date": "2026-03-14",
                       "total": "281.90"})


def _create(url: str, script: str) -> sqlalchemy.Engine:
    engine = sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as connection:
        for statement in script.split(";"):
            if statement.strip():
                connection.exec_driver_sql(statement)
    return engine


async def _run(settings: Settings, url: str, path: Path, into: str | None = "expenses"
               ) -> str:
    models = {"fake:extractor": FunctionChatModel(_extract)}
    async with Session(settings, models=models) as session:
        spec = ocr_to_sql_spec("fake:extractor", (), output=Expense)
        definition = ocr_to_sql_definition(session, db_url=url, spec=spec, into=into)
        definition = dataclasses.replace(definition, deps=dataclasses.replace(
            definition.deps, reader=ScriptedReader({path: TEXT})))
        (state,) = await run_documents([path], definition, session)
    return str(state.get("status"))


@pytest.fixture
def target_url(database_url: str, tmp_path: Path) -> str:
    # SQLite: a file of its own, not the memory database's
    return f"sqlite:///{tmp_path / 'books.db'}" if database_url.startswith("sqlite") \
        else database_url


async def test_a_declared_record_lands_in_existing_tables_once(
        target_url: str, tmp_path: Path, isolated_settings: Settings) -> None:
    engine = _create(target_url, TABLES[target_url.split(":")[0]])
    path = tmp_path / "hotel.png"
    path.write_bytes(b"hotel")
    assert await _run(isolated_settings, target_url, path) == "stored"
    assert await _run(isolated_settings, target_url, path) == "duplicate"
    with engine.connect() as connection:
        heads = connection.exec_driver_sql(
            "SELECT id, vendor, number, date, total, file_name, booked FROM expenses").all()
        items = connection.exec_driver_sql(
            "SELECT expense_id, position, description, amount FROM expense_items "
            "ORDER BY position").all()
    assert len(heads) == 1  # the second run inserted nothing
    (expense_id, vendor, number, day, total, file_name, booked) = heads[0]
    assert (vendor, number, file_name, bool(booked)) == ("Hotel Nord", "HN-7781",
                                                         "hotel.png", False)
    assert str(day) == "2026-03-14"
    assert Decimal(str(total)) == Decimal("281.90")
    assert [(i[0], i[1], i[2], Decimal(str(i[3]))) for i in items] == [
        (expense_id, 1, "Double room, night", Decimal("239.80")),
        (expense_id, 2, "Breakfast buffet", Decimal("36.90")),
        (expense_id, 3, "City tax", Decimal("5.20"))]
    if target_url.startswith("postgresql"):  # NUMERIC comes back exact, not a float
        assert isinstance(total, Decimal) and total == Decimal("281.90")
    engine.dispose()


async def test_tables_that_do_not_fit_are_refused_before_any_write(
        target_url: str, tmp_path: Path, isolated_settings: Settings) -> None:
    engine = _create(target_url, """
        CREATE TABLE expenses (sha256 TEXT, vendor TEXT, total REAL, date TEXT,
                               region TEXT NOT NULL)""")
    path = tmp_path / "hotel.png"
    path.write_bytes(b"hotel")
    with pytest.raises(InputError) as refused:
        await _run(isolated_settings, target_url, path)
    message = refused.value.message
    for problem in ("expenses.sha256 is neither the primary key nor UNIQUE",
                    "expenses.total is REAL: total needs NUMERIC(14, 2) or DECIMAL",
                    "expenses.date is TEXT: date needs DATE",
                    "expenses.region is NOT NULL but no field of the record fills it"):
        assert problem in message
    assert sqlalchemy.inspect(engine).get_table_names() == ["expenses"]  # nothing created
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM expenses").scalar() == 0
    engine.dispose()


def test_cli_checks_the_tables_before_reading_any_file(tmp_path: Path,
                                                       cli_env: dict[str, str]) -> None:
    url = f"sqlite:///{tmp_path / 'books.db'}"
    _create(url, "CREATE TABLE expenses (sha256 TEXT PRIMARY KEY, total FLOAT)").dispose()
    receipt = Path(__file__).parents[2] / "examples" / "documents" / "receipt-3.png"
    done = invoke("ocr-to-sql", str(receipt), "--db", url, "--into", "expenses",
                  "--record", "tests.real.test_record_target:Expense", env=cli_env)
    assert done.exit_code == 1 and isinstance(done.exception, InputError)
    assert "expenses.total is FLOAT: total needs NUMERIC(14, 2) or DECIMAL" in str(
        done.exception)
    assert "change the tables as said" in (done.exception.fix or "")
    missing = invoke("ocr-to-sql", str(receipt), "--db", url, "--into", "expenses",
                     "--record", "tests.real.test_record_target:Nothing", env=cli_env)
    assert missing.exit_code == 1 and isinstance(missing.exception, ConfigError)
    assert "cannot import" in str(missing.exception)
    lines_alone = invoke("ocr-to-sql", str(receipt), "--db", url, "--lines", "x", env=cli_env)
    assert isinstance(lines_alone.exception, ConfigError)
    assert "--lines needs --into" in str(lines_alone.exception)


async def test_an_approved_review_lands_in_the_target_once(
        tmp_path: Path, isolated_settings: Settings) -> None:
    url = f"sqlite:///{tmp_path / 'books.db'}"
    engine = _create(url, TABLES["sqlite"])
    path = tmp_path / "kiosk.png"
    path.write_bytes(b"kiosk")
    kiosk = TEXT.replace("Total EUR 281.90", "Total kr 281.90")  # kr: which currency?
    models = {"fake:extractor": FunctionChatModel(_extract)}
    async with Session(isolated_settings, models=models) as session:
        spec = ocr_to_sql_spec("fake:extractor", (), output=Expense)
        definition = ocr_to_sql_definition(session, db_url=url, spec=spec, into="expenses")
        definition = dataclasses.replace(definition, deps=dataclasses.replace(
            definition.deps, reader=ScriptedReader({path: kiosk})))
        (state,) = await run_documents([path], definition, session)
        assert state["status"] == "needs_review"
        with engine.connect() as connection:  # not in the user's tables until approved
            assert connection.exec_driver_sql("SELECT count(*) FROM expenses").scalar() == 0
        decision = ReviewDecision(action="approve", fix={"total": "281.90"})
        _, status = await decide_review(session, url, state["sha256"][:12], decision)
        assert status == "approved"
        with pytest.raises(InputError):  # decided already: nothing changes
            await decide_review(session, url, state["sha256"][:12], decision)
    with engine.connect() as connection:
        assert connection.exec_driver_sql(
            "SELECT vendor, total, file_name FROM expenses").all() == [
            ("Hotel Nord", 281.9, "kiosk.png")]
        assert connection.exec_driver_sql("SELECT count(*) FROM expense_items").scalar() == 3
    engine.dispose()
