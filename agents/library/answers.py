"""Small answer types for tool-using agents."""

from __future__ import annotations

from pydantic import BaseModel, Field

from shoal.agents.grounding import Grounded

__all__ = ["NumericAnswer"]


class NumericAnswer(BaseModel):
    """A number taken from the question or a tool result, never made up."""

    value: Grounded[float] = Field(description="the result, as given by the tool")
