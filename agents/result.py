"""What an agent run returns, and the log of its attempts while it runs (the durable record of
runs and calls is shoal.memory.RunLedger)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from shoal.agents.spec import AgentSpec
from shoal.errors import BudgetExceeded
from shoal.models import Attempt, Usage

__all__ = ["AgentResult", "AttemptLog", "OnToken", "ToolMode", "ToolStep"]

T = TypeVar("T")
ToolMode = Literal["native", "action"]
OnToken = Callable[[str], Awaitable[None]]  # a piece of text, as the model generates it


@dataclass(frozen=True)
class ToolStep:
    """One tool call made during a run, and what went back to the model."""

    tool: str
    arguments: dict[str, Any]
    observation: str
    failed: bool


@dataclass(frozen=True)
class AgentResult(Generic[T]):
    output: T
    usage: Usage  # summed over every attempt
    attempts: tuple[Attempt, ...]
    model: str  # the model whose answer became `output`
    seconds: float
    steps: tuple[ToolStep, ...] = ()
    tool_mode: ToolMode | None = None  # how tools were offered to the model that answered
    confidence: float | None = None  # vote share of its group, else its token confidence

    @property
    def escalated(self) -> bool:
        return self.model != self.attempts[0].model


@dataclass
class AttemptLog:
    """Attempts, tool steps and budget of one agent run in progress."""

    spec: AgentSpec[Any]
    on_token: OnToken | None = None  # given each piece of text as a model generates it
    started: float = field(default_factory=time.perf_counter)
    attempts: list[Attempt] = field(default_factory=list)
    steps: list[ToolStep] = field(default_factory=list)
    partial: Any = None  # the latest answer of the right shape that failed a later check

    @property
    def usage(self) -> Usage:
        total = Usage(calls=0)
        for attempt in self.attempts:
            total = total + attempt.usage
        return total

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started

    def record(self, model: str, usage: Usage, answer: str, error: str | None = None) -> None:
        self.attempts.append(Attempt(model=model, error=error, usage=usage, answer=answer))

    def check_budget(self) -> None:
        """Raise BudgetExceeded if the run may not make another model call."""
        budget = self.spec.budget
        used = self.usage.total_tokens
        if budget.max_tokens is not None and used >= budget.max_tokens:
            self.exceeded(f"used {used} tokens of a budget of {budget.max_tokens}")
        if budget.max_seconds is not None and self.seconds >= budget.max_seconds:
            self.exceeded(f"ran {self.seconds:.1f} s of a budget of {budget.max_seconds} s")

    def exceeded(self, what: str) -> None:
        raise BudgetExceeded(
            f"agent {self.spec.name} stopped: {what} after {len(self.attempts)} attempt(s)",
            agent=self.spec.name, attempts=tuple(self.attempts),
            fix="raise the spec's budget, or simplify the input",
        )

    def result(self, output: T, model: str, tool_mode: ToolMode | None,
               confidence: float | None = None) -> AgentResult[T]:
        return AgentResult(output, self.usage, tuple(self.attempts), model, self.seconds,
                           tuple(self.steps), tool_mode, confidence)
