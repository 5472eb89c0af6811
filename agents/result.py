"""What an agent run returns, and the ledger of one run while it goes."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from shoal.agents.spec import AgentSpec
from shoal.errors import BudgetExceeded
from shoal.models import Usage

__all__ = ["AgentResult", "Attempt", "RunLedger", "ToolStep"]

T = TypeVar("T")


@dataclass(frozen=True)
class Attempt:
    """One model call of a run: which model, what it answered, and why that was not accepted
    (`error` None for the call whose answer was used or that led to a tool step)."""

    model: str
    error: str | None
    usage: Usage
    answer: str = ""


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

    @property
    def escalated(self) -> bool:
        return self.model != self.attempts[0].model


@dataclass
class RunLedger:
    """Attempts and budget of one run in progress."""

    spec: AgentSpec
    started: float = field(default_factory=time.perf_counter)
    attempts: list[Attempt] = field(default_factory=list)
    steps: list[ToolStep] = field(default_factory=list)

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
        self.attempts.append(Attempt(model, error, usage, answer))

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
            agent=self.spec.name, attempts=self.attempts,
            fix="raise the spec's budget, or simplify the input",
        )

    def result(self, output: T, model: str) -> AgentResult[T]:
        return AgentResult(output, self.usage, tuple(self.attempts), model, self.seconds,
                           tuple(self.steps))
