import pytest
from pydantic import ValidationError

from shoal.models import ChatOptions, ChatRequest, Message, ToolCall, Usage


def test_usage_adds_and_derives_rates() -> None:
    a = Usage(prompt_tokens=100, completion_tokens=10, prefill_seconds=1.0, decode_seconds=0.5,
              wall_seconds=2.0)
    b = Usage(prompt_tokens=50, completion_tokens=30, prefill_seconds=0.5, decode_seconds=1.5,
              wall_seconds=2.5, load_seconds=3.0)
    total = a + b
    assert (total.prompt_tokens, total.completion_tokens, total.calls) == (150, 40, 2)
    assert total.load_seconds == 3.0 and total.wall_seconds == 4.5
    assert total.prefill_tokens_per_second == pytest.approx(100.0)
    assert total.decode_tokens_per_second == pytest.approx(20.0)
    assert total.total_tokens == 190
    assert Usage().decode_tokens_per_second is None


def test_request_needs_a_message_and_is_frozen() -> None:
    with pytest.raises(ValidationError):
        ChatRequest(messages=())
    request = ChatRequest(messages=(Message.user("hi"),))
    with pytest.raises(ValidationError):
        request.output_schema = {}  # type: ignore[misc]  # frozen: assignment must fail


def test_options_reject_nonsense_values() -> None:
    with pytest.raises(ValidationError):
        ChatOptions(num_ctx=0)
    with pytest.raises(ValidationError):
        ChatOptions(top_p=1.5)
    with pytest.raises(ValidationError):
        ChatOptions(unknown=1)  # type: ignore[call-arg]  # extra fields are forbidden


def test_tool_message_points_at_its_call() -> None:
    call = ToolCall(id="c1", name="add", arguments={"a": 1})
    message = Message.tool("2", call=call)
    assert (message.role, message.tool_call_id, message.name) == ("tool", "c1", "add")
