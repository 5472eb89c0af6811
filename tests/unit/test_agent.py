"""The agent loop on scripted fake models: repair, escalation, budgets, tools, cache."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel

from shoal.agents import Agent, AgentSpec, Budget, Grounded
from shoal.errors import (
    BudgetExceeded,
    ContextLengthError,
    ModelUnavailable,
    OutputValidationError,
)
from shoal.models import FakeChatModel, FunctionChatModel, ToolCall
from shoal.session import Session
from shoal.settings import Settings


class Total(BaseModel):
    vendor: str
    total: Decimal


class GroundedTotal(BaseModel):
    vendor: Grounded[str]
    total: Grounded[Decimal]


TEXT = "Blue Bottle Cafe\nTOTAL EUR 9.72"
GOOD = '{"vendor": "Blue Bottle Cafe", "total": 9.72}'


def spec(**overrides: object) -> AgentSpec[Any]:
    fields: dict[str, object] = {"name": "totals", "model": "fake:small",
                                 "instructions": "Extract the total.", "output": Total,
                                 "cache": False}
    return AgentSpec.model_validate(fields | overrides)


async def test_repairs_invalid_json_with_the_validation_error(
        isolated_settings: Settings) -> None:
    small = FakeChatModel(['{"vendor": "Blue Bottle Cafe", "total": ', GOOD])
    result = await Agent[Total](spec(), session=Session(isolated_settings,
                                models={"fake:small": small})).run(TEXT)
    assert result.output == Total(vendor="Blue Bottle Cafe", total=Decimal("9.72"))
    assert [a.error is None for a in result.attempts] == [False, True]
    assert "Invalid JSON" in (result.attempts[0].error or "")
    repair = small.requests[1].messages[-1]
    assert repair.role == "user" and "not valid" in repair.content
    assert small.requests[1].messages[-2].content.startswith('{"vendor"')
    assert result.usage.calls == 2 and not result.escalated
    sent = small.requests[0].output_schema or {}
    assert sent["properties"] == Total.model_json_schema()["properties"]
    assert sent["required"] == ["vendor", "total"] and sent["additionalProperties"] is False
    assert "total: " in small.requests[0].messages[0].content  # schema described in prompt


async def test_escalates_after_repeated_failures_then_reports_every_attempt(
        isolated_settings: Settings) -> None:
    small = FakeChatModel(["{}", "{}", "{}"])
    big = FakeChatModel([GOOD])
    agent = Agent[Total](spec(escalate_to=("fake:big",), retries=2), session=Session(
        isolated_settings, models={"fake:small": small, "fake:big": big}))
    result = await agent.run(TEXT)
    assert result.model == "fake:big" and result.escalated
    assert [a.model for a in result.attempts] == ["fake:small"] * 3 + ["fake:big"]
    assert len(big.requests[0].messages) == 2  # the bigger model starts fresh

    failing = Agent[Total](spec(escalate_to=("fake:big",), retries=0), session=Session(
        isolated_settings, models={"fake:small": FakeChatModel(["{}"]),
                                   "fake:big": FakeChatModel(['{"vendor": 1}'])}))
    with pytest.raises(OutputValidationError, match="no valid output") as info:
        await failing.run(TEXT)
    assert len(info.value.attempts) == 2 and info.value.agent == "totals"


async def test_unavailable_model_escalates(isolated_settings: Settings) -> None:
    down = FakeChatModel([ModelUnavailable("down", model="fake:small")])
    agent = Agent[Total](spec(escalate_to=("fake:big",)), session=Session(isolated_settings,
                         models={"fake:small": down, "fake:big": FakeChatModel([GOOD])}))
    result = await agent.run(TEXT)
    assert result.model == "fake:big"
    assert "ModelUnavailable" in (result.attempts[0].error or "")


async def test_budgets_stop_the_run(isolated_settings: Settings) -> None:
    chatty = FunctionChatModel(lambda request: "{}")
    tokens = Agent[Total](spec(retries=10, budget=Budget(max_tokens=60)),
                          session=Session(isolated_settings, models={"fake:small": chatty}))
    with pytest.raises(BudgetExceeded, match="tokens") as info:
        await tokens.run(TEXT)
    assert 0 < len(info.value.attempts) < 11
    capped = Agent[Total](spec(escalate_to=("fake:big",), retries=0,
                               budget=Budget(max_escalations=0)), session=Session(isolated_settings,
                          models={"fake:small": FakeChatModel(["{}"]),
                                  "fake:big": FakeChatModel([GOOD])}))
    with pytest.raises(BudgetExceeded, match="max_escalations"):
        await capped.run(TEXT)


async def test_grounding_rejects_invented_values(isolated_settings: Settings) -> None:
    small = FakeChatModel(['{"vendor": "Starbucks", "total": 9.72}', GOOD])
    agent = Agent[GroundedTotal](spec(output=GroundedTotal), session=Session(isolated_settings,
                                 models={"fake:small": small}))
    result = await agent.run(TEXT)
    assert result.output.vendor == "Blue Bottle Cafe"
    assert "does not occur in the input" in (result.attempts[0].error or "")
    schema = small.requests[0].output_schema or {}
    assert "Blue Bottle Cafe" in schema["properties"]["vendor"]["enum"]
    assert schema["properties"]["total"]["enum"] == [9.72]


async def test_spec_validators_ask_for_repairs(isolated_settings: Settings) -> None:
    def positive(output: Total, text: str) -> None:
        if output.total <= 0:
            raise ValueError("total must be positive")

    small = FakeChatModel(['{"vendor": "Blue Bottle Cafe", "total": -1}', GOOD])
    result = await Agent[Total](spec(validators=(positive,)), session=Session(isolated_settings,
                                models={"fake:small": small})).run(TEXT)
    assert result.attempts[0].error == "total must be positive"


def divide(a: float, b: float) -> float:
    """Divide a by b.

    Args:
        a: the dividend
        b: the divisor
    """
    return a / b


async def test_action_tool_loop_feeds_tool_errors_back(isolated_settings: Settings) -> None:
    replies = [
        json.dumps({"tool": "divide", "arguments": {"a": 1, "b": 0}}),
        json.dumps({"tool": "divide", "arguments": {"a": "x"}}),
        json.dumps({"tool": "divide", "arguments": {"a": 9, "b": 3}}),
        json.dumps({"final_answer": "3"}),
    ]
    model = FakeChatModel(replies)
    agent = Agent[str](spec(output=None, tools=(divide,), tool_mode="action"),
                       session=Session(isolated_settings, models={"fake:small": model}))
    result = await agent.run("What is 9 / 3?")
    assert result.output == "3"
    assert [s.failed for s in result.steps] == [True, True, False]
    assert "ZeroDivisionError" in result.steps[0].observation
    assert "bad arguments for divide" in result.steps[1].observation
    assert model.requests[1].messages[-1].content.startswith("Observation from divide: error")
    schema = model.requests[0].output_schema or {}
    assert [o["properties"].get("tool", {}).get("const") for o in schema["anyOf"]] == [
        "divide", None]


async def test_native_tool_loop_and_step_limit(isolated_settings: Settings) -> None:
    call = ToolCall(id="c1", name="divide", arguments={"a": 8, "b": 2})
    model = FakeChatModel([call, "4.0"])
    agent = Agent[str](spec(output=None, tools=(divide,), tool_mode="native"),
                       session=Session(isolated_settings, models={"fake:small": model}))
    result = await agent.run("8 / 2?")
    assert result.output == "4.0" and result.steps[0].observation == "4.0"
    assert model.requests[1].messages[-1].role == "tool"
    assert model.requests[0].tools[0].name == "divide"

    looping = FunctionChatModel(lambda request: call)
    stuck = Agent[str](spec(output=None, tools=(divide,), tool_mode="native", max_steps=3),
                       session=Session(isolated_settings, models={"fake:small": looping}))
    with pytest.raises(OutputValidationError):
        await stuck.run("8 / 2?")
    assert len(looping.requests) == 3


async def test_cache_hit_skips_the_model(isolated_settings: Settings) -> None:
    model = FakeChatModel([GOOD])

    def cached(model: FakeChatModel) -> Agent[Total]:
        return Agent(spec(cache=True), session=Session(isolated_settings, cache=True,
                                                       models={"fake:small": model}))

    first = await cached(model).run(TEXT)
    second = await cached(model).run(TEXT)
    assert first.output == second.output and len(model.requests) == 1
    assert (first.usage.cache_hits, second.usage.cache_hits) == (0, 1)
    assert second.usage.total_tokens == 0
    other = await cached(FakeChatModel([GOOD])).run(TEXT + " ")
    assert other.usage.cache_hits == 0  # a different request is a different key


async def test_context_overflow_is_an_error_or_drops_oldest_turns(
        isolated_settings: Settings) -> None:
    from shoal.agents import Example

    examples = tuple(Example(input="x " * 200, output={"vendor": "a", "total": 1})
                     for _ in range(3))
    small, big = FakeChatModel([GOOD]), FakeChatModel([GOOD])
    tight = spec(examples=examples, escalate_to=["fake:big"],
                 options={"num_ctx": 400, "max_tokens": 50})
    failing = Agent[Total](tight, session=Session(
        isolated_settings, models={"fake:small": small, "fake:big": big}))
    with pytest.raises(ContextLengthError, match=r"agent totals: .*num_ctx 400") as info:
        await failing.run(TEXT)
    assert info.value.context_length == 400 and (info.value.prompt_tokens or 0) > 350
    assert "num_ctx" in (info.value.fix or "") and "drop_oldest" in (info.value.fix or "")
    assert not small.requests and not big.requests  # refused before sending; no escalation
    dropping = Agent[Total](spec(examples=examples, on_overflow="drop_oldest",
                                 options={"num_ctx": 400, "max_tokens": 50}),
                            session=Session(isolated_settings, models={"fake:small": small}))
    result = await dropping.run(TEXT)
    assert result.output.vendor == "Blue Bottle Cafe"
    sent = small.requests[-1].messages
    assert sent[0].role == "system" and sent[-1].content == TEXT and len(sent) < 8
    assert small.requests[-1].options.num_ctx == 400


async def test_tool_results_ground_the_final_answer(isolated_settings: Settings) -> None:
    from shoal.agents.library import NumericAnswer
    from shoal.tools import calculate

    model = FakeChatModel([
        json.dumps({"tool": "calculate", "arguments": {"expression": "12 * 12.5"}}),
        json.dumps({"final_answer": {"value": 2250}}),  # invented: not in input or results
        json.dumps({"final_answer": {"value": 150.0}}),
    ])
    agent = Agent[NumericAnswer](spec(output=NumericAnswer, tools=(calculate,),
                                      tool_mode="action"),
                                 session=Session(isolated_settings, models={"fake:small": model}))
    result = await agent.run("What is 12 * 12.5?")
    assert result.output.value == 150.0
    assert "does not occur" in (result.attempts[1].error or "")
    final_option = (model.requests[1].output_schema or {})["anyOf"][-1]
    assert 150.0 in final_option["properties"]["final_answer"]["properties"]["value"]["enum"]
    first_option = (model.requests[0].output_schema or {})["anyOf"][-1]
    assert 150.0 not in first_option["properties"]["final_answer"]["properties"]["value"]["enum"]


async def test_an_unsure_answer_escalates_and_stays_the_fallback(
        isolated_settings: Settings) -> None:
    from shoal.models import ChatResponse

    def answer(text: str, logprob: float, model: str) -> ChatResponse:
        return ChatResponse(text=text, model=model, logprobs=(logprob, logprob))

    unsure = answer(GOOD, -0.7, "fake:small")  # token confidence exp(-0.7) = 0.50
    sure = answer('{"vendor": "Blue Bottle Cafe", "total": "9.72"}', -0.01, "fake:small")
    for small_reply, expected_model in ((unsure, "fake:big"), (sure, "fake:small")):
        small, big = FakeChatModel([small_reply]), FakeChatModel([GOOD])
        agent = Agent[Total](spec(escalate_to=("fake:big",), min_confidence=0.9),
                             session=Session(isolated_settings, models={
                                 "fake:small": small, "fake:big": big}))
        result = await agent.run(TEXT)
        assert result.model == expected_model
        assert small.requests[0].options.logprobs  # asked for because of min_confidence
        assert len(small.requests) == 1  # an unsure answer is escalated, not repaired
    assert result.confidence == pytest.approx(0.99, abs=0.001)

    # the last model's unsure answer stands; a big model that fails leaves the small answer
    small, big = FakeChatModel([unsure]), FakeChatModel(["{}", "{}"])
    agent = Agent[Total](spec(escalate_to=("fake:big",), min_confidence=0.9, retries=1),
                         session=Session(isolated_settings, models={
                             "fake:small": small, "fake:big": big}))
    with pytest.raises(OutputValidationError) as info:
        await agent.run(TEXT)
    assert info.value.partial == Total(vendor="Blue Bottle Cafe", total=Decimal("9.72"))
    alone = Agent[Total](spec(min_confidence=0.9), session=Session(
        isolated_settings, models={"fake:small": FakeChatModel([unsure])}))
    assert (await alone.run(TEXT)).confidence == pytest.approx(0.4966, abs=1e-3)


async def test_on_token_gets_the_text_of_every_call_as_it_is_generated(
        isolated_settings: Settings) -> None:
    small = FakeChatModel(['{"vendor": "Blue Bottle Cafe", "total": ', GOOD])
    pieces: list[str] = []

    async def collect(text: str) -> None:
        pieces.append(text)

    agent = Agent[Total](spec(), session=Session(isolated_settings, models={"fake:small": small}))
    result = await agent.run(TEXT, on_token=collect)
    assert result.output.total == Decimal("9.72")
    assert len(pieces) > 2  # streamed in pieces, not one block
    assert "".join(pieces) == '{"vendor": "Blue Bottle Cafe", "total": ' + GOOD  # both calls
