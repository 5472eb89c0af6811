import pytest

from shoal.errors import ModelResponseError, ModelUnavailable
from shoal.models import (
    ChatRequest,
    FakeChatModel,
    FunctionChatModel,
    Message,
    ToolCall,
    stream_chat,
)

REQUEST = ChatRequest(messages=(Message.user("what is two plus two"),))


async def test_scripted_replies_come_in_order_and_are_recorded() -> None:
    call = ToolCall(id="c", name="add", arguments={"a": 2, "b": 2})
    model = FakeChatModel(["four", call, ModelUnavailable("down", model="fake")])
    first = await model.chat(REQUEST)
    assert first.text == "four" and first.usage.prompt_tokens == 5
    second = await model.chat(REQUEST)
    assert second.tool_calls == (call,) and second.finish_reason == "tool_calls"
    with pytest.raises(ModelUnavailable):
        await model.chat(REQUEST)
    with pytest.raises(ModelResponseError, match="no scripted reply left"):
        await model.chat(REQUEST)
    assert len(model.requests) == 4 and model.remaining == 0


async def test_function_model_may_be_async_and_streams_word_by_word() -> None:
    async def shout(request: ChatRequest) -> str:
        return request.messages[-1].content.upper()

    model = FunctionChatModel(shout)
    chunks = [c async for c in stream_chat(model, REQUEST)]
    assert [c.text for c in chunks[:-1]] == ["WHAT ", "IS ", "TWO ", "PLUS ", "TWO"]
    assert chunks[-1].response is not None
    assert chunks[-1].response.text == "WHAT IS TWO PLUS TWO"
