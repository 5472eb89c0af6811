"""The OpenAI-compatible backend against the real llama.cpp HTTP server xllamacpp starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel

from shoal.models import ChatOptions, ChatRequest, Message, open_model
from shoal.models.llamacpp import EmbeddedChatModel
from shoal.settings import load_settings


class Answer(BaseModel):
    city: str
    country: str


async def test_openai_backend_on_real_llama_server(qwen_gguf: Path) -> None:
    settings = load_settings()
    embedded = open_model(f"gguf:{qwen_gguf}", settings)
    assert isinstance(embedded, EmbeddedChatModel)
    async with embedded.loaded() as loaded:  # the server stays up for this block
        remote = open_model(f"openai:{loaded.base_url}/v1#{qwen_gguf}", settings)
        try:
            await _exercise(remote)
        finally:
            await remote.aclose()
    await embedded.aclose()


async def _exercise(remote: Any) -> None:
    request = ChatRequest(
        messages=(Message.user("Paris is the capital of which country? Answer as JSON."),),
        output_schema=Answer.model_json_schema(),
        options=ChatOptions(temperature=0, seed=1, max_tokens=48),
    )
    answer = Answer.model_validate_json((await remote.chat(request)).text)
    assert "france" in answer.country.lower()
    chunks = [c async for c in remote.stream(request)]
    final = chunks[-1].response
    assert final is not None and final.usage.completion_tokens > 0
    assert "".join(c.text for c in chunks[:-1]) == final.text
    info = await remote.describe()
    assert info.trained_context_length == 32768
