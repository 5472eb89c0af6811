"""The embedded llama.cpp backend with a real small model."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from pydantic import BaseModel

from shoal.agents import Agent, AgentSpec
from shoal.errors import ContextLengthError, ModelUnavailable
from shoal.models import ChatOptions, ChatRequest, Message, open_model
from shoal.models.llamacpp import EmbeddedChatModel, load_gguf
from shoal.session import Session
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


def _rss_mb(pid: int | str = "self") -> float:
    """Resident memory of a process, from the kernel."""
    line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines()
                if x.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


async def test_session_shares_one_worker_and_stops_it_on_close(qwen_gguf: Path) -> None:
    request = ChatRequest(messages=(Message.user("Say OK."),),
                          options=ChatOptions(temperature=0, max_tokens=4))
    rss = _rss_mb()
    async with Session(load_settings()) as session:
        model = session.model("pack:qwen2.5-coder-0.5b")
        assert session.model("pack:qwen2.5-coder-0.5b") is model  # one object, one server
        assert isinstance(model, EmbeddedChatModel)
        spec: AgentSpec[str] = AgentSpec(name="ok", model="pack:qwen2.5-coder-0.5b",
                                         options=ChatOptions(temperature=0, max_tokens=4))
        result = await Agent(spec, session=session).run("Say OK.")
        assert result.usage.load_seconds > 0 and result.output
        loaded = model.server
        assert loaded is not None and loaded.base_url.startswith("http://127.0.0.1:")
        assert loaded.process.poll() is None
        assert _rss_mb(loaded.process.pid) > 250  # the 0.5B's weights (~400 MB) live there...
    assert _rss_mb() < rss + 100  # ...not in this process
    assert model.server is None and loaded.process.returncode == 0  # stopped on close
    async with Session(load_settings()) as again:  # a second session loads it again
        response = await again.model("pack:qwen2.5-coder-0.5b").chat(request)
        assert response.usage.load_seconds > 0


async def test_a_worker_that_died_is_replaced_by_the_next_call(qwen_gguf: Path) -> None:
    async with Session(load_settings()) as session:
        model = session.model("pack:qwen2.5-coder-0.5b")
        request = ChatRequest(messages=(Message.user("Say OK."),),
                              options=ChatOptions(temperature=0, max_tokens=4))
        await model.chat(request)
        assert isinstance(model, EmbeddedChatModel) and model.server is not None
        dead = model.server
        dead.process.kill()
        dead.process.wait()
        again = await model.chat(request)
        assert again.text and again.usage.load_seconds > 0
        assert model.server is not None and model.server is not dead


async def test_a_bigger_context_replaces_the_server(qwen_gguf: Path) -> None:
    model = open_model("pack:qwen2.5-coder-0.5b", load_settings(n_ctx=1024))
    assert isinstance(model, EmbeddedChatModel)
    short = ChatRequest(messages=(Message.user("Say OK."),),
                        options=ChatOptions(temperature=0, max_tokens=4))
    first = await model.chat(short)
    small = model.server
    assert small is not None and small.n_ctx == 1024 and first.usage.load_seconds > 0
    wide = short.model_copy(update={"options": short.options.model_copy(
        update={"num_ctx": 4096})})
    await asyncio.gather(model.chat(short), model.chat(wide))  # the small one is busy first
    assert model.server is not None and model.server.n_ctx == 4096
    assert (await model.chat(short)).usage.load_seconds == 0  # 4096 serves 1024 requests
    await model.aclose()


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


async def test_n_answers_share_one_prompt_and_are_all_counted(qwen_gguf: Path) -> None:
    request = ChatRequest(messages=(Message.user("Name a colour."),),
                          options=ChatOptions(temperature=0.9, max_tokens=8, n=3, seed=1))
    async with Session(load_settings()) as session:
        model = session.model("pack:qwen2.5-coder-0.5b")
        response = await model.chat(request)
        first = await model.chat(request.model_copy(update={"options": request.options
                                 .model_copy(update={"n": 1, "temperature": 0})}))
        assert isinstance(model, EmbeddedChatModel) and model.server is not None
        async with httpx.AsyncClient(base_url=model.server.base_url) as client:
            counts = [len((await client.post("/tokenize", json={"content": t})).json()["tokens"])
                      for t in response.texts]
    assert len(response.texts) == 3 and all(response.texts)
    assert response.usage.calls == 1 and response.usage.prompt_tokens == first.usage.prompt_tokens
    # every choice's tokens (llama.cpp itself reports the first choice's only; an end-of-text
    # token may come on top of each)
    assert sum(counts) <= response.usage.completion_tokens <= sum(counts) + 3
