"""What graph nodes get from LangGraph's runtime context: agents, tools and the ledger.
Never globals, and never in graph state or `configurable` (which LangGraph checkpoints)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shoal.agents import Agent
from shoal.memory import Ledger

__all__ = ["ShoalContext"]


@dataclass
class ShoalContext:
    agents: Mapping[str, Agent[Any]]
    tools: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    ledger: Ledger | None = None
    run_id: str | None = None  # the ledger's id of the run in progress
