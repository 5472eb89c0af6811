"""The base of Shoal's own value types: immutable, and unknown fields are an error."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["Frozen"]


class Frozen(BaseModel):
    """A pydantic model that cannot change after construction and rejects unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")
