"""What graph nodes get from LangGraph's runtime context (`context_schema`): a frozen, typed
dependency object per graph, never globals, and never graph state or `configurable` (which
LangGraph checkpoints). Every dependency class derives from GraphDeps, which carries the
Recorder the runner fills in for each run.

    @dataclass(frozen=True, kw_only=True)
    class AskDeps(GraphDeps):
        database: SQLDatabase
        writer: Agent[str]
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Self, TypeVar

from pydantic import BaseModel

from shoal.agents import Agent, AgentResult
from shoal.errors import AgentError, ModelError
from shoal.memory import RunLedger
from shoal.models import Attempt

__all__ = ["FlowDeps", "GraphDeps", "NodeTokens", "Recorder", "jsonable"]

T = TypeVar("T")
NodeTokens = Callable[[str, str], Awaitable[None]]  # node name, a piece of generated text


def jsonable(value: Any) -> Any:
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else value


@dataclass(frozen=True)
class Recorder:
    """Where a run's model calls are recorded: the ledger and the run's id (none: not kept);
    `on_token`, if given, gets each node's generated text as it comes (node, text)."""

    ledger: RunLedger | None = None
    run_id: str | None = None
    on_token: NodeTokens | None = None

    async def run(self, step: str, agent: Agent[T], value: Any) -> AgentResult[T]:
        """Run `agent` on `value` and record its model calls under node `step`, success or
        not."""
        tokens = functools.partial(self.on_token, step) if self.on_token else None
        try:
            result = await agent.run(value, on_token=tokens)
        except (AgentError, ModelError) as exc:  # a ModelError out of a run carries attempts
            await self._record(step, agent, exc.attempts)
            raise
        await self._record(step, agent, result.attempts)
        return result

    async def _record(self, step: str, agent: Agent[Any], attempts: tuple[Attempt, ...]
                      ) -> None:
        if self.ledger is not None:
            await self.ledger.record_attempts(run_id=self.run_id, node=step,
                                              agent=agent.spec.name, chain=agent.chain(),
                                              attempts=attempts)


@dataclass(frozen=True, kw_only=True)
class GraphDeps:
    """Base of every graph's dependencies."""

    recorder: Recorder = field(default_factory=Recorder)

    def recording(self, recorder: Recorder) -> Self:
        """A copy recording into `recorder` (the runner calls this once per run)."""
        return dataclasses.replace(self, recorder=recorder)


@dataclass(frozen=True, kw_only=True)
class FlowDeps(GraphDeps):
    """The dependencies of the general compositions (pipeline, router, fan_out, approval):
    their agents and functions are bound into the nodes when the graph is built, so only
    the recorder travels at run time."""
