"""Summarizer: plain text in, a short plain-text summary out."""

from __future__ import annotations

from shoal.agents.spec import AgentSpec
from shoal.models import ChatOptions

__all__ = ["summarizer_spec"]


def summarizer_spec(
    name: str = "summarizer", *, model: str | None = None, max_tokens: int = 120
) -> AgentSpec[str]:
    return AgentSpec(
        name=name, description="summarizes text in two sentences", model=model,
        prompt="summarizer.md", options=ChatOptions(temperature=0, max_tokens=max_tokens),
        retries=1,
    )
