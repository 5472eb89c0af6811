"""Agreement as confidence: several answers from the first model (sampled, or one through each
view of the input), a clear majority decides, else the next model answers and decides (fake
models, no I/O)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from shoal.agents import Agent, AgentSpec
from shoal.agents.prompting import fill_template, read_prompt, render_input
from shoal.agents.vote import Vote
from shoal.errors import ConfigError
from shoal.models import FakeChatModel, FunctionChatModel
from shoal.session import Session
from shoal.settings import Settings


def meaning(output: Any, text: str) -> str:
    """Answers agree when they mean the same number, however they are written."""
    words = {"four": "4", "4": "4", "five": "5", "5": "5"}
    if str(output).strip().lower() not in words:
        raise ValueError(f"{output!r} is not a number")
    return words[str(output).strip().lower()]


def spec(**overrides: Any) -> AgentSpec[str]:
    fields: dict[str, Any] = {"name": "adder", "model": "fake:small", "escalate_to": ["fake:big"],
                              "instructions": "Add.", "cache": False, "retries": 0,
                              "vote": Vote(samples=4, key=meaning)}
    return AgentSpec[str].model_validate(fields | overrides)


def agent(small: list[str], big: list[str], settings: Settings) -> tuple[Agent[str], Any, Any]:
    small_model, big_model = FakeChatModel(small), FakeChatModel(big)
    session = Session(settings, models={"fake:small": small_model, "fake:big": big_model})
    return Agent(spec(), session=session), small_model, big_model


async def test_a_clear_majority_decides_in_one_request(isolated_settings: Settings) -> None:
    adder, small, big = agent(["4", "four", "nonsense", "5"], [], isolated_settings)
    result = await adder.run("2 + 2")
    assert meaning(result.output, "") == "4" and result.model == "fake:small"
    assert result.confidence == 0.5 and not result.escalated  # 2 of 4 agree, 1 disagrees
    assert len(small.requests) == 1 and small.requests[0].options.n == 4
    assert small.requests[0].options.temperature == 0.7 and not big.requests
    assert len(result.attempts) == 4 and result.usage.calls == 1  # one call, four answers


async def test_disagreement_escalates_and_the_bigger_answer_decides(
        isolated_settings: Settings) -> None:
    adder, _small, big = agent(["4", "five", "nonsense", "x"], ["4"], isolated_settings)
    result = await adder.run("2 + 2")
    assert result.output == "4" and result.model == "fake:big" and result.escalated
    assert result.confidence == pytest.approx(5 / 8)  # its weight 4 + one sample, of 4 + 4
    assert big.requests[0].options.n == 1  # the bigger model answers once
    assert "not a number" in (result.attempts[2].error or "")


async def test_no_valid_bigger_answer_falls_back_to_the_best_group(
        isolated_settings: Settings) -> None:
    adder, _, _ = agent(["5", "4", "x", "y"], ["nonsense"], isolated_settings)
    result = await adder.run("2 + 2")
    assert result.output == "5" and result.model == "fake:small"  # a tie: the first group
    assert result.confidence == pytest.approx(1 / 4)  # and says how little agreed


def test_vote_and_tools_do_not_mix() -> None:
    from shoal.tools import calculate

    with pytest.raises(ValueError, match="vote works on answers"):
        spec(tools=[calculate])


class Sum(BaseModel):
    a: int
    b: int
    hint: str | None = None


def view_spec(tmp_path: Path) -> AgentSpec[str]:
    (tmp_path / "digits.md").write_text("{hint}\nAdd {a} and {b}.\n")
    (tmp_path / "words.md").write_text("What is {a} plus {b}?\n")
    views = Vote(views=(str(tmp_path / "digits.md"), str(tmp_path / "words.md")), key=meaning)
    return spec(input=Sum, instructions="", template=str(tmp_path / "digits.md"), vote=views)


def by_view(request: Any) -> str:
    """Answers '4' to the digits view and 'five' to the words view: the views disagree."""
    return "4" if "Add" in request.messages[-1].content else "five"


async def test_views_that_agree_decide_with_one_greedy_answer_each(
        isolated_settings: Settings, tmp_path: Path) -> None:
    small, big = FunctionChatModel(lambda r: "four" if "plus" in r.messages[-1].content
                                   else "4"), FakeChatModel([])
    session = Session(isolated_settings, models={"fake:small": small, "fake:big": big})
    result = await Agent(view_spec(tmp_path), session=session).run(Sum(a=2, b=2))
    assert meaning(result.output, "") == "4" and result.confidence == 1.0
    shown = sorted(r.messages[-1].content for r in small.requests)
    assert shown == ["Add 2 and 2.", "What is 2 plus 2?"]  # the empty {hint} line is left out
    assert all(r.options.n == 1 and r.options.temperature == 0 for r in small.requests)
    assert not big.requests


async def test_views_that_disagree_escalate_through_the_main_template(
        isolated_settings: Settings, tmp_path: Path) -> None:
    small, big = FunctionChatModel(by_view), FakeChatModel(["5"])
    session = Session(isolated_settings, models={"fake:small": small, "fake:big": big})
    result = await Agent(view_spec(tmp_path), session=session).run(Sum(a=2, b=3, hint="Sum."))
    assert result.output == "5" and result.model == "fake:big" and result.escalated
    assert big.requests[0].messages[-1].content == "Sum.\nAdd 2 and 3."
    assert result.confidence == pytest.approx(3 / 4)  # weight 2 + the words view, of 2 + 2


def test_a_template_must_name_fields_of_the_input() -> None:
    with pytest.raises(ConfigError, match="'c', which the input does not have"):
        fill_template("Add {a} and {c}.", {"a": 1, "b": 2})


def test_views_need_two_templates_and_a_structured_input() -> None:
    with pytest.raises(ValueError, match="at least two"):
        Vote(views=("one.md",))
    with pytest.raises(ValueError, match="samples, not both"):
        Vote(views=("one.md", "two.md"), samples=3)
    with pytest.raises(ValueError, match="set input"):
        spec(vote=Vote(views=("one.md", "two.md")))


def test_a_sql_task_with_one_schema_shows_it_in_both_views() -> None:
    from shoal.agents.library import SQLTask, sql_writer_spec

    spec = sql_writer_spec(escalate_to=())
    task = SQLTask(schema_sql="CREATE TABLE t (a INTEGER);", question="How many rows?")
    for name in ("sql_writer.md", "sql_writer_plain.md"):
        text = render_input(spec, task, read_prompt(name))
        assert text.startswith("CREATE TABLE t (a INTEGER);")
        assert text.endswith("-- SQLite query answering: How many rows?")
