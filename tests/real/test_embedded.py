"""The embedded llama.cpp backend with a real small model."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from shoal.errors import ContextLengthError, ModelUnavailable
from shoal.models import ChatOptions, ChatRequest, Message, open_model
from shoal.models.llamacpp import EmbeddedChatModel, load_gguf
from shoal.settings import load_settings

DETERMINISTIC = ChatOptions(temperature=0, seed=1, max_tokens=96)


class Invoice(BaseModel):
    vendor: str
    total: float
    currency: str


async def test_json_schema_answer_validates(qwen_gguf: Path) -> None:
    model = open_model("pack:qwen2.5-coder-0.5b", load_settings())
    request = ChatRequest(
        messages=(Message.system("Extract the invoice fields as JSON."),
                  Message.user("ACME Tools Ltd\nInvoice 2291\nTOTAL DUE: EUR 1,284.50")),
        output_schema=Invoice.model_json_schema(), options=DETERMINISTIC,
    )
    response = await model.chat(request)
    invoice = Invoice.model_validate_json(response.text)
    assert invoice.total == pytest.approx(1284.50)
    usage = response.usage
    assert usage.prompt_tokens > 20 and usage.completion_tokens > 5
    assert usage.prefill_seconds > 0 and usage.decode_seconds > 0
    assert usage.wall_seconds >= usage.prefill_seconds + usage.decode_seconds


async def test_one_loaded_model_is_shared(qwen_gguf: Path) -> None:
    settings = load_settings()
    first, second = open_model("pack:qwen2.5-coder-0.5b", settings), open_model(
        f"gguf:{qwen_gguf}", settings)
    assert isinstance(first, EmbeddedChatModel) and isinstance(second, EmbeddedChatModel)
    (a, _), (b, _) = await first.loaded(), await second.loaded()
    assert a.server is b.server
    assert a.base_url.startswith("http://127.0.0.1:")


async def test_stream_text_equals_final_response(qwen_gguf: Path) -> None:
    model = open_model("pack:qwen2.5-coder-0.5b", load_settings())
    request = ChatRequest(messages=(Message.user("List three colours, comma separated."),),
                          options=DETERMINISTIC)
    chunks = [c async for c in model.stream(request)]
    final = chunks[-1].response
    assert final is not None and len(chunks) > 2
    assert "".join(c.text for c in chunks[:-1]) == final.text
    assert final.usage.completion_tokens == len(chunks) - 1 or final.usage.completion_tokens > 1


async def test_prompt_longer_than_context_is_a_clear_error(qwen_gguf: Path) -> None:
    model = open_model("pack:qwen2.5-coder-0.5b", load_settings(n_ctx=2048))
    request = ChatRequest(messages=(Message.user("word " * 9000),),
                          options=ChatOptions(max_tokens=4))
    with pytest.raises(ContextLengthError) as info:
        await model.chat(request)
    assert info.value.prompt_tokens is not None and info.value.prompt_tokens > 8000
    assert "num_ctx" in str(info.value.fix)


async def test_broken_gguf_fails_with_llama_cpp_reason(tmp_path: Path, qwen_gguf: Path) -> None:
    broken = tmp_path / "broken.gguf"
    with qwen_gguf.open("rb") as f:
        broken.write_bytes(f.read(1_000_000))
    with pytest.raises(ModelUnavailable, match="could not load") as info:
        load_gguf(broken, n_ctx=512, n_threads=1)
    assert "failed to" in info.value.message  # llama.cpp's own words, routed, not printed
