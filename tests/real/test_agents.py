"""The specialists on real embedded models."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from shoal.agents import Agent, AgentSpec
from shoal.agents.library import (
    InvoiceFields,
    NumericAnswer,
    classifier_spec,
    extractor_spec,
    sql_writer_spec,
    summarizer_spec,
)
from shoal.agents.library.sql_writer import clean_sql
from shoal.models import ChatOptions
from shoal.session import Session
from shoal.tools import FunctionTool, calculate
from shoal.tools.line_items import read_items

from .conftest import invoke

ROOT = Path(__file__).resolve().parents[2]
OCR_INVOICE = """MEGA HARDWARE GmbH
Hauptstr. 12, 10115 Berlin
Rechnung / Invoice No: RE-2026-0457
Date: 14.10.2026
Qty Description          Amount
2   Hammer 500g           25,98
1   Screwdriver set       19,90
Subtotal                  45,88
VAT 19%                    8,72
TOTAL EUR                 54,60
Thank you for your purchase"""


async def test_extractor_fills_an_invoice_from_ocr_text(qwen_gguf: Path,
                                                        real_session: Session) -> None:
    agent: Agent[InvoiceFields] = Agent(extractor_spec(escalate_to=()), session=real_session)
    result = await agent.run(OCR_INVOICE)
    invoice = result.output
    assert invoice.vendor == "MEGA HARDWARE GmbH"
    assert invoice.total == Decimal("54.60")
    assert invoice.number == "RE-2026-0457"
    assert invoice.date == date(2026, 10, 14)
    assert invoice.currency == "EUR"
    # the items are read from the rows, adding up to the subtotal the model read
    items = read_items(OCR_INVOICE, target=invoice.subtotal).items
    assert [item.amount for item in items] == [Decimal("25.98"), Decimal("19.90")]
    assert result.usage.prompt_tokens > 100 and result.model == "pack:qwen2.5-coder-0.5b"


async def test_router_answers_one_of_its_labels(qwen15_gguf: Path,
                                                real_session: Session) -> None:
    """Behaviour only; accuracy on 20 messages is a gate in `python -m bench.routing`."""
    spec = classifier_spec("support_router", ["billing", "technical", "shipping"], descriptions={
        "billing": "payments, invoices, refunds, prices",
        "technical": "bugs, errors, login, app or website problems",
        "shipping": "delivery, parcels, tracking, couriers"})
    agent = Agent(spec, session=real_session)
    plain = {"Please refund the double charge on my credit card.": "billing",
             "The app shows error 500 when I log in.": "technical",
             "The courier lost my parcel.": "shipping"}
    for text, label in plain.items():
        result = await agent.run(text)
        assert result.output.label.value == label  # type: ignore[attr-defined]  # enum model
        assert len(result.attempts) == 1  # the grammar allows only the labels: no repair


async def test_calculator_agent_uses_the_tool(qwen_gguf: Path, real_session: Session) -> None:
    spec = AgentSpec(
        name="calc", model="pack:qwen2.5-coder-0.5b", tools=(FunctionTool(calculate),),
        output=NumericAnswer,
        instructions="You answer arithmetic questions. First call the calculate tool with the "
        "expression from the question, then give its result as the final answer.",
        tool_mode="action", max_steps=4, options=ChatOptions(temperature=0, max_tokens=128))
    result = await Agent(spec, session=real_session).run("What is 1234 * 5678?")
    assert result.tool_mode == "action"
    assert result.output.value == 1234 * 5678
    assert result.steps and result.steps[0].tool == "calculate" and not result.steps[0].failed


async def test_sql_writer_answers_on_a_real_database(qwen_gguf: Path, tmp_path: Path,
                                                      real_session: Session) -> None:
    db = sqlite3.connect(tmp_path / "shop.db")
    db.executescript("""
        CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, country TEXT);
        INSERT INTO customers VALUES (1, 'Ada', 'UK'), (2, 'Linus', 'FI'), (3, 'Grace', 'US'),
                                     (4, 'Alan', 'UK');""")
    schema = "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, country TEXT);"
    agent = Agent(sql_writer_spec(escalate_to=()), session=real_session)
    result = await agent.run({"question": "How many customers are in the UK?",
                              "schema_sql": schema})
    assert db.execute(clean_sql(result.output)).fetchall() == [(2,)]


async def test_summarizer_keeps_the_facts(qwen_gguf: Path, real_session: Session) -> None:
    text = ("On 3 March 2026 the city council of Tampere approved a new tram line of 12 km. "
            "Construction starts in June and costs 340 million euros. Critics say buses would "
            "be cheaper, but the council expects 40,000 riders a day by 2030. ") * 2
    result = await Agent(summarizer_spec(), session=real_session).run(text)
    assert 20 < len(result.output) < len(text)
    assert "Tampere" in result.output or "tram" in result.output.lower()


def test_yaml_agent_runs_from_the_cli(qwen_gguf: Path, qwen15_gguf: Path, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    done = invoke("agent", "run", "invoice_extractor", "--json", OCR_INVOICE,
                  env={"SHOAL_DATABASE_URL": f"sqlite:///{tmp_path / 'shoal.db'}"})
    assert done.exit_code == 0, done.output
    output = json.loads(done.stdout)["output"]
    assert output["vendor"] == "MEGA HARDWARE GmbH" and Decimal(output["total"]) == Decimal("54.6")


@pytest.mark.parametrize("name", ["calculator", "invoice_extractor", "support_router"])
def test_shipped_yaml_agents_load(name: str) -> None:
    from shoal.agents import load_agent_spec

    assert load_agent_spec(ROOT / "configs" / "agents" / f"{name}.yaml").name == name
