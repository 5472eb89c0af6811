"""LangChain interop on shipped fakes: a Shoal agent as a Runnable and as a tool, and a
LangChain chat model (langchain-core's own fake) as a Shoal backend with validation and
repair."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableLambda
from pydantic import BaseModel

from shoal.agents import Agent, AgentSpec
from shoal.agents.langchain import as_runnable, as_tool
from shoal.models import FakeChatModel, FunctionChatModel, Message
from shoal.models.langchain import LangChainChatModel
from shoal.models.types import ChatRequest, Tool
from shoal.session import Session
from shoal.settings import Settings


class Label(BaseModel):
    label: str


class Order(BaseModel):
    item: str
    quantity: int


def _agent(settings: Settings, model: Any, **fields: Any) -> Agent[Any]:
    fields = {"name": "router", "description": "labels a message", "model": "fake:m",
              "instructions": "Label it.", "output": Label, "cache": False} | fields
    spec: AgentSpec[Any] = AgentSpec.model_validate(fields)
    return Agent(spec, session=Session(settings, models={"fake:m": model}))


async def test_an_agent_is_a_runnable_that_composes_and_batches(
        isolated_settings: Settings) -> None:
    model = FunctionChatModel(lambda r: '{"label": "billing"}' if "charged" in
                              r.messages[-1].content else '{"label": "other"}')
    chain = as_runnable(_agent(isolated_settings, model)) | RunnableLambda(lambda o: o.label)
    assert await chain.ainvoke("I was charged twice") == "billing"
    assert await chain.abatch(["charged again", "hello"]) == ["billing", "other"]
    assert len(model.requests) == 3


def test_the_sync_runnable_is_a_thin_wrapper(isolated_settings: Settings) -> None:
    runnable = as_runnable(_agent(isolated_settings, FakeChatModel(['{"label": "x"}'])))
    assert runnable.invoke("anything") == Label(label="x")


async def test_an_agent_is_a_tool_with_its_input_schema(isolated_settings: Settings) -> None:
    text_tool = as_tool(_agent(isolated_settings, FakeChatModel(['{"label": "billing"}'])))
    assert text_tool.name == "router" and text_tool.description == "labels a message"
    assert text_tool.args == {"input": {"description": "the text for the agent",
                                        "title": "Input", "type": "string"}}
    assert await text_tool.ainvoke({"input": "refund"}) == {"label": "billing"}

    seen: list[str] = []

    def reply(request: ChatRequest) -> str:
        seen.append(request.messages[-1].content)
        return '{"label": "order"}'

    typed = as_tool(_agent(isolated_settings, FunctionChatModel(reply), input=Order))
    assert set(typed.args) == {"item", "quantity"}
    assert await typed.ainvoke({"item": "tea", "quantity": 3}) == {"label": "order"}
    assert "tea" in seen[0] and "3" in seen[0]


class Total(BaseModel):
    total: Decimal


async def test_a_langchain_chat_model_backs_an_agent_with_repair(
        isolated_settings: Settings) -> None:
    fake = GenericFakeChatModel(messages=iter([
        AIMessage("the total is 9.72", usage_metadata={
            "input_tokens": 20, "output_tokens": 5, "total_tokens": 25}),
        AIMessage('{"total": "9.72"}', usage_metadata={
            "input_tokens": 40, "output_tokens": 7, "total_tokens": 47})]))
    model = LangChainChatModel(fake, name="langchain:fake")
    spec: AgentSpec[Any] = AgentSpec.model_validate({"name": "totals", "model": "langchain:fake",
                                     "instructions": "The total.",
                                     "output": Total, "cache": False})
    session = Session(isolated_settings, models={"langchain:fake": model})
    agent = Agent[Total](spec, session=session)
    result = await agent.run("TOTAL EUR 9.72")
    assert result.output == Total(total=Decimal("9.72"))
    assert [a.error is None for a in result.attempts] == [False, True]  # repaired once
    assert result.usage.prompt_tokens == 60 and result.usage.completion_tokens == 12


async def test_langchain_tool_calls_come_back_as_shoal_tool_calls() -> None:
    fake = GenericFakeChatModel(messages=iter([AIMessage("", tool_calls=[
        {"name": "add", "args": {"a": 2, "b": 3}, "id": "call_1"}])]))

    class Bindable(GenericFakeChatModel):
        def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
            bound.extend(tools)
            return self

    bound: list[Any] = []
    model = LangChainChatModel(Bindable(messages=fake.messages), name="lc:tools")
    tool = Tool(name="add", description="adds", parameters={"type": "object"})
    response = await model.chat(ChatRequest(messages=(Message.user("2+3?"),), tools=(tool,)))
    assert response.tool_calls[0].name == "add"
    assert response.tool_calls[0].arguments == {"a": 2, "b": 3}
    assert response.finish_reason == "tool_calls"
    assert bound[0]["function"]["name"] == "add"
